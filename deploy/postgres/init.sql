-- Run once by the postgres image (docker-entrypoint-initdb.d), as the superuser, when the
-- data directory is empty. Creates the application role `evenemang` (not a superuser) and
-- one database per service, each owned by it. Needs psql 15+ for \getenv.
\set ON_ERROR_STOP on

\getenv evenemang_password EVENEMANG_DB_PASSWORD
\if :{?evenemang_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'EVENEMANG_DB_PASSWORD is not set in the postgres container'; END $$;
\endif

CREATE ROLE evenemang LOGIN PASSWORD :'evenemang_password';

CREATE DATABASE booking OWNER evenemang;
CREATE DATABASE calendar OWNER evenemang;
CREATE DATABASE notify OWNER evenemang;
REVOKE ALL ON DATABASE booking, calendar, notify FROM PUBLIC;

-- booking prevents double booking with an exclusion constraint over (resource, time range),
-- which needs btree_gist. It is a trusted extension, but creating it here means the
-- migrations never need more than ownership of the database.
\connect booking
CREATE EXTENSION IF NOT EXISTS btree_gist;

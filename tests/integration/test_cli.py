"""The command line as scripts use it: real processes, stdout and stderr, exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import func, select

from services.booking.persistence.models import Resource, User
from shared.db import Database
from tests.support.processes import ROOT, process_env


def evenemang(config, *args, stdin: str | None = None):
    return subprocess.run(
        [sys.executable, "-m", "evenemang", *args],
        cwd=ROOT,
        input=stdin,
        env=process_env(config),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _count(config, model):
    db = Database(config.booking_database_url)
    try:
        with db.transaction(readonly=True) as session:
            return session.scalar(select(func.count()).select_from(model))
    finally:
        db.dispose()


def test_users_add_and_tokens_create(config, make_app):
    added = evenemang(
        config,
        "users",
        "add",
        "Org@Example.org",
        "--name",
        "Org",
        "--role",
        "organiser",
        "--password-stdin",
        stdin="a long password\n",
    )
    assert added.returncode == 0, added.stderr
    created = evenemang(config, "tokens", "create", "org@example.org")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("evt_")
    me = (
        make_app("booking")
        .test_client()
        .get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    )
    assert me.status_code == 200 and me.get_json()["email"] == "org@example.org"
    listed = evenemang(config, "tokens", "list", "org@example.org")
    token_id = listed.stdout.split("\t")[0]
    assert evenemang(config, "tokens", "revoke", token_id).returncode == 0
    again = (
        make_app("booking")
        .test_client()
        .get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    )
    assert again.status_code == 401


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tokens", "create", "nobody@example.org"), "no user nobody@example.org"),
        (("users", "add", "x@example.org", "--name", "X", "--role", "emperor"), "emperor"),
        (
            ("users", "add", "x@example.org", "--name", "X", "--role", "admin", "--password-stdin"),
            "at least 8 characters",
        ),
    ],
)
def test_errors_are_one_line_on_stderr_with_a_non_zero_exit(config, args, message):
    result = evenemang(config, *args, stdin="short\n")
    assert result.returncode != 0
    assert message in result.stderr
    assert result.stdout == ""


def test_a_duplicate_user_is_refused(config):
    assert (
        evenemang(
            config, "users", "add", "a@example.org", "--name", "A", "--role", "admin"
        ).returncode
        == 0
    )
    again = evenemang(config, "users", "add", "A@example.org", "--name", "A", "--role", "admin")
    assert again.returncode == 1 and "already a user" in again.stderr


def test_an_address_mail_cannot_reach_is_refused(config):
    said = evenemang(config, "users", "add", "åsa@example.org", "--name", "Åsa", "--role", "admin")
    assert said.returncode == 1 and "ASCII" in said.stderr


def test_demo_loads_once(config):
    first = evenemang(config, "demo")
    assert first.returncode == 0, first.stderr
    counts = (_count(config, User), _count(config, Resource))
    assert counts[0] >= 4 and counts[1] >= 8
    assert evenemang(config, "demo").returncode == 0
    assert (_count(config, User), _count(config, Resource)) == counts


def _people(config) -> None:
    from services.booking.commands import CreateTeam
    from services.booking.persistence.unit_of_work import Context
    from services.booking.usecases import teams, users
    from shared.auth import Principal

    db = Database(config.booking_database_url)
    try:
        admin = users.add_user(db, "ada@example.org", "Ada Admin", "admin")
        users.add_user(db, "olle@example.org", "Olle Organiser", "organiser")
        users.add_user(db, "ines@example.org", "Ines Infra", "infra")
        actor = Principal(admin.id, admin.email, admin.name, "admin")
        teams.create_team(
            Context(db=db, config=config),
            actor,
            CreateTeam(name="Kommunikation", members=("ines@example.org",)),
        )
    finally:
        db.dispose()


def test_users_list_set_role_deactivate_and_reactivate(config, make_app):
    _people(config)
    listed = evenemang(config, "users", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "ada@example.org\tAda Admin\tadmin\tactive\t-\tnever",
        "ines@example.org\tInes Infra\tinfra\tactive\tkommunikation\tnever",
        "olle@example.org\tOlle Organiser\torganiser\tactive\t-\tnever",
    ]
    assert "3 user(s)" in listed.stderr
    promoted = evenemang(config, "users", "set-role", "OLLE@example.org", "infra")
    assert promoted.returncode == 0 and promoted.stdout == "olle@example.org is now infra\n"
    assert evenemang(config, "users", "deactivate", "olle@example.org").returncode == 0
    found = evenemang(config, "users", "list", "--deactivated", "-q", "olle")
    assert found.stdout == "olle@example.org\tOlle Organiser\tinfra\tdeactivated\t-\tnever\n"
    assert evenemang(config, "users", "list", "--role", "admin").stdout.startswith("ada@")
    token_for = evenemang(config, "tokens", "create", "olle@example.org")
    assert token_for.returncode == 1 and "deactivated" in token_for.stderr
    back = evenemang(config, "users", "reactivate", "olle@example.org")
    assert back.returncode == 0 and back.stdout == "reactivated olle@example.org\n"
    token = evenemang(config, "tokens", "create", "olle@example.org").stdout.splitlines()[-1]
    me = (
        make_app("booking")
        .test_client()
        .get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    )
    assert me.get_json()["role"] == "infra"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("users", "deactivate", "nobody@example.org"), "see `evenemang users list`"),
        (("users", "set-role", "ada@example.org", "organiser"), "Make someone else an admin"),
        (("users", "deactivate", "ada@example.org"), "Make someone else an admin"),
    ],
)
def test_user_admin_errors_say_what_to_do(config, args, message):
    _people(config)
    result = evenemang(config, *args)
    assert result.returncode != 0
    assert message in result.stderr and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1

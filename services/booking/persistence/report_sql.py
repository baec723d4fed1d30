"""The portable SQL the reports are built of: whole seconds since the epoch of a stored
instant, floor as an integer, and a small table of literal rows (a report's periods, the
offsets of the zone, the hours of a week) to join against. The same statements run on
SQLite and PostgreSQL; only these few expressions are worded per dialect."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, case, literal, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement, Subquery
from sqlalchemy.sql.functions import FunctionElement

from shared.db import UTCDateTime


class epoch(FunctionElement):
    """Whole seconds since 1970-01-01 UTC of a stored instant."""

    type = BigInteger()
    inherit_cache = True
    name = "epoch"


@compiles(epoch)
def _epoch_default(element, compiler, **kw):
    value = compiler.process(element.clauses, **kw)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {value})) AS BIGINT)"


@compiles(epoch, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    value = compiler.process(element.clauses, **kw)
    return f"CAST(ROUND((julianday({value}) - 2440587.5) * 86400) AS INTEGER)"


class floor_int(FunctionElement):
    """The largest integer not above a non-negative number."""

    type = BigInteger()
    inherit_cache = True
    name = "floor_int"


@compiles(floor_int)
def _floor_default(element, compiler, **kw):
    return f"CAST(FLOOR({compiler.process(element.clauses, **kw)}) AS BIGINT)"


@compiles(floor_int, "sqlite")
def _floor_sqlite(element, compiler, **kw):
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER)"


def rows_table(name: str, columns: Sequence[tuple[str, Any]], rows: Sequence[Sequence]) -> Subquery:
    """Literal rows as a table to join (``SELECT ... UNION ALL SELECT ...``: SQLite has no
    named VALUES columns). ``columns``: (name, SQL type); a few hundred rows at most."""

    def one(row: Sequence) -> Any:
        return select(
            *(
                literal(value, kind).label(column)
                for (column, kind), value in zip(columns, row, strict=True)
            )
        )

    selects = [one(row) for row in rows]
    query = selects[0] if len(selects) == 1 else union_all(*selects)
    return query.subquery(name)


def period_table(rows: Sequence[tuple[str, datetime, datetime, datetime]]) -> Subquery:
    """A report's periods: label, start (moved back to find what runs into the period),
    end, and the period's own start (``start_s_at``)."""
    columns = [
        ("label", String()),
        ("start", UTCDateTime()),
        ("end", UTCDateTime()),
        ("start_s_at", UTCDateTime()),
    ]
    return rows_table("periods", columns, rows)


def number_table(name: str, count: int) -> Subquery:
    """The integers 0..count-1 as column ``k``."""
    return rows_table(name, [("k", Integer())], [(k,) for k in range(max(count, 1))])


def least(a: ColumnElement, b: ColumnElement) -> ColumnElement:
    return case((a < b, a), else_=b)


def greatest(a: ColumnElement, b: ColumnElement) -> ColumnElement:
    return case((a > b, a), else_=b)

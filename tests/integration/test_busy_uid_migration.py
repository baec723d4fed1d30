"""calendar_0008 on the run's database: the busy blocks stored before it get the UID they
are rendered with now (no booking id in a resource feed), the full ones keep theirs, and
the feeds' generation moves so every web process renders its feeds again."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from services.calendar.persistence.unit_of_work import SqlAlchemyUnitOfWork
from shared.booking_ical import busy_uid
from shared.db import Database, UTCDateTime
from shared.migrations import upgrade
from tests.integration.test_migrations import ENTRY_COLUMNS, fresh_calendar_url  # noqa: F401

WHEN = datetime(2026, 2, 1, tzinfo=UTC)  # before the migration runs


def vevent(uid: str, summary: str) -> str:
    return f"BEGIN:VEVENT\r\nSUMMARY:{summary}\r\nUID:{uid}\r\nSEQUENCE:2\r\nEND:VEVENT\r\n"


def test_calendar_0008_gives_stored_busy_blocks_their_digest_uid(fresh_calendar_url):  # noqa: F811
    upgrade("calendar", fresh_calendar_url, "calendar_0007")
    entries = sa.table(
        "feed_entries",
        *(sa.column(name) for name in ENTRY_COLUMNS),
        sa.column("vevent_withdrawn_busy"),
        sa.column("listed_resources", sa.JSON),
        sa.column("withdrawn_resources", sa.JSON),
        sa.column("deciders", sa.JSON),
        *(sa.column(name, UTCDateTime) for name in ("last_end", "cancelled_at", "changed_at")),
    )
    state = sa.table(
        "feed_state", sa.column("id"), sa.column("generation"), sa.column("changed_at", UTCDateTime)
    )
    engine = sa.create_engine(fresh_calendar_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            for booking_id in ("b1", "b2"):
                uid = f"{booking_id}@evenemang"
                connection.execute(
                    entries.insert().values(
                        booking_id=booking_id, revision=2, generation=7, status="approved",
                        visibility="private", organiser_email="org@example.org",
                        published=True, vevent_full=vevent(uid, "Board"),
                        vevent_busy=vevent(uid, "Booked"),
                        vevent_withdrawn_busy=vevent(uid, "Booked") if booking_id == "b2" else "",
                        listed_resources=["r1"], withdrawn_resources={}, deciders=[],
                        last_end=WHEN, cancelled_at=None, changed_at=WHEN,
                    )
                )  # fmt: skip
            connection.execute(state.insert().values(id=1, generation=7, changed_at=WHEN))
        upgrade("calendar", fresh_calendar_url)
        db = Database(fresh_calendar_url)
        uow = SqlAlchemyUnitOfWork(db)
        with uow.reading():
            version = uow.feed_state.current()
            changed = {entry.booking_id: (gen, entry) for gen, entry in uow.entries.since(7)}
        db.dispose()
    finally:
        engine.dispose()
    assert version.generation == 8 and version.changed_at > WHEN
    assert sorted(changed) == ["b1", "b2"]
    for booking_id, (generation, entry) in changed.items():
        uid = f"{booking_id}@evenemang"
        assert generation == 8
        assert entry.full == vevent(uid, "Board")
        assert entry.busy == vevent(busy_uid(uid), "Booked")
        assert f"UID:{uid}" not in entry.busy + entry.withdrawn_busy
    assert changed["b2"][1].withdrawn_busy == vevent(busy_uid("b2@evenemang"), "Booked")

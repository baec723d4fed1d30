"""feed entries: a busy block's UID is a digest of the booking's, not its id

The busy-only VEVENTs stored before showed the booking's own UID (its id) in resource
feeds, which anyone may read. Each stored busy VEVENT gets the UID it is rendered with now
(``shared.booking_ical.busy_uid``, frozen here as it was when this ran), and the feeds'
generation moves, so every web process renders its feeds again.

Revision ID: calendar_0008
Revises: calendar_0007
Create Date: 2026-12-02 16:00:00.000000
"""

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision: str = "calendar_0008"
down_revision: str | None = "calendar_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENTRIES = sa.table(
    "feed_entries",
    sa.column("booking_id", sa.String),
    sa.column("generation", sa.Integer),
    sa.column("vevent_busy", sa.Text),
    sa.column("vevent_withdrawn_busy", sa.Text),
)
STATE = sa.table(
    "feed_state",
    sa.column("id", sa.Integer),
    sa.column("generation", sa.Integer),
    sa.column("changed_at", UTCDateTime),
)
UID_LINE = re.compile(r"^UID:(?!busy-)([^\r\n]+)", re.MULTILINE)


def _busy_uid(match: re.Match) -> str:
    return f"UID:busy-{hashlib.sha256(match.group(1).encode()).hexdigest()[:32]}@evenemang"


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(ENTRIES.c.booking_id, ENTRIES.c.vevent_busy, ENTRIES.c.vevent_withdrawn_busy)
    ).all()
    state = connection.execute(
        sa.select(STATE.c.generation, STATE.c.changed_at).where(STATE.c.id == 1)
    ).first()
    generation = (state.generation if state else 0) + 1
    changed = 0
    for booking_id, busy, withdrawn in rows:
        new_busy, new_withdrawn = UID_LINE.sub(_busy_uid, busy), UID_LINE.sub(_busy_uid, withdrawn)
        if (new_busy, new_withdrawn) != (busy, withdrawn):
            changed += 1
            connection.execute(
                ENTRIES.update()
                .where(ENTRIES.c.booking_id == booking_id)
                .values(
                    vevent_busy=new_busy, vevent_withdrawn_busy=new_withdrawn, generation=generation
                )
            )
    if changed and state is not None:
        now = max(datetime.now(UTC), state.changed_at)  # never backwards
        connection.execute(
            STATE.update().where(STATE.c.id == 1).values(generation=generation, changed_at=now)
        )


def downgrade() -> None:
    """Nothing to undo: the busy UIDs stay digests (the booking's id is not to be shown
    again), and the code before this renders a booking's busy block anew at its next
    change."""

"""What the shared session cookie says about its session, and when a session is over.

Booking keeps every session as a row (``user_sessions``: a random id, the user, when it
started, when it was last seen, when it ended). The cookie carries only that id, the
user's id and two times, signed with the shared secret: when the session started and when
it was last seen (refreshed at most every :attr:`SessionLimits.refresh`, so neither the
cookie nor booking's row is rewritten on every request). No name, address or role rides in
it: each service looks the user up (booking in its tables, calendar and notify in their
replica of ``user.changed``).

Every service refuses a session idle longer than :attr:`SessionLimits.idle` or older than
:attr:`SessionLimits.max_age` from the cookie's own times; booking also from its row, and
calendar and notify refuse the sessions ``user.changed`` lists as ended."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

REFRESH = timedelta(minutes=5)


@dataclass(frozen=True)
class SessionLimits:
    """How long a session lives: ``idle`` without a request, ``max_age`` at most; the last
    seen time is written again once it is ``refresh`` old."""

    idle: timedelta = timedelta(hours=8)
    max_age: timedelta = timedelta(days=30)
    refresh: timedelta = REFRESH

    @classmethod
    def from_config(cls, config: Any) -> SessionLimits:
        idle = timedelta(hours=config.session_idle_hours)
        return cls(
            idle=idle,
            max_age=timedelta(days=config.session_max_days),
            refresh=min(REFRESH, idle / 4),
        )

    def over(self, started_at: datetime, seen_at: datetime, now: datetime) -> bool:
        """Whether a session that started and was last seen then has ended by now."""
        return now - seen_at > self.idle or now - started_at > self.max_age

    def stale(self, seen_at: datetime, now: datetime) -> bool:
        """Whether the last seen time is old enough to be written again."""
        return now - seen_at >= self.refresh


@dataclass(frozen=True)
class SessionClaim:
    """The session a cookie names: whose it is, when it started, when it was last seen."""

    session_id: str
    user_id: str
    started_at: datetime
    seen_at: datetime

    def seen(self, now: datetime) -> SessionClaim:
        return replace(self, seen_at=now)

    def dump(self) -> dict[str, Any]:
        """What goes into the cookie (whole seconds since the epoch keep it short)."""
        return {
            "sid": self.session_id,
            "uid": self.user_id,
            "started": int(self.started_at.timestamp()),
            "seen": int(self.seen_at.timestamp()),
        }

    @classmethod
    def load(cls, data: object) -> SessionClaim | None:
        """The claim a cookie's value holds; ``None`` for anything else (an older cookie's
        shape, a malformed one)."""
        if not isinstance(data, Mapping):
            return None
        try:
            session_id, user_id = data["sid"], data["uid"]
            started, seen = int(data["started"]), int(data["seen"])
            if not (isinstance(session_id, str) and isinstance(user_id, str)):
                return None
            return cls(
                session_id,
                user_id,
                datetime.fromtimestamp(started, UTC),
                datetime.fromtimestamp(seen, UTC),
            )
        except (KeyError, TypeError, ValueError, OverflowError, OSError):
            return None

"""What one person may ask of booking at once, so that no one can crowd out the others or
make the suite mail the world: requests created an hour, requests waiting at once,
participants of a booking, changes of a booking an hour, and who may be invited before a
decider has looked at a booking. Each limit is a setting (``EVENEMANG_MAX_*``, see the
README); 0 turns a count off (not the participants': every booking has a most)."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.booking.domain.model import DomainError, RuleViolation
from shared.messages import Msg

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Limits:
    """The settings: ``bookings_per_hour`` and ``pending_at_once`` per organiser,
    ``participants`` per booking, ``changes_per_hour`` per booking, and the
    ``internal_domains`` whose addresses a booking approved without a decider may invite
    (empty: any)."""

    bookings_per_hour: int = 60
    pending_at_once: int = 50
    participants: int = 200
    changes_per_hour: int = 20
    internal_domains: frozenset[str] = frozenset()


class LimitReached(DomainError):
    """A person's limit is reached: 429, with ``retry_after`` (seconds) when it is known
    when the limit lets them again, and the message saying when."""

    def __init__(self, message: Msg, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _wait(since: datetime, now: datetime) -> int:
    """Whole seconds until an hour has passed since ``since`` (at least one)."""
    return max(1, math.ceil((since + HOUR - now).total_seconds()))


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def check_new_booking(limits: Limits, created: Sequence[datetime], pending: int, now: datetime):
    """Refuse a new request when its organiser has made ``bookings_per_hour`` in the last
    hour (``created``: when, oldest first; they may again once the oldest of those is an
    hour old) or has ``pending_at_once`` waiting for a decision (again once one of them is
    decided or withdrawn: no time is known then)."""
    recent = [at for at in created if at > now - HOUR]
    cap = limits.bookings_per_hour
    if cap and len(recent) >= cap:
        wait = _wait(recent[len(recent) - cap], now)
        raise LimitReached(
            Msg("too_many_bookings_an_hour", limit=cap, minutes=_minutes(wait)), wait
        )
    if limits.pending_at_once and pending >= limits.pending_at_once:
        raise LimitReached(Msg("too_many_pending", limit=limits.pending_at_once))


def check_change_rate(limits: Limits, changed: Sequence[datetime], now: datetime) -> None:
    """Refuse a change of a booking changed ``changes_per_hour`` times in the last hour
    (each change may mail every participant), until the oldest of those is an hour old."""
    recent = [at for at in changed if at > now - HOUR]
    cap = limits.changes_per_hour
    if cap and len(recent) >= cap:
        wait = _wait(recent[len(recent) - cap], now)
        raise LimitReached(Msg("too_many_changes_an_hour", limit=cap, minutes=_minutes(wait)), wait)


def check_participants(limits: Limits, participants: Collection[object]) -> None:
    """At most ``participants`` participants: 422 on the field."""
    if limits.participants and len(participants) > limits.participants:
        raise RuleViolation(
            {"participants": [Msg("too_many_participants", max=limits.participants)]}
        )


def outside(limits: Limits, addresses: Iterable[str]) -> list[str]:
    """The addresses outside the internal domains (none when no domain is set)."""
    if not limits.internal_domains:
        return []
    return sorted(
        {a for a in addresses if a.rsplit("@", 1)[-1].lower() not in limits.internal_domains}
    )

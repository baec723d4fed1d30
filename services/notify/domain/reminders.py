"""Reminders of the occurrences of an approved booking, to its organiser and participants."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from services.notify.domain.mail import Mail, MailKind, people
from shared.events import BookingSnapshot, Occurrence, Status

REMINDER_NAMESPACE = uuid.UUID("6f1d6c2e-2d0b-4c55-9d1c-8f3b0e5a7c41")


def occurrence_of(snapshot: BookingSnapshot, n: int | None) -> Occurrence | None:
    """Occurrence number ``n`` of the booking (None when there is no such one)."""
    if n is None:
        return None
    return next((o for o in snapshot.occurrences if o.n == n), None)


def reminder_times(snapshot: BookingSnapshot, now: datetime) -> dict[int, datetime]:
    """The occurrences still ahead that deserve a reminder: those of an approved booking."""
    if snapshot.status is not Status.APPROVED:
        return {}
    return {o.n: o.start for o in snapshot.occurrences if o.active and o.start > now}


def reschedule(
    snapshot: BookingSnapshot,
    scheduled: Mapping[int, datetime],
    lead: timedelta,
    now: datetime,
) -> tuple[list[int], dict[int, datetime]]:
    """Reminders to drop (their occurrence moved, was cancelled or the booking ended) and to
    add. A reminder whose time has already passed is not added: the mail that announced the
    new time went out just now."""
    wanted = reminder_times(snapshot, now)
    drop = [n for n, start in scheduled.items() if wanted.get(n) != start]
    add = {
        n: start for n, start in wanted.items() if scheduled.get(n) != start and start - lead > now
    }
    return drop, add


def reminder_id(booking_id: str, n: int, start: datetime) -> str:
    """The delivery log's event id of a reminder: one per occurrence and start time, so a
    moved occurrence gets a new reminder and an unchanged one is never reminded twice."""
    when = start.astimezone(UTC).isoformat()
    return str(uuid.uuid5(REMINDER_NAMESPACE, f"{booking_id}:{n}:{when}"))


def reminder_mails(snapshot: BookingSnapshot, n: int, start: datetime) -> list[Mail]:
    """A reminder of occurrence ``n`` to the organiser and every participant."""
    rid = reminder_id(snapshot.booking_id, n, start)
    everyone = people([snapshot.organiser, *snapshot.participants])
    return [Mail(MailKind.REMINDER, p, rid, snapshot, occurrence=n) for p in everyone]

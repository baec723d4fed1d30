"""Lines kept waiting: a line that has waited 48 hours for a decision before its booking
starts reminds its deciders once; and a decider who chose a daily digest hears of their
waiting lines in one mail a day, at 07:00 where the suite runs."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.notify.domain.deciders import (
    Asked,
    DigestItem,
    line_recipients,
    to_deciders,
    waiting_lines,
)
from services.notify.domain.mail import Mail, MailKind, Waiting, address_key
from shared.events import BookingSnapshot, Language, Person
from shared.messages import DEFAULT_LANGUAGE

WAITED = timedelta(hours=48)
DIGEST_AT = time(7, 0)
WAITING_NAMESPACE = uuid.UUID("0b7d8f2e-6a43-4d2b-9c1e-5f4a3e2d1c0b")
DIGEST_NAMESPACE = uuid.UUID("c3a1e9d4-7f62-4b8a-a5d0-2e6f1b9c8d47")

# --- the 48-hour reminder ------------------------------------------------------------------


def first_start(snapshot: BookingSnapshot) -> datetime:
    """When the booking starts: its first active occurrence (or its own start)."""
    return min((o.start for o in snapshot.occurrences if o.active), default=snapshot.start)


def waiting_times(snapshot: BookingSnapshot) -> dict[str, tuple[datetime, datetime]]:
    """The waiting lines that will have waited 48 hours before the booking starts: resource
    id → (waiting since, when to remind)."""
    start = first_start(snapshot)
    times = {}
    for line in waiting_lines(snapshot):
        if line.waiting_since is not None and line.waiting_since + WAITED < start:
            times[line.resource_id] = (line.waiting_since, line.waiting_since + WAITED)
    return times


def reschedule_waiting(
    snapshot: BookingSnapshot, scheduled: Mapping[str, datetime]
) -> tuple[list[str], dict[str, tuple[datetime, datetime]]]:
    """What to drop (decided, started waiting anew, or the booking ended) and to add among
    the 48-hour reminders of a booking, given the ``waiting since`` of those scheduled."""
    wanted = waiting_times(snapshot)
    drop = [r for r, since in scheduled.items() if r not in wanted or wanted[r][0] != since]
    add = {r: times for r, times in wanted.items() if scheduled.get(r) != times[0]}
    return drop, add


def waiting_id(booking_id: str, lines: Iterable[tuple[str, datetime]]) -> str:
    """The delivery log's event id of a 48-hour reminder of these lines (resource id,
    waiting since): the same lines waiting since the same time are reminded once."""
    facts = ",".join(f"{r}@{since.isoformat()}" for r, since in sorted(lines))
    return str(uuid.uuid5(WAITING_NAMESPACE, f"{booking_id}:{facts}"))


def waiting_reminder_mails(
    snapshot: BookingSnapshot,
    due: Mapping[str, datetime],
    now: datetime,
    infra_team: Sequence[str],
    daily: Collection[str] = (),
) -> tuple[str | None, list[Mail], list[DigestItem]]:
    """The reminder of due lines (resource id → waiting since) that still wait as they did
    while the booking has not started: its event id, one mail per recipient listing their
    lines (digest items for those who chose the digest). No event id when none is due."""
    if first_start(snapshot) <= now:
        return None, [], []
    still = {line.resource_id: line.waiting_since for line in waiting_lines(snapshot)}
    lines = {r: since for r, since in due.items() if still.get(r) == since}
    if not lines:
        return None, [], []
    event_id = waiting_id(snapshot.booking_id, lines.items())
    asked = dict.fromkeys(lines, Asked.NEW)
    mails, items = to_deciders(
        MailKind.WAITING_REMINDER, event_id, snapshot, asked, infra_team, daily
    )
    return event_id, mails, items


# --- the daily digest ----------------------------------------------------------------------


def digest_cutoff(now: datetime, zone: ZoneInfo) -> tuple[date, datetime]:
    """The day whose digest is due at ``now`` and the moment it covers lines up to: the
    last 07:00 in the suite's time zone (lines that start waiting later wait for the next
    day's digest)."""
    local = now.astimezone(zone)
    day = local.date() if local.time() >= DIGEST_AT else local.date() - timedelta(days=1)
    return day, datetime.combine(day, DIGEST_AT, tzinfo=zone)


def digest_id(recipient: str, day: date) -> str:
    """The delivery log's event id of a recipient's digest of one day: one a day."""
    return str(uuid.uuid5(DIGEST_NAMESPACE, f"digest:{address_key(recipient)}:{day}"))


def still_waiting_for(
    snapshot: BookingSnapshot | None, resource_id: str, recipient: str, infra_team: Sequence[str]
) -> bool:
    """Whether a line still waits, and for this recipient (by the newest snapshot)."""
    if snapshot is None or resource_id not in {x.resource_id for x in waiting_lines(snapshot)}:
        return False
    alerted = line_recipients(snapshot, resource_id, infra_team)
    return address_key(recipient) in {address_key(p.email) for p in alerted}


def digest_mail(
    recipient: str,
    day: date,
    items: Iterable[tuple[str, str]],
    snapshots: Mapping[str, BookingSnapshot],
    infra_team: Sequence[str],
) -> Mail | None:
    """A recipient's digest of the lines (booking id, resource id) that still wait for
    them, soonest booking first; None when none does. Worded in the bookings' language
    when they share one, else the default."""
    lines: dict[str, list[str]] = {}
    for booking_id, resource_id in items:
        snapshot = snapshots.get(booking_id)
        if still_waiting_for(snapshot, resource_id, recipient, infra_team):
            lines.setdefault(booking_id, []).append(resource_id)
    if not lines:
        return None
    waiting = []
    for booking_id in sorted(lines, key=lambda b: (first_start(snapshots[b]), b)):
        snapshot = snapshots[booking_id]
        order = [x.resource_id for x in waiting_lines(snapshot)]
        waiting.append(Waiting(snapshot, tuple(sorted(lines[booking_id], key=order.index))))
    languages = {w.snapshot.language for w in waiting}
    language = languages.pop() if len(languages) == 1 else Language(DEFAULT_LANGUAGE)
    first = waiting[0].snapshot.replace(language=language)
    to = Person(recipient)
    return Mail(MailKind.DIGEST, to, digest_id(recipient, day), first, items=tuple(waiting))

"""The consumer's work: a batch of events applied to notify's read model and the mail they
call for planned in the same transaction — delivery log rows (``queued``, unique by event,
recipient and kind), what each participant's calendar has been sent, the reminders ahead,
the 48-hour reminders of waiting lines and the digest's items. Nothing is sent here; the
sender sends what this committed, so a redelivered event, a replayed dead letter or a
second worker finds the rows there and plans nothing twice."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from services.notify.domain import (
    DigestItem,
    Invited,
    Mail,
    account_mail,
    freed_mails,
    organiser_mail,
    plan_mail,
    reminder_id,
    reminder_times,
    reschedule,
    reschedule_waiting,
    waiting_lines,
    with_names,
)
from services.notify.persistence.unit_of_work import UnitOfWork
from services.notify.readmodels import NewDelivery
from services.notify.settings import MailSettings
from services.notify.usecases.queueing import (
    account_deliveries,
    compose_deliveries,
    supersede_calendar_mail,
)
from shared.booking_ical import assigned_people
from shared.db import utcnow
from shared.events import BookingSnapshot, Event, Language, ResourceRef


@dataclass
class _Batch:
    """What planning one batch gathers: the rows to queue and the digest's items."""

    settings: MailSettings
    now: datetime
    daily: Collection[str]
    rows: list[NewDelivery] = field(default_factory=list)
    digest: list[DigestItem] = field(default_factory=list)
    cache: dict[tuple, Any] = field(default_factory=dict)
    # each booking's calendars and reminders, read (and locked) once a batch, and what
    # becomes of them, written once a batch
    invited: dict[str, dict[str, Invited]] = field(default_factory=dict)
    reminders: dict[str, dict[int, datetime]] = field(default_factory=dict)
    invitations: list[tuple[str, Mapping[str, Invited], int]] = field(default_factory=list)
    # the language of each assignee of the batch's bookings who is a known user
    languages: Mapping[str, str] = field(default_factory=dict)
    rescheduled: list[tuple[str, Iterable[int], Mapping[int, datetime]]] = field(
        default_factory=list
    )


def plan_deliveries(
    uow: UnitOfWork, events: Sequence[Event], settings: MailSettings, now: datetime | None = None
) -> int:
    """Apply a batch of events (per booking, user or resource only the newest revision is
    stored) and plan their mail: every event newer than what was stored before counts for
    the organiser, the newest state for everyone else — the same mail as applying them one
    by one, except that deciders are not asked about a request the batch shows decided.
    Notices (``booking.slot_freed``) repeat a revision and are planned as they come, as
    is each account mail (an invitation, a password reset: one to its account holder).
    Returns how many mails were queued."""
    now = now or utcnow()
    users = [e for e in events if e.is_user]
    resources = [e for e in events if e.is_resource]
    bookings = [e for e in events if e.is_booking and not e.type.is_notice]
    notices = [e for e in events if e.is_booking and e.type.is_notice]
    accounts = [account_mail(e) for e in events if e.is_account]
    with uow:
        if users:
            uow.users.store_newest(users)
            uow.preferences.store_newest(users)
        if resources:
            uow.resources.store_newest(resources)
        asking = notices or any(waiting_lines(e.data) for e in bookings)  # type: ignore[arg-type]
        batch = _Batch(settings, now, uow.preferences.daily() if asking else ())
        if bookings:
            _plan_bookings(uow, bookings, batch)
        if notices:
            _plan_notices(uow, notices, batch)
        batch.rows += account_deliveries(accounts, settings, now)
        queued = uow.deliveries.add(batch.rows, now)
        uow.digests.add(batch.digest, now)
        uow.commit()
    return queued


def _plan_bookings(uow: UnitOfWork, bookings: list[Event], batch: _Batch) -> None:
    before = uow.bookings.lock({e.booking_id for e in bookings})
    late = _late(bookings, before)
    stored = uow.bookings.store_newest(bookings)
    snapshots = [*before.values(), *(e.data for e in [*stored, *late])]
    known = _known(uow, snapshots, remember=stored)
    planned = [e.booking_id for e in stored]
    assignees = {a for s in snapshots for a in assigned_people(s, suppliers=True)}
    if assignees:  # one look-up a batch
        batch.languages = uow.preferences.languages(assignees)
    batch.invited = uow.invitations.lock_for_bookings(planned)
    batch.reminders = uow.reminders.lock_for_bookings(planned)
    for newest in stored:
        previous = before.get(newest.booking_id)
        floor = previous.revision if previous else 0
        fresh = _by_revision(
            e for e in bookings if e.booking_id == newest.booking_id and e.revision > floor
        )
        _plan_booking(uow, fresh, previous, known, batch)
    uow.invitations.save(batch.invitations)
    uow.reminders.reschedule(batch.rescheduled, batch.settings.reminder_lead)
    batch.rows += _compose(filter(None, map(organiser_mail, late)), known, batch)


def _late(bookings: Iterable[Event], before: Mapping[str, BookingSnapshot]) -> list[Event]:
    """Events older than the snapshot notify holds (redelivered behind a newer one): they
    change nothing held, but the organiser's mail of that step (a receipt, a decision) is
    still owed; participants and deciders follow the newest state, which they have had.
    An event of the held revision itself was planned when that revision was stored."""
    seen: dict[tuple[str, int], Event] = {}
    for e in bookings:
        if (held := before.get(e.booking_id)) is not None and e.revision < held.revision:
            seen.setdefault((e.booking_id, e.revision), e)
    return list(seen.values())


def _known(
    uow: UnitOfWork, snapshots: Sequence[Any], remember: Sequence[Event] = ()
) -> dict[str, ResourceRef]:
    """What mail may say of the resources of these snapshots (also of declined lines, no
    longer among a snapshot's resources): as the resource replica knows them, else as the
    snapshots named them. The replica remembers the names the ``remember`` events give
    (written only when they differ from what it holds)."""
    known: dict[str, ResourceRef] = {}
    for snapshot in snapshots:
        known.update((r.id, r) for r in snapshot.resources)
    line_ids = {line.resource_id for s in snapshots for line in s.lines}
    replica = uow.resources.refs(set(known) | line_ids)
    told = {r.id: r for e in remember for r in e.data.resources}  # type: ignore[union-attr]
    new = [r for r in told.values() if r.id not in replica or _naming(replica[r.id]) != _naming(r)]
    if new:
        uow.resources.remember(new)
        replica.update(uow.resources.refs(r.id for r in new))
    return {**known, **replica}


def _naming(ref: ResourceRef) -> tuple[str, ...]:
    names = (ref.named("sv"), ref.named("en"), ref.located("sv"), ref.located("en"))
    return (ref.slug, ref.kind.value, *names)


def _by_revision(events: Iterable[Event]) -> list[Event]:
    """Oldest first; a repeated revision counts once (the first one seen)."""
    seen: dict[int, Event] = {}
    for event in events:
        seen.setdefault(event.revision, event)
    return [seen[r] for r in sorted(seen)]


def _plan_booking(
    uow: UnitOfWork,
    events: list[Event],
    previous: BookingSnapshot | None,
    known: Mapping[str, ResourceRef],
    batch: _Batch,
) -> None:
    newest = events[-1]
    snapshot: BookingSnapshot = newest.data  # type: ignore[assignment]
    booking_id = newest.booking_id
    settings = batch.settings
    invited = batch.invited.get(booking_id, {})
    plan = plan_mail(events, previous, invited, settings.infra_team, batch.daily)
    if plan.invited:
        batch.invitations.append((booking_id, plan.invited, newest.revision))
    _reschedule_reminders(uow, snapshot, batch)
    _reschedule_waiting(uow, snapshot, previous)
    rows = _compose(_in_their_language(plan.mails, batch.languages), known, batch)
    supersede_calendar_mail(uow, booking_id, rows)
    batch.rows += rows
    batch.digest += plan.digest


def _in_their_language(mails: Sequence[Mail], languages: Mapping[str, str]) -> list[Mail]:
    """Mail about an assignee's own job in the assignee's language (a known user's;
    Swedish for anyone else), the rest in the booking's."""
    return [
        replace(m, language=languages.get(m.recipient, Language.SV.value))
        if m.kind.to_assignee
        else m
        for m in mails
    ]


def _compose(mails: Iterable[Mail], known: Mapping[str, ResourceRef], batch: _Batch):
    return compose_deliveries(with_names(mails, known), batch.settings, batch.now, batch.cache)


def _plan_notices(uow: UnitOfWork, notices: list[Event], batch: _Batch) -> None:
    """A notice is mailed once (the delivery log's key), judged by the newest snapshot
    notify holds: only lines that still wait are offered."""
    stored = uow.bookings.snapshots({e.booking_id for e in notices})
    known = _known(uow, [*stored.values(), *(e.data for e in notices)])
    for notice in notices:
        mails, digest = freed_mails(
            notice, stored.get(notice.booking_id), batch.settings.infra_team, batch.daily
        )
        batch.rows += _compose(mails, known, batch)
        batch.digest += digest


def _reschedule_reminders(uow: UnitOfWork, snapshot: BookingSnapshot, batch: _Batch) -> None:
    """Reminders follow the booking: moved with an occurrence, dropped when it is cancelled
    (also one already queued for sending)."""
    booking_id, now = snapshot.booking_id, batch.now
    held = batch.reminders.get(booking_id, {})
    drop, add = reschedule(snapshot, held, batch.settings.reminder_lead, now)
    if drop or add:
        batch.rescheduled.append((booking_id, drop, add))
    wanted = [
        reminder_id(booking_id, n, start) for n, start in reminder_times(snapshot, now).items()
    ]
    uow.deliveries.drop_queued_reminders(booking_id, wanted)


def _reschedule_waiting(
    uow: UnitOfWork, snapshot: BookingSnapshot, previous: BookingSnapshot | None
) -> None:
    """A waiting line's 48-hour reminder is scheduled when it starts waiting, and dropped
    (also one queued for sending) once it is decided or its booking ends. A booking that
    never had a line waiting with a time has none to look up."""
    if not any(line.waiting_since for s in (snapshot, previous) if s for line in s.lines):
        return
    booking_id = snapshot.booking_id
    drop, add = reschedule_waiting(snapshot, uow.waiting.lock_for_booking(booking_id))
    if drop or add:
        taken = uow.waiting.reschedule(booking_id, drop, add)
        uow.deliveries.drop_queued_waiting(booking_id, taken)

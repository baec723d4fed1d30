"""What booking's use cases share: checking a place (resources and times) against every
rule, refusing a taken slot, who may act on a booking, and recording what was done."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import Enum
from typing import Any

from services.booking.domain import (
    Actor,
    Block,
    Interval,
    Limits,
    ResourceRules,
    RuleViolation,
    SlotTaken,
    as_seen_by,
    blocks_of,
    check_resource_rules,
    check_series,
    check_times,
    collisions,
    expand_occurrences,
    may_decide,
    may_edit,
    require,
)
from services.booking.persistence.mapping import rules_of, snapshot
from services.booking.persistence.models import (
    Booking,
    BookingLine,
    Closure,
    HistoryEntry,
    Occurrence,
)
from services.booking.persistence.repositories import UnitOfWork
from services.booking.persistence.unit_of_work import Context
from shared.config import Config
from shared.db import utcnow
from shared.events import (
    BOOKING_SLOT_FREED,
    Change,
    EventType,
    LineStatus,
    OccurrenceStatus,
    Person,
    Status,
)
from shared.messages import Msg


def check_place(
    ctx: Context,
    uow: UnitOfWork,
    rules: Sequence[ResourceRules],
    start: datetime,
    end: datetime,
    rrule: str | None,
    attendees: int | None,
) -> list[Interval]:
    """Every date of the request, or one :class:`RuleViolation` with every broken rule of
    the times and of each resource (closures of all resources in one question)."""
    now = ctx.clock()
    errors = check_times(start, end, now)
    if errors:
        raise RuleViolation(errors)
    occurrences = expand_occurrences(start, end, rrule, ctx.zone)
    errors = check_series(occurrences, max((r.buffer_minutes for r in rules), default=0))
    if errors:
        raise RuleViolation(errors)
    span = Interval(occurrences[0].start, occurrences[-1].end)
    closures = uow.resources.closures([r.resource_id for r in rules], span)
    for resource in rules:
        closed = [
            (Interval(c.start, c.end), c.reason)
            for c in closures
            if c.resource_id == resource.resource_id
        ]
        problems = check_resource_rules(resource, occurrences, now, ctx.zone, attendees, closed)
        for key, messages in problems.items():
            errors.setdefault(key, []).extend(messages)
    if errors:
        raise RuleViolation(errors)
    return occurrences


def limits_of(config: Config) -> Limits:
    """The limits per person the configuration sets (``EVENEMANG_MAX_*`` and
    ``EVENEMANG_INTERNAL_DOMAINS``)."""
    domains = {d.strip().lstrip("@").lower() for d in config.internal_domains.split(",")}
    return Limits(
        bookings_per_hour=config.max_bookings_per_hour,
        pending_at_once=config.max_pending_bookings,
        participants=config.max_participants,
        changes_per_hour=config.max_changes_per_hour,
        internal_domains=frozenset(domains - {""}),
    )


def refuse_taken(
    uow: UnitOfWork,
    actor: Actor,
    rules: Iterable[ResourceRules],
    blocks: Sequence[Block],
    exclude: str | None,
) -> None:
    """:class:`SlotTaken` with what holds the time, when an approved booking does, as the
    actor may see it (another organiser's booking as busy only, unless they decide on
    its resource, one of ``rules``)."""
    held = collisions(blocks, uow.slots.near(blocks, {Status.APPROVED}, exclude), exclude)
    if held:
        raise SlotTaken(as_seen_by(actor, held, rules))


def taken_now(
    ctx: Context,
    actor: Actor,
    rules: Iterable[ResourceRules],
    blocks: Sequence[Block],
    exclude: str | None,
) -> SlotTaken:
    """After PostgreSQL refused a slot another transaction took: what holds it now, as the
    actor may see it."""
    with ctx.uow(readonly=True) as uow:
        held = collisions(blocks, uow.slots.near(blocks, {Status.APPROVED}, exclude), exclude)
        return SlotTaken(as_seen_by(actor, held, rules))


def active_dates(booking: Booking) -> list[Interval]:
    return [
        Interval(o.start, o.end)
        for o in sorted(booking.occurrences, key=lambda o: o.n)
        if o.status == OccurrenceStatus.ACTIVE
    ]


def blocks_held_by(booking: Booking) -> list[Block]:
    """What a booking's live lines (pending or approved) hold or want."""
    return line_blocks(booking, [x for x in booking.lines if x.status != LineStatus.DECLINED])


def line_blocks(booking: Booking, lines: Iterable[BookingLine]) -> list[Block]:
    """What these lines of a booking hold or want, on its active dates."""
    return blocks_of([rules_of(line.resource) for line in lines], active_dates(booking))


def held_blocks(booking: Booking) -> list[Block]:
    """What a booking holds now: its approved lines' time, while it is live."""
    if booking.status not in (Status.PENDING, Status.APPROVED):
        return []
    return line_blocks(booking, [x for x in booking.lines if x.status == LineStatus.APPROVED])


def offer_freed_slots(
    ctx: Context, uow: UnitOfWork, booking: Booking, held_before: Sequence[Block]
) -> None:
    """Slots this booking held before and no longer holds (its slots already synced) go to
    the pending requests that wanted them: each request whose wanted time on a resource is
    now clear (no approved booking, no closure) gets one ``booking.slot_freed`` naming those
    resources (once per request, however many dates of a series were freed)."""
    now_held = {(b.resource_id, b.interval) for b in held_blocks(booking)}
    freed = [b for b in held_before if (b.resource_id, b.interval) not in now_held]
    if not freed:
        return
    wanted: dict[str, set[str]] = {}
    for hit in collisions(freed, uow.slots.near(freed, {Status.PENDING}, booking.id), booking.id):
        wanted.setdefault(hit.booking_id, set()).add(hit.resource_id)
    for other_id, resource_ids in sorted(wanted.items()):
        other = uow.bookings.get(other_id)
        lines = [
            x
            for x in other.lines
            if x.resource_id in resource_ids and x.status == LineStatus.PENDING
        ]
        blocks = line_blocks(other, lines)
        still = collisions(blocks, uow.slots.near(blocks, {Status.APPROVED}, other.id), other.id)
        closed = closed_during(uow, [x.resource_id for x in lines], active_dates(other))
        clear = sorted({x.resource_id for x in lines} - {c.resource_id for c in still} - closed)
        if clear:
            publish(ctx, uow, other, BOOKING_SLOT_FREED, freed=clear)


def closures_during(
    uow: UnitOfWork, resource_ids: Sequence[str], dates: Sequence[Interval]
) -> list[Closure]:
    """The closures of these resources that fall on one of these dates (one question)."""
    if not resource_ids or not dates:
        return []
    span = Interval(min(d.start for d in dates), max(d.end for d in dates))
    return [
        c
        for c in uow.resources.closures(resource_ids, span)
        if any(Interval(c.start, c.end).overlaps(d) for d in dates)
    ]


def closed_during(
    uow: UnitOfWork, resource_ids: Sequence[str], dates: Sequence[Interval]
) -> set[str]:
    """Those of the resources that are closed on one of these dates."""
    return {c.resource_id for c in closures_during(uow, resource_ids, dates)}


def dates(occurrences: Iterable[Interval], cancelled: Iterable[int] = ()) -> list[Occurrence]:
    skipped = set(cancelled)
    return [
        Occurrence(
            n=n,
            start=o.start,
            end=o.end,
            status=OccurrenceStatus.CANCELLED if n in skipped else OccurrenceStatus.ACTIVE,
        )
        for n, o in enumerate(occurrences)
    ]


def editable(uow: UnitOfWork, actor: Actor, booking_id: str) -> Booking:
    """The booking, locked, when the actor may change what it says: its organiser, infra
    and admin (deciders decide; they do not edit)."""
    booking = uow.bookings.get(booking_id, lock=True)
    require(may_edit(actor, booking.organiser_id), Msg("only_organiser_edits"))
    return booking


def organiser_or_decider(uow: UnitOfWork, actor: Actor, booking_id: str) -> Booking:
    """The booking, locked, when the actor organises it or may decide on it."""
    booking = uow.bookings.get(booking_id, lock=True)
    require(
        booking.organiser_id == actor.user_id
        or may_decide(actor, [rules_of(r) for r in booking.resources]),
        Msg("only_organiser_or_deciders"),
    )
    return booking


def plain(value: Any) -> Any:
    """A value as the history and the events keep it (JSON)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Person):
        return {"email": value.email, "name": value.name}
    return value


# Changes that leave what a decider decides on as it was: a participant opting out of being
# recorded (or back in), who does an approved line's job. A decision link written before
# them still stands.
UNSEEN_BY_DECIDERS = frozenset({"opted_out", "opted_in", "assigned"})


def changed_since(uow: UnitOfWork, booking: Booking, revision: int) -> bool:
    """Whether the request changed, for its deciders, after ``revision``: every revision
    since must be a change they do not decide on (the history has one entry each)."""
    if booking.revision == revision:
        return False
    if booking.revision < revision:
        return True
    quiet = {
        entry.revision
        for entry in uow.bookings.history(booking.id)
        if entry.revision > revision and entry.action in UNSEEN_BY_DECIDERS
    }
    return quiet != set(range(revision + 1, booking.revision + 1))


def add_history(
    uow: UnitOfWork,
    booking: Booking,
    actor: str,
    action: str,
    *,
    changes: Sequence[Change] = (),
    reason: str | None = None,
) -> None:
    uow.bookings.add_history(
        HistoryEntry(
            booking_id=booking.id,
            at=utcnow(),
            actor=actor,
            action=action,
            revision=booking.revision,
            changes=[{"field": c.field, "from": c.old, "to": c.new} for c in changes],
            reason=reason,
        )
    )


def publish(
    ctx: Context,
    uow: UnitOfWork,
    booking: Booking,
    event: EventType,
    *,
    changes: Sequence[Change] = (),
    cancelled_occurrence: int | None = None,
    decided: Sequence[str] = (),
    freed: Sequence[str] = (),
) -> None:
    """The event with the booking's whole snapshot, into the outbox of this transaction."""
    uow.flush()
    typed = snapshot(
        booking,
        ctx.config.base_url,
        changes=changes,
        cancelled_occurrence=cancelled_occurrence,
        decided=decided,
        freed=freed,
    )
    uow.publish(event, typed)


def bump(booking: Booking) -> None:
    booking.revision += 1
    booking.updated_at = utcnow()

"""What is free when: resources free for an interval, a resource's busy times, and every
resource checked against every date of a request (the request form's "show free"). Each a
read-only unit of work of a few statements, however many resources and dates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.booking.commands import AvailabilityQuery, CheckRequest, SuggestionQuery
from services.booking.domain import (
    Actor,
    Block,
    HeldSlot,
    Interval,
    ResourceRules,
    blocks_of,
    check_resource_rules,
    collisions,
    expand_occurrences,
    free_alternatives,
    free_times,
    may_decide,
    normalise_rrule,
    suggestion_horizon,
)
from services.booking.persistence.mapping import resource_view, rules_of
from services.booking.persistence.models import Closure, Resource
from services.booking.persistence.unit_of_work import Context
from services.booking.readmodels import (
    BusyBlock,
    FreeTime,
    RequestCheck,
    ResourceCheck,
    ResourceView,
    Suggestions,
)
from shared.events import Status, Visibility


def _closed(closures: Sequence[Closure], resource_id: str) -> list[tuple[Interval, str]]:
    return [(Interval(c.start, c.end), c.reason) for c in closures if c.resource_id == resource_id]


def _unavailable(
    ctx: Context, rules: ResourceRules, dates: Sequence[Interval], closures: Sequence[Closure]
) -> bool:
    """Whether the resource's own rules (hours, notice, closures) refuse these dates."""
    problems = check_resource_rules(
        rules, dates, ctx.clock(), ctx.zone, None, _closed(closures, rules.resource_id)
    )
    return bool(problems.get("start"))


def find_available(ctx: Context, query: AvailabilityQuery) -> list[ResourceView]:
    """Active resources free for the whole interval: no approved booking (buffers included),
    no closure, inside opening hours; optionally of a kind, capacity and features (named in
    either language)."""
    interval = Interval(query.start, query.end)
    with ctx.uow(readonly=True) as uow:
        candidates = [
            r
            for r in uow.resources.list(query.kind, active=True)
            if (query.min_capacity is None or (r.capacity or 0) >= query.min_capacity)
            and not query.features
            - {f.lower() for f in [*(r.features or ()), *(r.features_en or ())]}
        ]
        rules = {r.id: rules_of(r) for r in candidates}
        closures = uow.resources.closures(rules, interval)
        blocks = blocks_of(rules.values(), [interval])
        near = uow.slots.near(blocks, {Status.APPROVED})
        return [
            resource_view(r)
            for r in candidates
            if not _unavailable(ctx, rules[r.id], [interval], closures)
            and not collisions([b for b in blocks if b.resource_id == r.id], near)
        ]


def _shown(actor: Actor, decider: bool, slot: HeldSlot) -> bool:
    return decider or slot.visibility == Visibility.PUBLIC or slot.organiser_id == actor.user_id


def _busy(actor: Actor, decider: bool, slot: HeldSlot) -> BusyBlock:
    shown = _shown(actor, decider, slot)
    return BusyBlock(
        "booking",
        slot.start,
        slot.end,
        slot.booking_id if shown else None,
        slot.title if shown else None,
    )


def _closure(closure: Closure) -> BusyBlock:
    return BusyBlock("closure", closure.start, closure.end, None, closure.reason)


def busy_blocks(
    ctx: Context, actor: Actor, key: str, start: datetime, end: datetime
) -> list[BusyBlock]:
    """A resource's approved bookings and closures in a range. Titles only where the actor may
    see the booking (they decide on the resource, organise it, or it is public)."""
    span = Interval(start, end)
    with ctx.uow(readonly=True) as uow:
        resource = uow.resources.get(key)
        decider = may_decide(actor, [rules_of(resource)])
        blocks = [_busy(actor, decider, s) for s in uow.slots.busy(resource.id, span)]
        blocks += [_closure(c) for c in uow.resources.closures([resource.id], span)]
        return sorted(blocks, key=lambda b: b.start)


def check_request(ctx: Context, actor: Actor, cmd: CheckRequest) -> RequestCheck:
    """Every active resource against every date of a requested time (the first ``limit``
    of a long series): free, taken (by which bookings and closures) or unavailable by its
    own rules. A changed booking's own slots count as free. Four statements at most (on
    SQLite with its BEGIN), however many resources and dates."""
    dates = expand_occurrences(cmd.start, cmd.end, normalise_rrule(cmd.rrule), ctx.zone)
    checked = dates[: cmd.limit] if cmd.limit else dates
    with ctx.uow(readonly=True) as uow:
        resources = uow.resources.list(active=True)
        rules = {r.id: rules_of(r) for r in resources}
        span = Interval(checked[0].start, checked[-1].end)
        closures = uow.resources.closures(rules, span)
        blocks = blocks_of(rules.values(), checked)
        near = uow.slots.near(blocks, {Status.APPROVED})
        found = tuple(
            _check(ctx, actor, r, rules[r.id], checked, blocks, near, closures, cmd.booking_id)
            for r in resources
        )
    return RequestCheck(found, occurrences=len(dates), checked=len(checked))


def _check(
    ctx: Context,
    actor: Actor,
    resource: Resource,
    rules: ResourceRules,
    dates: Sequence[Interval],
    blocks: Sequence[Block],
    near: Sequence[HeldSlot],
    closures: Sequence[Closure],
    own: str | None,
) -> ResourceCheck:
    mine = [b for b in blocks if b.resource_id == resource.id]
    held = {c.booking_id for c in collisions(mine, near, own)}
    decider = may_decide(actor, [rules])
    taken = [
        _busy(actor, decider, s)
        for s in near
        if s.resource_id == resource.id
        and s.booking_id in held
        and any(s.block.overlaps(b.interval) for b in mine)
    ]
    taken += [
        _closure(c)
        for c in closures
        if c.resource_id == resource.id and any(Interval(c.start, c.end).overlaps(d) for d in dates)
    ]
    if taken:
        state = "taken"
    elif _unavailable(ctx, rules, dates, closures):
        state = "unavailable"
    else:
        state = "free"
    return ResourceCheck(
        resource_view(resource), state, tuple(sorted(taken, key=lambda b: b.start))
    )


def suggest(ctx: Context, query: SuggestionQuery) -> Suggestions:
    """The next free times of the same length for the asked-for resources (within a bounded
    horizon) and other free resources of their kinds at the time asked for. A fixed number
    of statements (the resources, their closures, the held slots), whatever the horizon holds:
    every candidate time is checked in memory."""
    wanted = Interval(query.start, query.end)
    now = ctx.clock()
    with ctx.uow(readonly=True) as uow:
        asked = uow.resources.get_many(query.resource_ids)
        kinds = {r.kind for r in asked}
        others = [r for r in uow.resources.list(active=True) if r.kind in kinds]
        asked_rules = [rules_of(r) for r in asked]
        asked_ids = {r.id for r in asked}
        other_rules = [rules_of(r) for r in others if r.id not in asked_ids]
        horizon = suggestion_horizon(wanted, now)
        span = Interval(min(wanted.start, horizon.start), horizon.end)
        ids = [r.resource_id for r in (*asked_rules, *other_rules)]
        closures: dict[str, list[Interval]] = {}
        for c in uow.resources.closures(ids, span):
            closures.setdefault(c.resource_id, []).append(Interval(c.start, c.end))
        blocks = blocks_of(asked_rules, [span]) + blocks_of(other_rules, [wanted])
        held = [
            h for h in uow.slots.near(blocks, {Status.APPROVED}) if h.booking_id != query.booking_id
        ]
        times = free_times(asked_rules, wanted, held, closures, now, ctx.zone)
        free = set(free_alternatives(wanted, other_rules, asked_ids, held, closures, now, ctx.zone))
        alternatives = tuple(resource_view(r) for r in others if r.id in free)
    return Suggestions(tuple(FreeTime(t.start, t.end) for t in times), alternatives)

"""What to offer when a time is taken: the next free times of the same length for the same
resources (within their hours, outside closures, buffers kept, notice and how far ahead
respected), and other free resources of the same kind at the time asked for. Pure: the
caller reads the held slots and closures of a bounded horizon once."""

from __future__ import annotations

from bisect import insort
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.booking.domain.model import Interval, ResourceRules
from services.booking.domain.rules import check_resource_rules
from services.booking.domain.slots import Block, HeldSlot, Spans, blocked_interval

SUGGESTED_TIMES = 5
SUGGESTION_STEP = timedelta(minutes=30)
SUGGESTION_HORIZON = timedelta(days=28)


def suggestion_horizon(wanted: Interval, now: datetime) -> Interval:
    """The stretch searched for free times: from the time asked for (or now, when that has
    passed) for :data:`SUGGESTION_HORIZON`, the held slots and closures to read."""
    start = max(wanted.start, now)
    return Interval(start, start + SUGGESTION_HORIZON + (wanted.end - wanted.start))


def is_free(
    rules: ResourceRules,
    occ: Interval,
    held: Spans,
    closures: Mapping[str, Sequence[Interval]],
    now: datetime,
    zone: ZoneInfo,
) -> bool:
    """Whether one resource may be booked for ``occ``: its rules (hours, notice, how far
    ahead, length, closures) allow it and no held slot overlaps it, buffer included."""
    shut = [(c, "") for c in closures.get(rules.resource_id, ())]
    problems = check_resource_rules(rules, [occ], now, zone, None, shut)
    if problems or not rules.active:
        return False
    return not held.overlaps(rules.resource_id, blocked_interval(occ, rules.buffer_minutes))


def held_spans(held: Sequence[HeldSlot]) -> Spans:
    """The held slots as spans to ask "does this overlap one?" quickly."""
    return Spans(Block(h.resource_id, h.block) for h in held)


def free_times(
    resources: Sequence[ResourceRules],
    wanted: Interval,
    held: Sequence[HeldSlot],
    closures: Mapping[str, Sequence[Interval]],
    now: datetime,
    zone: ZoneInfo,
    limit: int = SUGGESTED_TIMES,
) -> list[Interval]:
    """The next ``limit`` times as long as ``wanted`` when every one of ``resources`` is free,
    soonest first and none overlapping another: candidates every :data:`SUGGESTION_STEP` from
    the time asked for (or the first step after now), right after each held slot ends and
    right after each time found, within :data:`SUGGESTION_HORIZON`. The time asked for is the
    first when it is free."""
    if not resources or wanted.end <= wanted.start:
        return []
    length = wanted.end - wanted.start
    horizon = suggestion_horizon(wanted, now)
    spans = held_spans(held)
    found: list[Interval] = []
    candidates = _candidates(wanted.start, horizon, held, {r.resource_id for r in resources})
    n = 0
    while n < len(candidates) and len(found) < limit:
        occ = Interval(candidates[n], candidates[n] + length)
        n += 1
        if found and occ.start < found[-1].end:
            continue
        if all(is_free(r, occ, spans, closures, now, zone) for r in resources):
            found.append(occ)
            if occ.end not in candidates:  # the next may start as this one ends
                insort(candidates, occ.end, lo=n)
    return found


def _candidates(
    asked: datetime, horizon: Interval, held: Sequence[HeldSlot], ids: set[str]
) -> list[datetime]:
    """Steps from the time asked for (those before the horizon's start left out) and the
    ends of the held slots of these resources, sorted, within the horizon."""
    end = horizon.start + SUGGESTION_HORIZON
    skipped = max(0, -(-(horizon.start - asked) // SUGGESTION_STEP))  # whole steps, rounded up
    starts = {asked + n * SUGGESTION_STEP for n in range(skipped, skipped + _steps())}
    starts |= {h.block.end for h in held if h.resource_id in ids}
    return sorted(s for s in starts if horizon.start <= s <= end)


def _steps() -> int:
    return SUGGESTION_HORIZON // SUGGESTION_STEP + 1


def free_alternatives(
    wanted: Interval,
    candidates: Sequence[ResourceRules],
    asked: Collection[str],
    held: Sequence[HeldSlot],
    closures: Mapping[str, Sequence[Interval]],
    now: datetime,
    zone: ZoneInfo,
) -> list[str]:
    """Ids of the ``candidates`` (the caller picks those of the kinds asked for) that are
    free for ``wanted`` and not among the ``asked`` ids themselves."""
    spans = held_spans(held)
    return [
        r.resource_id
        for r in candidates
        if r.resource_id not in asked and is_free(r, wanted, spans, closures, now, zone)
    ]

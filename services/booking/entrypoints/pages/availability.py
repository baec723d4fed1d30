"""What is free for a time: the resources offered on the request form, why the others are
not, and alternatives to a taken slot. Built on the use cases the API's availability and
busy endpoints use."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.booking.commands import AvailabilityQuery
from services.booking.domain import KINDS, Conflict, Interval, expand_occurrences
from services.booking.entrypoints.pages.common import actor, ctx
from services.booking.usecases import queries, resources
from services.booking.views import BusyBlock
from services.booking.views import ResourceView as Resource

PREVIEW_OCCURRENCES = 20  # a long series is checked in full when it is sent


@dataclass
class Choice:
    """One resource on the request form: free, taken (by what) or not bookable then."""

    resource: Resource
    state: str = "unknown"  # unknown | free | taken | unavailable
    taken: list[BusyBlock] = field(default_factory=list)


@dataclass
class Availability:
    choices: dict[str, list[Choice]]
    checked: bool
    occurrences: int = 0
    preview_only: bool = False


def occurrences_of(when: dict[str, Any]) -> list[Interval]:
    return expand_occurrences(when["start"], when["end"], when["rrule"], ctx().zone)


def availability(when: dict[str, Any] | None, own_booking: Any = None) -> Availability:
    """Every active resource by kind; with a time, which are free for all of it (the first
    dates of a long series) and what holds the others."""
    active = [r for r in resources.list_resources(ctx()) if r.active]
    choices: dict[str, list[Choice]] = {kind: [] for kind in KINDS}
    if when is None:
        for r in active:
            choices[r.kind].append(Choice(r))
        return Availability(choices, checked=False)
    dates = occurrences_of(when)
    preview = dates[:PREVIEW_OCCURRENCES]
    free = _free_ids(preview)
    own_id = own_booking.id if own_booking is not None else None
    own_resources = {r.id for r in own_booking.resources} if own_booking is not None else set()
    for r in active:
        taken = [] if r.id in free else _taken(r, preview, own_id)
        if r.id in free or (r.id in own_resources and not taken):
            state = "free"
        else:
            state = "taken" if taken else "unavailable"
        choices[r.kind].append(Choice(r, state, taken))
    for kind in choices:
        choices[kind].sort(key=lambda c: (c.state != "free", c.resource.name.lower()))
    return Availability(choices, True, len(dates), len(dates) > len(preview))


def _free_ids(dates: list[Interval]) -> set[str]:
    free: set[str] | None = None
    for occ in dates:
        ids = {r.id for r in queries.find_available(ctx(), AvailabilityQuery(occ.start, occ.end))}
        free = ids if free is None else free & ids
        if not free:
            break
    return free or set()


def _taken(resource: Resource, dates: list[Interval], own_id: str | None) -> list[BusyBlock]:
    """The bookings and closures of ``resource`` that overlap ``dates`` (its buffer
    included), as the actor may see them."""
    buffer = timedelta(minutes=resource.buffer_minutes)
    blocks = queries.busy_blocks(
        ctx(), actor(), resource.id, dates[0].start - buffer, dates[-1].end + buffer
    )
    found = []
    for block in blocks:
        if block.booking_id is not None and block.booking_id == own_id:
            continue
        end = block.end + (buffer if block.kind == "booking" else timedelta(0))
        if any(block.start < occ.end and occ.start < end for occ in dates):
            found.append(block)
    return found


def alternatives(
    start: datetime, end: datetime, kinds: Iterable[str], exclude: Iterable[str] = ()
) -> list[Resource]:
    """Resources of these kinds free for the whole interval, besides ``exclude``."""
    skip, wanted = set(exclude), set(kinds)
    return [
        r
        for r in queries.find_available(ctx(), AvailabilityQuery(start, end))
        if r.kind in wanted and r.id not in skip
    ]


def describe_conflicts(conflicts: Iterable[Conflict], *, decider: bool) -> list[dict[str, Any]]:
    """Conflicts with the resource's name. Those who decide on the resource see the other
    booking's title; others only where the week view would show it (public or their own)."""
    by_id = {r.id: r for r in resources.list_resources(ctx())}
    shown = []
    for c in conflicts:
        title = c.title if decider else None
        if not decider and c.status == "approved":
            for block in queries.busy_blocks(ctx(), actor(), c.resource_id, c.start, c.end):
                if block.booking_id == c.booking_id:
                    title = block.title
        shown.append({"conflict": c, "resource": by_id.get(c.resource_id), "title": title})
    return shown

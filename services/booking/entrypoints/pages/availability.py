"""What is free for a time, as the request form and a request's page show it: every
resource by kind, free, taken (by what) or not bookable then, from the one use case that
checks a request (``queries.check_request``); conflicts with the resources' names and the
titles a reader may see; alternatives to a taken slot."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from services.booking.commands import CheckRequest
from services.booking.domain import KINDS, Conflict
from services.booking.entrypoints.pages.common import actor, ctx
from services.booking.entrypoints.pages.forms.when import When
from services.booking.readmodels import BookingView, RequestCheck, ResourceCheck, ResourceView
from services.booking.usecases import queries, resources
from shared.events import ResourceRef

PREVIEW_OCCURRENCES = 20  # a long series is checked in full when it is sent


@dataclass(frozen=True)
class Availability:
    """The resources offered on the request form, by kind, free ones first."""

    choices: dict[str, list[ResourceCheck]]
    checked: bool
    occurrences: int = 0
    preview_only: bool = False
    check: RequestCheck | None = None


def check_time(when: When, booking: BookingView | None = None) -> RequestCheck:
    """Every active resource against the first dates of a requested time; a changed
    booking's own slots count as free."""
    own = booking.id if booking is not None else None
    cmd = CheckRequest(when.start, when.end, when.rrule, booking_id=own, limit=PREVIEW_OCCURRENCES)
    return queries.check_request(ctx(), actor(), cmd)


def availability(when: When | None, booking: BookingView | None = None) -> Availability:
    """Every active resource by kind; with a time, which are free for all of it (the first
    dates of a long series) and what holds the others."""
    if when is None:
        listed = [ResourceCheck(r, "unknown") for r in resources.list_resources(ctx()) if r.active]
        return Availability(_by_kind(listed), checked=False)
    check = check_time(when, booking)
    own = {r.id for r in booking.resources} if booking is not None else set()
    listed = [
        replace(c, state="free") if c.resource.id in own and c.state == "unavailable" else c
        for c in check.resources
    ]
    for kind in (by_kind := _by_kind(listed)).values():
        kind.sort(key=lambda c: (c.state != "free", c.resource.name.lower()))
    return Availability(by_kind, True, check.occurrences, check.occurrences > check.checked, check)


def _by_kind(listed: Iterable[ResourceCheck]) -> dict[str, list[ResourceCheck]]:
    choices: dict[str, list[ResourceCheck]] = {kind: [] for kind in KINDS}
    for choice in listed:
        choices[choice.resource.kind].append(choice)
    return choices


def describe_conflicts(
    conflicts: Iterable[Conflict], named: Iterable[ResourceRef | ResourceView]
) -> list[dict[str, Any]]:
    """Conflicts with the resource's name (from ``named``) and the other booking's title
    where the reader may see it (the use cases left the others busy only)."""
    by_id = {r.id: r for r in named}
    return [
        {"conflict": c, "resource": by_id.get(c.resource_id), "title": c.title or None}
        for c in conflicts
    ]


def alternatives(
    check: RequestCheck | None, taken: Iterable[Conflict], exclude: Iterable[str]
) -> tuple[ResourceView, ...]:
    """Free resources of the kinds that are taken, besides ``exclude`` (ids)."""
    if check is None:
        return ()
    taken_ids = {c.resource_id for c in taken}
    kinds = {c.resource.kind for c in check.resources if c.resource.id in taken_ids}
    return check.alternatives(kinds, frozenset(exclude))

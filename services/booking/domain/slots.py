"""What a booking holds: each resource's time plus its buffer, and which held or wanted
slots of other bookings a request collides with."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.booking.domain.model import (
    MAX_BUFFER_MINUTES,
    MAX_OCCURRENCE_LENGTH,
    Actor,
    Conflict,
    Interval,
    ResourceRules,
)
from services.booking.domain.workflow import decides
from shared.events import Status, Visibility

MAX_BLOCK_LENGTH = MAX_OCCURRENCE_LENGTH + timedelta(minutes=MAX_BUFFER_MINUTES)
# How far apart a resource's blocks may lie and still be looked up in one index range: a
# series of 500 daily dates is then 16 ranges per resource.
NEAR_WINDOW = timedelta(days=31)


def blocked_interval(occ: Interval, buffer_minutes: int) -> Interval:
    """The time a booking holds a resource: the occurrence plus the resource's buffer after
    it, so two bookings of one resource are always at least the buffer apart."""
    return Interval(occ.start, occ.end + timedelta(minutes=buffer_minutes))


@dataclass(frozen=True)
class Block:
    """The time a request would hold one resource (an occurrence plus its buffer)."""

    resource_id: str
    interval: Interval


def blocks_of(resources: Iterable[ResourceRules], occurrences: Iterable[Interval]) -> list[Block]:
    """What holding these resources at these times blocks, each resource's buffer included."""
    occurrences = list(occurrences)
    return [
        Block(r.resource_id, blocked_interval(occ, r.buffer_minutes))
        for r in resources
        for occ in occurrences
    ]


@dataclass(frozen=True)
class HeldSlot:
    """Another booking's time on a resource: approved (it holds it) or pending (it wants it)."""

    booking_id: str
    resource_id: str
    start: datetime
    end: datetime
    block: Interval
    status: Status
    title: str = ""
    visibility: str = "internal"
    organiser_id: str = ""


class Spans:
    """Blocks per resource, sorted, for the two questions a series of hundreds of dates asks
    often: which slots overlap any of them (a binary search each, not a scan of every
    block), and which few time ranges cover them all."""

    def __init__(self, blocks: Iterable[Block]) -> None:
        by_resource: dict[str, list[Interval]] = {}
        for block in blocks:
            by_resource.setdefault(block.resource_id, []).append(block.interval)
        self._starts: dict[str, list[datetime]] = {}
        self._reach: dict[str, list[datetime]] = {}  # the latest end among the first i+1
        self._sorted: dict[str, list[Interval]] = {}
        for resource_id, intervals in by_resource.items():
            intervals.sort(key=lambda i: (i.start, i.end))
            reach: list[datetime] = []
            for interval in intervals:
                reach.append(max(reach[-1], interval.end) if reach else interval.end)
            self._sorted[resource_id] = intervals
            self._starts[resource_id] = [i.start for i in intervals]
            self._reach[resource_id] = reach

    def overlaps(self, resource_id: str, interval: Interval) -> bool:
        """Whether ``interval`` on this resource overlaps one of the blocks."""
        starts = self._starts.get(resource_id)
        if not starts:
            return False
        before = bisect_left(starts, interval.end)  # blocks that start before it ends
        return before > 0 and self._reach[resource_id][before - 1] > interval.start

    def windows(self, width: timedelta) -> list[tuple[str, datetime, datetime]]:
        """(resource, start, end) ranges covering every block, each starting at most
        ``width`` before its last block starts."""
        found = []
        for resource_id, intervals in sorted(self._sorted.items()):
            start, end = intervals[0].start, intervals[0].end
            for interval in intervals[1:]:
                if interval.start - start > width:
                    found.append((resource_id, start, end))
                    start, end = interval.start, interval.end
                else:
                    end = max(end, interval.end)
            found.append((resource_id, start, end))
        return found


def collisions(
    blocks: Iterable[Block], held: Iterable[HeldSlot], exclude: str | None = None
) -> list[Conflict]:
    """The slots of other bookings (not ``exclude``) that overlap ``blocks``, each once,
    soonest first. With no such slot, the blocks are not even sorted (a series' thousands)."""
    others = [slot for slot in held if slot.booking_id != exclude]
    if not others:
        return []
    spans = Spans(blocks)
    found: dict[tuple[str, str, datetime], Conflict] = {}
    for slot in others:
        if spans.overlaps(slot.resource_id, slot.block):
            found.setdefault(
                (slot.booking_id, slot.resource_id, slot.start),
                Conflict(
                    slot.booking_id,
                    slot.resource_id,
                    slot.start,
                    slot.end,
                    slot.title,
                    slot.status,
                    slot.visibility,
                    slot.organiser_id,
                ),
            )
    return sorted(found.values(), key=lambda c: (c.start, c.booking_id))


def as_seen_by(
    actor: Actor, conflicts: Iterable[Conflict], resources: Iterable[ResourceRules]
) -> list[Conflict]:
    """Conflicts as ``actor`` may see them: another organiser's booking only as busy (its
    resource, time and whether it holds or wants it; no id, no title) unless the actor is
    infra or admin, organises it, decides on its resource (one of ``resources``), or it is
    public and approved (the public feed shows it then)."""
    decided = {r.resource_id for r in resources if actor.is_infra or decides(actor, r)}
    return [c if _sees(actor, c, decided) else c.as_busy() for c in conflicts]


def _sees(actor: Actor, conflict: Conflict, decided: set[str]) -> bool:
    return not conflict.busy_only and sees(actor, conflict, decided)


def sees(actor: Actor, seen: Conflict | HeldSlot, decided: set[str]) -> bool:
    """Whether ``actor`` sees another booking's title on a resource: they organise it,
    decide on the resource (``decided``: ids of the resources they decide, every one for
    infra), or it is public and approved (the public feed shows it then)."""
    public = seen.visibility == Visibility.PUBLIC and seen.status == Status.APPROVED
    return public or seen.organiser_id == actor.user_id or seen.resource_id in decided

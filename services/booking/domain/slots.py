"""What a booking holds: each resource's time plus its buffer, and which held or wanted
slots of other bookings a request collides with."""

from __future__ import annotations

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


def collisions(
    blocks: Iterable[Block], held: Iterable[HeldSlot], exclude: str | None = None
) -> list[Conflict]:
    """The slots of other bookings (not ``exclude``) that overlap ``blocks``, each once,
    soonest first."""
    by_resource: dict[str, list[Interval]] = {}
    for block in blocks:
        by_resource.setdefault(block.resource_id, []).append(block.interval)
    found: dict[tuple[str, str, datetime], Conflict] = {}
    for slot in held:
        if slot.booking_id == exclude:
            continue
        if any(slot.block.overlaps(b) for b in by_resource.get(slot.resource_id, ())):
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
    if conflict.busy_only:
        return False
    public = conflict.visibility == Visibility.PUBLIC and conflict.status == Status.APPROVED
    return public or conflict.organiser_id == actor.user_id or conflict.resource_id in decided

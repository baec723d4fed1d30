"""The consumer's work: booking, resource and user events into calendar's read model, each
changed booking rendered once into its feed entry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.calendar.domain import (
    BUSY_ORGANIZER,
    ENDED,
    EntryFacts,
    RenderedEntry,
    entry_facts,
)
from services.calendar.persistence.unit_of_work import UnitOfWork
from shared.booking_ical import assignment_spec, booking_spec
from shared.db import utcnow
from shared.events import BookingSnapshot, Event
from shared.ical import render_event

CANCELLED = "CANCELLED"


def apply_events(uow: UnitOfWork, events: Sequence[Event], now: datetime | None = None) -> int:
    """Apply booking, resource and user events. Per booking, resource or user only the
    newest revision counts, and only when it is newer than the one held (stale and repeated
    events change nothing); a notice (``booking.slot_freed``) tells of a booking without
    changing it, so it changes nothing here. Every booking that changed is rendered once,
    and the feeds move on by one generation (a resource's new name shows in its feed, a
    user's new role or deactivation in their private feeds).
    Returns how many bookings changed."""
    now = now or utcnow()
    with uow:
        users = [e for e in events if e.is_user]
        uow.users.store_newest(users)
        resources = uow.resources.store_newest([e for e in events if e.is_resource])
        changes = [e for e in events if e.is_booking and not e.type.is_notice]
        applied = uow.bookings.store_newest(changes)
        if applied or resources or users:  # a user's role decides what their feeds show
            version = uow.feed_state.advance(now)
        if applied:
            previous = uow.entries.facts(e.booking_id for e in applied)
            entries = [render_entry(e.data, previous.get(e.booking_id)) for e in applied]
            uow.entries.save_all(entries, version.generation, now)
            uow.resources.remember(r for e in applied for r in e.data.resources)
        uow.commit()
    return len(applied)


def render_entry(snapshot: BookingSnapshot, previous: EntryFacts | None) -> RenderedEntry:
    """A booking's feed entry: its facts and VEVENTs, naming resources in Swedish and (where
    that differs) in English (the busy one says "Booked" in the booking's own language and
    names no one); while it goes ahead but is called off in some resource's feed, both also
    as CANCELLED for that feed; with assignees (or people taken off its jobs), its jobs'
    VEVENT for their feeds, as CANCELLED for those taken off."""
    facts = entry_facts(snapshot, previous)
    vevents: dict[str, str] = {}
    for suffix, language in (("", "sv"), ("_en", "en")):  # resources named in each
        local = snapshot.replace(resources=tuple(r.localized(language) for r in snapshot.resources))
        those = {"full": _vevent(local), "busy": _vevent(local, busy_only=True)}
        if facts.withdrawn and facts.status not in ENDED:
            those["withdrawn_full"] = _vevent(local, status=CANCELLED)
            those["withdrawn_busy"] = _vevent(local, busy_only=True, status=CANCELLED)
        for which, vevent in those.items():
            if not suffix or vevent != vevents[which]:  # English kept only where it differs
                vevents[which + suffix] = vevent
    if facts.assigned or facts.unassigned:  # its jobs, in the assignees' feeds
        vevents["assignment"] = render_event(assignment_spec(snapshot))
        if facts.unassigned and facts.status not in ENDED:
            vevents["assignment_withdrawn"] = render_event(
                assignment_spec(snapshot, status=CANCELLED)
            )
    return RenderedEntry.of(facts, revision=snapshot.revision, **vevents)


def _vevent(snapshot: BookingSnapshot, busy_only: bool = False, status: str | None = None) -> str:
    spec = booking_spec(
        snapshot, busy_only=busy_only, status=status, fallback_organizer=BUSY_ORGANIZER
    )
    return render_event(spec)

"""Keeping each booking's rendered VEVENTs up to date as events arrive, so a feed is only a
concatenation of what is already rendered (one change re-renders one booking)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from services.calendar.persistence.models import (
    FeedEntry,
    FeedEntryResource,
    FeedState,
    KnownResource,
)
from shared.booking_ical import booking_spec
from shared.db import utcnow
from shared.ical import Person, render_event

# The organiser a busy-only block shows (RFC 5546 wants one on every published event; the
# real organiser of a non-public booking is not for a resource feed to tell).
BUSY_ORGANIZER = Person("noreply@evenemang.invalid", "Evenemang")


def refresh_entry(
    session: Session,
    snapshot: dict[str, Any],
    organizer: Person = BUSY_ORGANIZER,
    generation: int | None = None,
) -> None:
    """Render and store a booking's feed entry from its newest snapshot, and move the feed
    state on (in the caller's transaction). A batch passes the one ``generation`` it took
    for all its entries."""
    if generation is None:
        generation = bump_state(session)
    entry = session.get(FeedEntry, snapshot["booking_id"])
    if entry is None:
        entry = FeedEntry(booking_id=snapshot["booking_id"])
        session.add(entry)
    status = snapshot["status"]
    last_end = max(
        (datetime.fromisoformat(o["end"]) for o in snapshot["occurrences"]),
        default=datetime.fromisoformat(snapshot["end"]),
    )
    entry.revision = snapshot["revision"]
    entry.status = status
    entry.visibility = snapshot["visibility"]
    entry.organiser_email = snapshot["organiser"]["email"].lower()
    entry.resource_slugs = [r["slug"] for r in snapshot["resources"]]
    entry.deciders = sorted({m.lower() for r in snapshot["resources"] for m in r["managers"]})
    entry.last_end = last_end
    if status in ("cancelled", "rejected"):
        entry.cancelled_at = entry.cancelled_at or datetime.fromisoformat(snapshot["updated_at"])
    else:
        entry.cancelled_at = None
    entry.vevent_full = render_event(booking_spec(snapshot, fallback_organizer=organizer))
    entry.vevent_busy = render_event(
        booking_spec(
            snapshot,
            busy_only=True,
            fallback_organizer=organizer,
            language=snapshot.get("language", "sv"),
        )
    )
    entry.changed_at = utcnow()
    entry.generation = generation
    session.flush()
    session.execute(
        delete(FeedEntryResource).where(FeedEntryResource.booking_id == entry.booking_id)
    )
    session.add_all(
        FeedEntryResource(booking_id=entry.booking_id, slug=slug)
        for slug in set(entry.resource_slugs)
    )
    for resource in snapshot["resources"]:
        known = session.get(KnownResource, resource["slug"])
        if known is None:
            session.add(
                KnownResource(slug=resource["slug"], name=resource["name"], kind=resource["kind"])
            )
        else:
            known.name, known.kind = resource["name"], resource["kind"]


def bump_state(session: Session) -> int:
    """One more change: the generation rises and ``changed_at`` never moves backwards. The
    row lock orders generations as commits are ordered, so readers can fetch "everything
    after generation N" without missing a late commit."""
    state = session.get(FeedState, 1, with_for_update=True)
    now = utcnow()
    if state is None:
        session.add(FeedState(id=1, generation=1, changed_at=now))
        session.flush()
        return 1
    state.generation += 1
    state.changed_at = max(now, state.changed_at)
    return state.generation

"""Feeding the calendar service events the way its consumer receives them, and reading
its feeds the way calendar clients do."""

from __future__ import annotations

import icalendar
import vobject

from services.calendar.entrypoints.consumer import make_handler
from shared.db import utcnow
from shared.events import BOOKING_APPROVED, parse_event
from tests.factories import envelope


def approved(**overrides) -> dict:
    """A ``booking.approved`` envelope (revision 2) of the factory's booking."""
    overrides.setdefault("status", "approved")
    overrides.setdefault("revision", 2)
    return envelope(BOOKING_APPROVED, **overrides)


def deliver(app, *envelopes, clock=None) -> None:
    """Apply the envelopes one by one as the consumer does (``clock``: when it happens),
    each followed by publishing the feeds, as calendar's worker does."""
    db = app.extensions["evenemang"]["db"]
    handle = make_handler(db, clock or utcnow, publisher=lambda: publish(app, clock))
    for one in envelopes:
        handle(parse_event(one))


def publish(app, clock=None) -> None:
    """Publish the feeds as calendar's worker does when they moved on (``clock``: now)."""
    publisher = app.extensions["feed_publisher"]
    publisher.clock = clock or utcnow
    try:
        publisher.changed()
    finally:
        publisher.clock = utcnow


def parse_both(body: bytes) -> tuple[list, list]:
    """The VEVENTs as icalendar and as vobject see them."""
    text = body.decode("utf-8")
    by_icalendar = list(icalendar.Calendar.from_ical(text).walk("VEVENT"))
    by_vobject = list(vobject.readOne(text).contents.get("vevent", []))
    assert len(by_icalendar) == len(by_vobject)
    return by_icalendar, by_vobject

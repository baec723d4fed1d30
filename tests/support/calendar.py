"""Feeding the calendar service events the way its consumer receives them, and reading
its feeds the way calendar clients do."""

from __future__ import annotations

import icalendar
import vobject

from services.calendar.entrypoints.consumer import make_handler
from shared.events import parse_event


def deliver(app, *envelopes, clock=None) -> None:
    """Apply the envelopes one by one as the consumer does (``clock``: when it happens)."""
    db = app.extensions["evenemang"]["db"]
    handle = make_handler(db, clock) if clock else make_handler(db)
    for envelope in envelopes:
        handle(parse_event(envelope))


def parse_both(body: bytes) -> tuple[list, list]:
    """The VEVENTs as icalendar and as vobject see them."""
    text = body.decode("utf-8")
    by_icalendar = list(icalendar.Calendar.from_ical(text).walk("VEVENT"))
    by_vobject = list(vobject.readOne(text).contents.get("vevent", []))
    assert len(by_icalendar) == len(by_vobject)
    return by_icalendar, by_vobject

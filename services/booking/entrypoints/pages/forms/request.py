"""The request form: the API's booking schema over the form's fields (the time fields of
:mod:`.when`, resources as boxes, participants pasted as text), loading into the same
:class:`~services.booking.commands.SubmitBooking` the API does."""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

from marshmallow import EXCLUDE, post_load, pre_load

from services.booking.commands import ChangeBooking, SubmitBooking
from services.booking.entrypoints.pages.forms.errors import Errors, flat, on_form
from services.booking.entrypoints.pages.forms.when import (
    WHEN_FIELDS,
    WhenFields,
    rrule_fields,
    take_when,
)
from services.booking.readmodels import BookingView
from services.booking.schemas import BookingInSchema
from services.booking.usecases.bookings import CONTENT_FIELDS
from shared.events import Person
from shared.messages import Msg
from shared.schema import ValidationError
from shared.timezones import current_zone

QUOTE_AWARE_COMMA = re.compile(r',(?=(?:[^"]*"[^"]*")*[^"]*$)')
WHOLE_NUMBER = re.compile(r"[+-]?\d{1,9}")
# Where the API's (and the domain's) field names show on the request form.
FIELD_ON_FORM = {"start": "start_time", "end": "end_time", "rrule": "repeat"}
# The form's fields from top to bottom: the order its errors are listed in.
FORM_ORDER = (*WHEN_FIELDS, "resource_ids", *CONTENT_FIELDS)


def parse_participants(text: str) -> list[dict[str, str]]:
    """Addresses pasted one per line or separated by commas (not those inside quotes);
    ``Name <address>`` keeps the name."""
    people = []
    for line in re.split(r"[\n\r;]+", text or ""):
        for entry in QUOTE_AWARE_COMMA.split(line):
            entry = entry.strip()
            if not entry:
                continue
            if "<" in entry and entry.endswith(">"):
                cut = entry.rindex("<")
                person = {"email": entry[cut + 1 : -1].strip()}
                name = entry[:cut].strip().strip('"').strip()
                if name:
                    person["name"] = name
                people.append(person)
            else:
                people.append({"email": entry})
    return people


def format_participants(people: tuple[Person, ...]) -> str:
    return "\n".join(f"{p.name} <{p.email}>" if p.name else p.email for p in people)


class RequestForm(WhenFields, BookingInSchema):
    """The API's request with the form's time fields instead of ``start``, ``end`` and
    ``rrule``; every other field and rule is the API's."""

    class Meta:
        unknown = EXCLUDE  # the post carries the page's token and which button was pressed
        exclude = ("start", "end", "rrule")

    @pre_load
    def _from_form(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data = dict(data)
        data.setdefault("resource_ids", [])  # no box ticked: "choose one", not "required"
        data["participants"] = parse_participants(data.get("participants", ""))
        typed = str(data.get("expected_attendees", "")).strip()
        if WHOLE_NUMBER.fullmatch(typed):  # anything else stays text, for the schema to refuse
            data["expected_attendees"] = int(typed)
        return data

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> SubmitBooking:
        when = take_when(data)
        return super()._command({**data, "start": when.start, "end": when.end, "rrule": when.rrule})


REQUEST_FORM = RequestForm()


def read_request(data: dict[str, Any]) -> tuple[SubmitBooking | None, Errors]:
    """A request form as the command the API's schema gives, or every error by form field
    (the time fields and the details are checked together)."""
    try:
        return REQUEST_FORM.load(data), {}
    except ValidationError as exc:
        return None, request_errors(flat(exc.messages), data.get("participants", ""))


def request_errors(errors: Errors, participants: str = "") -> Errors:
    """The schema's and the domain's error keys (``start``, ``participants.3.email``) as the
    form's fields; an address's problem names the address as it was typed."""
    people = parse_participants(participants)
    shown: Errors = {}
    for key, messages in errors.items():
        parts = key.split(".")
        if parts[0] == "participants" and len(parts) > 1 and parts[1].isdigit():
            index = int(parts[1])
            entry = people[index]["email"] if index < len(people) else ""
            shown.setdefault("participants", []).extend(
                Msg("entry_problem", entry=entry, problem=m) for m in messages
            )
        else:
            for name, listed in on_form({key: messages}, FIELD_ON_FORM).items():
                shown.setdefault(name, []).extend(listed)
    return in_form_order(shown)


def in_form_order(errors: Errors) -> Errors:
    """Errors from the top of the form down (the error summary lists them so)."""
    rank = {name: n for n, name in enumerate(FORM_ORDER)}
    return dict(sorted(errors.items(), key=lambda item: rank.get(item[0], len(rank))))


def as_change(cmd: SubmitBooking, booking: BookingView) -> ChangeBooking:
    """The whole form as a change: every field given (a cleared one is cleared), and a series
    the form shows the same way keeps its rule's text (so it does not count as moved)."""
    values = {f.name: getattr(cmd, f.name) for f in fields(cmd)}
    first = cmd.start.astimezone(current_zone.get()).date()
    if rrule_fields(cmd.rrule, first) == rrule_fields(booking.rrule, first):
        values["rrule"] = booking.rrule
    return ChangeBooking.of(**values)


def booking_form_values(booking: BookingView) -> dict[str, Any]:
    """The request form filled from a booking, to change it."""
    zone = current_zone.get()
    start, end = booking.start.astimezone(zone), booking.end.astimezone(zone)
    values: dict[str, Any] = {
        "date": start.date().isoformat(),
        "start_time": f"{start:%H:%M}",
        "end_time": f"{end:%H:%M}",
        "title": booking.title,
        "description": booking.description or "",
        "expected_attendees": ""
        if booking.expected_attendees is None
        else str(booking.expected_attendees),
        "visibility": booking.visibility.value,
        "language": booking.language.value,
        "participants": format_participants(booking.participants),
        "notes": booking.notes or "",
        "resource_ids": [r.id for r in booking.resources],
        "category": booking.category.slug if booking.category else "",
        "unit": booking.unit.slug if booking.unit else "",
    }
    if end.date() != start.date():
        values["end_date"] = end.date().isoformat()
    values.update(rrule_fields(booking.rrule, start.date()))
    return values

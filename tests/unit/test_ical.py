"""The iCalendar writer shared by feeds and invitations, checked byte by byte and with
independent parsers (icalendar, vobject, recurring-ical-events)."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
import pytest
import recurring_ical_events
import vobject

from shared.ical import Attendee, EventSpec, Person, fold, render_calendar, render_event


def spec(**overrides):
    values = dict(
        uid="b1@evenemang",
        sequence=3,
        summary="Thesis defence",
        start=datetime(2027, 3, 1, 8, tzinfo=UTC),
        end=datetime(2027, 3, 1, 9, tzinfo=UTC),
        dtstamp=datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC),
        status="CONFIRMED",
        zone="Europe/Stockholm",
        organizer=Person("org@example.org", "Olga"),
    )
    values.update(overrides)
    return EventSpec(**values)


def calendar(*specs, **kwargs):
    kwargs.setdefault("zones", {s.zone for s in specs if s.zone})
    return render_calendar(
        [render_event(s) for s in specs], name="Feed", method="PUBLISH", **kwargs
    )


def test_lines_end_in_crlf_and_are_folded_at_75_octets_on_character_boundaries():
    text = calendar(spec(summary="Ålands örlogsbas " * 20, description="€" * 200))
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    for line in text.split("\r\n"):
        assert len(line.encode()) <= 75
        line.encode().decode("utf-8")  # no split character
    parsed = icalendar.Calendar.from_ical(text)
    assert str(next(iter(parsed.walk("VEVENT")))["SUMMARY"]) == "Ålands örlogsbas " * 20


@pytest.mark.parametrize(
    "evil",
    ["x\r\nBEGIN:VEVENT\r\nUID:evil", "x\r\nATTENDEE:mailto:e@x", "x\rEND:VCALENDAR", "a;b,c\\d"],
)
def test_text_cannot_inject_properties_or_components(evil):
    text = calendar(spec(summary=evil, description=evil, location=evil))
    parsed = icalendar.Calendar.from_ical(text)
    events = list(parsed.walk("VEVENT"))
    assert len(events) == 1
    assert "ATTENDEE" not in events[0]
    assert str(events[0]["UID"]) == "b1@evenemang"
    expected = evil.replace("\r\n", "\n").replace("\r", "\n")
    assert str(events[0]["SUMMARY"]) == expected
    assert vobject.readOne(text).vevent.summary.value == expected


def test_display_names_with_commas_and_colons_are_quoted():
    text = calendar(
        spec(
            organizer=Person("boss@example.org", "Doe, John: Boss"),
            attendees=[Attendee("a@example.org", 'Ann "Quote" Lee, PhD')],
        )
    )
    assert 'ORGANIZER;CN="Doe, John: Boss":mailto:boss@example.org' in text.replace("\r\n ", "")
    event = next(iter(icalendar.Calendar.from_ical(text).walk("VEVENT")))
    assert event["ORGANIZER"].params["CN"] == "Doe, John: Boss"
    assert str(event["ORGANIZER"]) == "mailto:boss@example.org"
    assert event["ATTENDEE"].params["CN"] == "Ann Quote Lee, PhD"


def test_a_weekly_series_keeps_its_wall_clock_across_daylight_saving():
    series = spec(rrule="FREQ=WEEKLY;COUNT=6", exdates=[datetime(2027, 3, 15, 8, tzinfo=UTC)])
    text = calendar(series)
    assert "DTSTART;TZID=Europe/Stockholm:20270301T090000" in text
    assert "BEGIN:VTIMEZONE\r\nTZID:Europe/Stockholm" in text
    occurrences = recurring_ical_events.of(icalendar.Calendar.from_ical(text)).between(
        datetime(2027, 1, 1), datetime(2028, 1, 1)
    )
    starts = [o["DTSTART"].dt for o in occurrences]
    assert [(s.month, s.day, s.hour) for s in starts] == [
        (3, 1, 9),
        (3, 8, 9),
        (3, 22, 9),
        (3, 29, 9),
        (4, 5, 9),
    ]  # 15 March excluded
    assert starts[3].utcoffset().total_seconds() == 7200  # summer time, still 09:00


@pytest.mark.parametrize("zone", ["Europe/Stockholm", "America/New_York", "UTC", "Asia/Tokyo"])
def test_vtimezone_matches_zoneinfo(zone):
    text = calendar(
        spec(
            zone=zone,
            start=datetime(2027, 7, 1, 12, tzinfo=UTC),
            end=datetime(2027, 7, 1, 13, tzinfo=UTC),
        )
    )
    event = next(iter(icalendar.Calendar.from_ical(text).walk("VEVENT")))
    assert event["DTSTART"].dt == datetime(2027, 7, 1, 12, tzinfo=UTC)
    assert vobject.readOne(text).vevent.dtstart.value == datetime(2027, 7, 1, 12, tzinfo=UTC)


def test_output_is_byte_stable_and_carries_the_required_properties():
    first, second = calendar(spec()), calendar(spec())
    assert first == second
    for needed in (
        "VERSION:2.0",
        "PRODID:",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "UID:b1@evenemang",
        "DTSTAMP:20270102T030405Z",
        "SEQUENCE:3",
        "STATUS:CONFIRMED",
        "X-WR-CALNAME:Feed",
    ):
        assert needed in first


def test_fold_keeps_short_lines():
    assert fold("SUMMARY:short") == "SUMMARY:short"


# -- written directly, as the ics package wrote it ------------------------------------------


def render_with_ics(value: EventSpec) -> str:
    """What ``render_event`` gave when it built the VEVENT with the ``ics`` package."""
    from ics import Event
    from ics.grammar.parse import ContentLine

    from shared.ical import _local, _param, _utc, clean_text, fold_lines

    def time_line(name, moment, zone):
        if zone:
            return ContentLine(name=name, params={"TZID": [zone]}, value=_local(moment, zone))
        return ContentLine(name=name, value=_utc(moment))

    def person_line(name, person, extra=None):
        params = {"CN": [_param(person.name)]} if person.name else {}
        params.update({key: [v] for key, v in (extra or {}).items()})
        email = "".join(ch for ch in person.email if ord(ch) > 32)
        return ContentLine(name=name, params=params, value=f"mailto:{email}")

    event = Event(uid=value.uid, name=clean_text(value.summary) or " ")
    event.created = value.dtstamp
    if value.description:
        event.description = clean_text(value.description)
    if value.location:
        event.location = clean_text(value.location)
    if value.url:
        event.url = clean_text(value.url).replace("\n", "")
    if value.last_modified:
        event.last_modified = value.last_modified
    event.status = value.status
    if value.categories:
        event.categories = {clean_text(c).replace("\n", " ") for c in value.categories}
    if value.classification:
        event.classification = value.classification
    if value.transparent:
        event.transparent = True
    lines = [
        time_line("DTSTART", value.start, value.zone),
        time_line("DTEND", value.end, value.zone),
        ContentLine(name="SEQUENCE", value=str(value.sequence)),
    ]
    if value.recurrence_id is not None:
        lines.append(time_line("RECURRENCE-ID", value.recurrence_id, value.zone))
    if value.rrule:
        lines.append(ContentLine(name="RRULE", value=value.rrule))
    lines += [time_line("EXDATE", exdate, value.zone) for exdate in value.exdates]
    if value.organizer:
        lines.append(person_line("ORGANIZER", value.organizer))
    for a in value.attendees:
        rsvp = "TRUE" if a.rsvp else "FALSE"
        lines.append(
            person_line("ATTENDEE", a, {"ROLE": a.role, "PARTSTAT": a.partstat, "RSVP": rsvp})
        )
    lines += [ContentLine(name=n, value=v) for n, v in value.extra]
    event.extra.extend(lines)
    return fold_lines(event.serialize())


SPECS = {
    "plain": spec(),
    "utc, no organiser": spec(zone=None, organizer=None, status="tentative"),
    "everything": spec(
        description="Line one\nline two; with, commas \\ and\r\nCRLF\x07bell",
        location="Aula, Building A; floor 2",
        url="https://example.org/b/1?x=1,2;3\n",
        last_modified=datetime(2027, 1, 3, 4, 5, 6, 789, tzinfo=UTC),
        categories=("venue",),
        classification="PRIVATE",
        transparent=True,
        rrule="FREQ=WEEKLY;COUNT=5",
        exdates=(datetime(2027, 3, 8, 8, tzinfo=UTC), datetime(2027, 3, 15, 8, tzinfo=UTC)),
        recurrence_id=datetime(2027, 3, 1, 8, tzinfo=UTC),
        organizer=Person("o@example.org", 'Olga "the" Organiser, PhD'),
        attendees=(
            Attendee("a@example.org", "Ada Åström"),
            Attendee("b@example.org", "", partstat="ACCEPTED", rsvp=False, role="CHAIR"),
        ),
        extra=(("x-evenemang-id", "b1"), ("X-MICROSOFT-CDO-BUSYSTATUS", "BUSY")),
    ),
    "long and non-ASCII": spec(summary="Ålands örlogsbas " * 20, description="€" * 200),
    "blank texts": spec(summary="\x01", description="\x02", location="\x03", url="\n"),
    "cancelled": spec(status="CANCELLED", zone="America/New_York"),
}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_a_vevent_is_written_byte_for_byte_as_the_ics_package_wrote_it(name):
    assert render_event(SPECS[name]) == render_with_ics(SPECS[name])


def test_the_calendar_consumers_vevents_are_those_the_ics_package_wrote(monkeypatch):
    from services.calendar.usecases import events as calendar_events
    from shared.events import parse_event
    from tests import factories

    bodies = [
        factories.envelope(),
        factories.envelope(
            "booking.changed",
            revision=2,
            visibility="internal",
            rrule="FREQ=WEEKLY;COUNT=3",
            participants=[{"email": "p@example.org", "name": "P"}],
        ),
        factories.envelope("booking.cancelled", status="cancelled", revision=3, language="en"),
    ]
    for body in bodies:
        snapshot = parse_event(body).data
        fast = calendar_events.render_entry(snapshot, None)
        monkeypatch.setattr(calendar_events, "render_event", render_with_ics)
        assert calendar_events.render_entry(snapshot, None) == fast
        monkeypatch.undo()


def test_an_unknown_status_is_refused_as_before():
    with pytest.raises(ValueError):
        render_event(spec(status="MAYBE"))


def test_several_categories_come_out_sorted_whatever_the_hash_seed():
    """A set of strings iterates in an order that changes with the process's hash seed; the
    same event must be the same bytes in every worker."""
    lines = render_event(spec(categories=("venue", "studio", "service", "venue"))).split("\r\n")
    assert "CATEGORIES:service,studio,venue" in lines

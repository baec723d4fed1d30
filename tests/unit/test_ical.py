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

"""Every rule of services/booking/domain.py, without I/O."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, time, timedelta
from time import thread_time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.booking.domain import (
    MAX_OCCURRENCES,
    TRANSITIONS,
    Interval,
    InvalidTransition,
    ResourceRules,
    RuleViolation,
    blocked_interval,
    check_resource_rules,
    check_times,
    expand_occurrences,
    line_deciders,
    may_decide,
    may_decide_line,
    may_see,
    next_status,
    normalise_rrule,
    status_of_lines,
    within_opening_hours,
)
from shared.auth import Principal
from shared.events import LineStatus
from shared.messages import text
from shared.timezones import not_on_the_clock

ZONE = ZoneInfo("Europe/Stockholm")
NOW = datetime(2030, 3, 1, 11, 0, tzinfo=UTC)  # Friday 1 March 2030, 12:00 in Stockholm
STATUSES = ("pending", "approved", "rejected", "cancelled")
PAST = {"approve": "approved", "reject": "rejected", "cancel": "cancelled", "change": "changed"}
SV_PAST = {"approve": "godkännas", "reject": "avslås", "cancel": "ställas in", "change": "ändras"}
SV_STATE = {
    "pending": "obeslutad",
    "approved": "godkänd",
    "rejected": "avslagen",
    "cancelled": "inställd",
}
ACTIONS = ("approve", "reject", "cancel", "change")


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """Wall-clock time in Stockholm, as the aware UTC value the domain receives."""
    return datetime(y, m, d, hh, mm, tzinfo=ZONE).astimezone(UTC)


def span(start: datetime, minutes: int = 120) -> Interval:
    return Interval(start, start + timedelta(minutes=minutes))


def rules(**overrides: Any) -> ResourceRules:
    return ResourceRules(resource_id="r1", name="Aula", **overrides)


def check(
    resource: ResourceRules,
    *occurrences: Interval,
    attendees: int | None = None,
    closures: tuple[tuple[Interval, str], ...] = (),
) -> dict[str, list[str]]:
    occs = list(occurrences) or [span(local(2030, 3, 4, 10))]
    return check_resource_rules(resource, occs, NOW, ZONE, attendees, closures)


def actor(role: str = "organiser", email: str = "olle@example.org", uid: str = "u1") -> Principal:
    return Principal(user_id=uid, email=email, name="Someone", role=role)


# --- check_times ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (NOW + timedelta(hours=1), NOW + timedelta(hours=2), set()),
        (NOW + timedelta(seconds=1), NOW + timedelta(hours=2), set()),
        (NOW + timedelta(hours=2), NOW + timedelta(hours=1), {"end"}),
        (NOW + timedelta(hours=2), NOW + timedelta(hours=2), {"end"}),
        (NOW, NOW + timedelta(hours=1), {"start"}),
        (NOW - timedelta(days=1), NOW + timedelta(hours=1), {"start"}),
        (NOW - timedelta(hours=2), NOW - timedelta(hours=3), {"start", "end"}),
        (NOW + timedelta(hours=1), NOW + timedelta(hours=1, days=14), set()),
        (NOW + timedelta(hours=1), NOW + timedelta(hours=1, days=14, minutes=1), {"end"}),
    ],
    ids=[
        "ok",
        "just-in-future",
        "end-before-start",
        "end-equals-start",
        "start-now",
        "start-past",
        "both",
        "14-days",
        "over-14-days",
    ],
)
def test_check_times(start, end, expected):
    errors = check_times(start, end, NOW)
    assert set(errors) == expected
    assert all(isinstance(m, str) and m for ms in errors.values() for m in ms)


# --- check_resource_rules -----------------------------------------------------------------

MONDAY_10 = local(2030, 3, 4, 10)
OFFICE = {"mon": [(time(8), time(17))], "tue": [(time(8), time(12)), (time(13), time(17))]}
LATE = {"fri": [(time(18), time(0))]}  # Friday evening until midnight
ALL_DAY_SUNDAY = {"sun": [(time(0), time(0))]}


@pytest.mark.parametrize(
    ("resource", "occurrence", "attendees", "expected"),
    [
        # minimum notice: start must be at least min_notice_hours after now
        (rules(min_notice_hours=48), span(NOW + timedelta(hours=48)), None, set()),
        (rules(min_notice_hours=48), span(NOW + timedelta(hours=47, minutes=59)), None, {"start"}),
        (rules(min_notice_hours=0), span(NOW + timedelta(minutes=1)), None, set()),
        # maximum days ahead
        (rules(), span(NOW + timedelta(days=365)), None, set()),
        (rules(), span(NOW + timedelta(days=365, minutes=1)), None, {"start"}),
        (rules(max_advance_days=7), span(NOW + timedelta(days=8)), None, {"start"}),
        # maximum duration (end is where it shows)
        (rules(max_duration_minutes=120), span(MONDAY_10, 120), None, set()),
        (rules(max_duration_minutes=120), span(MONDAY_10, 121), None, {"end"}),
        (rules(max_duration_minutes=None), span(MONDAY_10, 14 * 24 * 60), None, set()),
        # opening hours
        (rules(opening_hours=OFFICE), span(local(2030, 3, 4, 8), 9 * 60), None, set()),
        (rules(opening_hours=OFFICE), span(local(2030, 3, 4, 7, 59), 60), None, {"start"}),
        (rules(opening_hours=OFFICE), span(local(2030, 3, 4, 16), 61), None, {"start"}),
        (rules(opening_hours=OFFICE), span(local(2030, 3, 5, 10), 60), None, set()),
        (rules(opening_hours=OFFICE), span(local(2030, 3, 5, 11), 120), None, {"start"}),
        (rules(opening_hours=OFFICE), span(local(2030, 3, 6, 10), 60), None, {"start"}),
        (rules(opening_hours={}), span(MONDAY_10), None, {"start"}),
        (rules(opening_hours=None), span(local(2030, 3, 3, 3)), None, set()),
        # a window ending 00:00 runs to midnight at the end of its day
        (rules(opening_hours=LATE), span(local(2030, 3, 8, 22), 120), None, set()),
        (rules(opening_hours=LATE), span(local(2030, 3, 8, 23), 120), None, {"start"}),
        (rules(opening_hours=LATE), span(local(2030, 3, 8, 17, 59), 60), None, {"start"}),
        # capacity
        (rules(capacity=30), span(MONDAY_10), 30, set()),
        (rules(capacity=30), span(MONDAY_10), 31, {"expected_attendees"}),
        (rules(capacity=30), span(MONDAY_10), None, set()),
        (rules(capacity=None), span(MONDAY_10), 10_000, set()),
        # inactive
        (rules(active=False), span(MONDAY_10), None, {"resource_ids"}),
    ],
    ids=[
        "notice-exact",
        "notice-short",
        "no-notice",
        "advance-exact",
        "advance-beyond",
        "advance-custom",
        "duration-exact",
        "duration-over",
        "no-max-duration",
        "hours-whole-window",
        "hours-before-opening",
        "hours-after-closing",
        "hours-second-day",
        "hours-across-lunch",
        "hours-closed-weekday",
        "hours-closed-all-week",
        "hours-none-is-always-open",
        "midnight-window-to-0000",
        "midnight-window-past-0000",
        "midnight-window-too-early",
        "capacity-exact",
        "capacity-over",
        "attendees-unknown",
        "capacity-unlimited",
        "inactive",
    ],
)
def test_check_resource_rules(resource, occurrence, attendees, expected):
    errors = check(resource, occurrence, attendees=attendees)
    assert set(errors) == expected
    for messages in errors.values():
        for message in messages:
            assert message.params["name"] == "Aula"
            assert text(message, "sv").startswith("Aula: ")
            assert text(message, "en").startswith("Aula: ")


def test_opening_hours_apply_to_every_occurrence_and_name_the_closed_one():
    monday = span(local(2030, 3, 4, 10), 60)
    wednesday = span(local(2030, 3, 6, 10), 60)
    errors = check(rules(opening_hours=OFFICE), monday, wednesday)
    [closed] = errors.pop("start")
    assert errors == {}
    assert (
        text(closed, "en") == "Aula: is closed then (Wed 2030-03-06 10:00); see its opening hours."
    )
    assert text(closed, "sv") == "Aula: har stängt då (ons 2030-03-06 10:00); se öppettiderna."


@pytest.mark.parametrize(
    ("window", "occurrence", "inside"),
    [
        # 2027-03-28: clocks go from 02:00 CET to 03:00 CEST; windows are wall-clock times
        ((time(1), time(4)), Interval(local(2027, 3, 28, 1, 30), local(2027, 3, 28, 3, 30)), True),
        ((time(1), time(4)), Interval(local(2027, 3, 28, 1, 30), local(2027, 3, 28, 4, 30)), False),
        ((time(0), time(0)), Interval(local(2027, 3, 28, 0), local(2027, 3, 29, 0)), True),
        ((time(3), time(5)), Interval(local(2027, 3, 28, 1, 59), local(2027, 3, 28, 3, 30)), False),
        # 2027-10-31: clocks go back from 03:00 CEST to 02:00 CET
        ((time(1), time(4)), Interval(local(2027, 10, 31, 1), local(2027, 10, 31, 3, 30)), True),
        ((time(0), time(0)), Interval(local(2027, 10, 31, 0), local(2027, 11, 1, 0)), True),
    ],
    ids=[
        "spring-inside",
        "spring-past-close",
        "spring-whole-23h-day",
        "spring-before-open",
        "autumn-inside",
        "autumn-whole-25h-day",
    ],
)
def test_opening_hours_across_a_daylight_saving_change(window, occurrence, inside):
    day = occurrence.start.astimezone(ZONE).strftime("%a").lower()
    hours = {day: [window]}
    assert within_opening_hours(hours, occurrence, ZONE) is inside
    errors = check_resource_rules(
        rules(opening_hours=hours), [occurrence], NOW.replace(year=2027, month=1), ZONE, None
    )
    assert ("start" in errors) is not inside


@pytest.mark.parametrize(
    ("closure", "blocked"),
    [
        (Interval(local(2030, 3, 4, 9), local(2030, 3, 4, 11)), True),
        (Interval(local(2030, 3, 4, 11), local(2030, 3, 4, 13)), True),
        (Interval(local(2030, 3, 4, 10, 30), local(2030, 3, 4, 11)), True),
        (Interval(local(2030, 3, 3), local(2030, 3, 10)), True),
        (Interval(local(2030, 3, 4, 8), local(2030, 3, 4, 10)), False),
        (Interval(local(2030, 3, 4, 12), local(2030, 3, 4, 14)), False),
    ],
    ids=["overlaps-start", "overlaps-end", "inside", "covers", "ends-at-start", "starts-at-end"],
)
def test_closures(closure, blocked):
    errors = check(rules(), span(MONDAY_10), closures=((closure, "Floor polishing"),))
    assert ("start" in errors) is blocked
    if blocked:
        message = errors["start"][0]
        assert message.code == "resource_closed_for"
        assert text(message, "en").startswith("Aula: is closed 2030-03-")
        assert text(message, "sv").startswith("Aula: är stängd 2030-03-")
        for language in ("sv", "en"):
            assert text(message, language).endswith(": Floor polishing")


def test_max_advance_looks_at_the_last_occurrence_and_notice_at_the_first():
    first = span(NOW + timedelta(days=300))
    last = span(NOW + timedelta(days=366))
    assert set(check(rules(), first, last)) == {"start"}
    early = span(NOW + timedelta(hours=1))
    later = span(NOW + timedelta(days=2))
    assert set(check(rules(min_notice_hours=24), early, later)) == {"start"}
    assert check(rules(min_notice_hours=24), later, later) == {}


def test_every_broken_rule_is_reported_at_once_and_each_message_once():
    resource = rules(
        active=False,
        capacity=10,
        min_notice_hours=24 * 400,
        max_duration_minutes=30,
        opening_hours={},
    )
    occurrences = [span(MONDAY_10), span(MONDAY_10 + timedelta(days=7))]
    errors = check(resource, *occurrences, attendees=11)
    assert set(errors) == {"resource_ids", "expected_attendees", "start", "end"}
    assert len(errors["start"]) == len(set(errors["start"]))
    # two closed occurrences on different days: two messages; the notice message once
    assert len(errors["start"]) == 3


def test_blocked_interval_adds_the_buffer_after_the_occurrence():
    occ = span(MONDAY_10, 60)
    assert blocked_interval(occ, 0) == occ
    assert blocked_interval(occ, 30) == Interval(occ.start, occ.end + timedelta(minutes=30))
    assert rules(buffer_minutes=15).buffer == timedelta(minutes=15)


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ((10, 12), (11, 13), True),
        ((10, 12), (12, 13), False),
        ((10, 12), (9, 10), False),
        ((10, 12), (10, 12), True),
        ((10, 12), (10, 11), True),
    ],
)
def test_interval_overlap_is_half_open(a, b, overlap):
    first = Interval(local(2030, 3, 4, a[0]), local(2030, 3, 4, a[1]))
    second = Interval(local(2030, 3, 4, b[0]), local(2030, 3, 4, b[1]))
    assert first.overlaps(second) is overlap
    assert second.overlaps(first) is overlap


# --- expand_occurrences ---------------------------------------------------------------------


def wall(occurrences: list[Interval]) -> list[str]:
    return [o.start.astimezone(ZONE).strftime("%a %Y-%m-%d %H:%M") for o in occurrences]


@pytest.mark.parametrize(
    ("rrule", "expected"),
    [
        (
            "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=5",
            [
                "Mon 2030-03-04 10:00",
                "Wed 2030-03-06 10:00",
                "Fri 2030-03-08 10:00",
                "Mon 2030-03-11 10:00",
                "Wed 2030-03-13 10:00",
            ],
        ),
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=4",
            [
                "Tue 2030-03-05 10:00",
                "Thu 2030-03-07 10:00",
                "Tue 2030-03-19 10:00",
                "Thu 2030-03-21 10:00",
            ],
        ),
        (
            "FREQ=DAILY;COUNT=3",
            ["Mon 2030-03-04 10:00", "Tue 2030-03-05 10:00", "Wed 2030-03-06 10:00"],
        ),
        (
            "FREQ=MONTHLY;COUNT=3",
            ["Mon 2030-03-04 10:00", "Thu 2030-04-04 10:00", "Sat 2030-05-04 10:00"],
        ),
        (
            "FREQ=MONTHLY;BYDAY=1MO;COUNT=3",
            ["Mon 2030-03-04 10:00", "Mon 2030-04-01 10:00", "Mon 2030-05-06 10:00"],
        ),
        (
            "FREQ=WEEKLY;UNTIL=20300318T100000",
            ["Mon 2030-03-04 10:00", "Mon 2030-03-11 10:00", "Mon 2030-03-18 10:00"],
        ),
        (
            "FREQ=DAILY;UNTIL=20300306T095959",
            ["Mon 2030-03-04 10:00", "Tue 2030-03-05 10:00"],
        ),
        ("RRULE:FREQ=DAILY;COUNT=1", ["Mon 2030-03-04 10:00"]),
    ],
    ids=[
        "weekly-mo-we-fr",
        "fortnightly-tu-th",
        "daily",
        "monthly-same-date",
        "monthly-first-monday",
        "until-inclusive",
        "until-exclusive",
        "count-1-with-prefix",
    ],
)
def test_expand_occurrences(rrule, expected):
    start = local(2030, 3, 4, 10)
    occurrences = expand_occurrences(start, start + timedelta(hours=2), rrule, ZONE)
    assert wall(occurrences) == expected
    assert all(o.end - o.start == timedelta(hours=2) for o in occurrences)
    assert all(o.start.tzinfo is UTC for o in occurrences)


@pytest.mark.parametrize("rrule", [None, ""])
def test_without_a_rule_the_booking_is_its_only_occurrence(rrule):
    start = local(2030, 3, 4, 10)
    assert expand_occurrences(start, start + timedelta(hours=1), rrule, ZONE) == [
        Interval(start, start + timedelta(hours=1))
    ]


def test_a_series_keeps_its_wall_clock_across_the_dst_change():
    """2027-03-28 Europe/Stockholm: CET (+01:00) becomes CEST (+02:00) at 02:00."""
    start = local(2027, 3, 26, 9)  # Friday 09:00 CET = 08:00 UTC
    occurrences = expand_occurrences(start, start + timedelta(hours=1), "FREQ=DAILY;COUNT=4", ZONE)
    assert wall(occurrences) == [
        "Fri 2027-03-26 09:00",
        "Sat 2027-03-27 09:00",
        "Sun 2027-03-28 09:00",
        "Mon 2027-03-29 09:00",
    ]
    assert [o.start.hour for o in occurrences] == [8, 8, 7, 7]  # UTC moves, wall clock stays
    assert all(o.end - o.start == timedelta(hours=1) for o in occurrences)
    weekly = expand_occurrences(
        local(2027, 3, 22, 9), local(2027, 3, 22, 10), "FREQ=WEEKLY;COUNT=2", ZONE
    )
    assert [o.start.utcoffset() for o in weekly] == [timedelta(0), timedelta(0)]
    assert [o.start.astimezone(ZONE).isoformat() for o in weekly] == [
        "2027-03-22T09:00:00+01:00",
        "2027-03-29T09:00:00+02:00",
    ]


def test_exactly_the_maximum_number_of_occurrences_is_allowed():
    start = local(2030, 3, 4, 10)
    rule = f"FREQ=DAILY;COUNT={MAX_OCCURRENCES}"
    occurrences = expand_occurrences(start, start + timedelta(hours=1), rule, ZONE)
    assert len(occurrences) == MAX_OCCURRENCES == 500


@pytest.mark.parametrize(
    ("rrule", "message"),
    [
        ("FREQ=DAILY;COUNT=501", "rrule_too_many"),
        ("FREQ=DAILY;UNTIL=20320101T000000", "rrule_too_many"),
        ("FREQ=HOURLY;INTERVAL=3;COUNT=3", "rrule_too_fine"),
        ("FREQ=MINUTELY;INTERVAL=180;UNTIL=20310101T000000", "rrule_too_fine"),
        ("FREQ=SECONDLY;COUNT=2", "rrule_too_fine"),
        ("FREQ=YEARLY;COUNT=12", "rrule_beyond_horizon"),
        ("FREQ=MONTHLY;UNTIL=20450101T000000", "rrule_beyond_horizon"),
        ("FREQ=DAILY;INTERVAL=4000;COUNT=2", "rrule_beyond_horizon"),
        ("FREQ=DAILY", "rrule_needs_end"),
        ("FREQ=WEEKLY;BYDAY=MO", "rrule_needs_end"),
        ("FREQ=FORTNIGHTLY;COUNT=3", "rrule_invalid"),
        ("FREQ=WEEKLY;BYDAY=XX;COUNT=3", "rrule_invalid"),
        ("FREQ=WEEKLY;COUNT=three", "rrule_invalid"),
        ("COUNT=3", "rrule_invalid"),
        ("FREQ=WEEKLY;COUNT=3;COLOUR=RED", "rrule_invalid"),
        ("nonsense", "rrule_needs_end"),
        ("FREQ=DAILY;UNTIL=20300301T000000", "rrule_no_dates"),
    ],
    ids=[
        "count-501",
        "until-yields-too-many",
        "hourly",
        "minutely",
        "secondly",
        "yearly-beyond-ten-years",
        "until-beyond-ten-years",
        "interval-beyond-ten-years",
        "unbounded",
        "unbounded-weekly",
        "unknown-freq",
        "unknown-weekday",
        "count-not-a-number",
        "no-freq",
        "unknown-part",
        "nonsense",
        "until-before-start",
    ],
)
def test_bad_rules_are_rule_violations_on_rrule(rrule, message):
    start = local(2030, 3, 4, 10)
    with pytest.raises(RuleViolation) as caught:
        expand_occurrences(start, start + timedelta(hours=1), rrule, ZONE)
    assert list(caught.value.errors) == ["rrule"]
    [said] = caught.value.errors["rrule"]
    assert said.code == message
    assert text(said, "sv") != text(said, "en") and "%(" not in text(said, "sv")


def test_until_in_utc_is_accepted():
    start = local(2030, 3, 4, 10)
    occurrences = expand_occurrences(
        start, start + timedelta(hours=1), "FREQ=WEEKLY;UNTIL=20300318T090000Z", ZONE
    )
    assert wall(occurrences) == [
        "Mon 2030-03-04 10:00",
        "Mon 2030-03-11 10:00",
        "Mon 2030-03-18 10:00",
    ]


def test_count_and_until_together_are_refused():
    start = local(2030, 3, 4, 10)
    with pytest.raises(RuleViolation) as caught:
        expand_occurrences(
            start, start + timedelta(hours=1), "FREQ=DAILY;COUNT=3;UNTIL=20300310T000000", ZONE
        )
    assert list(caught.value.errors) == ["rrule"]


# Rules that yield nothing (or nothing for centuries): dateutil alone walks them to 9999.
NEVER_YIELDING = {
    "february-31st": "FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=2;COUNT=3",
    "february-31st-daily": "FREQ=DAILY;BYMONTHDAY=31;BYMONTH=2;COUNT=3",
    "setpos-beyond-a-week": "FREQ=WEEKLY;BYDAY=MO;BYSETPOS=2;COUNT=3",
    "sixth-monday": "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6;COUNT=3",
    "february-30th-until-9999": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;UNTIL=99991231T000000",
    "day-366-in-january": "FREQ=DAILY;BYYEARDAY=366;BYMONTH=1;COUNT=1",
    "week-53-in-june": "FREQ=YEARLY;BYWEEKNO=53;BYMONTH=6;COUNT=1",
    "fifth-monday-of-a-leap-february": "FREQ=YEARLY;BYMONTH=2;BYDAY=5MO;COUNT=3",
}


@pytest.mark.parametrize("rrule", NEVER_YIELDING.values(), ids=NEVER_YIELDING.keys())
def test_a_rule_that_never_yields_is_refused_at_once(rrule):
    start = local(2030, 3, 4, 10)
    began = thread_time()  # the work this thread did: a loaded machine's waits excluded
    with pytest.raises(RuleViolation) as caught:
        expand_occurrences(start, start + timedelta(hours=1), rrule, ZONE)
    took = thread_time() - began
    [said] = caught.value.errors["rrule"]
    assert (said.code, said.params) == ("rrule_beyond_horizon", {"years": 10})
    assert "10" in text(said, "en") and "10" in text(said, "sv")
    assert took < 0.1, f"{took * 1000:.0f} ms"


@pytest.mark.parametrize(
    "rrule",
    ["FREQ=DAILY;BYDAY=MO;COUNT=500", "FREQ=MONTHLY;BYDAY=-1FR;COUNT=119", "FREQ=YEARLY;COUNT=10"],
    ids=["500-mondays-walked-day-by-day", "last-fridays-for-ten-years", "yearly-for-ten-years"],
)
def test_the_longest_rules_a_resource_can_allow_are_expanded_in_full(rrule):
    start = local(2030, 3, 4, 10)
    began = thread_time()
    occurrences = expand_occurrences(start, start + timedelta(hours=1), rrule, ZONE)
    assert len(occurrences) == int(rrule.rsplit("=", 1)[1])
    assert occurrences[-1].start - start < timedelta(days=3650)
    assert thread_time() - began < 0.25


def test_a_walk_over_its_cpu_time_is_refused(monkeypatch):
    """The backstop should dateutil ever walk without our counting its periods."""
    monkeypatch.setattr("services.booking.domain.recurrence.WALK_CPU_SECONDS", 0.0)
    start = local(2030, 3, 4, 10)
    with pytest.raises(RuleViolation) as caught:
        expand_occurrences(start, start + timedelta(hours=1), "FREQ=DAILY;COUNT=500", ZONE)
    assert [m.code for m in caught.value.errors["rrule"]] == ["rrule_too_costly"]


def test_the_walk_gives_back_a_tracer_that_was_set():
    """A debugger's or coverage's tracer is restored after the walk, refused or not."""
    calls = []

    def tracer(frame, event, arg):
        calls.append(event)

    start = local(2030, 3, 4, 10)
    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        expand_occurrences(start, start + timedelta(hours=1), "FREQ=DAILY;COUNT=3", ZONE)
        with pytest.raises(RuleViolation):
            expand_occurrences(
                start, start + timedelta(hours=1), NEVER_YIELDING["february-31st"], ZONE
            )
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(previous)


# --- normalise_rrule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("RRULE:", None),
        ("FREQ=WEEKLY;COUNT=10", "FREQ=WEEKLY;COUNT=10"),
        ("  freq=weekly;byday=mo,we;count=4 ", "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4"),
        ("RRULE:FREQ=DAILY;COUNT=2", "FREQ=DAILY;COUNT=2"),
        ("rrule:freq=daily;count=2", "FREQ=DAILY;COUNT=2"),
    ],
)
def test_normalise_rrule(given, expected):
    assert normalise_rrule(given) == expected


@pytest.mark.parametrize(
    "given",
    [
        "DTSTART:20300304T100000\nRRULE:FREQ=DAILY;COUNT=2",
        "FREQ=DAILY;COUNT=2;DTSTART=20300304T100000",
        "FREQ=DAILY;COUNT=2\nFREQ=WEEKLY;COUNT=2",
    ],
    ids=["dtstart-line", "dtstart-part", "two-lines"],
)
def test_normalise_rrule_refuses_dtstart_and_several_lines(given):
    with pytest.raises(RuleViolation) as caught:
        normalise_rrule(given)
    assert list(caught.value.errors) == ["rrule"]


# --- the state machine ----------------------------------------------------------------------

ALLOWED = {
    ("pending", "approve"): "approved",
    ("pending", "reject"): "rejected",
    ("approved", "reject"): "approved",  # an approved line's approval withdrawn
    ("pending", "cancel"): "cancelled",
    ("approved", "cancel"): "cancelled",
    ("pending", "change"): "pending",
    ("approved", "change"): "approved",
}


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
def test_next_status_for_every_pair(status, action):
    if (status, action) in ALLOWED:
        assert next_status(status, action) == ALLOWED[(status, action)]
    else:
        with pytest.raises(InvalidTransition) as caught:
            next_status(status, action)
        said = caught.value.message
        assert said.code == "cannot_in_state"
        assert text(said, "en") == f"A {status} booking cannot be {PAST[action]}."
        assert text(said, "sv") == f"En {SV_STATE[status]} bokning kan inte {SV_PAST[action]}."


def test_the_transition_table_is_exactly_the_documented_one():
    table = {(s, a): t for a, by_status in TRANSITIONS.items() for s, t in by_status.items()}
    assert table == ALLOWED


P, A, D = LineStatus.PENDING, LineStatus.APPROVED, LineStatus.DECLINED


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([P], "pending"),
        ([A], "approved"),
        ([D], "rejected"),
        ([A, P], "pending"),
        ([A, A], "approved"),
        ([A, D], "approved"),  # a declined line leaves; the rest is approved
        ([P, D], "pending"),
        ([D, D], "rejected"),
        ([], "rejected"),
    ],
)
def test_a_bookings_status_follows_its_lines(lines, expected):
    assert status_of_lines(lines) == expected


TEAM_ROOM = rules(
    managers=frozenset({"sam@example.org"}), team_members=frozenset({"tove@example.org"})
)
SELF_ROOM = rules(managers=frozenset({"sam@example.org"}), self_approval=True)


@pytest.mark.parametrize(
    ("who", "room", "decides"),
    [
        (actor("organiser", "tove@example.org", uid="t"), TEAM_ROOM, True),
        (actor("organiser", "sam@example.org", uid="s"), TEAM_ROOM, True),
        (actor("infra", "ingrid@example.org", uid="i"), TEAM_ROOM, True),
        (actor("organiser", "otto@example.org", uid="o"), TEAM_ROOM, False),
        (actor("organiser", "sam@example.org", uid="organiser-id"), TEAM_ROOM, False),
        (actor("admin", "ada@example.org", uid="organiser-id"), TEAM_ROOM, False),
        (actor("organiser", "sam@example.org", uid="organiser-id"), SELF_ROOM, True),
    ],
    ids=[
        "team-member",
        "manager",
        "infra",
        "stranger",
        "manager-own-request",
        "admin-own-request",
        "self-approval-allowed",
    ],
)
def test_who_decides_a_line(who, room, decides):
    assert may_decide_line(who, room, "organiser-id") is decides


def test_a_lines_deciders_leave_out_the_organiser_unless_self_approval():
    assert line_deciders(TEAM_ROOM, "SAM@example.org") == ("tove@example.org",)
    assert line_deciders(SELF_ROOM, "sam@example.org") == ("sam@example.org",)


# --- who may do what ------------------------------------------------------------------------

ROOM = rules(managers=frozenset({"sam@example.org"}))
OTHER_ROOM = ResourceRules(resource_id="r2", name="Studio")


@pytest.mark.parametrize(
    ("who", "resources", "decides"),
    [
        (actor("infra", "ingrid@example.org"), [OTHER_ROOM], True),
        (actor("admin", "ada@example.org"), [OTHER_ROOM], True),
        (actor("infra", "ingrid@example.org"), [], True),
        (actor("organiser"), [ROOM, OTHER_ROOM], False),
        (actor("organiser", "sam@example.org"), [ROOM], True),
        (actor("organiser", "Sam@Example.ORG"), [ROOM], True),
        (actor("organiser", "sam@example.org"), [OTHER_ROOM, ROOM], False),  # scoped
        (actor("organiser", "sam@example.org"), [OTHER_ROOM], False),
        (actor("organiser", "sam@example.org"), [], False),
        (actor("organiser", "sam@example.org.evil"), [ROOM], False),
    ],
    ids=[
        "infra",
        "admin",
        "infra-no-resources",
        "organiser",
        "manager",
        "manager-email-case",
        "manager-of-one-of-them",
        "manager-of-another",
        "manager-no-resources",
        "lookalike-email",
    ],
)
def test_may_decide(who, resources, decides):
    assert may_decide(who, resources) is decides


@pytest.mark.parametrize(
    ("who", "resources", "sees"),
    [
        (actor("organiser", uid="organiser-id"), [OTHER_ROOM], True),
        (actor("organiser", uid="someone-else"), [OTHER_ROOM], False),
        (actor("infra", uid="someone-else"), [OTHER_ROOM], True),
        (actor("admin", uid="someone-else"), [OTHER_ROOM], True),
        (actor("organiser", "SAM@example.org", uid="someone-else"), [ROOM], True),
        (actor("organiser", "sam@example.org", uid="someone-else"), [OTHER_ROOM], False),
    ],
    ids=["organiser", "stranger", "infra", "admin", "manager", "manager-of-another"],
)
def test_may_see(who, resources, sees):
    assert may_see(who, "organiser-id", resources) is sees


# --- wall-clock times the clocks skip or pass twice --------------------------------------------


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        ((2030, 3, 31, 1, 59), None),
        ((2030, 3, 31, 2, 0), "skipped"),
        ((2030, 3, 31, 2, 30), "skipped"),
        ((2030, 3, 31, 3, 0), None),
        ((2030, 10, 27, 1, 59), None),
        ((2030, 10, 27, 2, 0), "twice"),
        ((2030, 10, 27, 2, 59), "twice"),
        ((2030, 10, 27, 3, 0), None),
        ((2030, 6, 1, 2, 30), None),
    ],
)
def test_which_wall_times_are_no_single_moment(wall, expected):
    assert not_on_the_clock(datetime(*wall), ZONE) == expected


def test_a_series_is_refused_at_its_first_date_in_the_spring_gap():
    start = local(2030, 3, 29, 2, 30)
    with pytest.raises(RuleViolation) as caught:
        expand_occurrences(start, start + timedelta(minutes=30), "FREQ=DAILY;COUNT=5", ZONE)
    [said] = caught.value.errors["rrule"]
    assert said.code == "occurrence_skipped" and said.params["when"] == "2030-03-31 02:30"


def test_a_series_date_in_the_autumn_hour_is_its_first_passing():
    start = local(2030, 10, 26, 2, 30)
    rule = "FREQ=DAILY;COUNT=3"
    occurrences = expand_occurrences(start, start + timedelta(minutes=30), rule, ZONE)
    in_utc = [o.start.strftime("%d %H:%M") for o in occurrences]
    assert in_utc == ["26 00:30", "27 00:30", "28 01:30"]

"""The free/busy grid's rules: opening hours as spans (past midnight, a day the clocks
change), the hours a grid shows, each cell's state in order of what matters most, and
another organiser's booking as busy only."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.booking.domain import HeldSlot, Interval, ResourceRules
from services.booking.domain.grid import (
    GridBusy,
    GridSpan,
    busy_as_seen,
    cell_times,
    open_spans,
    resource_cells,
    shown_hours,
)
from shared.auth import Principal
from shared.events import Status

ZONE = ZoneInfo("Europe/Stockholm")
MONDAY = date(2030, 3, 4)
HOUR = timedelta(hours=1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), ZONE)


def week(day: date = MONDAY) -> Interval:
    return Interval(at(day, 0), at(day + timedelta(days=7), 0))


def test_opening_hours_are_spans_inside_the_range_and_midnight_ends_the_day():
    rules = ResourceRules(
        "r", "Hall", opening_hours={"mon": ((time(8), time(17)),), "fri": ((time(22), time(0)),)}
    )
    spans = open_spans(rules, week(), ZONE)
    assert [(s.start, s.end) for s in spans] == [
        (at(MONDAY, 8), at(MONDAY, 17)),
        (at(MONDAY + timedelta(days=4), 22), at(MONDAY + timedelta(days=5), 0)),
    ]
    always = open_spans(ResourceRules("s", "Studio"), week(), ZONE)
    assert [(s.start, s.end) for s in always] == [(week().start, week().end)]


def test_a_day_the_clocks_go_forward_keeps_its_cells_on_the_wall_clock():
    spring = date(2030, 3, 31)  # 02:00 → 03:00 in Stockholm
    cells = cell_times(spring, (0, 24), HOUR, ZONE)
    assert len(cells) == 24  # as many as any other day: the week's columns line up
    assert [c.end - c.start for c in cells[1:4]] == [HOUR, timedelta(0), HOUR]
    assert cells[3].start.astimezone(UTC) == datetime(2030, 3, 31, 1, tzinfo=UTC)  # 03:00
    assert cells[-1].end == at(spring + timedelta(days=1), 0)
    found = resource_cells(
        cells, [], [GridSpan("r", cells[0].start, cells[-1].end)], [], at(spring, 0)
    )
    assert [c.state for c in found[1:4]] == ["free", "closed", "free"]  # 02:00 is no time


def test_a_grid_shows_7_to_22_at_least_and_every_resource_s_hours():
    assert shown_hours([ResourceRules("r", "Hall")]) == (7, 22)
    early = ResourceRules("r", "Hall", opening_hours={"tue": ((time(6, 30), time(0)),)})
    assert shown_hours([early]) == (6, 24)


def test_each_cell_s_state_in_order_of_what_matters_most():
    now = at(MONDAY, 9)
    cells = cell_times(MONDAY, (7, 22), HOUR, ZONE)
    busy = [
        GridBusy("r", at(MONDAY, 10), at(MONDAY, 11), at(MONDAY, 11, 30), Status.APPROVED, "Talk"),
        GridBusy("r", at(MONDAY, 13), at(MONDAY, 15), at(MONDAY, 15), Status.PENDING, None),
        GridBusy("r", at(MONDAY, 16), at(MONDAY, 17), at(MONDAY, 17), Status.PENDING, None),
    ]
    opened = [GridSpan("r", at(MONDAY, 8), at(MONDAY, 20))]
    closed = [GridSpan("r", at(MONDAY, 16), at(MONDAY, 18), "Cleaning")]

    found = resource_cells(cells, busy, opened, closed, now)

    states = {c.start.astimezone(ZONE).hour: c.state for c in found}
    assert states == {
        7: "closed",  # before opening
        8: "past",
        9: "free",
        10: "busy",
        11: "buffer",  # the half hour after the talk
        12: "free",
        13: "pending",
        14: "pending",
        15: "free",
        16: "closed",  # the closure beats the request under it
        17: "closed",
        18: "free",
        19: "free",
        20: "closed",
        21: "closed",
    }
    by_hour = {c.start.astimezone(ZONE).hour: c for c in found}
    assert (by_hour[10].title, by_hour[10].first) == ("Talk", True)
    assert (by_hour[13].first, by_hour[14].first) == (True, False)
    assert (by_hour[16].title, by_hour[16].first, by_hour[17].first) == ("Cleaning", True, False)
    assert [c.selectable for c in found].count(True) == 7  # 9, 12 to 15, 18, 19


@pytest.mark.parametrize(
    ("reader", "visibility", "status", "shown"),
    [
        (
            Principal("u2", "otto@example.org", "Otto", "organiser"),
            "internal",
            Status.APPROVED,
            False,
        ),
        (
            Principal("u2", "otto@example.org", "Otto", "organiser"),
            "private",
            Status.PENDING,
            False,
        ),
        (Principal("u2", "otto@example.org", "Otto", "organiser"), "public", Status.PENDING, False),
        (Principal("u2", "otto@example.org", "Otto", "organiser"), "public", Status.APPROVED, True),
        (Principal("u1", "olle@example.org", "Olle", "organiser"), "private", Status.PENDING, True),
        (
            Principal("u3", "maja@example.org", "Maja", "organiser"),
            "private",
            Status.APPROVED,
            True,
        ),
        (Principal("u4", "ines@example.org", "Ines", "infra"), "private", Status.PENDING, True),
    ],
)
def test_another_organiser_s_booking_is_only_busy(reader, visibility, status, shown):
    rules = {"r": ResourceRules("r", "Hall", managers=frozenset({"maja@example.org"}))}
    start = datetime(2030, 3, 4, 9, tzinfo=UTC)
    slot = HeldSlot(
        "b1",
        "r",
        start,
        start + HOUR,
        Interval(start, start + HOUR),
        status,
        "Merger",
        visibility,
        "u1",
    )

    [seen] = busy_as_seen(reader, rules, [slot])

    assert (seen.title, seen.booking_id) == (("Merger", "b1") if shown else (None, None))
    assert seen.status == status

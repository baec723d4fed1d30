"""The suggestion rule (``domain.suggestions``): the next free times for the same resources,
same length, within hours and outside closures, buffers kept, notice and how far ahead
respected; other free resources then. Pure: no database."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.booking.domain import HeldSlot, Interval, ResourceRules, blocked_interval
from services.booking.domain.suggestions import free_alternatives, free_times
from shared.events import Status

ZONE = ZoneInfo("Europe/Stockholm")
NOW = datetime(2030, 3, 1, 11, 0, tzinfo=UTC)  # Friday
WORKDAYS = {d: [(time(8), time(17))] for d in ("mon", "tue", "wed", "thu", "fri")}


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """March ``day``, 2030, at a Stockholm wall-clock time."""
    return datetime(2030, 3, day, hour, minute, tzinfo=ZONE)


def span(day: int, start: int, end: int) -> Interval:
    return Interval(local(day, start), local(day, end))


def room(rid: str = "hall", **rules) -> ResourceRules:
    return ResourceRules(rid, rid.title(), **rules)


def held(rules: ResourceRules, occ: Interval, booking: str = "b1") -> HeldSlot:
    block = blocked_interval(occ, rules.buffer_minutes)
    return HeldSlot(booking, rules.resource_id, occ.start, occ.end, block, Status.APPROVED)


def starts(found: list[Interval]) -> list[tuple[int, int, int]]:
    """(day, hour, minute) of each time found, in Stockholm."""
    return [(s.day, s.hour, s.minute) for s in (t.start.astimezone(ZONE) for t in found)]


def test_the_time_asked_for_comes_first_when_it_is_free():
    found = free_times([room()], span(4, 10, 12), [], {}, NOW, ZONE)
    assert found[0] == span(4, 10, 12)
    assert len(found) == 5
    assert all(b.start >= a.end for a, b in zip(found, found[1:], strict=False))


def test_a_taken_time_suggests_right_after_the_booking_and_its_buffer():
    hall = room(buffer_minutes=15, opening_hours=WORKDAYS)
    taken = [held(hall, span(4, 10, 12))]
    found = free_times([hall], span(4, 10, 12), taken, {}, NOW, ZONE)
    assert starts(found) == [(4, 12, 15), (4, 14, 15), (5, 8, 0), (5, 10, 0), (5, 12, 0)]
    assert all(t.end - t.start == timedelta(hours=2) for t in found)


def test_every_resource_must_be_free_and_closures_are_kept():
    hall, studio = room(opening_hours=WORKDAYS), room("studio")
    taken = [held(studio, Interval(local(4, 0), local(5, 0)))]
    closures = {"hall": [Interval(local(5, 0), local(6, 12))]}
    found = free_times([hall, studio], span(4, 9, 10), taken, closures, NOW, ZONE)
    assert starts(found)[:2] == [(6, 12, 0), (6, 13, 0)]


def test_notice_and_how_far_ahead_bound_the_times():
    soon = room(min_notice_hours=72)  # Friday 12:00 + 72 h: Monday 12:00
    found = free_times([soon], span(1, 13, 14), [], {}, NOW, ZONE)
    assert found[0].start == local(4, 12)
    near = room(max_advance_days=3)  # Friday 12:00 + 3 days: Monday 12:00 at the latest
    found = free_times([near], span(4, 10, 14), [], {}, NOW, ZONE)
    assert [t.start for t in found] == [local(4, 10)]


def test_a_time_in_the_past_is_moved_to_steps_after_now():
    found = free_times([room()], Interval(local(1, 9, 10), local(1, 9, 40)), [], {}, NOW, ZONE)
    assert found[0].start == local(1, 12, 10)


def test_nothing_is_suggested_for_a_backwards_time_or_no_resource():
    assert free_times([room()], span(4, 12, 10), [], {}, NOW, ZONE) == []
    assert free_times([], span(4, 10, 12), [], {}, NOW, ZONE) == []


def test_a_resource_never_open_has_no_free_time():
    shut = room(opening_hours={})
    assert free_times([shut], span(4, 10, 12), [], {}, NOW, ZONE) == []


def test_alternatives_are_the_free_others():
    hall, aula, small = room(), room("aula"), room("small", opening_hours={"sat": []})
    taken = [held(aula, span(4, 9, 11))]
    found = free_alternatives(span(4, 10, 12), [aula, small, hall], {"hall"}, taken, {}, NOW, ZONE)
    assert found == []
    free = free_alternatives(span(4, 12, 13), [aula, small, hall], {"hall"}, taken, {}, NOW, ZONE)
    assert free == ["aula"]

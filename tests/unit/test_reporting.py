"""The reports' calendar arithmetic (domain.reporting): local periods as UTC instants
across daylight saving time, the stretches of one offset, opening hours in a period, and
percentile positions as PostgreSQL's percentile_cont reads them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from services.booking.domain import RuleViolation
from services.booking.domain import reporting as cal

ZONE = ZoneInfo("Europe/Stockholm")


def test_months_are_local_and_clipped_to_the_report():
    found = cal.periods(date(2026, 3, 15), date(2026, 4, 30), "month", ZONE)
    assert [p.label for p in found] == ["2026-03", "2026-04"]
    march, april = found
    assert march.start == datetime(2026, 3, 14, 23, 0, tzinfo=UTC)  # from the 15th, CET
    assert march.end == april.start == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # CEST
    assert (march.end_s - march.start_s) // 3600 == 17 * 24 - 1  # 17 days, one hour short


@pytest.mark.parametrize(
    ("group", "labels"),
    [
        ("week", ["2025-W52", "2026-W01", "2026-W02"]),
        ("quarter", ["2025-Q4", "2026-Q1"]),
        ("year", ["2025", "2026"]),
        ("resource", ["all"]),
    ],
)
def test_period_labels(group, labels):
    found = cal.periods(date(2025, 12, 24), date(2026, 1, 6), group, ZONE)
    assert [p.label for p in found] == labels
    assert found[0].start == cal.midnight(date(2025, 12, 24), ZONE)


def test_offset_spans_change_at_the_instants_of_the_zone():
    spans = cal.offset_spans(
        datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC), ZONE
    )
    assert [(s.start, s.offset) for s in spans] == [
        (datetime(2026, 1, 1, tzinfo=UTC), 3600),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 7200),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), 3600),
    ]


def test_opening_hours_in_a_week_and_always_open_on_the_short_day():
    week = cal.periods(date(2026, 3, 23), date(2026, 3, 29), "week", ZONE)[0]
    weekdays = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    assert cal.opening_seconds(weekdays, week, ZONE) == 50 * 3600
    assert cal.opening_seconds({"sat": [["20:00", "00:00"]]}, week, ZONE) == 4 * 3600
    assert cal.opening_seconds(None, week, ZONE) == (7 * 24 - 1) * 3600


def test_percentile_positions_as_percentile_cont():
    assert cal.percentile_positions(6, 0.5) == (3, 0.5)
    low, weight = cal.percentile_positions(3, 0.9)
    assert (low, round(weight, 6)) == (2, 0.8)
    assert cal.interpolate(2, 48, 0.8) == pytest.approx(38.8)
    assert cal.interpolate(5, None, 0.0) == 5


def test_a_report_runs_forwards_over_five_years_at_most():
    cal.check_span(date(2026, 1, 1), date(2030, 12, 31))
    with pytest.raises(RuleViolation) as backwards:
        cal.check_span(date(2026, 2, 1), date(2026, 1, 31))
    assert "to" in backwards.value.errors
    with pytest.raises(RuleViolation):
        cal.check_span(date(2020, 1, 1), date(2026, 12, 31))

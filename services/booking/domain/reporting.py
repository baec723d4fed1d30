"""The calendar arithmetic of the reports, pure: the local periods (weeks, months, quarters,
years) a report groups by, as UTC instants, so the database buckets by comparing instants
and daylight saving time is right on every backend; the stretches of one UTC offset (for
the hours-of-the-week heat map); a venue's opening hours in a period; percentiles.

A report covers the local days ``first`` to ``last`` (both included): from ``first``'s
midnight to the midnight after ``last`` in the suite's zone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.booking.domain.model import WEEKDAYS, RuleViolation
from shared.messages import Msg

MAX_DAYS = 5 * 366  # the longest period a report covers (about five years)
PERIOD_GROUPS = ("week", "month", "quarter", "year")
EPOCH_MONDAY = 4 * 86400  # 1970-01-05 00:00 UTC, a Monday: where hours of the week count from
WEEK_SECONDS = 7 * 86400


@dataclass(frozen=True)
class Period:
    """One row of a report's time axis: ``label`` (2026-03, 2026-Q1, 2026, 2026-W13), its
    first local day, and the UTC instants [start, end) it covers (clipped to the report)."""

    label: str
    first_day: date
    start: datetime
    end: datetime

    @property
    def start_s(self) -> int:
        return int(self.start.timestamp())

    @property
    def end_s(self) -> int:
        return int(self.end.timestamp())


@dataclass(frozen=True)
class OffsetSpan:
    """A stretch [start, end) of UTC time with one offset from UTC in the zone (seconds)."""

    start: datetime
    end: datetime
    offset: int


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local day's midnight."""
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def check_span(first: date, last: date) -> None:
    """A report's days run forwards and cover at most :data:`MAX_DAYS`."""
    if last < first:
        raise RuleViolation({"to": [Msg("end_before_start")]})
    if (last - first).days >= MAX_DAYS:
        raise RuleViolation({"to": [Msg("report_period_too_long", years=5)]})


def _period_start(day: date, group: str) -> date:
    if group == "week":
        return day - timedelta(days=day.weekday())
    if group == "month":
        return day.replace(day=1)
    if group == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, 1, 1)


def _next_start(day: date, group: str) -> date:
    if group == "week":
        return day + timedelta(days=7)
    months = {"month": 1, "quarter": 3}.get(group, 12)
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def label(day: date, group: str) -> str:
    """A period's name: 2026-W13, 2026-03, 2026-Q1, 2026."""
    if group == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if group == "month":
        return f"{day.year}-{day.month:02d}"
    if group == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def periods(first: date, last: date, group: str, zone: ZoneInfo) -> list[Period]:
    """The local periods of ``group`` that the days ``first``..``last`` touch, each clipped
    to them; any other ``group`` is the whole span as one period labelled ``all``."""
    end = midnight(last + timedelta(days=1), zone)
    if group not in PERIOD_GROUPS:
        return [Period("all", first, midnight(first, zone), end)]
    found = []
    day = _period_start(first, group)
    while day <= last:
        following = _next_start(day, group)
        start = midnight(max(day, first), zone)
        found.append(Period(label(day, group), day, start, min(midnight(following, zone), end)))
        day = following
    return found


def offset_spans(start: datetime, end: datetime, zone: ZoneInfo) -> list[OffsetSpan]:
    """The stretches of one UTC offset covering [start, end), found day by day and each
    change pinned to the second (the zone's rules, not a table)."""

    def offset(at: datetime) -> int:
        found = at.astimezone(zone).utcoffset()
        return int(found.total_seconds()) if found else 0

    spans, since, current = [], start, offset(start)
    day = start
    while day < end:
        following = min(day + timedelta(days=1), end)
        if offset(following) != current:
            low, high = int(day.timestamp()), int(following.timestamp())  # change in (low, high]
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if offset(_instant(middle)) == current else (low, middle)
            spans.append(OffsetSpan(since, _instant(high), current))
            since, current = _instant(high), offset(_instant(high))
        day = following
    spans.append(OffsetSpan(since, end, current))
    return spans


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def opening_seconds(
    hours: Mapping[str, Sequence[Sequence[str]]] | None, period: Period, zone: ZoneInfo
) -> int:
    """How long a venue is open in a period (seconds of real time): its windows day by day,
    or the whole period when it keeps no opening hours (always open)."""
    if hours is None:
        return period.end_s - period.start_s
    total = 0
    day = period.start.astimezone(zone).date()
    while midnight(day, zone) < period.end:
        for opens, closes in hours.get(WEEKDAYS[day.weekday()], ()):
            close_day = day + timedelta(days=1) if closes in ("00:00", "24:00") else day
            window_start = datetime.combine(day, time.fromisoformat(opens), zone)
            window_end = datetime.combine(close_day, time.fromisoformat(closes[:5]), zone)
            if closes == "24:00":
                window_end = datetime.combine(close_day, time(0), zone)
            total += max(0, int((window_end - window_start).total_seconds()))
        day += timedelta(days=1)
    return total


def percentile_positions(count: int, fraction: float) -> tuple[int, float]:
    """Where a percentile lies among ``count`` ordered values (1-based), as PostgreSQL's
    percentile_cont reads it: the value at ``low`` plus ``weight`` of the way to the next."""
    position = 1 + fraction * (count - 1)
    low = int(position)
    return low, position - low


def interpolate(low_value: float, next_value: float | None, weight: float) -> float:
    """The value ``weight`` of the way from ``low_value`` to ``next_value``."""
    if next_value is None or weight == 0:
        return low_value
    return low_value + weight * (next_value - low_value)


def hour_of_week(cell: int) -> tuple[str, int]:
    """A heat-map cell (0 = Monday 00-01) as (weekday, hour)."""
    return WEEKDAYS[cell // 24], cell % 24

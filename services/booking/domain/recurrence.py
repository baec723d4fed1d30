"""Series: an RRULE expanded into dates in wall-clock time, and the rules a series keeps."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from types import FrameType
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from services.booking.domain.model import (
    MAX_OCCURRENCES,
    MAX_SERIES_SPAN,
    MAX_SERIES_YEARS,
    Errors,
    Interval,
    RuleViolation,
)
from shared.messages import Msg
from shared.timezones import not_on_the_clock


def expand_occurrences(
    start: datetime, end: datetime, rrule: str | None, zone: ZoneInfo
) -> list[Interval]:
    """Every occurrence of a booking, in UTC. A series keeps its wall-clock time in ``zone``
    across daylight-saving changes (09:00 stays 09:00 in summer). The rule is walked at most
    :data:`MAX_SERIES_SPAN` past the first date, so any rule is answered at once."""
    if not rrule:
        return [Interval(start, end)]
    length = end - start
    local_start = start.astimezone(zone).replace(tzinfo=None)
    upper = rrule.upper()
    if "COUNT=" not in upper and "UNTIL=" not in upper:
        raise RuleViolation({"rrule": [Msg("rrule_needs_end")]})
    if "COUNT=" in upper and "UNTIL=" in upper:
        raise RuleViolation({"rrule": [Msg("rrule_count_or_until")]})
    try:
        rule = rrulestr(_local_until(upper, zone), dtstart=local_start)
    except (ValueError, TypeError, OverflowError) as exc:
        raise RuleViolation({"rrule": [Msg("rrule_invalid")]}) from exc
    occurrences = []
    for local in _bounded_walk(rule, _frequency(upper), local_start):
        if not_on_the_clock(local, zone) == "skipped":
            when = f"{local:%Y-%m-%d %H:%M}"
            raise RuleViolation({"rrule": [Msg("occurrence_skipped", when=when, zone=zone.key)]})
        # A time the clocks pass twice is its first passing (fold=0: still summer time).
        occ_start = local.replace(tzinfo=zone).astimezone(UTC)
        occurrences.append(Interval(occ_start, occ_start + length))
    if not occurrences:
        raise RuleViolation({"rrule": [Msg("rrule_no_dates")]})
    return occurrences


# dateutil walks a rule a period at a time (a day, week, month or year) and compares UNTIL and
# COUNT only with dates it yields, so a rule that yields nothing (BYMONTH=2;BYMONTHDAY=31, a
# BYSETPOS beyond what a period holds) walks on to the year 9999 inside one next(): seconds to
# minutes of CPU with no chance to stop between dates. We watch the walk from the inside: it
# asks for each period's days by calling one of these, and we stop it past the horizon. The
# thread's CPU time is the backstop should a dateutil release rename them (the unit tests of
# a rule that never yields would then fail on their time limit, not hang).
_PERIOD_CALLS = frozenset({"ydayset", "mdayset", "wdayset", "ddayset"})
_PERIOD_DAYS = {"YEARLY": 365, "MONTHLY": 28, "WEEKLY": 7, "DAILY": 1}
WALK_CPU_SECONDS = 0.25


class _WalkStopped(Exception):
    """Raised inside dateutil's walk to end it; never leaves this module."""


def _frequency(rule: str) -> tuple[str, int]:
    """The rule's FREQ and INTERVAL; finer than DAILY is refused (nothing books by the hour
    in a series, and an hourly rule is 24 times the walk)."""
    parts = dict(p.split("=", 1) for p in rule.removeprefix("RRULE:").split(";") if "=" in p)
    freq = parts.get("FREQ", "")
    if freq not in _PERIOD_DAYS:
        raise RuleViolation({"rrule": [Msg("rrule_too_fine")]})
    interval = max(1, int(parts.get("INTERVAL", "1")))
    if interval > MAX_SERIES_SPAN.days // _PERIOD_DAYS[freq]:  # its second date lies beyond
        raise RuleViolation({"rrule": [Msg("rrule_beyond_horizon", years=MAX_SERIES_YEARS)]})
    return freq, interval


def _bounded_walk(rule: Iterable[datetime], frequency: tuple[str, int], first: datetime):
    """The rule's dates, at most :data:`MAX_OCCURRENCES`, none past ``first`` +
    :data:`MAX_SERIES_SPAN`; a :class:`RuleViolation` on ``rrule`` as soon as the walk goes
    further than that (counted in periods) or spends :data:`WALK_CPU_SECONDS`."""
    freq, interval = frequency
    horizon = first + MAX_SERIES_SPAN
    periods = MAX_SERIES_SPAN.days // (_PERIOD_DAYS[freq] * interval) + 2
    walked = 0
    deadline = time.thread_time() + WALK_CPU_SECONDS
    reason: Msg | None = None

    def watch(frame: FrameType, event: str, _arg: object) -> None:
        nonlocal walked, reason
        if frame.f_code.co_name in _PERIOD_CALLS:
            walked += 1
            if walked > periods:
                reason = Msg("rrule_beyond_horizon", years=MAX_SERIES_YEARS)
                raise _WalkStopped
        if time.thread_time() > deadline:
            reason = Msg("rrule_too_costly")
            raise _WalkStopped

    dates: list[datetime] = []
    previous = sys.gettrace()
    sys.settrace(watch)
    try:
        for local in rule:
            if len(dates) >= MAX_OCCURRENCES:
                reason = Msg("rrule_too_many", max=MAX_OCCURRENCES)
                break
            if local > horizon:
                reason = Msg("rrule_beyond_horizon", years=MAX_SERIES_YEARS)
                break
            dates.append(local)
    except _WalkStopped:
        pass
    except (ValueError, OverflowError):  # an INTERVAL that leaps past the calendar
        reason = reason or Msg("rrule_beyond_horizon", years=MAX_SERIES_YEARS)
    finally:
        sys.settrace(previous)
    if reason is not None:
        raise RuleViolation({"rrule": [reason]})
    return dates


_UNTIL_UTC = re.compile(r"UNTIL=(\d{8}T\d{6})Z")


def _local_until(rrule: str, zone: ZoneInfo) -> str:
    """RFC 5545 writes UNTIL in UTC when DTSTART has a zone; we expand in wall-clock time, so
    the bound is turned into the same instant's local time."""

    def local(match: re.Match[str]) -> str:
        instant = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        return "UNTIL=" + instant.astimezone(zone).strftime("%Y%m%dT%H%M%S")

    return _UNTIL_UTC.sub(local, rrule)


def check_series(occurrences: Sequence[Interval], buffer_minutes: int) -> Errors:
    """Occurrences of one series may not overlap each other (buffer included)."""
    pad = timedelta(minutes=buffer_minutes)
    for first, second in zip(occurrences, occurrences[1:], strict=False):
        if first.end + pad > second.start:
            return {"rrule": [Msg("occurrences_overlap")]}
    return {}


def normalise_rrule(rrule: str | None) -> str | None:
    """Strip an optional ``RRULE:`` prefix and whitespace; refuse a DTSTART inside it."""
    if rrule is None:
        return None
    text = rrule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text:
        return None
    if "DTSTART" in text.upper() or "\n" in text:
        raise RuleViolation({"rrule": [Msg("rrule_without_dtstart")]})
    return text.upper()

"""Series: an RRULE expanded into dates in wall-clock time, and the rules a series keeps."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from services.booking.domain.model import MAX_OCCURRENCES, Errors, Interval, RuleViolation
from shared.messages import Msg


def expand_occurrences(
    start: datetime, end: datetime, rrule: str | None, zone: ZoneInfo
) -> list[Interval]:
    """Every occurrence of a booking, in UTC. A series keeps its wall-clock time in ``zone``
    across daylight-saving changes (09:00 stays 09:00 in summer)."""
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
    except (ValueError, TypeError) as exc:
        raise RuleViolation({"rrule": [Msg("rrule_invalid")]}) from exc
    occurrences = []
    for n, local in enumerate(rule):
        if n >= MAX_OCCURRENCES:
            raise RuleViolation({"rrule": [Msg("rrule_too_many", max=MAX_OCCURRENCES)]})
        occ_start = local.replace(tzinfo=zone).astimezone(UTC)
        occurrences.append(Interval(occ_start, occ_start + length))
    if not occurrences:
        raise RuleViolation({"rrule": [Msg("rrule_no_dates")]})
    return occurrences


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

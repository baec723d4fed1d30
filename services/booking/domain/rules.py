"""The rules a request keeps: its times, and each resource's (active, capacity, notice,
how far ahead, how long, opening hours, closures). Messages name the resource."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.booking.domain.model import (
    MAX_OCCURRENCE_LENGTH,
    WEEKDAYS,
    Errors,
    Interval,
    ResourceRules,
    RuleViolation,
)
from shared.messages import N_, Msg


def check_times(start: datetime, end: datetime, now: datetime) -> Errors:
    """A request starts in the future and ends after it starts, within 14 days."""
    errors: Errors = {}
    if end <= start:
        errors.setdefault("end", []).append(Msg("end_before_start"))
    elif end - start > MAX_OCCURRENCE_LENGTH:
        errors.setdefault("end", []).append(
            Msg("occurrence_too_long", days=MAX_OCCURRENCE_LENGTH.days)
        )
    if start <= now:
        errors.setdefault("start", []).append(Msg("start_in_past"))
    return errors


def check_resource_rules(
    rules: ResourceRules,
    occurrences: Sequence[Interval],
    now: datetime,
    zone: ZoneInfo,
    attendees: int | None,
    closures: Iterable[tuple[Interval, str]] = (),
) -> Errors:
    """Every rule of one resource against every occurrence; messages name the resource."""
    errors: Errors = {}

    name = rules.name

    def add(key: str, message: Msg) -> None:
        if message not in errors.get(key, []):
            errors.setdefault(key, []).append(message)

    if not rules.active:
        add("resource_ids", Msg("resource_inactive", name=name))
    if attendees is not None and rules.capacity is not None and attendees > rules.capacity:
        add("expected_attendees", Msg("resource_holds_at_most", name=name, capacity=rules.capacity))
    first = occurrences[0]
    if first.start < now + timedelta(hours=rules.min_notice_hours):
        add("start", Msg("resource_needs_notice", name=name, hours=rules.min_notice_hours))
    if occurrences[-1].start > now + timedelta(days=rules.max_advance_days):
        add("start", Msg("resource_max_advance", name=name, days=rules.max_advance_days))
    if rules.max_duration_minutes is not None and first.end - first.start > timedelta(
        minutes=rules.max_duration_minutes
    ):
        add("end", Msg("resource_max_duration", name=name, minutes=rules.max_duration_minutes))
    for occ in occurrences:
        if rules.opening_hours is not None and not within_opening_hours(
            rules.opening_hours, occ, zone
        ):
            local = occ.start.astimezone(zone)
            when = Msg(
                "day_and_moment", day=Msg(DAY_WORDS[local.weekday()]), moment=_moment(local, zone)
            )
            add("start", Msg("resource_closed_then", name=name, when=when))
        for closure, reason in closures:
            if closure.overlaps(occ):
                add("start", closed_for(name, closure, reason, zone))
    return errors


def closed_for(name: str, closure: Interval, reason: str, zone: ZoneInfo) -> Msg:
    """ "<resource>: is closed <from>–<to>: <reason>"."""
    start, end = _moment(closure.start, zone), _moment(closure.end, zone)
    return Msg("resource_closed_for", name=name, start=start, end=end, reason=reason)


DAY_WORDS = (N_("wd_0"), N_("wd_1"), N_("wd_2"), N_("wd_3"), N_("wd_4"), N_("wd_5"), N_("wd_6"))


def _moment(value: datetime, zone: ZoneInfo) -> str:
    """A time in a message: the same in every language (no names of days or months)."""
    return f"{value.astimezone(zone):%Y-%m-%d %H:%M}"


def check_capacity(resources: Iterable[ResourceRules], attendees: int | None) -> None:
    """:class:`RuleViolation` when a venue cannot hold the expected attendees."""
    errors: Errors = {}
    for rules in resources:
        if attendees is not None and rules.capacity is not None and attendees > rules.capacity:
            errors.setdefault("expected_attendees", []).append(
                Msg("resource_holds_at_most", name=rules.name, capacity=rules.capacity)
            )
    if errors:
        raise RuleViolation(errors)


def check_reason(reason: str | None) -> None:
    """A rejection says why (the organiser reads it)."""
    if not (reason or "").strip():
        raise RuleViolation({"reason": [Msg("field_required")]})


def within_opening_hours(
    hours: Mapping[str, Sequence[tuple[time, time]]], occ: Interval, zone: ZoneInfo
) -> bool:
    """True when the occurrence lies inside one opening window of its local day.
    A window ending at 00:00 means midnight at the end of the day."""
    local_start = occ.start.astimezone(zone)
    local_end = occ.end.astimezone(zone)
    day: date = local_start.date()
    for opens, closes in hours.get(WEEKDAYS[day.weekday()], ()):
        window_start = datetime.combine(day, opens, zone)
        close_day = day + timedelta(days=1) if closes == time(0) else day
        window_end = datetime.combine(close_day, closes, zone)
        if window_start <= local_start and local_end <= window_end:
            return True
    return False

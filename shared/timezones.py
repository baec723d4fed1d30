"""Time-zone handling in one place: times are stored in UTC and entered and shown in the
configured zone (``EVENEMANG_TIMEZONE``)."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import ValidationError, fields

from shared.messages import N_, Msg

DEFAULT_ZONE = ZoneInfo("Europe/Stockholm")
MIN_YEAR, MAX_YEAR = 1970, 2200
current_zone: ContextVar[ZoneInfo] = ContextVar("current_zone", default=DEFAULT_ZONE)


def check_year(value: date) -> None:
    """A date or time the suite holds: years MIN_YEAR to MAX_YEAR. Beyond, no one books,
    and the first and last days of the calendar cannot be turned into UTC and back."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(Msg("year_between", min=MIN_YEAR, max=MAX_YEAR))


def in_years(value: date) -> bool:
    return MIN_YEAR <= value.year <= MAX_YEAR


def not_on_the_clock(wall: datetime, zone: ZoneInfo) -> str | None:
    """Why a wall-clock time (naive) is no single moment in ``zone``: ``skipped`` when the
    clocks jump over it (the spring-forward gap, 02:30 on the last Sunday of March in
    Stockholm), ``twice`` when they pass it twice (the autumn hour); None for any other."""
    first, second = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    return "skipped" if back != wall else "twice"


def localise(value: datetime, zone: ZoneInfo | None = None) -> datetime:
    """An aware datetime: naive values are read as wall time in ``zone`` (or the current one)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=zone or current_zone.get())
    return value


def to_utc(value: datetime) -> datetime:
    return localise(value).astimezone(UTC)


def iso(value: datetime | None, zone: ZoneInfo | None = None) -> str | None:
    """ISO 8601 with the offset of the display zone."""
    if value is None:
        return None
    return value.astimezone(zone or current_zone.get()).isoformat()


# A wall time without an offset that is no single moment: say which, or choose another.
GIVE_OFFSET = {"skipped": N_("time_skipped_give_offset"), "twice": N_("time_twice_give_offset")}


class ZonedDateTime(fields.DateTime):
    """An ISO 8601 datetime; one without an offset is read in the configured zone.
    Deserialises to an aware UTC datetime."""

    default_error_messages = {  # noqa: RUF012 - marshmallow merges this class attribute
        "invalid": Msg("invalid_datetime"),
        "required": Msg("field_required"),
        "null": Msg("field_required"),
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 64:
            raise self.make_error("invalid")
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise self.make_error("invalid") from exc
        check_year(parsed)
        if parsed.tzinfo is None:  # wall time: it must be one moment on the clock
            problem = not_on_the_clock(parsed, current_zone.get())
            if problem is not None:
                raise ValidationError(
                    Msg(f"time_{problem}_give_offset", zone=current_zone.get().key)
                )
        try:
            return to_utc(parsed)
        except (OverflowError, ValueError) as exc:
            raise ValidationError(Msg("invalid_datetime")) from exc

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any):
        return iso(value)

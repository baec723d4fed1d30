"""When, on the request form: a date with start and end times (and an end date for an
event over midnight), and an optional weekly repeat until a date or for a count. Shared by
the whole request and by its "show free venues and services" step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from marshmallow import post_load, validates_schema
from marshmallow import validate as ma_validate

from services.booking.domain import MAX_OCCURRENCES, WEEKDAYS
from services.booking.entrypoints.pages.forms.errors import Errors, flat
from shared.messages import N_, Msg
from shared.schema import Schema, ValidationError, fields, validate
from shared.timezones import current_zone, not_on_the_clock

BYDAY = dict(zip(WEEKDAYS, ("MO", "TU", "WE", "TH", "FR", "SA", "SU"), strict=True))
REPEATS = ("none", "weekly", "keep")
NOT_ON_THE_CLOCK = {"skipped": N_("time_skipped"), "twice": N_("time_twice")}
WHEN_FIELDS = (
    "date",
    "start_time",
    "end_time",
    "end_date",
    "repeat",
    "weekdays",
    "repeat_end",
    "repeat_count",
    "repeat_until",
    "rrule_kept",
)


def required(message: Msg) -> dict[str, Msg]:
    """A field's own words for "fill me in"."""
    return {"required": message, "null": message}


def wall_time(day: date, at: time) -> datetime:
    """Wall-clock time in the configured zone."""
    return datetime.combine(day, at.replace(microsecond=0), current_zone.get())


@dataclass(frozen=True)
class When:
    """The interval a form asks for (aware datetimes) and its series rule, if any."""

    start: datetime
    end: datetime
    rrule: str | None


class WhenFields(Schema):
    """The time fields of the request form and their rules."""

    date = fields.Date(required=True, error_messages=required(Msg("date_required")))
    start_time = fields.Time(required=True, error_messages=required(Msg("time_required")))
    end_time = fields.Time(required=True, error_messages=required(Msg("time_required")))
    end_date = fields.Date()
    repeat = fields.String(load_default="none", validate=validate.OneOf(REPEATS))
    weekdays = fields.List(fields.String(validate=validate.OneOf(WEEKDAYS)), load_default=list)
    repeat_end = fields.String(load_default="count", validate=validate.OneOf(("count", "until")))
    repeat_count = fields.Integer(
        validate=ma_validate.Range(min=1, max=MAX_OCCURRENCES, error=Msg("series_dates_between"))
    )
    repeat_until = fields.Date()
    rrule_kept = fields.String(validate=validate.Length(max=500))

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _repeat(self, data: dict[str, Any], typed: dict[str, Any], **_: Any) -> None:
        """A weekly series needs its first date's weekday and an end; a field typed but
        wrong has its own message already."""
        if data.get("repeat") != "weekly":
            return
        errors: Errors = {}
        days = data.get("weekdays") or []
        if not days:
            errors["weekdays"] = [Msg("choose_weekdays")]
        elif "date" in data and WEEKDAYS[data["date"].weekday()] not in days:
            errors["weekdays"] = [Msg("first_date_on_weekday")]
        if data.get("repeat_end") == "until":
            until = data.get("repeat_until")
            if until is None and not typed.get("repeat_until"):
                errors["repeat_until"] = [Msg("last_date_required")]
            elif until is not None and "date" in data and until < data["date"]:
                errors["repeat_until"] = [Msg("last_date_before_first")]
        elif data.get("repeat_count") is None and not typed.get("repeat_count"):
            errors["repeat_count"] = [Msg("repeat_count_required")]
        if errors:
            raise ValidationError(errors)

    @validates_schema(skip_on_field_errors=False)
    def _on_the_clock(self, data: dict[str, Any], **_: Any) -> None:
        """A time the clocks skip or pass twice is refused, never moved (a form has no
        offset to say which of the two it means)."""
        errors: Errors = {}
        zone = current_zone.get()
        for day, at in (("date", "start_time"), ("end_date", "end_time")):
            day = day if data.get(day) else "date"
            if day in data and at in data:
                problem = not_on_the_clock(datetime.combine(data[day], data[at]), zone)
                if problem is not None:
                    errors[at] = [Msg(NOT_ON_THE_CLOCK[problem], zone=zone.key)]
        if errors:
            raise ValidationError(errors)

    @validates_schema(skip_on_field_errors=False)
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if {"date", "start_time", "end_time"} <= data.keys():
            start, end = interval(data)
            if end <= start:
                field = "end_date" if data.get("end_date") else "end_time"
                raise ValidationError(Msg("end_before_start"), field)


def interval(data: dict[str, Any]) -> tuple[datetime, datetime]:
    start = wall_time(data["date"], data["start_time"])
    return start, wall_time(data.get("end_date") or data["date"], data["end_time"])


def take_when(data: dict[str, Any]) -> When:
    """The loaded time fields as a :class:`When` (in UTC, as the API's schema gives times);
    they leave ``data``."""
    start, end = interval(data)
    rrule = _rrule(data, start)
    for name in WHEN_FIELDS:
        data.pop(name, None)
    return When(start.astimezone(UTC), end.astimezone(UTC), rrule)


def _rrule(data: dict[str, Any], start: datetime) -> str | None:
    if data["repeat"] == "keep":
        return data.get("rrule_kept") or None
    if data["repeat"] != "weekly":
        return None
    byday = ",".join(BYDAY[d] for d in WEEKDAYS if d in data["weekdays"])
    rule = f"FREQ=WEEKLY;BYDAY={byday}"
    if data["repeat_end"] == "count":
        return f"{rule};COUNT={data['repeat_count']}"
    # RFC 5545: beside a zoned DTSTART, UNTIL is the last instant in UTC.
    last = wall_time(data["repeat_until"], time(23, 59, 59)).astimezone(UTC)
    return f"{rule};UNTIL={last:%Y%m%dT%H%M%S}Z"


class WhenForm(WhenFields):
    @post_load
    def _when(self, data: dict[str, Any], **_: Any) -> When:
        return take_when(data)


WHEN_FORM = WhenForm()


def read_when(data: dict[str, Any]) -> tuple[When | None, Errors]:
    """The interval and series a form asks for, or the form's errors."""
    try:
        return WHEN_FORM.load({k: v for k, v in data.items() if k in WHEN_FIELDS}), {}
    except ValidationError as exc:
        return None, flat(exc.messages)


# --- a stored series as the form's fields -----------------------------------------------------


def rrule_fields(rrule: str | None, first: date) -> dict[str, Any]:
    """The form's repeat fields for a stored RRULE; one the form cannot show is kept as is."""
    if not rrule:
        return {"repeat": "none"}
    parts = dict(p.split("=", 1) for p in rrule.upper().split(";") if "=" in p)
    known = set(parts) <= {"FREQ", "BYDAY", "COUNT", "UNTIL", "INTERVAL"}
    ends = ("COUNT" in parts) != ("UNTIL" in parts)
    if not known or not ends or parts.get("FREQ") != "WEEKLY" or parts.get("INTERVAL", "1") != "1":
        return {"repeat": "keep", "rrule_kept": rrule}
    codes = {v: k for k, v in BYDAY.items()}
    days = [codes.get(c) for c in parts.get("BYDAY", BYDAY[WEEKDAYS[first.weekday()]]).split(",")]
    until = _until_date(parts.get("UNTIL"))
    if None in days or ("UNTIL" in parts and until is None):
        return {"repeat": "keep", "rrule_kept": rrule}
    values: dict[str, Any] = {"repeat": "weekly", "weekdays": [d for d in WEEKDAYS if d in days]}
    if until is not None:
        values.update(repeat_end="until", repeat_until=until.isoformat())
    else:
        values.update(repeat_end="count", repeat_count=parts["COUNT"])
    return values


def _until_date(value: str | None) -> date | None:
    """The local date of an UNTIL (UTC with ``Z``, or wall-clock time without)."""
    if not value:
        return None
    try:
        if value.endswith("Z"):
            instant = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            return instant.astimezone(current_zone.get()).date()
        return datetime.strptime(value[:8], "%Y%m%d").date()
    except ValueError:
        return None

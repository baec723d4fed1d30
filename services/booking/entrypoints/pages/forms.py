"""The shapes of booking's HTML forms. Each form is read by a schema of its own shape (date
and time fields, weekday boxes, addresses pasted as text) that turns it into the JSON shape
of the API, which the API's own schema then validates: one set of rules for both."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from services.booking.domain import KINDS, MAX_OCCURRENCES, WEEKDAYS
from services.booking.schemas import (
    BookingInSchema,
    ClosureInSchema,
    ResourceInSchema,
)
from shared.timezones import current_zone

Errors = dict[str, list[str]]
BOOKING_IN, RESOURCE_IN, CLOSURE_IN = BookingInSchema(), ResourceInSchema(), ClosureInSchema()
BYDAY = dict(zip(WEEKDAYS, ("MO", "TU", "WE", "TH", "FR", "SA", "SU"), strict=True))
REPEATS = ("none", "weekly", "keep")
SEPARATORS = re.compile(r"[\n\r,;]+")
QUOTE_AWARE_COMMA = re.compile(r',(?=(?:[^"]*"[^"]*")*[^"]*$)')
WINDOW = re.compile(r"^(\d{1,2}:\d{2})\s*[-–—]\s*(\d{1,2}:\d{2})$")
# Where the API's field names show on the request form.
BOOKING_FIELD_ON_FORM = {"start": "start_time", "end": "end_time", "rrule": "repeat"}


def _number(value: Any) -> Any:
    """A typed number as an int for the JSON-shaped schemas; anything else as typed, for
    the schema to refuse in its own words."""
    text = str(value).strip()
    return int(text) if re.fullmatch(r"[+-]?\d{1,9}", text) else value


def _messages(required: str = "err_required", invalid: str = "err_invalid") -> dict[str, str]:
    return {"required": required, "invalid": invalid, "null": required}


def wall_time(day: date, at: time) -> datetime:
    """Wall-clock time in the configured zone."""
    return datetime.combine(day, at.replace(microsecond=0), current_zone.get())


class FormSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # one POST carries the fields of several schemas


class WhenForm(FormSchema):
    """Date and time fields, and an optional weekly repeat until a date or a count."""

    date = fields.Date(required=True, error_messages=_messages("err_date_required", "err_date"))
    start_time = fields.Time(
        required=True, error_messages=_messages("err_time_required", "err_time")
    )
    end_time = fields.Time(required=True, error_messages=_messages("err_time_required", "err_time"))
    end_date = fields.Date(error_messages=_messages(invalid="err_date"))
    repeat = fields.String(load_default="none", validate=validate.OneOf(REPEATS))
    weekdays = fields.List(fields.String(validate=validate.OneOf(WEEKDAYS)), load_default=list)
    repeat_end = fields.String(load_default="count", validate=validate.OneOf(("count", "until")))
    repeat_count = fields.Integer(
        validate=validate.Range(min=1, max=MAX_OCCURRENCES, error="err_count_range"),
        error_messages=_messages(invalid="err_number"),
    )
    repeat_until = fields.Date(error_messages=_messages(invalid="err_date"))
    rrule_kept = fields.String(validate=validate.Length(max=500))

    @validates_schema
    def _repeat(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("repeat") != "weekly":
            return
        errors: Errors = {}
        days = data.get("weekdays") or []
        if not days:
            errors["weekdays"] = ["err_weekdays_required"]
        elif "date" in data and WEEKDAYS[data["date"].weekday()] not in days:
            errors["weekdays"] = ["err_first_weekday"]
        if data.get("repeat_end") == "until":
            until = data.get("repeat_until")
            if until is None:
                errors["repeat_until"] = ["err_until_required"]
            elif "date" in data and until < data["date"]:
                errors["repeat_until"] = ["err_until_before"]
        elif data.get("repeat_count") is None:
            errors["repeat_count"] = ["err_count_required"]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _interval(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        start = wall_time(data["date"], data["start_time"])
        end = wall_time(data.get("end_date") or data["date"], data["end_time"])
        return {"start": start, "end": end, "rrule": self._rrule(data, start)}

    def _rrule(self, data: dict[str, Any], start: datetime) -> str | None:
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


WHEN_FORM = WhenForm()


def read_when(data: dict[str, Any]) -> tuple[dict[str, Any] | None, Errors]:
    """The interval and series a form asks for, or the form's errors."""
    try:
        return WHEN_FORM.load(data), {}
    except ValidationError as exc:
        return None, _flat(exc.messages)


def parse_participants(text: str) -> list[dict[str, str]]:
    """Addresses pasted one per line or separated by commas (not those inside quotes);
    ``Name <address>`` keeps the name."""
    people = []
    for line in re.split(r"[\n\r;]+", text or ""):
        for entry in QUOTE_AWARE_COMMA.split(line):
            entry = entry.strip()
            if not entry:
                continue
            if "<" in entry and entry.endswith(">"):
                cut = entry.rindex("<")
                person = {"email": entry[cut + 1 : -1].strip()}
                name = entry[:cut].strip().strip('"').strip()
                if name:
                    person["name"] = name
                people.append(person)
            else:
                people.append({"email": entry})
    return people


def format_participants(people: Any) -> str:
    return "\n".join(f"{p.name} <{p.email}>" if p.name else p.email for p in people or ())


DETAILS = ("title", "description", "expected_attendees", "visibility", "language", "notes")


def read_request(data: dict[str, Any]) -> tuple[dict[str, Any] | None, Errors]:
    """A request form as the validated command the API's schema gives, or every error by
    form field (the time fields and the details are checked together)."""
    when, errors = read_when(data)
    cmd: dict[str, Any] = {k: data[k] for k in DETAILS if k in data}
    if "expected_attendees" in cmd:
        cmd["expected_attendees"] = _number(cmd["expected_attendees"])
    if data.get("resource_ids"):
        cmd["resource_ids"] = data["resource_ids"]
    else:
        errors["resource_ids"] = ["err_resources_required"]
    people = parse_participants(data.get("participants", ""))
    cmd["participants"] = people
    if when is not None:
        cmd.update(
            start=when["start"].isoformat(), end=when["end"].isoformat(), rrule=when["rrule"]
        )
    try:
        loaded = BOOKING_IN.load(cmd, partial=("start", "end", "resource_ids"))
    except ValidationError as exc:
        errors.update(booking_errors_on_form(_flat(exc.messages), people))
        return None, errors
    return (None, errors) if errors else (loaded, {})


def booking_errors_on_form(errors: Errors, people: list[dict[str, str]] | None = None) -> Errors:
    """The API's error keys (``start``, ``participants.3.email``) as the form's fields."""
    shown: Errors = {}
    for key, messages in errors.items():
        if key.startswith("participants."):
            parts = key.split(".")
            index = int(parts[1]) if parts[1].isdigit() else -1
            entry = people[index]["email"] if people and 0 <= index < len(people) else ""
            shown.setdefault("participants", []).extend(f"“{entry}”: {m}" for m in messages)
            continue
        base = key.split(".")[0]
        target = BOOKING_FIELD_ON_FORM.get(base, base)
        shown.setdefault(target, []).extend(messages)
    return shown


def _flat(messages: Any, prefix: str = "") -> Errors:
    flat: Errors = {}
    if not isinstance(messages, dict):
        return {prefix.rstrip(".") or "_schema": [_kept(m) for m in _listed(messages)]}
    for key, value in messages.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat(value, name + "."))
        else:
            flat.setdefault(name, []).extend(_kept(v) for v in _listed(value))
    return flat


def _kept(message: Any) -> str:
    """A message as given (a message id keeps its parameters)."""
    return message if isinstance(message, str) else str(message)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- the request form filled from a booking (to change it) ----------------------------------


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


def booking_form_values(booking: Any) -> dict[str, Any]:
    zone = current_zone.get()
    start, end = booking.start.astimezone(zone), booking.end.astimezone(zone)
    values: dict[str, Any] = {
        "date": start.date().isoformat(),
        "start_time": f"{start:%H:%M}",
        "end_time": f"{end:%H:%M}",
        "title": booking.title,
        "description": booking.description or "",
        "expected_attendees": ""
        if booking.expected_attendees is None
        else str(booking.expected_attendees),
        "visibility": booking.visibility,
        "language": booking.language,
        "participants": format_participants(booking.participants),
        "notes": booking.notes or "",
        "resource_ids": [r.id for r in booking.resources],
    }
    if end.date() != start.date():
        values["end_date"] = end.date().isoformat()
    values.update(rrule_fields(booking.rrule, start.date()))
    return values


# --- resources ----------------------------------------------------------------------------------

NUMBERS = (
    "capacity",
    "buffer_minutes",
    "min_notice_hours",
    "max_advance_days",
    "max_duration_minutes",
)
NULLABLE = ("capacity", "max_duration_minutes")
FLAGS = ("requires_approval", "active")


def parse_windows(text: str) -> list[list[str]] | None:
    """``08:00-12:00, 13:00-17:00`` as ``[["08:00", "12:00"], ...]``; ``None`` if unreadable."""
    windows = []
    for part in SEPARATORS.split(text):
        part = part.strip()
        if not part:
            continue
        match = WINDOW.match(part)
        if not match:
            return None
        windows.append([t.zfill(5) for t in match.groups()])
    return windows


def read_resource(data: dict[str, Any], *, creating: bool) -> tuple[dict[str, Any] | None, Errors]:
    """A resource form (weekday hours as text, checkboxes, addresses pasted as text) through
    the API's resource schema."""
    errors: Errors = {}
    cmd: dict[str, Any] = {
        k: data[k] for k in ("name", "kind", "slug", "description", "location") if k in data
    }
    if not creating:
        cmd.setdefault("description", "")
        cmd.setdefault("location", "")
    for name in NUMBERS:
        if name in data:
            cmd[name] = _number(data[name])
        elif name in NULLABLE and not creating:
            cmd[name] = None
    for name in FLAGS:
        cmd[name] = name in data
    cmd["features"] = [f.strip() for f in SEPARATORS.split(data.get("features", "")) if f.strip()]
    cmd["managers"] = [m for m in re.split(r"[\s,;]+", data.get("managers", "")) if m]
    if "always_open" in data:
        cmd["opening_hours"] = None
    else:
        hours = {}
        for day in WEEKDAYS:
            windows = parse_windows(data.get(f"hours_{day}", ""))
            if windows is None:
                errors[f"hours_{day}"] = ["err_hours_format"]
            elif windows:
                hours[day] = windows
        cmd["opening_hours"] = hours
    try:
        loaded = RESOURCE_IN.load(cmd, partial=() if creating else ("slug",))
    except ValidationError as exc:
        for key, messages in _flat(exc.messages).items():
            errors.setdefault(key.split(".")[0], []).extend(messages)
        return None, errors
    return (None, errors) if errors else (loaded, {})


def resource_form_values(resource: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: getattr(resource, name)
        for name in ("name", "kind", "slug", "description", "location")
    }
    for name in NUMBERS:
        value = getattr(resource, name)
        values[name] = "" if value is None else str(value)
    for name in FLAGS:
        if getattr(resource, name):
            values[name] = "on"
    values["features"] = ", ".join(resource.features or [])
    values["managers"] = "\n".join(resource.manager_emails)
    if resource.opening_hours is None:
        values["always_open"] = "on"
    for day in WEEKDAYS:
        windows = (resource.opening_hours or {}).get(day, [])
        values[f"hours_{day}"] = ", ".join(f"{a}-{b}" for a, b in windows)
    return values


NEW_RESOURCE = {
    "kind": "venue",
    "requires_approval": "on",
    "active": "on",
    "always_open": "on",
    "max_advance_days": "365",
}


class ClosureForm(FormSchema):
    start_date = fields.Date(
        required=True, error_messages=_messages("err_date_required", "err_date")
    )
    start_time = fields.Time(load_default=time(0), error_messages=_messages(invalid="err_time"))
    end_date = fields.Date(required=True, error_messages=_messages("err_date_required", "err_date"))
    end_time = fields.Time(load_default=None, error_messages=_messages(invalid="err_time"))
    reason = fields.String(load_default="")

    @post_load
    def _interval(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        start = wall_time(data["start_date"], data["start_time"])
        if data["end_time"] is None:  # the whole last day
            end = wall_time(data["end_date"] + timedelta(days=1), time(0))
        else:
            end = wall_time(data["end_date"], data["end_time"])
        return {"start": start.isoformat(), "end": end.isoformat(), "reason": data["reason"]}


CLOSURE_FORM = ClosureForm()


def read_closure(data: dict[str, Any]) -> tuple[dict[str, Any] | None, Errors]:
    try:
        shape = CLOSURE_FORM.load(data)
    except ValidationError as exc:
        return None, _flat(exc.messages)
    try:
        return CLOSURE_IN.load(shape), {}
    except ValidationError as exc:
        shown: Errors = {}
        for key, messages in _flat(exc.messages).items():
            shown.setdefault({"start": "start_date", "end": "end_date"}.get(key, key), []).extend(
                messages
            )
        return None, shown


class QueueFilter(FormSchema):
    resource = fields.String(validate=validate.Length(max=80))
    kind = fields.String(validate=validate.OneOf(KINDS))
    from_ = fields.Date(data_key="from", error_messages=_messages(invalid="err_date"))
    to = fields.Date(error_messages=_messages(invalid="err_date"))


def read_queue_filter(args: dict[str, Any]) -> tuple[dict[str, Any], Errors]:
    try:
        return QueueFilter().load({k: v for k, v in args.items() if v}), {}
    except ValidationError as exc:
        return {}, _flat(exc.messages)

"""What booking's schemas are built of: trimmed strict bodies, text without control
characters, counts of items, enums by value, opening hours. Every error a message id."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from marshmallow import ValidationError, pre_load
from marshmallow import validate as ma_validate

from services.booking.domain import WEEKDAYS
from shared.events import Status
from shared.messages import Msg
from shared.schema import StrictSchema, fields, validate

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
STATUSES = tuple(Status)
MAX_RESOURCES = 10
MAX_TEAM_MEMBERS = 100


def printable(value: str) -> None:
    """Text may hold line breaks and tabs, but no other control characters (NUL breaks
    PostgreSQL, and none of them means anything to a reader)."""
    if any((ord(ch) < 32 and ch not in "\t\n\r") or ord(ch) == 0x7F for ch in value):
        raise ValidationError(Msg("remove_control_characters"))


# What ``printable`` allows, for the OpenAPI document (ECMA-262, as JSON Schema reads it).
PRINTABLE_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"


def text(maximum: int, *, required: bool = False, minimum: int = 0, **kw: Any) -> fields.String:
    """A text field of at most ``maximum`` characters (at least ``minimum``), printable."""
    metadata = {"pattern": PRINTABLE_PATTERN, **kw.pop("metadata", {})}
    return fields.String(
        required=required,
        validate=[validate.Length(min=minimum or None, max=maximum), printable],
        metadata=metadata,
        **kw,
    )


class Count(ma_validate.Length):
    """How many items a list holds, in words that speak of items, not characters."""

    def __init__(self, *, few: Msg | None = None, many: Msg, minimum=None, maximum=None) -> None:
        super().__init__(min=minimum, max=maximum)
        self.few, self.many = few, many

    def __call__(self, value: Any) -> Any:
        if self.min is not None and len(value) < self.min:
            raise ValidationError(self.few or self.many)
        if self.max is not None and len(value) > self.max:
            raise ValidationError(self.many)
        return value


def slug_field(**kw: Any) -> fields.String:
    """A short name for addresses: lower-case letters and digits between single hyphens."""
    return fields.String(
        validate=[validate.Length(min=1, max=80), validate.Regexp(SLUG, error=Msg("slug_format"))],
        **kw,
    )


def emails(maximum: int) -> fields.List:
    """A list of at most ``maximum`` email addresses (managers, a team's members)."""
    return fields.List(
        fields.Email(validate=validate.Length(max=254)),
        validate=Count(maximum=maximum, many=Msg("too_many_items", max=maximum)),
    )


def people(addresses: list[str]) -> tuple[str, ...]:
    """Email addresses as kept: lower-case, each once, sorted."""
    return tuple(sorted({a.lower() for a in addresses}))


def enum_field(enum: type, **kw: Any) -> fields.Enum:
    """One of a shared enum's values, loaded as the enum member."""
    return fields.Enum(enum, by_value=True, **kw)


class Stripped(StrictSchema):
    """Request bodies: unknown fields refused, text trimmed."""

    @pre_load
    def _strip(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        return data


def end_after_start(data: dict[str, Any]) -> None:
    if "start" in data and "end" in data and data["end"] <= data["start"]:
        raise ValidationError(Msg("end_before_start"), "end")


_HHMM_TEXT = {"type": "string", "pattern": HHMM.pattern}
# The shape for the OpenAPI document; that windows close after they open and do not
# overlap is a rule between items, checked on loading (422) but not in the schema.
OPENING_HOURS_SCHEMA = {
    "type": "object",
    "nullable": True,
    "properties": {
        day: {
            "type": "array",
            "maxItems": 6,
            "items": {"type": "array", "items": _HHMM_TEXT, "minItems": 2, "maxItems": 2},
        }
        for day in WEEKDAYS
    },
    "additionalProperties": False,
}


class OpeningHoursField(fields.Field):
    """``{"mon": [["08:00", "20:00"]], ...}``: per weekday, windows that do not overlap.
    Loads as windows of :class:`datetime.time`; dumps as it is kept (``"HH:MM"`` text)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(metadata={**OPENING_HOURS_SCHEMA, **kw.pop("metadata", {})}, **kw)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any):
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ValidationError(Msg("opening_hours_shape"))
        return {day: _windows(day, windows) for day, windows in value.items()}

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any):
        if value is None:
            return None
        return {day: [list(w) for w in windows] for day, windows in value.items()}


def _windows(day: str, windows: Any) -> tuple[tuple[time, time], ...]:
    if day not in WEEKDAYS:
        raise ValidationError(Msg("unknown_weekday", day=day, days=", ".join(WEEKDAYS)))
    if not isinstance(windows, list) or len(windows) > 6:
        raise ValidationError(Msg("opening_hours_windows", day=day))
    parsed = []
    for window in windows:
        if not (
            isinstance(window, list | tuple)
            and len(window) == 2
            and all(isinstance(t, str) and HHMM.match(t) for t in window)
        ):
            raise ValidationError(Msg("opening_hours_window_shape", day=day))
        opens, closes = window
        if closes != "00:00" and closes <= opens:
            raise ValidationError(Msg("closes_before_opens", day=day, opens=opens, closes=closes))
        parsed.append((opens, closes))
    parsed.sort()
    for (_, a_end), (b_start, _) in zip(parsed, parsed[1:], strict=False):
        if a_end == "00:00" or b_start < a_end:
            raise ValidationError(Msg("windows_overlap", day=day))
    return tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in parsed)

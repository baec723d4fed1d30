"""The resource form (admins): the API's resource schema over the form's fields (opening
hours typed per weekday, checkboxes, features and managers pasted as text; name, place and
features in Swedish (``name``, ``location``, ``features``) and English (``*_en``), loading into
the same :class:`~services.booking.commands.CreateResource` or ``ChangeResource``."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import EXCLUDE, pre_load

from services.booking.commands import ChangeResource, CreateResource
from services.booking.domain import WEEKDAYS
from services.booking.entrypoints.pages.forms.errors import Errors, flat, on_form
from services.booking.entrypoints.pages.words import WEEKDAY
from services.booking.readmodels import ResourceView
from services.booking.schemas import ResourceInSchema
from shared.messages import Msg
from shared.schema import ValidationError

SEPARATORS = re.compile(r"[\n\r,;]+")
WINDOW = re.compile(r"^(\d{1,2}:\d{2})\s*[-–—]\s*(\d{1,2}:\d{2})$")
NUMBERS = (
    "capacity",
    "buffer_minutes",
    "min_notice_hours",
    "max_advance_days",
    "max_duration_minutes",
)
NULLABLE = ("capacity", "max_duration_minutes")
TEXTS = ("description", "location", "location_en")
FLAGS = ("requires_approval", "active", "self_approval")
HOURS = tuple(f"hours_{day}" for day in WEEKDAYS)
NEW_RESOURCE = {
    "kind": "venue",
    "requires_approval": "on",
    "active": "on",
    "always_open": "on",
    "max_advance_days": "365",
}


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


class ResourceForm(ResourceInSchema):
    """The API's resource with a text field of hours per weekday instead of the JSON
    ``opening_hours`` (built from those that read as hours: :func:`read_resource` names the
    others), ticked boxes as flags and lists typed as text."""

    class Meta:
        unknown = EXCLUDE  # the post carries the page's token

    @pre_load
    def _from_form(self, data: dict[str, Any], *, partial: Any = None, **_: Any):
        data, changing = dict(data), bool(partial)
        for name in FLAGS:
            data[name] = name in data
        for name in TEXTS if changing else ():
            data.setdefault(name, "")  # a cleared text is cleared
        for name in NULLABLE if changing else ():
            data.setdefault(name, None)
        for name in ("features", "features_en"):  # the Swedish ones, the English ones
            typed = SEPARATORS.split(data.get(name, ""))
            data[name] = [f.strip() for f in typed if f.strip()]
        if not (data.get("name_en") or "").strip():
            data.pop("name_en", None)  # blank: the Swedish name serves both
        data["managers"] = [m for m in re.split(r"[\s,;]+", data.get("managers", "")) if m]
        data["team"] = data.get("team") or None  # the blank choice: no team
        hours = {day: parse_windows(data.pop(f"hours_{day}", "")) for day in WEEKDAYS}
        if data.pop("always_open", None):
            data["opening_hours"] = None
        else:
            data["opening_hours"] = {day: w for day, w in hours.items() if w}
        return data


RESOURCE_FORM = ResourceForm()


def read_resource(
    data: dict[str, Any], *, creating: bool
) -> tuple[CreateResource | ChangeResource | None, Errors]:
    """A resource form as the command the API's schema gives (a change names every field
    but the short name, which stays unless typed), or every error by form field."""
    errors: Errors = {
        name: [Msg("hours_format")] for name in HOURS if parse_windows(data.get(name, "")) is None
    }
    try:
        loaded = RESOURCE_FORM.load(data, partial=() if creating else ("slug",))
    except ValidationError as exc:
        return None, {
            **errors,
            **{k: _days_named(v) for k, v in on_form(flat(exc.messages)).items()},
        }
    return (None, errors) if errors else (loaded, {})


def _days_named(messages: list[Msg]) -> list[Msg]:
    """The opening hours' messages name a weekday by its key (``mon``, as the API's JSON
    does); the form names it in the reader's words."""
    return [
        Msg(m.code, **{**m.params, "day": Msg(WEEKDAY[m.params["day"]])})
        if isinstance(m, Msg) and m.params.get("day") in WEEKDAY
        else m
        for m in messages
    ]


def resource_form_values(resource: ResourceView) -> dict[str, Any]:
    """The resource form filled from a resource, to change it."""
    values: dict[str, Any] = {
        "name": resource.name_sv or resource.name,
        "name_en": resource.name_en,
        "kind": resource.kind.value,
        "slug": resource.slug,
        "description": resource.description,
        "location": resource.location_sv or resource.location,
        "location_en": resource.location_en,
    }
    for name in NUMBERS:
        value = getattr(resource, name)
        values[name] = "" if value is None else str(value)
    for name in FLAGS:
        if getattr(resource, name):
            values[name] = "on"
    values["features"] = ", ".join(resource.features_sv or resource.features)
    values["features_en"] = ", ".join(resource.features_en)
    values["managers"] = "\n".join(resource.managers)
    values["team"] = resource.team.slug if resource.team else ""
    if resource.opening_hours is None:
        values["always_open"] = "on"
    for day in WEEKDAYS:
        windows = (resource.opening_hours or {}).get(day, ())
        values[f"hours_{day}"] = ", ".join(f"{a}-{b}" for a, b in windows)
    return values

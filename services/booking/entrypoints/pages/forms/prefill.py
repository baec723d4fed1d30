"""The request form filled in from elsewhere: a link's query (the grid's, a suggestion's)
and a suggestion taken on the form (a free time or other resources instead)."""

from __future__ import annotations

from datetime import datetime

from werkzeug.datastructures import MultiDict

from services.booking.schemas import MAX_RESOURCES
from shared.timezones import current_zone, in_years

PREFILL = ("date", "start_time", "end_time", "end_date")
DEFAULTS = {"visibility": "internal", "repeat": "none", "repeat_end": "count"}


def prefilled(args: MultiDict, language: str) -> MultiDict:
    """A new request's form filled from a link (the grid's, a suggestion's): ``start`` and
    ``end`` (ISO 8601; without an offset, in the configured zone) or ``date``,
    ``start_time``, ``end_time``; resources as ``resource_ids`` or ``resource`` (repeated or
    separated by commas, ids or slugs). Anything unreadable is left out."""
    values = MultiDict({**DEFAULTS, "language": language})
    for key in PREFILL:
        if args.get(key):
            values[key] = args[key][:80]
    for key, value in _time_fields(_moment(args.get("start")), _moment(args.get("end"))).items():
        values[key] = value  # replaces (a MultiDict's update would add)
    keys = [
        key.strip()[:80]
        for name in ("resource_ids", "resource")
        for value in args.getlist(name)
        for key in value.split(",")
        if key.strip()
    ]
    if keys:
        values.setlist("resource_ids", list(dict.fromkeys(keys))[:MAX_RESOURCES])
    return values


def _moment(value: str | None) -> datetime | None:
    """An ISO 8601 moment in the configured zone, or None."""
    if not value or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if not in_years(moment):
        return None
    zone = current_zone.get()
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


def _time_fields(start: datetime | None, end: datetime | None) -> dict[str, str]:
    """The form's time fields for a start and an end (an end date only on another day)."""
    fields: dict[str, str] = {}
    if start is not None:
        fields |= {"date": start.date().isoformat(), "start_time": f"{start:%H:%M}"}
    if end is not None:
        fields["end_time"] = f"{end:%H:%M}"
        if start is not None and end.date() != start.date():
            fields["end_date"] = end.date().isoformat()
    return fields


def suggestion_taken(form: MultiDict) -> MultiDict:
    """The form as it was, with a suggested time (``start/end``) or resources put in."""
    values = MultiDict(form)
    for key in ("use_time", "use_resources", "step", "csrf_token"):
        values.pop(key, None)
    start, _, end = (form.get("use_time") or "").partition("/")
    fields = _time_fields(_moment(start), _moment(end))
    if len(fields) >= 3:
        values.pop("end_date", None)
        for key, value in fields.items():
            values[key] = value
    chosen = [k.strip()[:80] for k in (form.get("use_resources") or "").split(",") if k.strip()]
    if chosen:
        values.setlist("resource_ids", chosen[:MAX_RESOURCES])
    return values

"""Dates, times and messages as people read them: in the configured zone and the request's
language. Messages from the API's schemas and the domain (English) get the request's
language here, so every error a form shows reads the same as the page around it."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from flask import Blueprint

from services.booking.entrypoints.pages.common import here, t
from services.booking.phrases import MESSAGES
from shared.i18n import current_language
from shared.timezones import current_zone

QUOTED = re.compile(r"^“(?P<entry>[^”]*)”: (?P<message>.+)$")
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")
_PATTERNS = [(re.compile(pattern, re.IGNORECASE), sv, en) for pattern, sv, en in MESSAGES]


def local(value: datetime) -> datetime:
    return value.astimezone(current_zone.get())


def fdate(value: date | datetime | None, *, year: bool = True) -> str:
    """``Mon 4 Mar 2030`` / ``mån 4 mars 2030``."""
    if value is None:
        return ""
    day = local(value).date() if isinstance(value, datetime) else value
    text = f"{t('wd_' + str(day.weekday()))} {day.day} {t('mon_' + str(day.month))}"
    return f"{text} {day.year}" if year else text


def ftime(value: datetime | None) -> str:
    return f"{local(value):%H:%M}" if value else ""


def fdatetime(value: datetime | None) -> str:
    return f"{fdate(value)}, {ftime(value)}" if value else ""


def when(start: datetime, end: datetime) -> str:
    """One span: ``Mon 4 Mar 2030, 10:00–12:00``; across days both dates are given."""
    if local(start).date() == local(end).date():
        return f"{fdate(start)}, {ftime(start)}–{ftime(end)}"
    return f"{fdatetime(start)} – {fdatetime(end)}"


def isodt(value: datetime | None) -> str:
    return local(value).isoformat() if value else ""


def localise(message: str) -> str:
    """A message in the request's language: a phrase key, a known English message of the
    domain or a schema, or (unknown) the message itself."""
    translated = t(message)
    if translated != message:
        return translated
    quoted = QUOTED.match(message)
    if quoted:  # “what was typed”: message
        return f"“{quoted['entry']}”: {localise(quoted['message'])}"
    for pattern, sv, en in _PATTERNS:
        match = pattern.match(message.strip())
        if match:
            template = sv if current_language() == "sv" else en
            if template:
                return template.format(**match.groupdict())
            break
    return message[:1].upper() + message[1:]


def localise_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    return {key: [localise(m) for m in messages] for key, messages in errors.items()}


def change_field(name: str) -> str:
    """A changed field's name in a booking's history (``occurrences[2].status`` too)."""
    key = "change_field_" + re.sub(r"\[\d+\]", "", name).replace(".", "_")
    label = t(key)
    return name if label == key else label


def change_value(value: Any) -> str:
    """A value in a booking's history: times in the zone, lists joined, states named."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(v.get("email", "") if isinstance(v, dict) else str(v) for v in value)
    if isinstance(value, str):
        if ISO_TIME.match(value):
            try:
                return fdatetime(datetime.fromisoformat(value))
            except ValueError:
                return value
        for prefix in ("status_", "visibility_", "language_"):
            label = t(prefix + value)
            if label != prefix + value:
                return label
    return str(value)


def install_filters(bp: Blueprint) -> None:
    for name, function in (
        ("fdate", fdate),
        ("ftime", ftime),
        ("fdatetime", fdatetime),
        ("isodt", isodt),
        ("localise", localise),
        ("change_field", change_field),
        ("change_value", change_value),
    ):
        bp.add_app_template_filter(function, name)
    bp.add_app_template_global(when, "when")
    bp.add_app_template_global(here, "here")

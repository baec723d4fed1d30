"""Dates, times and messages as people read them: in the configured zone and the request's
language. Messages from the API's schemas and the domain (English) get the request's
language here, so every error a form shows reads the same as the page around it."""

from __future__ import annotations

import re
from datetime import date, datetime

from flask import Blueprint

from services.booking.phrases import MESSAGES
from services.booking.web.common import t
from shared.i18n import current_language
from shared.timezones import current_zone

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


def install_filters(bp: Blueprint) -> None:
    for name, function in (("fdate", fdate), ("ftime", ftime), ("fdatetime", fdatetime),
                           ("isodt", isodt), ("localise", localise)):
        bp.add_app_template_filter(function, name)
    bp.add_app_template_global(when, "when")

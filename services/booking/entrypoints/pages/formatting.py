"""Dates and times on booking's pages: thin wrappers over :class:`shared.formatting.DateWords`
(the one formatter of pages and mail) in the request's language and the configured zone,
and the filters templates use."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel.numbers import format_decimal
from flask import Blueprint

from services.booking.entrypoints.pages.common import here
from services.booking.entrypoints.pages.words import (
    change_field,
    change_value,
    line_deciders,
    word,
)
from shared.events import Change
from shared.formatting import DateWords
from shared.i18n import current_language
from shared.timezones import current_zone


def date_words() -> DateWords:
    """How this request's reader sees times: their language, the configured zone."""
    return DateWords(current_language(), current_zone.get())


def local(value: datetime) -> datetime:
    return value.astimezone(current_zone.get())


def fdate(value: date | datetime | None, *, year: bool = True) -> str:
    """``Mon 4 Mar 2030`` / ``mån 4 mars 2030``."""
    return date_words().date(value, year=year)


def ftime(value: datetime | None) -> str:
    return date_words().time(value)


def fdatetime(value: datetime | None) -> str:
    return date_words().datetime(value)


def when(start: datetime, end: datetime) -> str:
    """One span: ``Mon 4 Mar 2030, 10:00–12:00``; across days both dates are given."""
    return date_words().span(start, end)


def isodt(value: datetime | None) -> str:
    return local(value).isoformat() if value else ""


def history_value(change: Change, value: Any) -> str:
    return change_value(change, value, fdatetime)


def hours(value: float | None) -> str:
    """Hours as the reader writes numbers (``2,5`` in Swedish)."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.##", locale=current_language())


def install_filters(bp: Blueprint) -> None:
    for name, function in (
        ("fdate", fdate),
        ("ftime", ftime),
        ("fdatetime", fdatetime),
        ("isodt", isodt),
        ("word", word),
        ("change_field", change_field),
        ("line_deciders", line_deciders),
        ("hours", hours),
    ):
        bp.add_app_template_filter(function, name)
    bp.add_app_template_global(when, "when")
    bp.add_app_template_global(here, "here")
    bp.add_app_template_global(history_value, "history_value")

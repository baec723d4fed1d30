"""Dates and times as people read them, the one formatter of pages and mail: in a time
zone and a language, with the catalogue's words (``wd_0`` "mån"/"Mon", ``weekday_mon``
"måndag"/"Monday", ``mon_1`` "jan"/"Jan", ``month_1`` "januari"/"January")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.messages import N_, text

WEEKDAYS_SHORT = (N_("wd_0"), N_("wd_1"), N_("wd_2"), N_("wd_3"), N_("wd_4"), N_("wd_5"),
                  N_("wd_6"))  # fmt: skip
WEEKDAYS_LONG = (N_("weekday_mon"), N_("weekday_tue"), N_("weekday_wed"), N_("weekday_thu"),
                 N_("weekday_fri"), N_("weekday_sat"), N_("weekday_sun"))  # fmt: skip
MONTHS_SHORT = (N_("mon_1"), N_("mon_2"), N_("mon_3"), N_("mon_4"), N_("mon_5"), N_("mon_6"),
                N_("mon_7"), N_("mon_8"), N_("mon_9"), N_("mon_10"), N_("mon_11"),
                N_("mon_12"))  # fmt: skip
MONTHS_LONG = (N_("month_1"), N_("month_2"), N_("month_3"), N_("month_4"), N_("month_5"),
               N_("month_6"), N_("month_7"), N_("month_8"), N_("month_9"), N_("month_10"),
               N_("month_11"), N_("month_12"))  # fmt: skip


@dataclass(frozen=True)
class DateWords:
    """How one reader sees times: their language and the zone times are shown in.

    ``long`` spells weekday and month out (mail); the short form suits pages and lists."""

    language: str
    zone: ZoneInfo

    def local(self, value: datetime) -> datetime:
        return value.astimezone(self.zone)

    def date(self, value: date | datetime | None, *, year: bool = True, long: bool = False) -> str:
        """``mån 4 mars 2030`` / ``Mon 4 Mar 2030``; long: ``måndag 4 mars 2030``."""
        if value is None:
            return ""
        day = self.local(value).date() if isinstance(value, datetime) else value
        weekdays, months = (WEEKDAYS_LONG, MONTHS_LONG) if long else (WEEKDAYS_SHORT, MONTHS_SHORT)
        words = f"{self._(weekdays[day.weekday()])} {day.day} {self._(months[day.month - 1])}"
        return f"{words} {day.year}" if year else words

    def time(self, value: datetime | None) -> str:
        return f"{self.local(value):%H:%M}" if value else ""

    def datetime(self, value: datetime | None, *, long: bool = False, year: bool = True) -> str:
        """A moment: ``mån 4 mars 2030, 10:00`` (long: ``måndag 4 mars 2030 kl. 10:00``;
        without the year: ``måndag 4 mars kl. 10:00``)."""
        if value is None:
            return ""
        code = N_("format_moment_long") if long else N_("format_moment")
        return self._(code, date=self.date(value, year=year, long=long), time=self.time(value))

    def zoned(self, value: datetime | None) -> str:
        """A moment with the zone it is shown in: ``mån 4 mars 2030, 10:00 CET`` (where
        people could take it for another zone's: a history, a mail's date)."""
        if value is None:
            return ""
        return f"{self.datetime(value)} {self.local(value).tzname()}"

    def span(self, start: datetime, end: datetime, *, long: bool = False) -> str:
        """``mån 4 mars 2030, 10:00–12:00``; across days both dates are given."""
        if self.local(start).date() == self.local(end).date():
            code = N_("format_span_long") if long else N_("format_span")
            return self._(
                code, date=self.date(start, long=long), start=self.time(start), end=self.time(end)
            )
        return f"{self.datetime(start, long=long)} – {self.datetime(end, long=long)}"

    def _(self, code: str, **params: object) -> str:
        return text(code, self.language, **params)

"""A repeat rule (RRULE) as a sentence people read: "every Wednesday, 4 times, until 30 Dec"
/ "varje onsdag, 4 gånger, till 30 dec". The one wording of a series on pages, in the queue
and in mail; a rule it cannot word (parts beyond frequency, interval, weekdays, count and
end) is shown as it is."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from shared.formatting import MONTHS_SHORT, WEEKDAYS_LONG
from shared.messages import N_, text

BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WORDED = {"FREQ", "INTERVAL", "BYDAY", "COUNT", "UNTIL", "WKST"}
EVERY = {  # frequency → (every one, every n-th)
    "DAILY": (N_("repeat_every_day"), N_("repeat_every_nth_day")),
    "WEEKLY": (N_("repeat_every_week"), N_("repeat_every_nth_week")),
    "MONTHLY": (N_("repeat_every_month"), N_("repeat_every_nth_month")),
    "YEARLY": (N_("repeat_every_year"), N_("repeat_every_nth_year")),
}
AND = N_("words_and")
MOST_DATES = 1000  # a rule is walked no further to count its dates


def rule_parts(rrule: str) -> dict[str, str] | None:
    """The rule's parts (upper-case), or None for one this module does not word."""
    try:
        parts = dict(p.split("=", 1) for p in rrule.upper().strip().split(";") if p)
    except ValueError:
        return None
    if not set(parts) <= WORDED or parts.get("FREQ") not in EVERY:
        return None
    days = parts.get("BYDAY", "")
    if days and (parts["FREQ"] != "WEEKLY" or not set(days.split(",")) <= set(BYDAY)):
        return None
    if not parts.get("INTERVAL", "1").isdigit() or not parts.get("COUNT", "1").isdigit():
        return None
    return parts


def describe_rrule(
    rrule: str | None, language: str, zone: ZoneInfo, first: datetime | None = None
) -> str:
    """The rule as a sentence in ``language``; with the series' ``first`` date its number of
    dates and last date too ("every Wednesday, 4 times, until 30 Dec"). Empty without a
    rule; the rule itself when it says more than this wording can."""
    if not rrule:
        return ""
    parts = rule_parts(rrule)
    if parts is None:
        return rrule
    words = [_every(parts, language, first.astimezone(zone) if first else None)]
    count, last = _extent(rrule, parts, zone, first)
    if count is not None:
        code = N_("repeat_once") if count == 1 else N_("repeat_n_times")
        words.append(text(code, language, n=count))
    if last is not None:
        shown = _short_date(last, language, year=first is None or last.year != _year(first, zone))
        words.append(text(N_("repeat_until_date"), language, date=shown))
    return ", ".join(words)


def _year(moment: datetime, zone: ZoneInfo) -> int:
    return moment.astimezone(zone).year


def _every(parts: dict[str, str], language: str, first: datetime | None) -> str:
    interval = int(parts.get("INTERVAL", "1") or "1")
    freq = parts["FREQ"]
    if freq == "WEEKLY":
        codes = parts.get("BYDAY", "").split(",") if parts.get("BYDAY") else []
        if not codes and first is not None:
            codes = [BYDAY[first.weekday()]]
        if not codes:
            return text(N_("repeat_every_week"), language)
        named = [text(WEEKDAYS_LONG[BYDAY.index(c)], language) for c in _ordered(codes)]
        days = join_words(named, language)
        if interval == 1:
            return text(N_("repeat_every_days"), language, days=days)
        if interval == 2:
            return text(N_("repeat_every_other_week"), language, days=days)
        return text(N_("repeat_every_nth_week"), language, days=days, n=interval)
    one, nth = EVERY[freq]
    return text(one, language) if interval == 1 else text(nth, language, n=interval)


def _ordered(codes: list[str]) -> list[str]:
    return sorted(dict.fromkeys(codes), key=BYDAY.index)


def join_words(words: list[str], language: str) -> str:
    """``a``, ``a and b``, ``a, b and c`` (``och`` in Swedish)."""
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} {text(AND, language)} {words[-1]}"


def _extent(
    rrule: str, parts: dict[str, str], zone: ZoneInfo, first: datetime | None
) -> tuple[int | None, date | None]:
    """How many dates and the last one's day: walked from ``first`` when it is known (at
    most :data:`MOST_DATES`), else what the rule says by itself."""
    count = int(parts["COUNT"]) if "COUNT" in parts else None
    until = _until(parts.get("UNTIL"), zone)
    if first is None:
        return count, until
    local = first.astimezone(zone).replace(tzinfo=None)
    rule = ";".join(f"{k}={v}" for k, v in parts.items() if k != "UNTIL")
    if until is not None:
        rule += f";UNTIL={until:%Y%m%d}T235959"
    try:
        dates = list(islice(rrulestr(rule, dtstart=local), MOST_DATES + 1))
    except (ValueError, TypeError, OverflowError):
        return count, until
    if not dates or len(dates) > MOST_DATES:
        return count, until
    return len(dates), dates[-1].date()


def _until(value: str | None, zone: ZoneInfo) -> date | None:
    """The local day of an UNTIL (UTC with ``Z``, else wall-clock time or a date)."""
    if not value:
        return None
    try:
        if value.endswith("Z"):
            moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            return moment.astimezone(zone).date()
        return datetime.strptime(value[:8], "%Y%m%d").date()
    except ValueError:
        return None


def _short_date(day: date, language: str, *, year: bool) -> str:
    """``30 Dec`` / ``30 dec`` (with the year when it is not the first date's)."""
    words = f"{day.day} {text(MONTHS_SHORT[day.month - 1], language)}"
    return f"{words} {day.year}" if year else words


def phrases(language: str) -> dict[str, object]:
    """The words a page's script builds the same sentences from while a rule is entered
    (weekly rules only, as the request form makes them)."""
    return {
        "every": text(N_("repeat_every_days"), language),
        "once": text(N_("repeat_once"), language),
        "times": text(N_("repeat_n_times"), language),
        "until": text(N_("repeat_until_date"), language),
        "and": text(AND, language),
        "days": [text(code, language) for code in WEEKDAYS_LONG],
        "months": [text(code, language) for code in MONTHS_SHORT],
    }

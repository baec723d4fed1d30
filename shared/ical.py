"""iCalendar (RFC 5545) output built with the ``ics`` package, with its known faults worked
around, shared by calendar's feeds and notify's invitations so both say the same UID,
SEQUENCE and times.

Faults of ics 0.7.3 handled here: every time written as UTC with TZID/VTIMEZONE dropped (we
write DTSTART/DTEND/EXDATE with TZID ourselves and a VTIMEZONE per TZID); RRULE, EXDATE and
SEQUENCE only through ``extra``; DTSTAMP only from ``created``; no line folding and no CRLF
after END:VCALENDAR (we fold at 75 octets on UTF-8 boundaries and end every line with CRLF);
CN backslash-escaped instead of quoted (we write ORGANIZER/ATTENDEE ourselves); no METHOD;
``str(calendar)`` deprecated and a random UID when none is set (we always set one)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.rrule import YEARLY, rrule
from ics import Calendar
from ics.grammar.parse import ContentLine
from ics.utils import uid_gen

PRODID = "-//Evenemang//Evenemang booking//EN"
CRLF = "\r\n"


@dataclass(frozen=True)
class Person:
    email: str
    name: str = ""


@dataclass(frozen=True)
class Attendee(Person):
    partstat: str = "NEEDS-ACTION"
    rsvp: bool = True
    role: str = "REQ-PARTICIPANT"


@dataclass(frozen=True)
class EventSpec:
    """One VEVENT, in plain values; times are aware."""

    uid: str
    sequence: int
    summary: str
    start: datetime
    end: datetime
    dtstamp: datetime
    status: str
    zone: str | None = None  # None: times in UTC
    description: str = ""
    location: str = ""
    url: str | None = None
    categories: Sequence[str] = ()
    rrule: str | None = None
    exdates: Sequence[datetime] = ()
    recurrence_id: datetime | None = None
    last_modified: datetime | None = None
    organizer: Person | None = None
    attendees: Sequence[Attendee] = ()
    classification: str | None = None
    transparent: bool = False
    extra: Sequence[tuple[str, str]] = field(default_factory=tuple)


def clean_text(value: str | None) -> str:
    """Text for a TEXT value: line breaks normalised (``ics`` escapes ``\\n``, ``,``, ``;``
    and ``\\``); control characters dropped so nothing can start a new property."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    if text.isprintable():  # no control character, no line break: as it is
        return text
    return "".join(ch for ch in text if ch == "\n" or ch == "\t" or ord(ch) >= 32)


def _param(value: str) -> str:
    """A quoted parameter value (RFC 5545 §3.2): no DQUOTE, no control characters."""
    if value.isprintable() and '"' not in value:  # the usual name: nothing to drop
        return f'"{value}"'
    text = "".join(ch for ch in value if ord(ch) >= 32 and ch not in '"\x7f')
    return f'"{text}"'


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(value: datetime, zone: str) -> str:
    return value.astimezone(ZoneInfo(zone)).strftime("%Y%m%dT%H%M%S")


def _time_line(name: str, value: datetime, zone: str | None) -> str:
    if zone:
        return f"{name};TZID={zone}:{_local(value, zone)}"
    return f"{name}:{_utc(value)}"


def _person_line(name: str, person: Person, extra: dict[str, str] | None = None) -> str:
    params = f";CN={_param(person.name)}" if person.name else ""
    for key, value in (extra or {}).items():
        params += f";{key}={value}"
    email = person.email
    if not email.isprintable() or " " in email:
        email = "".join(ch for ch in email if ord(ch) > 32)
    return f"{name}{params}:mailto:{email}"


STATUSES = ("TENTATIVE", "CONFIRMED", "CANCELLED")


def render_event(spec: EventSpec) -> str:
    """One VEVENT as folded CRLF text (byte-stable for the same spec). Written directly,
    line for line as the ``ics`` package serialises its ``Event`` (our own lines first,
    then its properties in its order), at a fraction of its cost: calendar renders two or
    four per booking event, notify one per invitation."""
    status = spec.status.upper() if spec.status else spec.status
    if status not in (None, *STATUSES):
        raise ValueError(f"status must be one of {STATUSES}, not {spec.status!r}")
    lines = [
        "BEGIN:VEVENT",
        _time_line("DTSTART", spec.start, spec.zone),
        _time_line("DTEND", spec.end, spec.zone),
        f"SEQUENCE:{spec.sequence}",
    ]
    if spec.recurrence_id is not None:
        lines.append(_time_line("RECURRENCE-ID", spec.recurrence_id, spec.zone))
    if spec.rrule:
        lines.append(f"RRULE:{spec.rrule}")
    lines.extend(_time_line("EXDATE", exdate, spec.zone) for exdate in spec.exdates)
    if spec.organizer:
        lines.append(_person_line("ORGANIZER", spec.organizer))
    for attendee in spec.attendees:
        rsvp = "TRUE" if attendee.rsvp else "FALSE"
        extra = {"ROLE": attendee.role, "PARTSTAT": attendee.partstat, "RSVP": rsvp}
        lines.append(_person_line("ATTENDEE", attendee, extra))
    lines.extend(f"{name.upper()}:{value}" for name, value in spec.extra)
    if spec.categories:  # each once, as ics keeps them, and sorted: the same bytes anywhere
        categories = sorted({clean_text(c).replace("\n", " ") for c in spec.categories})
        lines.append("CATEGORIES:" + ",".join(_escape_value(c) for c in categories))
    if spec.classification:
        lines.append(f"CLASS:{spec.classification}")
    if spec.dtstamp:
        lines.append(f"DTSTAMP:{_utc(spec.dtstamp)}")
    if description := spec.description and clean_text(spec.description):
        lines.append("DESCRIPTION:" + _escape_value(description))
    if spec.last_modified:
        lines.append(f"LAST-MODIFIED:{_utc(spec.last_modified)}")
    if location := spec.location and clean_text(spec.location):
        lines.append("LOCATION:" + _escape_value(location))
    if status:
        lines.append(f"STATUS:{status}")
    lines.append("SUMMARY:" + _escape_value(clean_text(spec.summary) or " "))
    if spec.transparent:
        lines.append("TRANSP:TRANSPARENT")
    lines.append(f"UID:{spec.uid or uid_gen()}")
    if url := spec.url and clean_text(spec.url).replace("\n", ""):
        lines.append("URL:" + _escape_value(url))
    lines.append("END:VEVENT")
    return fold_lines(CRLF.join(lines))


def _escape_value(text: str) -> str:
    """A TEXT value escaped as ``ics`` escapes it."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


def render_calendar(
    events: Iterable[str],
    *,
    name: str,
    description: str = "",
    method: str | None = None,
    zones: Iterable[str] = (),
    refresh_minutes: int | None = None,
) -> str:
    """A VCALENDAR around already rendered VEVENTs (each kept byte for byte)."""
    shell = Calendar(creator=PRODID)
    shell.extra.append(ContentLine(name="CALSCALE", value="GREGORIAN"))
    if method:
        shell.extra.append(ContentLine(name="METHOD", value=method))
    shell.extra.append(ContentLine(name="X-WR-CALNAME", value=_escape(name)))
    if description:
        shell.extra.append(ContentLine(name="X-WR-CALDESC", value=_escape(description)))
    if refresh_minutes:
        duration = f"PT{refresh_minutes}M"
        shell.extra.append(
            ContentLine(name="REFRESH-INTERVAL", params={"VALUE": ["DURATION"]}, value=duration)
        )
        shell.extra.append(ContentLine(name="X-PUBLISHED-TTL", value=duration))
    head = fold_lines(shell.serialize())
    assert head.endswith("END:VCALENDAR" + CRLF)
    body = "".join(vtimezone(z) for z in sorted(set(zones))) + "".join(events)
    return head[: -len("END:VCALENDAR" + CRLF)] + body + "END:VCALENDAR" + CRLF


def _escape(text: str) -> str:
    return _escape_value(clean_text(text))


def fold_lines(text: str) -> str:
    """CRLF line ends, and lines folded at 75 octets without splitting a UTF-8 character."""
    out = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line:
            out.append(fold(line))
    return CRLF.join(out) + CRLF


def fold(line: str) -> str:
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    parts, current, size, limit = [], [], 0, 75
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, 74  # continuation lines start with a space
        current.append(ch)
        size += width
    parts.append("".join(current))
    return (CRLF + " ").join(parts)


@lru_cache(maxsize=16)
def vtimezone(zone_name: str) -> str:
    """A VTIMEZONE for ``zone_name`` from the zone's current yearly rules (as zoneinfo has
    them), with RRULEs for its daylight-saving changes."""
    zone = ZoneInfo(zone_name)
    year = 2026
    transitions = _transitions(zone, year)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{zone_name}"]
    if not transitions:
        offset = datetime(year, 1, 1, tzinfo=zone).utcoffset() or timedelta(0)
        lines += _tz_part(
            "STANDARD",
            datetime(1970, 1, 1),
            offset,
            offset,
            _abbrev(zone, datetime(year, 1, 1)),
            None,
        )
    for when_utc, before, after in transitions:
        local = (when_utc + before).replace(tzinfo=None)
        kind = "DAYLIGHT" if after > before else "STANDARD"
        nth = (local.day - 1) // 7 + 1
        if local.day + 7 > _month_days(local.year, local.month):
            nth = -1
        day = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][local.weekday()]
        rule = f"FREQ=YEARLY;BYMONTH={local.month};BYDAY={nth}{day}"
        first = rrule(
            YEARLY,
            dtstart=datetime(1970, 1, 1, local.hour, local.minute),
            bymonth=local.month,
            byweekday=_weekday(local.weekday(), nth),
        )[0]
        lines += _tz_part(
            kind, first, before, after, _abbrev(zone, when_utc + timedelta(hours=1)), rule
        )
    lines.append("END:VTIMEZONE")
    return CRLF.join(fold(line) for line in lines) + CRLF


def _weekday(index: int, nth: int):
    from dateutil.rrule import weekdays

    return weekdays[index](nth)


def _tz_part(
    kind: str, start: datetime, before: timedelta, after: timedelta, name: str, rule: str | None
) -> list[str]:
    lines = [
        f"BEGIN:{kind}",
        f"DTSTART:{start:%Y%m%dT%H%M%S}",
        f"TZOFFSETFROM:{_offset(before)}",
        f"TZOFFSETTO:{_offset(after)}",
    ]
    if name:
        lines.append(f"TZNAME:{name}")
    if rule:
        lines.append(f"RRULE:{rule}")
    return [*lines, f"END:{kind}"]


def _offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _abbrev(zone: ZoneInfo, when: datetime) -> str:
    name = (when.replace(tzinfo=UTC) if when.tzinfo is None else when).astimezone(zone).tzname()
    return name if name and name.isalpha() else ""


def _month_days(year: int, month: int) -> int:
    following = datetime(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _transitions(zone: ZoneInfo, year: int) -> list[tuple[datetime, timedelta, timedelta]]:
    """Offset changes during ``year``: (UTC instant, offset before, offset after)."""
    found = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    previous = moment.astimezone(zone).utcoffset()
    while moment.year == year:
        moment += timedelta(hours=1)
        current = moment.astimezone(zone).utcoffset()
        if current != previous:
            found.append((moment.replace(tzinfo=None), previous, current))
            previous = current
    return found

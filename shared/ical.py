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
from ics import Calendar, Event
from ics.grammar.parse import ContentLine

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
    return "".join(ch for ch in text if ch == "\n" or ch == "\t" or ord(ch) >= 32)


def _param(value: str) -> str:
    """A quoted parameter value (RFC 5545 §3.2): no DQUOTE, no control characters."""
    text = "".join(ch for ch in value if ord(ch) >= 32 and ch not in '"\x7f')
    return f'"{text}"'


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(value: datetime, zone: str) -> str:
    return value.astimezone(ZoneInfo(zone)).strftime("%Y%m%dT%H%M%S")


def _time_line(name: str, value: datetime, zone: str | None) -> ContentLine:
    if zone:
        return ContentLine(name=name, params={"TZID": [zone]}, value=_local(value, zone))
    return ContentLine(name=name, value=_utc(value))


def _person_line(name: str, person: Person, extra: dict[str, str] | None = None) -> ContentLine:
    params: dict[str, list[str]] = {}
    if person.name:
        params["CN"] = [_param(person.name)]
    for key, value in (extra or {}).items():
        params[key] = [value]
    email = "".join(ch for ch in person.email if ord(ch) > 32)
    return ContentLine(name=name, params=params, value=f"mailto:{email}")


def render_event(spec: EventSpec) -> str:
    """One VEVENT as folded CRLF text (byte-stable for the same spec)."""
    event = Event(uid=spec.uid, name=clean_text(spec.summary) or " ")
    event.created = spec.dtstamp  # ics writes DTSTAMP from ``created``
    if spec.description:
        event.description = clean_text(spec.description)
    if spec.location:
        event.location = clean_text(spec.location)
    if spec.url:
        event.url = clean_text(spec.url).replace("\n", "")
    if spec.last_modified:
        event.last_modified = spec.last_modified
    event.status = spec.status
    if spec.categories:
        event.categories = {clean_text(c).replace("\n", " ") for c in spec.categories}
    if spec.classification:
        event.classification = spec.classification
    if spec.transparent:
        event.transparent = True
    lines = [
        _time_line("DTSTART", spec.start, spec.zone),
        _time_line("DTEND", spec.end, spec.zone),
        ContentLine(name="SEQUENCE", value=str(spec.sequence)),
    ]
    if spec.recurrence_id is not None:
        lines.append(_time_line("RECURRENCE-ID", spec.recurrence_id, spec.zone))
    if spec.rrule:
        lines.append(ContentLine(name="RRULE", value=spec.rrule))
    for exdate in spec.exdates:
        lines.append(_time_line("EXDATE", exdate, spec.zone))
    if spec.organizer:
        lines.append(_person_line("ORGANIZER", spec.organizer))
    for attendee in spec.attendees:
        lines.append(
            _person_line(
                "ATTENDEE",
                attendee,
                {
                    "ROLE": attendee.role,
                    "PARTSTAT": attendee.partstat,
                    "RSVP": "TRUE" if attendee.rsvp else "FALSE",
                },
            )
        )
    lines.extend(ContentLine(name=n, value=v) for n, v in spec.extra)
    event.extra.extend(lines)
    return fold_lines(event.serialize())


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
    text = clean_text(text)
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


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

"""The words of a mail: subject, text and HTML rendered from the template files in the
booking's language (``templates/notify/mail/<lang>/<kind>.txt`` inside the shared layouts),
with dates, times and changes the way that language says them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.notify.domain import (
    DECISION_NEEDED,
    IMIP_METHOD,
    INVITATION,
    INVITATION_UPDATE,
    Mail,
    organiser_of,
)
from services.notify.settings import MailSettings
from shared.booking_ical import location_of

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("sv", "en")
MAX_SUBJECT = 250
MAX_VALUE = 300
MAX_OCCURRENCES = 10
OCCURRENCE_FIELD = re.compile(r"occurrences\[(\d+)\]\.status")
SERIES_KINDS = {"receipt", "approved", "changed", DECISION_NEEDED, INVITATION, INVITATION_UPDATE}


@lru_cache(maxsize=1)
def mail_templates() -> Environment:
    """The mail templates (built on first use, never at import)."""
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )


@lru_cache(maxsize=len(LANGUAGES))
def words(language: str) -> Any:
    """A language's words (``notify/mail/<lang>/words.j2``) as attributes."""
    return mail_templates().get_template(f"notify/mail/{language}/words.j2").module


def one_line(text: Any, limit: int = MAX_SUBJECT) -> str:
    """Text for a header: every run of whitespace or control characters one space."""
    cleaned = "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in str(text or ""))
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


# --- wording ----------------------------------------------------------------------------


class Wording:
    """Dates, times and changes in the booking's language and time zone."""

    def __init__(self, snapshot: Mapping[str, Any]) -> None:
        language = snapshot.get("language") or "sv"
        self.language = language if language in LANGUAGES else "sv"
        self.words = words(self.language)
        self.zone = ZoneInfo(snapshot["timezone"])

    def local(self, value: Any) -> datetime:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        return moment.astimezone(self.zone)

    def time(self, moment: datetime) -> str:
        return self.words.time.format(hour=f"{moment.hour:02d}", minute=f"{moment.minute:02d}")

    def date(self, moment: datetime, short: bool = False) -> str:
        pattern = self.words.short_date if short else self.words.date
        return pattern.format(
            weekday=self.words.weekdays[moment.weekday()],
            day=moment.day,
            month=self.words.months[moment.month - 1],
            year=moment.year,
        )

    def span(self, start: Any, end: Any) -> str:
        """``tisdag 4 mars 2030 kl. 10:00–12:00 (CET)``; across days both dates."""
        a, b = self.local(start), self.local(end)
        if a.date() == b.date():
            text = self.words.span.format(date=self.date(a), start=self.time(a), end=self.time(b))
        else:
            text = self.words.long_span.format(
                start_date=self.date(a),
                start=self.time(a),
                end_date=self.date(b),
                end=self.time(b),
            )
        return f"{text} ({a.tzname()})" if a.tzname() else text

    def short(self, start: Any) -> str:
        a = self.local(start)
        return self.words.short_when.format(date=self.date(a, short=True), start=self.time(a))

    def value(self, field: str, value: Any) -> str:
        if value is None or value == "" or value == []:
            return self.words.nothing
        if field in ("start", "end") and isinstance(value, str):
            a = self.local(value)
            return f"{self.date(a)} {self.time(a)}"
        if field == "status" or OCCURRENCE_FIELD.fullmatch(field):
            return self.words.statuses.get(value, str(value))
        if isinstance(value, list):
            return one_line(", ".join(_item(v) for v in value), MAX_VALUE)
        return one_line(value, MAX_VALUE)

    def label(self, field: str) -> str:
        match = OCCURRENCE_FIELD.fullmatch(field)
        if match:
            return self.words.fields["occurrence"].format(n=int(match[1]) + 1)
        return self.words.fields.get(field, field)

    def changes(self, snapshot: Mapping[str, Any]) -> list[tuple[str, str, str]]:
        return [
            (
                self.label(c["field"]),
                self.value(c["field"], c.get("from")),
                self.value(c["field"], c.get("to")),
            )
            for c in snapshot.get("changes") or []
        ]


def _item(value: Any) -> str:
    if isinstance(value, Mapping):
        name, email = value.get("name") or "", value.get("email") or ""
        return f"{name} <{email}>" if name and email else name or email
    return str(value)


# --- bodies -------------------------------------------------------------------------------


def occurrence_of(snapshot: Mapping[str, Any], n: int | None) -> Mapping[str, Any] | None:
    if n is None:
        return None
    return next((o for o in snapshot.get("occurrences") or [] if o["n"] == n), None)


def _first_active(snapshot: Mapping[str, Any]) -> Mapping[str, Any]:
    occurrences = snapshot.get("occurrences") or []
    active = [o for o in occurrences if o["status"] == "active"]
    return (active or occurrences or [snapshot])[0]


def _context(mail: Mail, settings: MailSettings, wording: Wording, created: datetime) -> dict:
    snapshot = mail.snapshot
    organiser = organiser_of(snapshot)
    first = _first_active(snapshot)
    occurrence = occurrence_of(snapshot, mail.occurrence)
    participants = [p for p in snapshot.get("participants") or []]
    return {
        "title": one_line(snapshot["title"], MAX_VALUE),
        "organiser": organiser.name or organiser.email,
        "when": wording.span(first["start"], first["end"]),
        "when_short": wording.short(first["start"]),
        "occurrence_when": wording.span(occurrence["start"], occurrence["end"])
        if occurrence
        else "",
        "occurrence_short": wording.short(occurrence["start"]) if occurrence else "",
        "reason": one_line(snapshot.get("reason") or "", 2000),
        "participants": len(participants),
        "automatic": snapshot.get("decided_by") == "automatic",
        "again": bool(mail.flags.get("again")),
        "needs_decision": any(
            c["field"] == "status" and c.get("to") == "pending"
            for c in snapshot.get("changes") or []
        ),
        "pending": snapshot["status"] == "pending",
        "removed": mail.removed,
        "occurrence": mail.occurrence,
        "for_organiser": mail.to.key == organiser.key,
        "created": created,
    }


def _details(mail: Mail, wording: Wording, context: dict) -> list[tuple[str, str]]:
    snapshot, labels = mail.snapshot, wording.words.labels
    rows = [(labels["title"], context["title"])]
    rows.append((labels["when"], context["occurrence_when"] or context["when"]))
    where = location_of(dict(snapshot))
    if where:
        rows.append((labels["where"], one_line(where, MAX_VALUE)))
    services = [r["name"] for r in snapshot["resources"] if r["kind"] == "service"]
    if services:
        rows.append((labels["services"], one_line(", ".join(services), MAX_VALUE)))
    if not context["for_organiser"]:
        organiser = organiser_of(snapshot)
        shown = f"{organiser.name} <{organiser.email}>" if organiser.name else organiser.email
        rows.append((labels["organiser"], one_line(shown, MAX_VALUE)))
    return rows


def _occurrence_lines(mail: Mail, wording: Wording, created: datetime) -> list[str]:
    snapshot = mail.snapshot
    occurrences = snapshot.get("occurrences") or []
    if mail.kind not in SERIES_KINDS or len(occurrences) < 2:
        return []
    ahead = [
        o for o in occurrences if o["status"] == "active" and wording.local(o["end"]) > created
    ]
    lines = [wording.span(o["start"], o["end"]) for o in ahead[:MAX_OCCURRENCES]]
    if len(ahead) > MAX_OCCURRENCES:
        lines.append(wording.words.more_occurrences.format(count=len(ahead) - MAX_OCCURRENCES))
    return lines


def _block(template: Any, name: str, context: dict) -> str:
    return "".join(template.blocks[name](template.new_context(context))).strip()


def _paragraphs(text: str) -> list[str]:
    """Each non-blank line of a kind's body is one paragraph."""
    return [line.strip() for line in text.splitlines() if line.strip()]


@dataclass(frozen=True)
class Bodies:
    subject: str
    text: str
    html: str


def render_bodies(mail: Mail, settings: MailSettings, created: datetime) -> Bodies:
    """Subject, text and HTML of a mail, from ``notify/mail/<lang>/<kind>.txt`` inside the
    shared layouts."""
    wording = Wording(mail.snapshot)
    env = mail_templates()
    context = _context(mail, settings, wording, created)
    template = env.get_template(f"notify/mail/{wording.language}/{mail.kind}.txt")
    subject = one_line(_block(template, "subject", context))
    paragraphs = _paragraphs(_block(template, "body", context))
    action_label = one_line(_block(template, "action", context))
    page = {
        "lang": wording.language,
        "words": wording.words,
        "subject": subject,
        "heading": subject,
        "body": "\n\n".join(paragraphs),
        "paragraphs": paragraphs,
        "details": _details(mail, wording, context),
        "occurrences": _occurrence_lines(mail, wording, created),
        "changes": wording.changes(mail.snapshot) if mail.kind == "changed" else [],
        "calendar": mail.kind in IMIP_METHOD,
        "action_label": action_label,
        "action_url": _action_url(mail, settings) if action_label else "",
    }
    text = env.get_template("notify/mail/layout.txt").render(page)
    html = env.get_template("notify/mail/layout.html").render(page)
    return Bodies(subject, text.strip() + "\n", html)


def _action_url(mail: Mail, settings: MailSettings) -> str:
    if mail.kind == DECISION_NEEDED:
        return f"{settings.base_url}/queue"
    url = mail.snapshot.get("url")
    return url or f"{settings.base_url}/bookings/{mail.booking_id}"

"""What a mail says, in the booking's language and time zone: dates and times through the
one formatter (``shared.formatting.DateWords``, spelled out), what changed, the detail rows
and the dates of a series, every word from the catalogue."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.notify.domain import Mail, MailKind
from services.notify.mail.addresses import one_line, shown
from shared.booking_ical import location_of
from shared.events import BookingSnapshot, Change, Kind, Occurrence, Person
from shared.formatting import DateWords
from shared.messages import N_, text
from shared.repeats import describe_rrule

MAX_VALUE = 300
MAX_REASON = 2000
MAX_OCCURRENCES = 10
NOTHING = "–"
OCCURRENCE_FIELD = re.compile(r"occurrences\[(\d+)\]\.status")
SERIES_KINDS = {
    MailKind.RECEIPT,
    MailKind.APPROVED,
    MailKind.CHANGED,
    MailKind.DECISION_NEEDED,
    MailKind.DECISION_POSSIBLE,
    MailKind.WAITING_REMINDER,
    MailKind.INVITATION,
    MailKind.INVITATION_UPDATE,
    MailKind.ASSIGNMENT,
    MailKind.ASSIGNMENT_UPDATE,
}
FIELDS = {
    "title": N_("mail_field_title"),
    "description": N_("mail_field_description"),
    "start": N_("mail_field_start"),
    "end": N_("mail_field_end"),
    "rrule": N_("mail_field_rrule"),
    "resources": N_("mail_field_resources"),
    "participants": N_("mail_field_participants"),
    "visibility": N_("mail_field_visibility"),
    "language": N_("mail_field_language"),
    "expected_attendees": N_("mail_field_expected_attendees"),
    "notes": N_("mail_field_notes"),
    "status": N_("mail_field_status"),
    "recording_photo": N_("mail_field_recording_photo"),
    "recording_film": N_("mail_field_recording_film"),
    "recording_notice": N_("mail_field_recording_notice"),
}
STATUSES = {
    "pending": N_("mail_status_pending"),
    "approved": N_("mail_status_approved"),
    "rejected": N_("mail_status_rejected"),
    "cancelled": N_("mail_status_cancelled"),
    "active": N_("mail_status_active"),
}


class Wording:
    """Words, dates and times of one booking's mail: its language (or ``language``: the
    recipient's own), its time zone."""

    def __init__(self, snapshot: BookingSnapshot, language: str | None = None) -> None:
        self.language = language or snapshot.language.value
        self.dates = DateWords(self.language, ZoneInfo(snapshot.timezone))
        self.first = snapshot.start

    def _(self, code: str, **params: Any) -> str:
        """A catalogue message in the mail's language."""
        return text(code, self.language, **params)

    def span(self, start: datetime, end: datetime) -> str:
        """``tisdag 4 mars 2030 kl. 10:00–12:00 (CET)``; across days both dates."""
        zone = self.dates.local(start).tzname()
        spelled = self.dates.span(start, end, long=True)
        return f"{spelled} ({zone})" if zone else spelled

    def short(self, start: datetime) -> str:
        """``tisdag 4 mars kl. 10:00``: for subjects."""
        return self.dates.datetime(start, long=True, year=False)

    def label(self, field: str) -> str:
        match = OCCURRENCE_FIELD.fullmatch(field)
        if match:
            return self._("mail_field_occurrence", n=int(match[1]) + 1)
        code = FIELDS.get(field)
        return self._(code) if code else field

    def value(self, field: str, value: Any) -> str:
        if value is None or value == "" or value == []:
            return NOTHING
        if isinstance(value, bool):
            return self._("value_yes") if value else self._("value_no")
        if field in ("start", "end") and isinstance(value, str):
            # a change's values travel as JSON (``Change.old``/``new`` are raw)
            moment = datetime.fromisoformat(value)
            return f"{self.dates.date(moment, long=True)} {self.dates.time(moment)}"
        if field == "rrule":
            return self.repeats(str(value))
        if field == "status" or OCCURRENCE_FIELD.fullmatch(field):
            code = STATUSES.get(value)
            return self._(code) if code else str(value)
        if isinstance(value, list):
            return one_line(", ".join(_item(v) for v in value), MAX_VALUE)
        return one_line(value, MAX_VALUE)

    def repeats(self, rrule: str | None) -> str:
        """A series' rule as a sentence: ``every Wednesday, 4 times, until 30 Dec``."""
        return one_line(
            describe_rrule(rrule, self.language, self.dates.zone, self.first), MAX_VALUE
        )

    def changes(self, changes: Sequence[Change]) -> list[tuple[str, str, str]]:
        return [
            (self.label(c.field), self.value(c.field, c.old), self.value(c.field, c.new))
            for c in changes
        ]

    def details(self, mail: Mail, when: str) -> list[tuple[str, str]]:
        """What, when, where, which services and (to others than the organiser) who."""
        snapshot = mail.snapshot
        rows = [
            (self._("mail_details_what"), one_line(snapshot.title, MAX_VALUE)),
            (self._("mail_details_when"), when),
        ]
        if snapshot.rrule:
            rows.append((self._("repeat_sentence_label"), self.repeats(snapshot.rrule)))
        where = location_of(snapshot)
        if where:
            rows.append((self._("mail_details_where"), one_line(where, MAX_VALUE)))
        services = [r.name for r in snapshot.resources if r.kind is Kind.SERVICE]
        if mail.kind.to_assignee:  # their job, and what kind of event it is
            rows.append((self._("assignment_jobs"), one_line(jobs_named(mail), MAX_VALUE)))
            if snapshot.category is not None:
                category = snapshot.category.name(self.language)
                rows.append((self._("assignment_category"), one_line(category, MAX_VALUE)))
        elif services:
            rows.append((self._("mail_details_services"), one_line(", ".join(services), MAX_VALUE)))
        if not mail.for_organiser:
            organiser = organiser_of(snapshot)
            rows.append((self._("organiser"), one_line(shown(organiser), MAX_VALUE)))
        return rows

    def occurrence_lines(self, mail: Mail, created: datetime) -> list[str]:
        """The dates still ahead of a series (the first ten, then how many more)."""
        occurrences = mail.snapshot.occurrences
        if mail.kind not in SERIES_KINDS or len(occurrences) < 2:
            return []
        ahead = [o for o in occurrences if o.active and o.end > created]
        lines = [self.span(o.start, o.end) for o in ahead[:MAX_OCCURRENCES]]
        if len(ahead) > MAX_OCCURRENCES:
            lines.append(self._("mail_more_occurrences", count=len(ahead) - MAX_OCCURRENCES))
        return lines


def jobs_named(mail: Mail) -> str:
    """An assignee's jobs (``mail.lines``) by their resources' names."""
    named = (mail.resource(rid) for rid in mail.lines)
    return ", ".join(r.name for r in named if r is not None)


def organiser_of(snapshot: BookingSnapshot) -> Person:
    organiser = snapshot.organiser
    return Person(organiser.email.strip(), organiser.name.strip())


def first_occurrence(snapshot: BookingSnapshot) -> Occurrence:
    """The first active occurrence (the first one at all, or the booking's own times)."""
    active = [o for o in snapshot.occurrences if o.active]
    fallback = Occurrence(0, snapshot.start, snapshot.end)
    return (active or list(snapshot.occurrences) or [fallback])[0]


def _item(value: Any) -> str:
    if isinstance(value, dict):  # a participant, as a change lists them
        person = Person(value.get("email") or "", value.get("name") or "")
        return shown(person) if person.email else person.name
    return str(value)

"""A mail's subject, text and HTML: one template per kind
(``templates/notify/mail/<kind>.txt``: blocks ``subject``, ``body`` and ``action``) inside
the shared layouts, with ``_`` bound to the mail's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from services.notify.domain import ENDED, Mail, MailKind, needs_new_decision, occurrence_of
from services.notify.mail.addresses import one_line
from services.notify.mail.lines import decisions, outcomes, reasons_listed
from services.notify.mail.links import opt_out_url
from services.notify.mail.wording import (
    MAX_REASON,
    Wording,
    first_occurrence,
    jobs_named,
    organiser_of,
)
from services.notify.settings import MailSettings
from shared.events import LineStatus, Status
from shared.messages import N_

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
MAX_TITLE = 300


@lru_cache(maxsize=1)
def mail_templates() -> Environment:
    """The mail templates (built on first use, never at import)."""
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
        auto_reload=False,  # looked up once, not checked on disk for every mail
    )


@dataclass(frozen=True)
class RecordingNotice:
    """What a participant's mail says of an event that is photographed or filmed: the
    organiser's notice, and the participant's own link to opt out (``url``: none without
    a key to sign it)."""

    text: str
    label: str
    url: str

    def as_text(self) -> str:
        """The notice as one paragraph of plain text (for the calendar's DESCRIPTION)."""
        return f"{self.text} {self.label}: {self.url}" if self.url else self.text


RECORDING_WORDS = {
    (True, True): N_("mail_recording_photo_film"),
    (True, False): N_("mail_recording_photo"),
    (False, True): N_("mail_recording_film"),
}


def recording_notice(mail: Mail, settings: MailSettings) -> RecordingNotice | None:
    """The notice a participant's invitation or reminder carries, in the mail's language."""
    recording = mail.snapshot.recording
    if recording is None or not mail.tells_of_recording:
        return None
    wording = Wording(mail.snapshot)
    notice = one_line(recording.notice, MAX_REASON)
    return RecordingNotice(
        wording._(RECORDING_WORDS[recording.photo, recording.film], notice=notice),
        wording._("mail_recording_opt_out"),
        opt_out_url(settings, mail.snapshot, mail.recipient),
    )


@dataclass(frozen=True)
class Bodies:
    subject: str
    text: str
    html: str


def context(mail: Mail, wording: Wording, settings: MailSettings) -> dict[str, Any]:
    """What a kind's template may say: the booking's facts, worded."""
    snapshot = mail.snapshot
    organiser = organiser_of(snapshot)
    first = first_occurrence(snapshot)
    occurrence = occurrence_of(snapshot, mail.occurrence)
    return {
        "_": wording._,
        "title": one_line(snapshot.title, MAX_TITLE),
        "organiser": organiser.name or organiser.email,
        "when": wording.span(first.start, first.end),
        "when_short": wording.short(first.start),
        "occurrence_when": wording.span(occurrence.start, occurrence.end) if occurrence else "",
        "occurrence_short": wording.short(occurrence.start) if occurrence else "",
        "reason": one_line(snapshot.reason or "", MAX_REASON),
        "participants": len(snapshot.participants),
        "automatic": snapshot.decided_by == "automatic",
        "again": mail.again,
        "needs_decision": needs_new_decision(snapshot),
        "pending": snapshot.status is Status.PENDING,
        "removed": mail.removed,
        "for_organiser": mail.for_organiser,
        "revised": mail.revised,
        "count": sum(len(w.lines) for w in mail.waiting),
        "reason_listed": snapshot.reason is not None
        and one_line(snapshot.reason, MAX_REASON) in reasons_listed(mail),
        "declined": any(x.status is LineStatus.DECLINED for x in snapshot.lines),
        "links": bool(settings.secret_key),
        "job": one_line(jobs_named(mail), MAX_TITLE) if mail.kind.to_assignee else "",
        "ended": snapshot.status in ENDED,
    }


def _block(template: Template, name: str, values: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(values))).strip()


def _paragraphs(text: str) -> list[str]:
    """Each non-blank line of a kind's body is one paragraph."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def worded(kind: str, values: dict[str, Any]) -> tuple[str, list[str], str]:
    """A kind's template filled in: its subject, its paragraphs and its action's label."""
    template = mail_templates().get_template(f"notify/mail/{kind}.txt")
    subject = one_line(_block(template, "subject", values))
    paragraphs = _paragraphs(_block(template, "body", values))
    return subject, paragraphs, one_line(_block(template, "action", values))


# What the layouts show besides the paragraphs; a mail about no booking has none of it.
NOTHING_BESIDES = {
    "details": [],
    "occurrences": [],
    "changes": [],
    "decisions": [],
    "outcomes": [],
    "calendar": False,
    "recording": None,
}


def in_layout(page: dict[str, Any]) -> Bodies:
    """A mail's text and HTML from the shared layouts."""
    env = mail_templates()
    text = env.get_template("notify/mail/layout.txt").render(page)
    html = env.get_template("notify/mail/layout.html").render(page)
    return Bodies(page["subject"], text.strip() + "\n", html)


def render_bodies(mail: Mail, settings: MailSettings, created: datetime) -> Bodies:
    """Subject, text and HTML of a mail in its booking's language (an assignee's: theirs)."""
    wording = Wording(mail.snapshot, mail.language)
    values = context(mail, wording, settings)
    subject, paragraphs, action_label = worded(mail.kind.value, values)
    page = {
        "_": wording._,
        "lang": wording.language,
        "subject": subject,
        "heading": subject,
        "body": "\n\n".join(paragraphs),
        "paragraphs": paragraphs,
        "details": []
        if mail.kind is MailKind.DIGEST
        else wording.details(mail, values["occurrence_when"] or values["when"]),
        "occurrences": wording.occurrence_lines(mail, created),
        "changes": wording.changes(mail.snapshot.changes) if mail.kind is MailKind.CHANGED else [],
        "decisions": decisions(mail, settings, wording, created),
        "outcomes": outcomes(mail, wording),
        "calendar": mail.kind.imip_method is not None,
        "recording": recording_notice(mail, settings),
        "action_label": action_label,
        "action_url": action_url(mail, settings) if action_label else "",
    }
    return in_layout(page)


def action_url(mail: Mail, settings: MailSettings) -> str:
    """Deciders go to the queue; everyone else to the booking's page."""
    if mail.kind.to_decider:
        return f"{settings.base_url}/queue"
    return mail.snapshot.url or f"{settings.base_url}/bookings/{mail.booking_id}"

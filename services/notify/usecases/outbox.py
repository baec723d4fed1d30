"""The outbox pages' data: the mail sink's messages (kept as ``.eml`` files when no SMTP
server is configured), listed and read back."""

from __future__ import annotations

from email.message import EmailMessage

from services.notify.readmodels import OutboxEntry, SinkMessage
from shared.mail import MailSink
from shared.messages import N_

# (label id, header) of the headers a message's page shows
HEADERS = (
    (N_("from"), "From"),
    (N_("to"), "To"),
    (N_("reply_to"), "Reply-To"),
    (N_("date"), "Date"),
    (N_("message_id"), "Message-ID"),
)


def outbox_entries(sink: MailSink) -> list[OutboxEntry]:
    """The sink's messages, newest first."""
    return [OutboxEntry(e.name, e.subject, e.to, e.date) for e in sink.entries()]


def sink_message(sink: MailSink, name: str) -> SinkMessage | None:
    """One message as its page shows it, or None when the sink has no such message."""
    parsed = sink.read(name)
    if parsed is None:
        return None
    text = parsed.get_body(("plain",))
    return SinkMessage(
        name=name,
        subject=str(parsed["Subject"] or ""),
        headers=tuple((label, str(parsed[h])) for label, h in HEADERS if parsed[h]),
        text=text.get_content() if text is not None else "",
        has_html=parsed.get_body(("html",)) is not None,
        calendars=tuple(_calendars(parsed)),
        attachments=tuple(
            (part.get_filename() or "", part.get_content_type())
            for part in parsed.walk()
            if part.is_attachment()
        ),
    )


def _calendars(parsed: EmailMessage) -> list[tuple[str, str]]:
    return [
        (part.get_param("method") or "", part.get_content())
        for part in parsed.walk()
        if part.get_content_type() == "text/calendar" and not part.is_attachment()
    ]


def sink_html(sink: MailSink, name: str) -> str | None:
    """The HTML part of one message, or None."""
    parsed = sink.read(name)
    part = parsed.get_body(("html",)) if parsed is not None else None
    return part.get_content() if part is not None else None


def sink_raw(sink: MailSink, name: str) -> bytes | None:
    """One message as it was stored, or None."""
    return sink.raw(name)

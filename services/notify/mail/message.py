"""One mail as bytes: the recipient's headers, the body the recipients of one event's kind
share (text and HTML alternatives), and for calendar mail the iMIP part
(``text/calendar; method=...``) and the same calendar as an ``.ics`` attachment.

Every header value that carries user text (titles, names) has its control characters
replaced, so a title with CR/LF stays one header; ``policy=SMTP`` folds long ones."""

from __future__ import annotations

import binascii
import hashlib
import io
import uuid
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.encoders import encode_base64
from email.generator import BytesGenerator
from email.headerregistry import Address
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import format_datetime
from typing import Any

from services.notify.domain import Mail, address_key, reply_to
from services.notify.mail.addresses import header_address, one_line, recipient_line
from services.notify.mail.imip import calendar_text
from services.notify.mail.rendering import Bodies, render_bodies
from services.notify.mail.wording import organiser_of
from services.notify.settings import MailSettings
from shared.events import Person

BODY_POLICY = policy.compat32.clone(linesep="\r\n")


@dataclass(frozen=True)
class Composed:
    message_id: str
    subject: str
    data: bytes


def message_id(settings: MailSettings, event_id: str, recipient: str, kind: str) -> str:
    """The same Message-ID for the same (event, recipient address, kind), whoever
    composes it."""
    key = f"{event_id}\n{address_key(recipient)}\n{kind}"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{settings.domain}>"


def _from(mail: Mail, settings: MailSettings) -> Address:
    name = settings.sender_name
    if mail.kind.imip_method:  # "Olga Organiser via Evenemang", as calendar services do
        organiser = organiser_of(mail.snapshot)
        name = f"{organiser.name or organiser.email} via {settings.sender_name}"
    return header_address(Person(settings.sender_address, name))


def _multipart(subtype: str) -> MIMEMultipart:
    """A multipart with a boundary of its own: ``=_`` never occurs in quoted-printable or
    base64 parts (so the generator need not search the parts for it, which compiles a new
    regular expression for every message)."""
    return MIMEMultipart(subtype, boundary=f"=_{uuid.uuid4().hex}", policy=BODY_POLICY)


def _text_part(text: str, subtype: str) -> MIMENonMultipart:
    """A UTF-8 text part, quoted-printable (binascii's encoder: the email package's own is
    pure Python and many times slower)."""
    part = MIMENonMultipart("text", subtype, policy=BODY_POLICY, charset="utf-8")
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(binascii.b2a_qp(text.encode(), istext=True).decode("ascii"))
    return part


def alternatives(bodies: Bodies) -> MIMEMultipart:
    """The text and the HTML of a mail, as alternatives."""
    alternative = _multipart("alternative")
    alternative.attach(_text_part(bodies.text, "plain"))
    alternative.attach(_text_part(bodies.html, "html"))
    return alternative


def flattened(part: MIMEMultipart) -> bytes:
    """A MIME part as bytes (its Content-Type header onwards)."""
    out = io.BytesIO()
    BytesGenerator(out, policy=BODY_POLICY).flatten(part)
    return out.getvalue()


def body_part(mail: Mail, settings: MailSettings, bodies: Bodies) -> bytes:
    """The MIME body (its Content-Type header onwards): text and HTML alternatives, and for
    calendar mail the ``text/calendar; method=...`` alternative plus the same calendar as
    an ``.ics`` attachment. Built with the email package's MIME classes, whose headers here
    carry no user text."""
    alternative = alternatives(bodies)
    method = mail.kind.imip_method
    top: MIMEMultipart = alternative
    if method:
        calendar = calendar_text(mail, settings).encode()
        inline = MIMENonMultipart(
            "text", "calendar", policy=BODY_POLICY, charset="utf-8", method=method
        )
        inline.set_payload(calendar)
        encode_base64(inline)
        alternative.attach(inline)
        attachment = MIMEApplication(calendar, "ics", policy=BODY_POLICY)
        name = "cancel.ics" if method == "CANCEL" else "invite.ics"
        attachment.add_header("Content-Disposition", "attachment", filename=name)
        top = _multipart("mixed")
        top.attach(alternative)
        top.attach(attachment)
    return flattened(top)


def _header_block(fields: list[tuple[str, Any]]) -> bytes:
    """Header lines as ``policy=SMTP`` writes them: values that carry user text stay one
    header each, folded when long (ends with CRLF, without the blank line)."""
    msg = EmailMessage(policy=policy.SMTP)
    for name, value in fields:
        msg[name] = value
    return msg.as_bytes().removesuffix(b"\r\n")


def recipient_headers(to: Person, mid: str) -> bytes:
    """``To`` and ``Message-ID``, the lines that differ per recipient (``formataddr``: a
    tenth of the cost of a header-registry parse per recipient)."""
    return f"To: {recipient_line(to)}\r\nMessage-ID: {mid}\r\n".encode("ascii")


def shared_headers(
    mail: Mail, settings: MailSettings, subject: str, replies: Sequence[Person], created: datetime
) -> bytes:
    """The headers every recipient of one event's kind gets alike."""
    references = None
    if mail.booking_id:  # a digest is about several
        references = f"<booking-{one_line(mail.booking_id, 64)}@{settings.domain}>"
    return header_lines(
        _from(mail, settings), subject, created, mail.snapshot.language.value, replies, references
    )


def header_lines(
    sender: Address,
    subject: str,
    created: datetime,
    language: str,
    replies: Sequence[Person] = (),
    references: str | None = None,
) -> bytes:
    """From, Reply-To, Subject, Date, References, Auto-Submitted and Content-Language."""
    fields: list[tuple[str, Any]] = [("From", sender)]
    if replies:
        fields.append(("Reply-To", [header_address(p) for p in replies]))
    fields += [("Subject", subject), ("Date", format_datetime(created))]
    if references:
        fields.append(("References", references))
    fields += [("Auto-Submitted", "auto-generated"), ("Content-Language", language)]
    return _header_block(fields)


def compose(
    mail: Mail,
    settings: MailSettings,
    created: datetime,
    cache: MutableMapping[tuple, Any] | None = None,
) -> Composed:
    """The whole message as bytes, ready for SMTP; raises ValueError for an address no
    header can carry. ``cache`` shares the rendered body (text, HTML, calendar) between the
    recipients of the same event and kind; only the header block is the recipient's own."""
    cache = {} if cache is None else cache
    key = (
        mail.event_id,
        mail.kind,
        mail.occurrence,
        mail.for_organiser,
        # a removal's calendar names that attendee; a decider's lines and links are theirs
        mail.recipient if mail.removed or mail.kind.to_decider else "",
    )
    cached = cache.get(key)
    if cached is None:
        bodies = render_bodies(mail, settings, created)
        cached = cache[key] = (bodies.subject, body_part(mail, settings, bodies))
    subject, body = cached
    replies = reply_to(mail, settings.infra_team)
    common_key = ("headers", *key, tuple(address_key(p.email) for p in replies))
    common = cache.get(common_key)
    if common is None:
        common = cache[common_key] = shared_headers(mail, settings, subject, replies, created)
    mid = message_id(settings, mail.event_id, mail.recipient, mail.kind)
    return Composed(mid, subject, recipient_headers(mail.to, mid) + common + body)

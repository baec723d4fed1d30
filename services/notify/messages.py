"""Composing one mail as bytes: the recipient's headers, the body the recipients of one
event's kind share (text and HTML alternatives from ``wording``), and for invitations the
iMIP part (``text/calendar; method=...``) and the same calendar as an ``.ics`` attachment,
built by the same code as calendar's feeds (same UID and SEQUENCE).

Every header value that carries user text (titles, names) has its control characters
replaced, so a title with CR/LF stays one header; ``policy=SMTP`` folds long ones."""

from __future__ import annotations

import binascii
import dataclasses
import hashlib
import io
from collections.abc import MutableMapping
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
from email.utils import format_datetime, formataddr
from typing import Any

from services.notify.domain import IMIP_METHOD, ORGANISER_KINDS, Mail, Person, organiser_of
from services.notify.settings import MailSettings
from services.notify.wording import Bodies, Wording, occurrence_of, one_line, render_bodies
from shared.booking_ical import booking_spec
from shared.ical import Attendee, render_calendar, render_event
from shared.ical import Person as IcalPerson

BODY_POLICY = policy.compat32.clone(linesep="\r\n")


@dataclass(frozen=True)
class Composed:
    message_id: str
    subject: str
    data: bytes


def message_id(settings: MailSettings, event_id: str, recipient: Person, kind: str) -> str:
    """The same Message-ID for the same (event, recipient, kind), whoever composes it."""
    digest = hashlib.sha256(f"{event_id}\n{recipient.key}\n{kind}".encode()).hexdigest()
    return f"<{digest[:40]}@{settings.domain}>"


def address(person: Person) -> Address:
    """A header address; raises ValueError for an address that cannot be one."""
    username, at, domain = person.email.strip().rpartition("@")
    if not at or not username or not domain or any(ord(c) <= 32 for c in person.email.strip()):
        raise ValueError(f"not a mail address: {person.email!r}")
    return Address(display_name=one_line(person.name, 120), username=username, domain=domain)


# --- calendar -----------------------------------------------------------------------------


def calendar_text(mail: Mail, settings: MailSettings) -> str:
    """The iMIP object of an invitation, update or cancellation (RFC 5546)."""
    method = IMIP_METHOD[mail.kind]
    snapshot = dict(mail.snapshot)
    fallback = IcalPerson(settings.sender_address, settings.sender_name)
    if method == "REQUEST":
        spec = booking_spec(snapshot, attendees=True, fallback_organizer=fallback)
    else:
        spec = booking_spec(
            snapshot, attendees=True, fallback_organizer=fallback, status="CANCELLED"
        )
        occurrence = occurrence_of(snapshot, mail.occurrence)
        if occurrence is not None and snapshot.get("rrule"):
            when = datetime.fromisoformat(occurrence["start"])
            spec = dataclasses.replace(
                spec,
                recurrence_id=when,
                start=when,
                end=datetime.fromisoformat(occurrence["end"]),
                rrule=None,
                exdates=(),
            )
        if mail.removed:  # only the attendee being removed (RFC 5546 §3.2.5)
            spec = dataclasses.replace(spec, attendees=[Attendee(mail.to.email, mail.to.name)])
    return render_calendar(
        [render_event(spec)],
        name=one_line(snapshot["title"], 120) or "Evenemang",
        method=method,
        zones=[snapshot["timezone"]],
    )


# --- the message ----------------------------------------------------------------------------


def _reply_to(mail: Mail, settings: MailSettings) -> list[Person]:
    """Replies reach whoever can answer: the infra team for an organiser's mail about their
    booking, the organiser for deciders and participants."""
    organiser = organiser_of(mail.snapshot)
    if mail.kind in ORGANISER_KINDS.values() or mail.to.key == organiser.key:
        return [Person(a) for a in settings.infra_team]
    return [organiser]


def _from(mail: Mail, settings: MailSettings) -> Address:
    name = settings.sender_name
    if mail.kind in IMIP_METHOD:  # "Olga Organiser via Evenemang", as calendar services do
        organiser = organiser_of(mail.snapshot)
        name = f"{organiser.name or organiser.email} via {settings.sender_name}"
    return address(Person(settings.sender_address, name))


def _text_part(text: str, subtype: str, **params: str) -> MIMENonMultipart:
    """A UTF-8 text part, quoted-printable (binascii's encoder: the email package's own is
    pure Python and many times slower)."""
    part = MIMENonMultipart("text", subtype, policy=BODY_POLICY, charset="utf-8", **params)
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(binascii.b2a_qp(text.encode(), istext=True).decode("ascii"))
    return part


def body_part(mail: Mail, settings: MailSettings, bodies: Bodies) -> bytes:
    """The MIME body (its Content-Type header onwards): text and HTML alternatives, and for
    invitations the ``text/calendar; method=...`` alternative plus the same calendar as an
    ``.ics`` attachment. The same for every recipient of one event's kind. Built with the
    email package's MIME classes, whose headers here carry no user text."""
    alternative = MIMEMultipart("alternative", policy=BODY_POLICY)
    alternative.attach(_text_part(bodies.text, "plain"))
    alternative.attach(_text_part(bodies.html, "html"))
    method = IMIP_METHOD.get(mail.kind)
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
        top = MIMEMultipart("mixed", policy=BODY_POLICY)
        top.attach(alternative)
        top.attach(attachment)
    out = io.BytesIO()
    BytesGenerator(out, policy=BODY_POLICY).flatten(top)
    return out.getvalue()


def _header_block(fields: list[tuple[str, Any]]) -> bytes:
    """Header lines as ``policy=SMTP`` writes them: values that carry user text stay one
    header each, folded when long (ends with CRLF, without the blank line)."""
    msg = EmailMessage(policy=policy.SMTP)
    for name, value in fields:
        msg[name] = value
    return msg.as_bytes().removesuffix(b"\r\n")


def recipient_headers(to: Person, mid: str) -> bytes:
    """``To`` and ``Message-ID``, the lines that differ per recipient. ``formataddr`` quotes
    or RFC 2047-encodes the name (one line: :func:`one_line` took out every control
    character); a tenth of the cost of a header-registry parse per recipient."""
    address(to)  # the same check as every other address
    name = one_line(to.name, 120)
    to_line = formataddr((name, to.email.strip()), charset="utf-8")
    return f"To: {to_line}\r\nMessage-ID: {mid}\r\n".encode("ascii")


def shared_headers(
    mail: Mail, settings: MailSettings, subject: str, reply_to: list[Person], created: datetime
) -> bytes:
    """The headers every recipient of one event's kind gets alike."""
    fields: list[tuple[str, Any]] = [("From", _from(mail, settings))]
    if reply_to:
        fields.append(("Reply-To", [address(p) for p in reply_to]))
    fields += [
        ("Subject", subject),
        ("Date", format_datetime(created)),
        ("References", f"<booking-{one_line(mail.booking_id, 64)}@{settings.domain}>"),
        ("Auto-Submitted", "auto-generated"),
        ("Content-Language", Wording(mail.snapshot).language),
    ]
    return _header_block(fields)


def compose(
    mail: Mail,
    settings: MailSettings,
    created: datetime,
    cache: MutableMapping[tuple, Any] | None = None,
) -> Composed:
    """The whole message as bytes, ready for SMTP. ``cache`` shares the rendered body (text,
    HTML, calendar) between the recipients of the same event and kind; only the header
    block is the recipient's own."""
    cache = {} if cache is None else cache
    for_organiser = mail.to.key == organiser_of(mail.snapshot).key
    key = (
        mail.event_id,
        mail.kind,
        mail.occurrence,
        for_organiser,
        mail.to.key if mail.removed else "",  # a removal's calendar names that attendee
    )
    cached = cache.get(key)
    if cached is None:
        bodies = render_bodies(mail, settings, created)
        cached = cache[key] = (bodies.subject, body_part(mail, settings, bodies))
    subject, body = cached
    reply_to = [p for p in _reply_to(mail, settings) if p.key != mail.to.key]
    common_key = ("headers", *key, tuple(p.key for p in reply_to))
    common = cache.get(common_key)
    if common is None:
        common = cache[common_key] = shared_headers(mail, settings, subject, reply_to, created)
    mid = message_id(settings, mail.event_id, mail.to, mail.kind)
    return Composed(mid, subject, recipient_headers(mail.to, mid) + common + body)

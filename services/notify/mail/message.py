"""One mail as bytes: the recipient's headers, the body the recipients of one event's kind
share (text and HTML alternatives), and for calendar mail the iMIP part
(``text/calendar; method=...``) and the same calendar as an ``.ics`` attachment.

Every header value that carries user text (titles, names) has its control characters
replaced, so a title with CR/LF stays one header; ``policy=SMTP`` folds long ones."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
import uuid
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.utils import format_datetime
from typing import Any

from services.notify.domain import Mail, address_key, in_its_language, reply_to
from services.notify.mail.addresses import header_address, one_line, recipient_line
from services.notify.mail.imip import calendar_text
from services.notify.mail.rendering import Bodies, render_bodies
from services.notify.mail.wording import organiser_of
from services.notify.settings import MailSettings
from shared.events import Person

CRLF = "\r\n"
MAX_LINE = 78
_NEWLINES = re.compile(r"\r\n|\r|\n")


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


def _multipart(subtype: str, parts: Sequence[str]) -> str:
    """A multipart as the email package writes it, with a boundary of its own: ``=_`` never
    occurs in quoted-printable or base64 parts, so no part need be searched for it."""
    boundary = f"=_{uuid.uuid4().hex}"
    kind = f"Content-Type: multipart/{subtype};"
    fold = "\r\n " if len(kind) + len(boundary) + 12 > MAX_LINE else " "
    between = f"\r\n--{boundary}\r\n"
    return (
        f'{kind}{fold}boundary="{boundary}"\r\nMIME-Version: 1.0\r\n\r\n--{boundary}\r\n'
        f"{between.join(parts)}\r\n--{boundary}--\r\n"
    )


def _leaf(content_type: str, encoding: str, payload: str, extra: str = "") -> str:
    """A part whose headers carry no user text, its payload's lines ending in CRLF."""
    return (
        f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n"
        f"Content-Transfer-Encoding: {encoding}\r\n{extra}\r\n{_NEWLINES.sub(CRLF, payload)}"
    )


def _text_part(text: str, subtype: str) -> str:
    """A UTF-8 text part, quoted-printable (binascii's encoder: the email package's own is
    pure Python and many times slower)."""
    encoded = binascii.b2a_qp(text.encode(), istext=True).decode("ascii")
    return _leaf(f'text/{subtype}; charset="utf-8"', "quoted-printable", encoded)


def _base64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii")


def _alternative(bodies: Bodies, *more: str) -> str:
    return _multipart(
        "alternative", [_text_part(bodies.text, "plain"), _text_part(bodies.html, "html"), *more]
    )


def alternatives(bodies: Bodies) -> bytes:
    """The text and the HTML of a mail, as alternatives (a MIME part as bytes: its
    Content-Type header onwards)."""
    return _alternative(bodies).encode("ascii")


def body_part(mail: Mail, settings: MailSettings, bodies: Bodies) -> bytes:
    """The MIME body (its Content-Type header onwards): text and HTML alternatives, and for
    calendar mail the ``text/calendar; method=...`` alternative plus the same calendar as
    an ``.ics`` attachment. Written as the email package's MIME classes and generator
    write them (``tests`` parse it back), without their per-message policy work; its
    headers carry no user text."""
    method = mail.kind.imip_method
    if not method:
        return alternatives(bodies)
    calendar = _base64(calendar_text(mail, settings).encode())
    inline = _leaf(f'text/calendar; charset="utf-8"; method="{method}"', "base64", calendar)
    name = "cancel.ics" if method == "CANCEL" else "invite.ics"
    disposition = f'Content-Disposition: attachment; filename="{name}"\r\n'
    attachment = _leaf("application/ics", "base64", calendar, disposition)
    return _multipart("mixed", [_alternative(bodies, inline), attachment]).encode("ascii")


def _header_block(fields: list[tuple[str, Any]]) -> bytes:
    """Header lines as ``policy=SMTP`` writes them: values that carry user text stay one
    header each, folded when long (ends with CRLF, without the blank line)."""
    return "".join(_field(name, value) for name, value in fields).encode("ascii")


def _field(name: str, value: Any) -> str:
    """One header as ``policy=SMTP`` folds it: a short line of plain ASCII as it is (what
    the policy makes of it too, without parsing it), an address header once a process."""
    if isinstance(value, Address):
        return _addresses(name, ((value.display_name, value.addr_spec),), False)
    if isinstance(value, list):
        return _addresses(name, tuple((a.display_name, a.addr_spec) for a in value), True)
    if (
        value
        and len(name) + len(value) + 2 <= MAX_LINE
        and value.isascii()
        and value.isprintable()
        and "=?" not in value
        and value == value.strip()
    ):
        return f"{name}: {value}{CRLF}"
    return _folded(name, value)


def _folded(name: str, value: Any) -> str:
    return policy.SMTP.header_factory(name, value).fold(policy=policy.SMTP)


@functools.lru_cache(maxsize=256)
def _addresses(name: str, pairs: tuple[tuple[str, str], ...], many: bool) -> str:
    """An address header: one (``From``) or a list (``Reply-To``) of (name, address)."""
    found = [Address(display_name=display, addr_spec=spec) for display, spec in pairs]
    return _folded(name, found if many else found[0])


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
    language = mail.language or mail.snapshot.language.value
    return header_lines(_from(mail, settings), subject, created, language, replies, references)


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
        # a removal's calendar names that attendee; a decider's lines and links are theirs, an
        # assignee's job too, and so is a participant's link to opt out of being recorded
        mail.recipient if mail.personal or mail.tells_of_recording else "",
    )
    cached = cache.get(key)
    if cached is None:
        local = in_its_language(mail)
        bodies = render_bodies(local, settings, created)
        cached = cache[key] = (bodies.subject, body_part(local, settings, bodies))
    subject, body = cached
    replies = reply_to(mail, settings.infra_team)
    common_key = ("headers", *key, tuple(address_key(p.email) for p in replies))
    common = cache.get(common_key)
    if common is None:
        common = cache[common_key] = shared_headers(mail, settings, subject, replies, created)
    mid = message_id(settings, mail.event_id, mail.recipient, mail.kind)
    return Composed(mid, subject, recipient_headers(mail.to, mid) + common + body)

"""An account's mail (an invitation, a password reset) as bytes: worded in the account
holder's language from one template per kind inside the shared layouts, with the headers
every mail has and a Message-ID derived from (event, recipient, kind)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.notify.domain import AccountMail
from services.notify.mail.addresses import NAME_LENGTH, header_address, one_line
from services.notify.mail.message import (
    Composed,
    alternatives,
    header_lines,
    message_id,
    recipient_headers,
)
from services.notify.mail.rendering import NOTHING_BESIDES, Bodies, in_layout, worded
from services.notify.settings import MailSettings
from shared.events import Person
from shared.formatting import DateWords
from shared.messages import text


def account_bodies(mail: AccountMail, settings: MailSettings) -> Bodies:
    """Subject, text and HTML: how to log in, and the set-password link with its time."""
    account = mail.account
    language = account.language.value
    login = f"{settings.base_url}/login"

    def _(code: str, **params: Any) -> str:
        return text(code, language, **params)

    until = ""
    if account.expires_at is not None:
        dates = DateWords(language, settings.zone)
        zone = dates.local(account.expires_at).tzname()
        until = f"{dates.datetime(account.expires_at, long=True)} ({zone})"
    values = {
        "_": _,
        "name": one_line(account.name, NAME_LENGTH) or account.email,
        "email": account.email,
        "link": bool(account.url),
        "until": until,
        "sso": account.sso,
        "login": login,
    }
    subject, paragraphs, action_label = worded(mail.kind.value, values)
    return in_layout(
        {
            **NOTHING_BESIDES,
            "_": _,
            "lang": language,
            "subject": subject,
            "heading": subject,
            "body": "\n\n".join(paragraphs),
            "paragraphs": paragraphs,
            "action_label": action_label,
            "action_url": account.url or login,
        }
    )


def compose_account(mail: AccountMail, settings: MailSettings, created: datetime) -> Composed:
    """The whole message as bytes; raises ValueError for an address no header can carry."""
    bodies = account_bodies(mail, settings)
    sender = header_address(Person(settings.sender_address, settings.sender_name))
    headers = header_lines(sender, bodies.subject, created, mail.account.language.value)
    mid = message_id(settings, mail.event_id, mail.recipient, mail.kind)
    body = alternatives(bodies)
    return Composed(mid, bodies.subject, recipient_headers(mail.to, mid) + headers + body)

"""A participant's personal link to opt out of being photographed or filmed at one event:
signed, bound to the booking and the participant's address (and the mail's language, for
the page it opens), pointing at booking's ``/optout/{token}``.

notify signs them when it writes an invitation or a reminder; booking reads them. Both hold
the same secret key (as for ``shared.decision_links``), so no service calls the other. A
link does not expire: it is good for as long as its event is ahead."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from shared.decision_links import LinkInvalid

SALT = "evenemang.optout-link"
LANGUAGES = ("sv", "en")

__all__ = ["LinkInvalid", "OptOutLink", "read", "sign", "url"]


@dataclass(frozen=True)
class OptOutLink:
    booking_id: str
    email: str  # lower-case
    language: str = "sv"


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def sign(secret_key: str, link: OptOutLink) -> str:
    """The URL-safe token of a link."""
    return _serializer(secret_key).dumps(
        {"b": link.booking_id, "e": link.email.strip().lower(), "l": link.language}
    )


def read(secret_key: str, token: str) -> OptOutLink:
    """The link a token carries; :class:`LinkInvalid` unless we signed it."""
    try:
        data = _serializer(secret_key).loads(token)
        link = OptOutLink(str(data["b"]), str(data["e"]), str(data["l"]))
    except (BadSignature, KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid(token[:16]) from exc
    if link.language not in LANGUAGES or not link.email:
        raise LinkInvalid(token[:16])
    return link


def url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/optout/{token}"

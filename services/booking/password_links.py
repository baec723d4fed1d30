"""Set-password links in an invitation or a password reset mail: signed with the secret key
(itsdangerous), bound to one user and to the state of their password, valid for seven days
(an invitation) or an hour (a reset).

Single use without a table: the link carries a fingerprint of the password hash it was
made for, and setting a password changes the hash (argon2 salts each one), so a link once
used — or made before any other change of the password — no longer matches."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "evenemang.password-link"


class Purpose(StrEnum):
    INVITE = "invite"
    RESET = "reset"

    @property
    def valid_for(self) -> timedelta:
        return VALID_FOR[self]


VALID_FOR = {Purpose.INVITE: timedelta(days=7), Purpose.RESET: timedelta(hours=1)}


class LinkInvalid(Exception):
    """Not a link we signed (forged, altered or cut short)."""


class LinkExpired(Exception):
    """A link we signed, past its time."""


@dataclass(frozen=True)
class PasswordLink:
    user_id: str
    purpose: Purpose
    fingerprint: str  # of the password hash the link was made for
    issued_at: datetime

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + self.purpose.valid_for

    def fits(self, password_hash: str | None) -> bool:
        """Whether the password is still the one the link was made for (never used)."""
        return self.fingerprint == fingerprint(password_hash)


def fingerprint(password_hash: str | None) -> str:
    """A short digest of a password hash ('' for none): it changes whenever a password is
    set, and says nothing about the password."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:24]


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def make(user_id: str, password_hash: str | None, purpose: Purpose, now: datetime) -> PasswordLink:
    """A link for this user as their password stands now."""
    issued = now.astimezone(UTC).replace(microsecond=0)
    return PasswordLink(user_id, purpose, fingerprint(password_hash), issued)


def sign(secret_key: str, link: PasswordLink) -> str:
    """The URL-safe token of a link."""
    return _serializer(secret_key).dumps(
        {
            "u": link.user_id,
            "p": link.purpose.value,
            "f": link.fingerprint,
            "t": int(link.issued_at.timestamp()),
        }
    )


def read(secret_key: str, token: str, now: datetime) -> PasswordLink:
    """The link a token carries: :class:`LinkInvalid` unless we signed it,
    :class:`LinkExpired` once its time is up (whether it still fits the password is the
    caller's to check, against the user's row)."""
    try:
        data = _serializer(secret_key).loads(token)
        link = PasswordLink(
            user_id=str(data["u"]),
            purpose=Purpose(data["p"]),
            fingerprint=str(data["f"]),
            issued_at=datetime.fromtimestamp(int(data["t"]), UTC),
        )
    except (BadSignature, KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid(token[:16]) from exc
    if now >= link.expires_at:
        raise LinkExpired(link.user_id)
    return link


def url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/password/reset/{token}"

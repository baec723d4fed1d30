"""Decision links in a "to decide" mail: signed, bound to one decider (a person's address or
a team's mailbox), one booking revision and one action, valid for seven days and usable
once (booking records each link it has acted on by ``link_id``).

notify signs them when it writes the mail; booking reads them at ``/decide/{token}``. Both
hold the same secret key, so no service calls the other."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from itsdangerous import BadSignature, URLSafeSerializer

VALID_FOR = timedelta(days=7)
SALT = "evenemang.decision-link"


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class LinkInvalid(Exception):
    """Not a link we signed (forged, altered or cut short)."""


class LinkExpired(Exception):
    """A link we signed, older than :data:`VALID_FOR`."""

    def __init__(self, link: DecisionLink) -> None:
        super().__init__(link.booking_id)
        self.link = link


@dataclass(frozen=True)
class DecisionLink:
    booking_id: str
    revision: int
    decider: str  # lower-case address: a user's, or a team's mailbox
    action: Action
    resource_ids: tuple[str, ...]
    issued_at: datetime

    @property
    def link_id(self) -> str:
        """The same for every copy of one link (a mail sent twice carries the same one)."""
        facts = "|".join(
            [
                self.booking_id,
                str(self.revision),
                self.decider,
                self.action.value,
                ",".join(sorted(self.resource_ids)),
            ]
        )
        return hashlib.sha256(facts.encode()).hexdigest()[:40]

    def expired(self, now: datetime) -> bool:
        return now >= self.issued_at + VALID_FOR


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def sign(secret_key: str, link: DecisionLink) -> str:
    """The URL-safe token of a link."""
    return _serializer(secret_key).dumps(
        {
            "b": link.booking_id,
            "r": link.revision,
            "d": link.decider.strip().lower(),
            "a": link.action.value,
            "l": sorted(link.resource_ids),
            "t": int(link.issued_at.timestamp()),
        }
    )


def read(secret_key: str, token: str, now: datetime | None = None) -> DecisionLink:
    """The link a token carries: :class:`LinkInvalid` unless we signed it, and
    :class:`LinkExpired` once it is older than seven days."""
    try:
        data = _serializer(secret_key).loads(token)
        link = DecisionLink(
            booking_id=str(data["b"]),
            revision=int(data["r"]),
            decider=str(data["d"]),
            action=Action(data["a"]),
            resource_ids=tuple(str(r) for r in data["l"]),
            issued_at=datetime.fromtimestamp(int(data["t"]), UTC),
        )
    except (BadSignature, KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid(token[:16]) from exc
    if link.expired(now or datetime.now(UTC)):
        raise LinkExpired(link)
    return link


def url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/decide/{token}"

"""Calendar's typed inputs: what the API, the subscribe page and calendar clients ask for,
built at the edge and handed to the use cases as they are."""

from __future__ import annotations

from dataclasses import dataclass

from services.calendar.domain import FeedKind
from shared.events import Role


@dataclass(frozen=True, slots=True)
class CreateFeedToken:
    """A new private feed link for its owner (the authenticated user); ``kind``: the feed
    it opens (their bookings, or their assignments)."""

    user_id: str
    email: str
    role: Role
    label: str = ""
    kind: FeedKind = FeedKind.PRIVATE


@dataclass(frozen=True, slots=True)
class RevokeFeedToken:
    """Revoke a link: its owner may, and an admin may revoke anyone's."""

    token: str
    user_id: str
    is_admin: bool = False


@dataclass(frozen=True, slots=True)
class FeedRequest:
    """A calendar client's poll: which feed (``key``: a resource's slug, a private or an
    assignments feed's token) and the language of the calendar's name."""

    kind: FeedKind
    key: str = ""
    language: str = "en"

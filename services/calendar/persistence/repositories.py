"""What calendar's use cases ask of storage, whatever holds it: the SQLAlchemy repositories
(``persistence.sql``) and the in-memory ones of the unit tests (``persistence.fake``) both
answer these. Every answer is a plain value from ``domain``, never a mapped row."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from datetime import datetime

from services.calendar.domain import (
    EntryFacts,
    FeedToken,
    FeedVersion,
    RenderedEntry,
    ResourceFeed,
    UserStanding,
)
from shared.events import Event, ResourceRef


class BookingRepository(ABC):
    """The newest snapshot of each booking (the read model a replay rebuilds)."""

    @abstractmethod
    def store_newest(self, events: Sequence[Event]) -> list[Event]:
        """Per booking, keep the newest event's snapshot when its revision is newer than the
        stored one; the events stored (stale and repeated ones are left out)."""


class UserRepository(ABC):
    """Booking's users as ``user.changed`` events describe them."""

    @abstractmethod
    def store_newest(self, events: Sequence[Event]) -> None:
        """Per user, keep the newest revision (older or repeated ones change nothing)."""

    @abstractmethod
    def standing(self, user_id: str) -> UserStanding | None: ...


class EntryRepository(ABC):
    """Each booking as the feeds need it, numbered by the generation that last changed it."""

    @abstractmethod
    def facts(self, booking_ids: Iterable[str]) -> dict[str, EntryFacts]:
        """The stored facts of these bookings (those that have an entry)."""

    @abstractmethod
    def save_all(
        self, entries: Sequence[RenderedEntry], generation: int, changed_at: datetime
    ) -> None:
        """Store the entries (replacing older ones), all of ``generation``."""

    @abstractmethod
    def since(self, generation: int) -> list[tuple[int, RenderedEntry]]:
        """The entries changed after ``generation``, each with its generation."""

    @abstractmethod
    def ending_from(self, since: datetime) -> list[RenderedEntry]:
        """The entries of bookings that end at ``since`` or later, by booking id: all a feed
        may show (retention never reaches further back), without the older ones."""

    @abstractmethod
    def has_assignments(self, email: str) -> bool:
        """Whether anyone has assigned this person (an address) a job of a booking that
        goes ahead."""


class FeedStateRepository(ABC):
    """One counter for all feeds, so every web process knows cheaply when they changed."""

    @abstractmethod
    def current(self) -> FeedVersion: ...

    @abstractmethod
    def advance(self, now: datetime) -> FeedVersion:
        """One more change: the generation rises and ``changed_at`` never moves backwards.
        The row stays locked to the end of the transaction, so generations are numbered
        in the order their transactions commit."""


class ResourceRepository(ABC):
    """Resources and the slugs they are known by: the resource feeds there are."""

    @abstractmethod
    def store_newest(self, events: Sequence[Event]) -> list[str]:
        """Per resource, keep the newest ``resource.changed`` snapshot when its revision is
        newer than the stored one (one known only from bookings has none yet), and the
        slugs it had before; the ids of the resources stored."""

    @abstractmethod
    def remember(self, resources: Iterable[ResourceRef]) -> None:
        """Add resources not known before, as bookings name them; follow their name, slug
        and kind only while no ``resource.changed`` has described them (those have the last
        word: a booking's snapshot may be older than the resource's rename)."""

    @abstractmethod
    def get(self, slug: str) -> ResourceFeed | None:
        """The resource with this slug now; else the one that had it before (whose feed
        moved to its current slug). While two resources' renames are on their way, the
        one changed last holds the slug."""

    @abstractmethod
    def listed(self) -> list[ResourceFeed]:
        """Every known resource, by kind, then name."""


class TokenRepository(ABC):
    """Private feed tokens, by the hash of the token."""

    @abstractmethod
    def add(self, token: FeedToken) -> None: ...

    @abstractmethod
    def get(self, token_hash: str) -> FeedToken | None: ...

    @abstractmethod
    def revoke(self, token_hash: str, when: datetime) -> None: ...

    @abstractmethod
    def live_of(self, user_id: str) -> list[FeedToken]:
        """A user's tokens not revoked, oldest first."""

    @abstractmethod
    def live(self) -> list[FeedToken]:
        """Every token not revoked."""

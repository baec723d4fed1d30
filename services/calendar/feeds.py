"""Building feeds from the stored entries, and keeping the result in memory until something
changes: clients poll forever, so a poll costs a dictionary lookup, not a render."""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.calendar.persistence.models import FeedEntry, FeedState
from shared.db import Database
from shared.ical import render_calendar


@dataclass(frozen=True)
class FeedQuery:
    """Which entries make a feed, and which VEVENT of each to show."""

    key: str
    name: str
    description: str
    public: bool = False
    slug: str | None = None
    owner_email: str | None = None
    sees_all_pending: bool = False
    decider_email: str | None = None


@dataclass(frozen=True)
class RenderedFeed:
    body: bytes
    gzipped: bytes
    etag: str
    last_modified: datetime


@dataclass(frozen=True)
class FeedSettings:
    zone: str
    ttl_minutes: int = 15
    past_days: int = 90
    cancelled_days: int = 30


@dataclass(frozen=True)
class EntryView:
    """What a feed needs of one entry, mirrored in memory."""

    booking_id: str
    status: str
    visibility: str
    organiser_email: str
    slugs: frozenset[str]
    deciders: frozenset[str]
    last_end: datetime
    cancelled_at: datetime | None
    full: str
    busy: str


class FeedCache:
    """Every entry mirrored in memory and the rendered feeds kept per process, both valid
    while the feed state's generation and the day are unchanged. The generation is read at
    most once per ``check_seconds``; when it moved, only entries of newer generations are
    fetched, so one changed booking costs one row, not a re-read of all."""

    def __init__(self, db: Database, settings: FeedSettings, check_seconds: float = 0.1):
        self.db = db
        self.settings = settings
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        self._render_locks: dict[str, threading.Lock] = {}
        self._feeds: dict[str, tuple[int, str, RenderedFeed]] = {}
        self._mirror: dict[str, EntryView] = {}
        self._mirror_generation = 0
        self._state: tuple[int, datetime] = (-1, datetime(2000, 1, 1, tzinfo=UTC))
        self._checked = 0.0

    def state(self) -> tuple[int, datetime]:
        now = time.monotonic()
        if now - self._checked >= self.check_seconds:
            with self.db.transaction(readonly=True) as session:
                row = session.get(FeedState, 1)
            self._state = (
                (row.generation, row.changed_at) if row else (0, datetime(2000, 1, 1, tzinfo=UTC))
            )
            self._checked = now
        return self._state

    def get(self, query: FeedQuery) -> RenderedFeed:
        generation, changed_at = self.state()
        day = datetime.now(UTC).date().isoformat()
        cached = self._feeds.get(query.key)
        if cached and cached[0] == generation and cached[1] == day:
            return cached[2]
        with self._lock:
            lock = self._render_locks.setdefault(query.key, threading.Lock())
        if cached and not lock.acquire(blocking=False):
            return cached[2]  # another request is rendering it: serve the previous one
        if not cached:
            lock.acquire()
        try:
            again = self._feeds.get(query.key)
            if again and again[0] == generation and again[1] == day:
                return again[2]
            self._sync_mirror(generation)
            feed = self._render(query, changed_at)
            with self._lock:
                if len(self._feeds) > 5000:
                    self._feeds.clear()
                self._feeds[query.key] = (generation, day, feed)
            return feed
        finally:
            lock.release()

    def _sync_mirror(self, generation: int) -> None:
        with self._lock:
            if self._mirror_generation >= generation:
                return
            since = self._mirror_generation
            columns = (
                FeedEntry.booking_id,
                FeedEntry.status,
                FeedEntry.visibility,
                FeedEntry.organiser_email,
                FeedEntry.resource_slugs,
                FeedEntry.deciders,
                FeedEntry.last_end,
                FeedEntry.cancelled_at,
                FeedEntry.vevent_full,
                FeedEntry.vevent_busy,
                FeedEntry.generation,
            )
            with self.db.transaction(readonly=True) as session:
                rows = session.execute(select(*columns).where(FeedEntry.generation > since))
                newest = since
                for row in rows:
                    self._mirror[row.booking_id] = EntryView(
                        row.booking_id,
                        row.status,
                        row.visibility,
                        row.organiser_email,
                        frozenset(row.resource_slugs),
                        frozenset(row.deciders),
                        row.last_end,
                        row.cancelled_at,
                        row.vevent_full,
                        row.vevent_busy,
                    )
                    newest = max(newest, row.generation)
            self._mirror_generation = max(newest, generation)

    def _render(self, query: FeedQuery, changed_at: datetime) -> RenderedFeed:
        now = datetime.now(UTC)
        events = self._entries(query, now)
        text = render_calendar(
            events,
            name=query.name,
            description=query.description,
            method="PUBLISH",
            zones=[self.settings.zone] if events else [],
            refresh_minutes=self.settings.ttl_minutes,
        )
        body = text.encode("utf-8")
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return RenderedFeed(
            body=body,
            gzipped=gzip.compress(body, compresslevel=1, mtime=0),
            etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
            # never backwards: the window moves at midnight, entries change at changed_at
            last_modified=max(changed_at, midnight).replace(microsecond=0),
        )

    def _entries(self, query: FeedQuery, now: datetime) -> list[str]:
        window = now - timedelta(days=self.settings.past_days)
        dropped = now - timedelta(days=self.settings.cancelled_days)
        chosen = []
        for booking_id in sorted(self._mirror):
            entry = self._mirror[booking_id]
            if entry.last_end < window or (entry.cancelled_at and entry.cancelled_at <= dropped):
                continue
            shown = entry.status in ("approved", "cancelled")
            if query.public:
                wanted = shown and entry.visibility == "public"
            elif query.slug is not None:
                wanted = shown and query.slug in entry.slugs
            else:
                wanted = entry.organiser_email == query.owner_email or (
                    entry.status == "pending"
                    and (query.sees_all_pending or query.decider_email in entry.deciders)
                )
            if wanted:
                busy = query.slug is not None and entry.visibility != "public"
                chosen.append(entry.busy if busy else entry.full)
        return chosen

"""Feeds kept in memory until something changes: calendar clients poll forever, so a poll
costs a dictionary lookup, not a render.

Every entry is mirrored in memory, and each rendered feed kept, while the feeds'
generation and the day are unchanged. The generation is read at most once per
``check_seconds``; when it moved, only the entries of newer generations are fetched, so
one changed booking costs one row, not a re-read of all."""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.calendar.domain import (
    NEVER,
    FeedScope,
    FeedVersion,
    RenderedEntry,
    Retention,
    feed_vevents,
    feed_wording,
)
from services.calendar.persistence.unit_of_work import UnitOfWork
from shared.config import Config
from shared.db import utcnow
from shared.ical import render_calendar
from shared.messages import text

MAX_FEEDS = 5000  # rendered feeds kept per process before all are dropped


@dataclass(frozen=True)
class FeedSettings:
    """How feeds are shown and kept: the zone, the refresh asked of clients, retention."""

    zone: str
    ttl_minutes: int = 15
    past_days: int = 90
    cancelled_days: int = 30

    @classmethod
    def from_config(cls, config: Config) -> FeedSettings:
        return cls(
            config.timezone, config.feed_ttl_minutes, config.feed_past_days,
            config.feed_cancelled_days,
        )  # fmt: skip

    @property
    def retention(self) -> Retention:
        return Retention(self.past_days, self.cancelled_days)


@dataclass(frozen=True)
class RenderedFeed:
    body: bytes
    gzipped: bytes
    etag: str
    last_modified: datetime


class FeedCache:
    """Rendered feeds per process (see the module's docstring); ``get`` is thread-safe."""

    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        settings: FeedSettings,
        check_seconds: float = 0.1,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.settings = settings
        self.check_seconds = check_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._render_locks: dict[str, threading.Lock] = {}
        self._feeds: dict[str, tuple[int, str, RenderedFeed]] = {}
        self._mirror: dict[str, RenderedEntry] = {}
        self._ordered: list[RenderedEntry] = []  # the mirror by booking id
        self._mirror_generation = 0
        self._version = FeedVersion(-1, NEVER)
        self._checked = 0.0

    def version(self) -> FeedVersion:
        """The feeds' generation, read at most once per ``check_seconds``."""
        now = time.monotonic()
        if now - self._checked >= self.check_seconds:
            with self.unit_of_work().reading() as uow:
                self._version = uow.feed_state.current()
            self._checked = now
        return self._version

    def get(self, scope: FeedScope, language: str) -> RenderedFeed:
        """The feed, rendered once per generation and day; while one request renders it,
        the others get the previous one."""
        version = self.version()
        day = self.clock().date().isoformat()
        key = f"{scope.key}:{language}"
        cached = self._feeds.get(key)
        if cached and cached[0] == version.generation and cached[1] == day:
            return cached[2]
        with self._lock:
            lock = self._render_locks.setdefault(key, threading.Lock())
        if cached and not lock.acquire(blocking=False):
            return cached[2]
        if not cached:
            lock.acquire()
        try:
            again = self._feeds.get(key)
            if again and again[0] == version.generation and again[1] == day:
                return again[2]
            entries = self._sync(version.generation)
            feed = self.render(scope, language, entries, version.changed_at)
            with self._lock:
                if len(self._feeds) > MAX_FEEDS:
                    self._feeds.clear()
                self._feeds[key] = (version.generation, day, feed)
            return feed
        finally:
            lock.release()

    def _sync(self, generation: int) -> list[RenderedEntry]:
        """Bring the mirror up to ``generation``; every entry, by booking id."""
        with self._lock:
            if self._mirror_generation >= generation:
                return self._ordered
            with self.unit_of_work().reading() as uow:
                changed = uow.entries.since(self._mirror_generation)
            newest = self._mirror_generation
            for entry_generation, entry in changed:
                self._mirror[entry.booking_id] = entry
                newest = max(newest, entry_generation)
            self._ordered = [self._mirror[key] for key in sorted(self._mirror)]
            self._mirror_generation = max(newest, generation)
            return self._ordered

    def render(
        self,
        scope: FeedScope,
        language: str,
        entries: list[RenderedEntry],
        changed_at: datetime,
    ) -> RenderedFeed:
        """A feed from the entries as of now: the calendar, its gzip and ETag, and a
        Last-Modified that never moves backwards (the window moves at midnight, entries
        change at ``changed_at``)."""
        now = self.clock()
        vevents = feed_vevents(scope, entries, now, self.settings.retention)
        name, description = (text(message, language) for message in feed_wording(scope))
        body = render_calendar(
            vevents,
            name=name,
            description=description,
            method="PUBLISH",
            zones=[self.settings.zone] if vevents else [],
            refresh_minutes=self.settings.ttl_minutes,
        ).encode("utf-8")
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return RenderedFeed(
            body=body,
            gzipped=gzip.compress(body, compresslevel=1, mtime=0),
            etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
            last_modified=max(changed_at, midnight).replace(microsecond=0),
        )

"""What to publish after a change: every feed rendered from calendar's read model into the
feed directory, where the proxy (or calendar's thin handler) serves it.

After each applied batch, at start-up and when the day turns (retention moves), the
publisher renders the public feed, each resource's and each live token's feed (a private
or an assignments feed), in
every language, and writes those whose bytes changed; a revoked token's feed and a former
slug's feed are removed. Only the entries a feed may still show are read (those that ended
no longer ago than the retention window), so old bookings cost nothing; the publisher keeps
them, and after a change reads only the entries it changed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from services.calendar.domain import (
    PUBLIC_FEED,
    FeedScope,
    FeedVersion,
    RenderedEntry,
    Retention,
    feed_vevents,
    feed_wording,
    owner_of,
    resource_feed,
    token_feed,
)
from services.calendar.persistence.feed_files import FeedFiles
from services.calendar.persistence.unit_of_work import UnitOfWork
from shared.config import Config
from shared.db import utcnow
from shared.ical import render_calendar
from shared.messages import LANGUAGES, text


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


def render_feed(
    scope: FeedScope, language: str, vevents: list[str], settings: FeedSettings
) -> bytes:
    """A feed's calendar of its VEVENTs (``feed_vevents``), named in ``language``."""
    name, description = (text(message, language) for message in feed_wording(scope))
    return render_calendar(
        vevents,
        name=name,
        description=description,
        method="PUBLISH",
        zones=[settings.zone] if vevents else [],
        refresh_minutes=settings.ttl_minutes,
    ).encode("utf-8")


class FeedPublisher:
    """Renders feeds into ``files`` (see the module's docstring); thread-safe."""

    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        files: FeedFiles,
        settings: FeedSettings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.files = files
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._published: tuple[int, str] | None = None  # generation and day last published
        self._entries: dict[str, RenderedEntry] = {}  # the window's entries, by booking id
        self._mirrored = -1  # the generation they are as of (-1: not read yet)

    def changed(self) -> int:
        """Publish when the feeds moved on (a new generation or a new day) since the last
        time; how many files were written."""
        with self._lock:
            now = self.clock()
            with self.unit_of_work().reading() as uow:
                version = uow.feed_state.current()
            if self._published == (version.generation, now.date().isoformat()):
                return 0
            return self._publish_all(now)

    def publish_all(self) -> int:
        """Render and write every feed (start-up); how many files were written."""
        with self._lock:
            return self._publish_all(self.clock())

    def _publish_all(self, now: datetime) -> int:
        retention_start = now - timedelta(days=self.settings.past_days)
        with self.unit_of_work().reading() as uow:
            version = uow.feed_state.current()
            entries = self._window(uow, version, retention_start)
            resources = uow.resources.listed()
            tokens = uow.tokens.live()
            owners = [(t, owner_of(t, uow.users.standing(t.user_id))) for t in tokens]
        feeds: list[tuple[FeedScope, Callable[[str], Path]]] = [(PUBLIC_FEED, self.files.public)]
        for resource in resources:
            scope = resource_feed(resource.resource_id, resource.label)
            feeds.append((scope, lambda language, slug=resource.slug: self.files.resource(
                slug, language)))  # fmt: skip
        for token, owner in owners:
            if owner is not None:
                scope = token_feed(token.kind, owner)
                feeds.append((scope, lambda language, hashed=token.token_hash:
                              self.files.private(hashed, language)))  # fmt: skip
        written = 0
        kept: set[Path] = set()
        for scope, path_of in feeds:
            for language in LANGUAGES:  # the same bookings, named in each language
                vevents = feed_vevents(scope, entries, now, self.settings.retention, language)
                path = path_of(language)
                kept.add(path)
                written += self._write(path, scope, language, vevents, now, version)
        self.files.sweep("resources", kept)
        self.files.sweep("private", kept)
        self._published = (version.generation, now.date().isoformat())
        return written

    def _window(
        self, uow: UnitOfWork, version: FeedVersion, since: datetime
    ) -> list[RenderedEntry]:
        """The entries ending at ``since`` or later (and some a day older; the feeds apply
        retention exactly), by booking id: read whole once, then only those changed after
        the generation last read."""
        if self._mirrored < 0:
            self._entries = {e.booking_id: e for e in uow.entries.ending_from(since)}
        else:
            self._entries.update((e.booking_id, e) for _, e in uow.entries.since(self._mirrored))
        self._mirrored = version.generation
        kept = since - timedelta(days=1)  # a day's margin: a clock set back finds them still
        self._entries = {k: e for k, e in self._entries.items() if e.last_end >= kept}
        return [self._entries[key] for key in sorted(self._entries)]

    def publish_one(self, scope: FeedScope, path: Path, language: str) -> None:
        """Write one feed that has no file yet (a token just made, a directory emptied),
        for the request that found it missing."""
        now = self.clock()
        with self.unit_of_work().reading() as uow:
            version = uow.feed_state.current()
            entries = uow.entries.ending_from(now - timedelta(days=self.settings.past_days))
        vevents = feed_vevents(scope, entries, now, self.settings.retention, language)
        with self._lock:
            if not path.exists():
                self._write(path, scope, language, vevents, now, version)

    def _write(
        self,
        path: Path,
        scope: FeedScope,
        language: str,
        vevents: list[str],
        now: datetime,
        version: FeedVersion,
    ) -> bool:
        body = render_feed(scope, language, vevents, self.settings)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return self.files.write(path, body, max(version.changed_at, midnight))


def feed_files(config: Config) -> FeedFiles:
    return FeedFiles(Path(config.feed_dir), config.ensure_secret_key().secret_key)


def feed_publisher(
    config: Config, unit_of_work: Callable[[], UnitOfWork], clock: Callable[[], datetime] = utcnow
) -> FeedPublisher:
    """The publisher of ``config``'s feed directory."""
    return FeedPublisher(unit_of_work, feed_files(config), FeedSettings.from_config(config), clock)

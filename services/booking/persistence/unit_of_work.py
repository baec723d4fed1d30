"""What every use case needs: the database, the configuration and a clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.config import Config
from shared.db import Database, utcnow

EXCLUSION_CONSTRAINT = "slots_no_overlap"


class SlotRace(Exception):
    """PostgreSQL's exclusion constraint refused a slot another transaction just took."""


@dataclass
class Context:
    db: Database
    config: Config
    clock: Callable[[], datetime] = field(default=utcnow)

    @property
    def zone(self) -> ZoneInfo:
        return self.config.zone

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A writing transaction; a lost race on a slot surfaces as :class:`SlotRace`."""
        try:
            with self.db.transaction() as session:
                yield session
        except IntegrityError as exc:
            if EXCLUSION_CONSTRAINT in str(exc.orig):
                raise SlotRace() from exc
            raise

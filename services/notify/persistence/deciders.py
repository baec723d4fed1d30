"""The repositories of deciders' mail on notify's database: the resources' newest names
(``resource.changed``), how each decider wants to be alerted (``user.changed``), the lines
waiting for each digest, and the 48-hour reminders of waiting lines."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, exists, select, tuple_, update
from sqlalchemy.orm import Session

from services.notify.domain import DigestItem
from services.notify.persistence.models import (
    DeciderPreference,
    DigestEntry,
    KnownResource,
    WaitingReminder,
)
from services.notify.persistence.repositories import upsert
from shared.events import AlertMode, Event, Kind, ResourceRef, ResourceSnapshot
from shared.inbox import insert_for
from shared.readmodel import newest_per_key, upsert_if_newer


def _store_newest(
    session: Session, table: Table, events: list[Event], key: str, row: Callable[[Any], dict]
) -> None:
    """Per aggregate, the newest event's row when it is newer than the stored one."""
    newest = newest_per_key(events, key=lambda event: event.aggregate_id)
    if newest:
        rows = [row(event.data) for _, event in sorted(newest.items())]
        upsert_if_newer(session, table, rows, key=key)


def _names(resource: ResourceRef | ResourceSnapshot) -> dict[str, str]:
    """A resource's names as the replica keeps them: ``name`` and ``location`` in Swedish,
    ``name_en`` and ``location_en`` in English (an event from before names both alike)."""
    return {
        "name": resource.named("sv"),
        "name_en": resource.named("en"),
        "location": resource.located("sv"),
        "location_en": resource.located("en"),
    }


class SqlResources:
    def __init__(self, session: Session) -> None:
        self.session = session

    def store_newest(self, events: list[Event]) -> None:
        def row(resource) -> dict:
            return {
                "resource_id": resource.resource_id,
                "revision": resource.revision,
                "slug": resource.slug,
                **_names(resource),
                "kind": resource.kind.value,
                "active": resource.active,
            }

        _store_newest(self.session, KnownResource.__table__, events, "resource_id", row)

    def remember(self, refs: Iterable[ResourceRef]) -> None:
        rows = {
            ref.id: {
                "resource_id": ref.id,
                "revision": 0,
                "slug": ref.slug,
                **_names(ref),
                "kind": ref.kind.value,
                "active": True,
            }
            for ref in refs
        }
        if not rows:
            return
        table = KnownResource.__table__
        named = [rows[key] for key in sorted(rows)]
        upsert(self.session, table, named, ("resource_id",), where=table.c.revision == 0)

    def refs(self, resource_ids: Iterable[str]) -> dict[str, ResourceRef]:
        wanted = sorted(set(resource_ids))
        if not wanted:
            return {}
        rows = self.session.scalars(
            select(KnownResource).where(KnownResource.resource_id.in_(wanted))
        )
        return {
            r.resource_id: ResourceRef(
                r.resource_id,
                r.slug,
                r.name,
                Kind(r.kind),
                r.location,
                name_sv=r.name,
                name_en=r.name_en or r.name,
                location_sv=r.location,
                location_en=r.location_en or r.location,
            )
            for r in rows
        }


class SqlPreferences:
    def __init__(self, session: Session) -> None:
        self.session = session

    def store_newest(self, events: list[Event]) -> None:
        def row(user) -> dict:
            return {
                "user_id": user.user_id,
                "email": user.email.strip().lower(),
                "alerts": user.alerts.value,
                "language": user.language.value,
                "revision": user.revision,
            }

        _store_newest(self.session, DeciderPreference.__table__, events, "user_id", row)

    def daily(self) -> frozenset[str]:
        return frozenset(
            self.session.scalars(
                select(DeciderPreference.email).where(
                    DeciderPreference.alerts == AlertMode.DAILY.value
                )
            )
        )

    def languages(self, emails: Collection[str]) -> dict[str, str]:
        wanted = sorted({email.strip().lower() for email in emails})
        if not wanted:
            return {}
        rows = self.session.execute(
            select(DeciderPreference.email, DeciderPreference.language).where(
                DeciderPreference.email.in_(wanted)
            )
        )
        return {email: language for email, language in rows}


class SqlDigests:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, items: Iterable[DigestItem], now: datetime) -> None:
        rows = [
            {
                "recipient": i.recipient,
                "booking_id": i.booking_id,
                "resource_id": i.resource_id,
                "added_at": now,
            }
            for i in sorted(set(items), key=lambda i: (i.recipient, i.booking_id, i.resource_id))
        ]
        if rows:
            insert = insert_for(self.session)(DigestEntry.__table__)
            self.session.execute(insert.on_conflict_do_nothing(), rows)

    def any_due(self, cutoff: datetime) -> bool:
        due = exists().where(DigestEntry.added_at <= cutoff)
        return bool(self.session.scalar(select(due)))

    def recipients_due(self, cutoff: datetime, limit: int) -> list[str]:
        return list(
            self.session.scalars(
                select(DigestEntry.recipient)
                .where(DigestEntry.added_at <= cutoff)
                .group_by(DigestEntry.recipient)
                .order_by(DigestEntry.recipient)
                .limit(limit)
            )
        )

    def lock(self, recipient: str, cutoff: datetime) -> list[tuple[str, str]]:
        rows = self.session.execute(
            select(DigestEntry.booking_id, DigestEntry.resource_id)
            .where(DigestEntry.recipient == recipient, DigestEntry.added_at <= cutoff)
            .order_by(DigestEntry.booking_id, DigestEntry.resource_id)
            .with_for_update()
        )
        return [(booking_id, resource_id) for booking_id, resource_id in rows]

    def remove(self, recipient: str, keys: Collection[tuple[str, str]]) -> None:
        if keys:
            self.session.execute(
                delete(DigestEntry).where(
                    DigestEntry.recipient == recipient,
                    tuple_(DigestEntry.booking_id, DigestEntry.resource_id).in_(sorted(keys)),
                )
            )


class SqlWaitingReminders:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_for_booking(self, booking_id: str) -> dict[str, datetime]:
        rows = self.session.execute(
            select(WaitingReminder.resource_id, WaitingReminder.waiting_since)
            .where(WaitingReminder.booking_id == booking_id)
            .with_for_update()
        )
        return {resource_id: since for resource_id, since in rows}

    def reschedule(
        self,
        booking_id: str,
        drop: Collection[str],
        add: Mapping[str, tuple[datetime, datetime]],
    ) -> list[str]:
        taken: list[str] = []
        if drop:
            gone = (WaitingReminder.booking_id == booking_id) & WaitingReminder.resource_id.in_(
                sorted(drop)
            )
            taken = [
                e for e in self.session.scalars(select(WaitingReminder.event_id).where(gone)) if e
            ]
            self.session.execute(delete(WaitingReminder).where(gone))
        if add:
            rows = [
                {
                    "booking_id": booking_id,
                    "resource_id": resource_id,
                    "waiting_since": since,
                    "remind_at": remind_at,
                    "event_id": None,
                }
                for resource_id, (since, remind_at) in sorted(add.items())
            ]
            upsert(self.session, WaitingReminder.__table__, rows, ("booking_id", "resource_id"))
        return taken

    def _due(self, now: datetime):
        return (WaitingReminder.remind_at <= now) & WaitingReminder.event_id.is_(None)

    def any_due(self, now: datetime) -> bool:
        return bool(self.session.scalar(select(exists().where(self._due(now)))))

    def take_due(self, now: datetime, limit: int) -> list[tuple[str, str, datetime]]:
        rows = self.session.execute(
            select(
                WaitingReminder.booking_id,
                WaitingReminder.resource_id,
                WaitingReminder.waiting_since,
            )
            .where(self._due(now))
            .order_by(WaitingReminder.remind_at, WaitingReminder.booking_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        return [(booking_id, resource_id, since) for booking_id, resource_id, since in rows]

    def mark_taken(self, booking_id: str, resource_ids: Collection[str], event_id: str) -> None:
        self.session.execute(
            update(WaitingReminder)
            .where(
                WaitingReminder.booking_id == booking_id,
                WaitingReminder.resource_id.in_(sorted(resource_ids)),
            )
            .values(event_id=event_id)
        )

"""Notify's bus consumer: each event applied once (the inbox), its mail planned in the same
transaction by :func:`~services.notify.usecases.planning.plan_deliveries`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.notify.persistence.models import ProcessedEvent
from services.notify.persistence.unit_of_work import SqlAlchemyUnitOfWork
from services.notify.settings import MailSettings
from services.notify.usecases.planning import plan_deliveries
from shared.bus.consumer import BatchHandler
from shared.config import Config
from shared.db import Database
from shared.events import Event
from shared.inbox import InboxHandler


def make_handler(db: Database, settings: MailSettings | None = None) -> InboxHandler:
    """Apply each event once: ``handler(event)`` alone, ``handler.batch(events)`` together.
    ``settings`` default to the environment's."""
    mail_settings = settings or MailSettings.from_config(Config.from_env().ensure_secret_key())

    def apply(session: Session, events: list[Event]) -> None:
        plan_deliveries(SqlAlchemyUnitOfWork.joining(session), events, mail_settings)

    return InboxHandler(db, ProcessedEvent, lambda session, event: apply(session, [event]), apply)


def make_batch_handler(db: Database, settings: MailSettings | None = None) -> BatchHandler:
    """Apply a batch of events in one transaction, each at most once."""
    return make_handler(db, settings).batch

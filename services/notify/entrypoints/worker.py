"""Notify's background work: its bus consumer (which plans mail), the sender (which sends
it) and the reminder scheduler, as threads of one process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial

from services.notify.entrypoints.consumer import make_handler
from services.notify.planning import queue_due_reminders
from services.notify.sender import DeliverySender
from services.notify.settings import MailSettings, SenderSettings
from shared.config import Config
from shared.consumer_worker import consumer_loop
from shared.db import Database
from shared.mail import parse_smtp_url

log = logging.getLogger(__name__)

Loop = Callable[[threading.Event], None]
REMINDER_INTERVAL = 30.0  # seconds between looks for due reminders


def sender_loop(config: Config, settings: SenderSettings | None = None) -> Loop:
    settings = settings or SenderSettings.from_config(config)
    if settings.smtp_url:
        parse_smtp_url(settings.smtp_url)  # a malformed URL stops the worker at start

    def run(stop: threading.Event) -> None:
        db = Database(config.notify_database_url)
        try:
            DeliverySender(db, settings).run(stop)
        finally:
            db.dispose()

    return run


def reminder_loop(
    config: Config, settings: MailSettings | None = None, interval: float = REMINDER_INTERVAL
) -> Loop:
    settings = settings or MailSettings.from_config(config)

    def run(stop: threading.Event) -> None:
        db = Database(config.notify_database_url)
        try:
            while not stop.is_set():
                try:
                    while queue_due_reminders(db, settings) and not stop.is_set():
                        pass
                except Exception:
                    log.exception("notify reminders: planning failed; trying again shortly")
                stop.wait(interval)
        finally:
            db.dispose()

    return run


def loops(config: Config, only: str | None = None) -> list[Loop]:
    settings = MailSettings.from_config(config)
    return [
        consumer_loop(config, "notify", partial(make_handler, settings=settings)),
        sender_loop(config),
        reminder_loop(config, settings),
    ]

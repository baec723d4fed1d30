"""Notify's background work as threads of one process: its bus consumer (which plans mail),
the sender (which sends it) and the scheduler (reminders, 48-hour reminders of waiting
lines, the daily digests)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial

from services.notify.entrypoints.consumer import make_handler
from services.notify.mail.smtp import Connect, Mailer
from services.notify.persistence.unit_of_work import SqlAlchemyUnitOfWork
from services.notify.settings import MailSettings, SenderSettings
from services.notify.usecases.reminders import queue_scheduled_mail
from services.notify.usecases.sending import Clock, send_due_mail
from shared.config import Config
from shared.consumer_worker import consumer_loop
from shared.db import Database, service_database, utcnow
from shared.mail import connection_for, parse_smtp_url

log = logging.getLogger(__name__)

Loop = Callable[[threading.Event], None]
REMINDER_INTERVAL = 30.0  # seconds between looks for due reminders and digests


def repeat(stop: threading.Event, work: Callable[[], int], interval: float, what: str) -> None:
    """Run ``work`` until ``stop``: again at once while it finds something to do, after
    ``interval`` when it finds nothing; a failure (an unreachable database) only delays."""
    while not stop.is_set():
        try:
            busy = work()
        except Exception:
            log.exception("notify %s: failed; trying again shortly", what)
            stop.wait(max(interval, 1.0))
            continue
        if not busy:
            stop.wait(interval)


class MailSender:
    """One round of sending (claim, send, record) each call; how many deliveries it
    claimed. Its SMTP connection is kept from round to round while there is mail to send;
    ``close`` closes it."""

    def __init__(
        self,
        db: Database,
        settings: SenderSettings,
        connect: Connect | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.connect = connect or partial(connection_for, settings.smtp_url, settings.sink_dir)
        self.mailer = Mailer(self.connect)
        self.uow, self.settings, self.clock = SqlAlchemyUnitOfWork(db), settings, clock

    def __call__(self) -> int:
        return send_due_mail(self.uow, self.connect, self.settings, self.clock, self.mailer)

    def close(self) -> None:
        self.mailer.close()


def mail_sender(
    db: Database, settings: SenderSettings, connect: Connect | None = None, clock: Clock = utcnow
) -> MailSender:
    """The sender's rounds on ``db`` (see :class:`MailSender`)."""
    return MailSender(db, settings, connect, clock)


def sender_loop(config: Config, settings: SenderSettings | None = None) -> Loop:
    settings = settings or SenderSettings.from_config(config)
    if settings.smtp_url:
        parse_smtp_url(settings.smtp_url)  # a malformed URL stops the worker at start

    def run(stop: threading.Event) -> None:
        db = service_database(config, "notify")
        sender = mail_sender(db, settings)
        try:
            repeat(stop, sender, settings.interval, "sender")
        finally:
            sender.close()
            db.dispose()

    return run


def reminder_loop(
    config: Config, settings: MailSettings | None = None, interval: float = REMINDER_INTERVAL
) -> Loop:
    settings = settings or MailSettings.from_config(config)

    def run(stop: threading.Event) -> None:
        db = service_database(config, "notify")
        try:
            work = partial(queue_scheduled_mail, SqlAlchemyUnitOfWork(db), settings)
            repeat(stop, work, interval, "reminders")
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

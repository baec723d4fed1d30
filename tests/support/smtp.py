"""A real SMTP server on loopback for the tests (aiosmtpd): it keeps what it accepts, can
refuse chosen recipients (5xx) or everything for a while (4xx), and can be stopped and
started again on the same port. Mail is parsed back with the ``email`` package.

aiosmtpd's ``Controller`` listens on ``::1`` unless given a hostname, cannot start on port
0 (so a free port is picked first) and offers AUTH only over TLS."""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import icalendar
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.environment import need

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def parse(data: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(data)  # type: ignore[return-value]


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return parse(self.data)


class Recorder:
    """The aiosmtpd handler: records every accepted message."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refuse: dict[str, str] = {}  # address -> reply, e.g. "550 5.1.1 no such user"
        self.temporary_failure: str | None = None  # e.g. "451 4.3.0 try again later"
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.temporary_failure:
            return self.temporary_failure
        reply = self.refuse.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.changed:
            self.received.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content))
            )
            self.changed.notify_all()
        return "250 Message accepted for delivery"


class SmtpServer:
    """``with SmtpServer() as smtp:`` — a listening server; ``smtp.url`` for the suite."""

    def __init__(self, port: int | None = None, **options: Any) -> None:
        self.port = port or free_port()
        self.options = options
        self.recorder = Recorder()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}?timeout=5"

    def start(self) -> SmtpServer:
        for attempt in range(50):  # the port of a stopped server may take a moment
            controller = Controller(self.recorder, hostname=HOST, port=self.port, **self.options)
            try:
                controller.start()
            except (OSError, RuntimeError):
                if attempt == 49:
                    raise
                time.sleep(0.1)
                continue
            self.controller = controller
            return self
        return self

    def stop(self) -> None:
        controller, self.controller = self.controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- what arrived -----------------------------------------------------------------------

    @property
    def received(self) -> list[Received]:
        with self.recorder.lock:
            return list(self.recorder.received)

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        """At least ``count`` messages, or fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self.recorder.changed:
            while len(self.recorder.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(self.recorder.received)} of {count} mails within {timeout}s"
                    )
                self.recorder.changed.wait(left)
            return list(self.recorder.received)

    def messages_to(self, address: str) -> list[EmailMessage]:
        wanted = address.lower()
        return [r.message for r in self.received if wanted in (a.lower() for a in r.rcpt_tos)]


def calendar_of(message: EmailMessage) -> tuple[str, icalendar.Calendar, str | None]:
    """The ``text/calendar`` alternative of a mail: its text, parsed, and ``method=``."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar" and not part.is_attachment():
            text = part.get_content()
            return text, icalendar.Calendar.from_ical(text), part.get_param("method")
    raise AssertionError("no text/calendar part")


def ics_attachment(message: EmailMessage) -> tuple[str, str]:
    """The ``.ics`` attachment: (file name, text)."""
    for part in message.iter_attachments():
        if (part.get_filename() or "").endswith(".ics"):
            return part.get_filename(), part.get_content().decode("utf-8")
    raise AssertionError("no .ics attachment")


# --- TLS and authentication ---------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_certificate(directory: Path) -> Certificate:
    """A self-signed certificate for 127.0.0.1, made by the openssl command."""
    openssl = shutil.which("openssl")
    need(
        openssl is not None,
        "the openssl command is needed to make a test certificate",
        "apt-get install -y openssl",
    )
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return Certificate(cert, key)


class Accounts:
    """An aiosmtpd authenticator that knows one user."""

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password
        self.logins: list[str] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode()
        if user == self.username and auth_data.password.decode() == self.password:
            self.logins.append(user)
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


@contextlib.contextmanager
def smtp_server(**options: Any) -> Iterator[SmtpServer]:
    with SmtpServer(**options) as server:
        yield server


# --- notify under test ----------------------------------------------------------------------


class Clock:
    """Real time plus what the test moved it on (backoff and leases without sleeping)."""

    def __init__(self) -> None:
        from datetime import timedelta

        self.offset = timedelta(0)

    def __call__(self):
        from shared.db import utcnow

        return utcnow() + self.offset

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.offset += timedelta(**delta)

    def set(self, when: Any) -> None:
        from shared.db import utcnow

        self.offset = when - utcnow()


class Notify:
    """Notify's consumer, sender and scheduler on the test's database, the way its worker
    runs them, with mail going to ``smtp_url`` (or to the sink when it is empty)."""

    MAIL_FROM = "Evenemang <noreply@evenemang.example>"
    INFRA = ("infra-team@example.org",)
    BASE_URL = "https://evenemang.example"

    def __init__(self, config: Any, smtp_url: str = "", **sender_options: Any) -> None:
        from services.notify.entrypoints.consumer import make_handler
        from services.notify.settings import MailSettings, SenderSettings, sink_directory
        from shared.db import Database

        self.config = config
        self.db = Database(config.notify_database_url)
        self.settings = MailSettings(
            mail_from=self.MAIL_FROM,
            infra_team=self.INFRA,
            base_url=self.BASE_URL,
            secret_key=config.secret_key,
            timezone=config.timezone,
        )
        self.handler = make_handler(self.db, self.settings)
        self.clock = Clock()
        options = {"retry_seconds": 60.0, "lease_seconds": 300.0, "batch_size": 50}
        options.update(sender_options)
        self.sender_settings = SenderSettings(
            smtp_url=smtp_url,
            sink_dir=sink_directory(config),
            envelope_from=self.settings.sender_address,
            **options,
        )

    def close(self) -> None:
        self.db.dispose()

    def deliver(self, *envelopes: dict) -> None:
        """Each event through the consumer's handler, one at a time."""
        from shared.events import parse_event

        for envelope in envelopes:
            self.handler(parse_event(envelope))

    def deliver_batch(self, *envelopes: dict) -> None:
        from shared.events import parse_event

        self.handler.batch([parse_event(e) for e in envelopes])

    def sender(self):
        """One round of the worker's sender: claim, send, record; how many it claimed."""
        from services.notify.entrypoints.worker import mail_sender

        return mail_sender(self.db, self.sender_settings, clock=self.clock)

    def claim(self, token: str) -> list[Any]:
        """Claim due mail the way a sender does (and then, say, die)."""
        from services.notify.persistence.unit_of_work import SqlAlchemyUnitOfWork
        from services.notify.usecases.sending import claim_due_mail

        uow = SqlAlchemyUnitOfWork(self.db)
        return claim_due_mail(uow, self.sender_settings, self.clock(), token)

    def send_all(self) -> int:
        """Run the sender until nothing is due; how many rows it claimed."""
        send, total = self.sender(), 0
        try:
            while claimed := send():
                total += claimed
        finally:
            send.close()
        return total

    def reminders_due(self, now: Any) -> int:
        from services.notify.persistence.unit_of_work import SqlAlchemyUnitOfWork
        from services.notify.usecases.reminders import queue_due_reminders

        return queue_due_reminders(SqlAlchemyUnitOfWork(self.db), self.settings, now=now)

    def scheduled(self, now: Any) -> int:
        """One round of the worker's scheduler (reminders, 48-hour reminders, digests)."""
        from services.notify.persistence.unit_of_work import SqlAlchemyUnitOfWork
        from services.notify.usecases.reminders import queue_scheduled_mail

        return queue_scheduled_mail(SqlAlchemyUnitOfWork(self.db), self.settings, now=now)

    def deliveries(self, booking_id: str | None = None) -> list[Any]:
        from sqlalchemy import select

        from services.notify.persistence.models import Delivery

        statement = select(Delivery).order_by(Delivery.id)
        if booking_id:
            statement = statement.where(Delivery.booking_id == booking_id)
        with self.db.transaction(readonly=True) as session:
            return list(session.scalars(statement))

    def kinds(self, booking_id: str | None = None) -> list[tuple[str, str, str]]:
        """(recipient, kind, status) of every delivery, in order."""
        return [(d.recipient, d.kind, d.status) for d in self.deliveries(booking_id)]

"""Notify's sender keeps one SMTP connection for batch after batch (a real server on
loopback counts them by the client's port): opened again when the server drops it between
mails or while it sat idle, never sending a mail twice."""

from __future__ import annotations

from collections import Counter

from services.notify.domain import DeliveryStatus
from services.notify.mail.smtp import Mailer
from services.notify.readmodels import Claimed
from shared.events import BOOKING_APPROVED
from shared.mail import connection_for
from tests.factories import envelope
from tests.support.smtp import Notify, Recorder, SmtpServer

PARTICIPANTS = [{"email": f"p{i}@example.org", "name": f"P {i}"} for i in range(3)]


def _approved() -> dict:
    return envelope(BOOKING_APPROVED, status="approved", participants=PARTICIPANTS)


def _connections(server: SmtpServer) -> int:
    return len(set(server.recorder.peers))


def _ids(server: SmtpServer) -> Counter:
    return Counter(r.message["Message-ID"] for r in server.received)


class Peers(Recorder):
    """Notes the client's address and port of each mail it accepts; with ``drop_at``, drops
    the connection when the next mail after that many begins (``MAIL FROM``)."""

    def __init__(self, drop_at: int | None = None) -> None:
        super().__init__()
        self.peers: list[tuple] = []
        self.drop_at = drop_at

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        if self.drop_at is not None and len(self.received) == self.drop_at:
            self.drop_at = None
            server.transport.abort()
            return "421 closing"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        answer = await super().handle_DATA(server, session, envelope)
        self.peers.append(tuple(session.peer))
        return answer


def test_one_connection_carries_batch_after_batch(config):
    server = SmtpServer()
    server.recorder = Peers()
    with server:
        notify = Notify(config, server.url, batch_size=3)
        try:
            notify.deliver(_approved(), _approved())
            assert notify.send_all() == 8  # three batches
        finally:
            notify.close()
    assert len(server.received) == 8 and set(_ids(server).values()) == {1}
    assert _connections(server) == 1


def test_a_connection_dropped_between_mails_is_opened_again_and_nothing_goes_twice(config):
    """The server drops the line as the fourth mail begins (nothing of it sent): the rest
    of the batch goes on over a new connection, the fourth after its retry, each once."""
    server = SmtpServer()
    server.recorder = Peers(drop_at=3)
    with server:
        notify = Notify(config, server.url, retry_seconds=1.0)
        try:
            notify.deliver(_approved(), _approved())
            assert notify.send_all() == 8
            assert len(server.received) == 7
            waiting = [d for d in notify.deliveries() if d.status == DeliveryStatus.QUEUED.value]
            assert len(waiting) == 1 and "disconnected" in (waiting[0].last_error or "")
            notify.clock.advance(seconds=2)
            assert notify.send_all() == 1
            statuses = {d.status for d in notify.deliveries()}
        finally:
            notify.close()
    assert statuses == {"sent"}
    assert len(server.received) == 8 and set(_ids(server).values()) == {1}
    assert _connections(server) == 3  # the first, the one after the drop, the retry's


def test_a_kept_connection_the_server_let_go_is_opened_again_before_a_mail(tmp_path):
    """Between two batches the server went away and came back: ``NOOP`` finds the kept
    connection dead and the next batch goes over a new one, nothing left for a retry."""
    server = SmtpServer()
    server.recorder = Peers()
    claimed = [
        Claimed(i, f"r{i}@example.org", f"Subject: {i}\r\n\r\nmail {i}\r\n".encode(), 0, "b", "e")
        for i in range(1, 5)
    ]
    with server:
        mailer = Mailer(lambda: connection_for(server.url, tmp_path))
        try:
            first = mailer.send_batch("a@example.org", claimed[:2])
            server.stop()
            server.start()
            second = mailer.send_batch("a@example.org", claimed[2:])
        finally:
            mailer.close()
    outcomes = {**first, **second}
    assert {o.status for o in outcomes.values()} == {DeliveryStatus.SENT}
    assert mailer.connections == 2
    assert len(server.received) == 4 and _connections(server) == 2

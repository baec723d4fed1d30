"""Delivery that loses nothing and sends nothing twice: notify's delivery log and sender
against a real SMTP server on loopback, on the run's backend (SQLite or PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from services.notify.domain import address_key, organiser_mail
from services.notify.persistence.models import Booking, Delivery, ProcessedEvent
from services.notify.persistence.unit_of_work import SqlAlchemyUnitOfWork
from services.notify.usecases.queueing import compose_deliveries
from shared.events import BOOKING_APPROVED, BOOKING_SUBMITTED, parse_event
from shared.mail import ConfigError, MailSink, parse_smtp_url
from tests.factories import envelope
from tests.support.smtp import Accounts, Notify, SmtpServer, make_certificate

PARTICIPANTS = [{"email": f"p{i}@example.org", "name": f"P {i}"} for i in range(3)]


def _approved(**overrides):
    return envelope(BOOKING_APPROVED, status="approved", participants=PARTICIPANTS, **overrides)


def _ids(smtp: SmtpServer) -> Counter:
    return Counter(r.message["Message-ID"] for r in smtp.received)


# --- nothing twice -----------------------------------------------------------------------------


def test_a_redelivered_event_is_mailed_once(notify, smtp):
    event = _approved()
    notify.deliver(event, event)
    notify.deliver_batch(event, event)
    notify.send_all()
    notify.deliver(event)  # after sending too
    assert notify.send_all() == 0
    assert len(smtp.received) == 4  # organiser + three participants
    assert set(_ids(smtp).values()) == {1}


def test_a_replay_that_slips_past_the_inbox_still_plans_nothing_twice(notify, smtp):
    """The delivery log's unique (event, recipient, kind) holds even when the processed-event
    record and read model are gone (a rebuilt read model, a replayed dead letter)."""
    event = _approved()
    notify.deliver(event)
    notify.send_all()
    with notify.db.transaction() as session:
        session.execute(delete(ProcessedEvent))
        session.execute(delete(Booking))
    notify.deliver(event)
    with SqlAlchemyUnitOfWork(notify.db) as uow:  # and directly: the insert skips what exists
        mail = organiser_mail(parse_event(event))
        rows = compose_deliveries([mail, mail], notify.settings, notify.clock(), {})
        assert len(rows) == 2
        assert uow.deliveries.add(rows, notify.clock()) == 0
        uow.commit()
    assert notify.send_all() == 0
    assert len(smtp.received) == 4


def test_two_senders_at_once_send_each_mail_once(config, smtp):
    first = Notify(config, smtp.url, batch_size=5)
    second = Notify(config, smtp.url, batch_size=5)
    try:
        for _ in range(10):
            first.deliver(_approved())
        assert len(first.deliveries()) == 40
        errors = []

        def drain(harness: Notify) -> None:
            try:
                harness.send_all()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=drain, args=(h,)) for h in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert len(smtp.received) == 40
        assert set(_ids(smtp).values()) == {1}
        assert {d.status for d in first.deliveries()} == {"sent"}
        assert {d.attempts for d in first.deliveries()} == {1}
    finally:
        first.close()
        second.close()


def test_a_sender_that_died_mid_batch_has_its_mail_sent_after_the_lease(notify, smtp):
    notify.deliver(_approved())
    assert len(notify.claim("dead-sender")) == 4  # claimed, then the process died
    assert notify.send_all() == 0  # another sender leaves them alone during the lease
    notify.clock.advance(seconds=301)
    assert notify.send_all() == 4
    assert len(smtp.received) == 4
    assert {d.status for d in notify.deliveries()} == {"sent"}


@pytest.mark.slow
def test_two_notify_workers_on_the_bus_send_each_mail_once(config, smtp, tmp_path):
    """Each event published twice (a redelivery), two notify worker processes consuming and
    sending at once: every mail arrives exactly once."""
    from tests.support.bus import publish_events
    from tests.support.processes import running, start, wait_for

    configured = config.replace(smtp_url=smtp.url)
    events = [_approved() for _ in range(6)]
    publish_events(configured, *events, *events)
    workers = [
        start(["-m", "evenemang", "worker", "notify"], configured, tmp_path / f"w{i}.log")
        for i in range(2)
    ]
    with running(*workers):
        smtp.wait_for(24, timeout=30)
        harness = Notify(configured)
        try:
            wait_for(
                lambda: [d.status for d in harness.deliveries()] == ["sent"] * 24,
                message="every delivery to be marked sent",
            )
        finally:
            harness.close()
    assert len(smtp.received) == 24
    assert set(_ids(smtp).values()) == {1}


# --- nothing lost ------------------------------------------------------------------------------


def test_smtp_down_then_up_retries_with_backoff_and_sends_once(notify, smtp):
    smtp.stop()
    notify.deliver(_approved())
    assert notify.send_all() == 4
    rows = notify.deliveries()
    assert {(d.status, d.attempts) for d in rows} == {("queued", 1)}
    assert all("Connection refused" in (d.last_error or "") for d in rows)
    assert notify.send_all() == 0  # not before the backoff has passed

    notify.clock.advance(seconds=61)
    assert notify.send_all() == 4  # still down: the second wait is twice as long
    notify.clock.advance(seconds=61)
    assert notify.send_all() == 0
    smtp.start()
    notify.clock.advance(seconds=60)
    assert notify.send_all() == 4
    assert len(smtp.received) == 4
    assert {(d.status, d.attempts) for d in notify.deliveries()} == {("sent", 3)}


def test_a_4xx_is_retried_and_the_last_attempt_makes_it_dead(config, smtp):
    notify = Notify(config, smtp.url, max_attempts=3, retry_seconds=10)
    try:
        smtp.recorder.temporary_failure = "451 4.3.0 Mailbox busy, try later"
        notify.deliver(envelope(BOOKING_SUBMITTED))
        for _ in range(3):
            notify.send_all()
            notify.clock.advance(seconds=100)
        assert notify.send_all() == 0
        rows = notify.deliveries()
        assert [(d.status, d.attempts) for d in rows] == [("dead", 3)] * len(rows)
        assert all(d.last_error == "451 4.3.0 Mailbox busy, try later" for d in rows)
        assert smtp.received == []
    finally:
        notify.close()


def test_a_5xx_for_one_recipient_fails_that_one_and_the_rest_go(notify, smtp):
    smtp.recorder.refuse["p1@example.org"] = "550 5.1.1 No such user here"
    notify.deliver(_approved())
    notify.send_all()
    by_recipient = {d.recipient: d for d in notify.deliveries()}
    assert by_recipient["p1@example.org"].status == "failed"
    assert by_recipient["p1@example.org"].last_error == "550 5.1.1 No such user here"
    assert by_recipient["p1@example.org"].sent_at is None
    others = [d for r, d in by_recipient.items() if r != "p1@example.org"]
    assert {d.status for d in others} == {"sent"}
    assert sorted(a for r in smtp.received for a in r.rcpt_tos) == [
        "org@example.org",
        "p0@example.org",
        "p2@example.org",
    ]
    notify.clock.advance(hours=3)
    assert notify.send_all() == 0  # a permanent failure is not retried


@pytest.mark.slow
def test_a_worker_restart_loses_no_queued_mail(config, smtp, tmp_path):
    from tests.support.processes import running, start, wait_for

    harness = Notify(config, "")
    try:
        harness.deliver(_approved())  # queued while no worker runs
    finally:
        harness.close()
    with SmtpServer() as other:
        configured = config.replace(smtp_url=other.url)
        worker = start(["-m", "evenemang", "worker", "notify"], configured, tmp_path / "w.log")
        reader = Notify(configured)
        try:
            with running(worker):
                other.wait_for(4, timeout=20)
                wait_for(
                    lambda: {d.status for d in reader.deliveries()} == {"sent"},
                    message="the deliveries to be marked sent",
                )
        finally:
            reader.close()
        assert len(other.received) == 4


# --- SMTP options -------------------------------------------------------------------------------


def test_starttls_with_authentication(config, tmp_path):
    certificate = make_certificate(tmp_path)
    accounts = Accounts("mailer", "s3cret:/@")
    with SmtpServer(
        tls_context=certificate.server_context(),
        require_starttls=True,
        auth_required=True,
        authenticator=accounts,
    ) as server:
        url = (
            f"smtp://mailer:s3cret%3A%2F%40@127.0.0.1:{server.port}"
            f"?starttls=1&timeout=5&cafile={certificate.cert}"
        )
        notify = Notify(config, url)
        try:
            notify.deliver(envelope(BOOKING_SUBMITTED))
            notify.send_all()
            assert {d.status for d in notify.deliveries()} == {"sent"}
        finally:
            notify.close()
        assert accounts.logins == ["mailer"]
        assert len(server.received) == 2  # the receipt and the infra team's alert


def test_smtps_and_a_wrong_password_is_retried_not_failed(config, tmp_path):
    certificate = make_certificate(tmp_path)
    accounts = Accounts("mailer", "right")
    # aiosmtpd counts only STARTTLS as TLS for AUTH; on its implicit TLS port it must be
    # told AUTH is fine (the client still logs in, since the URL has a user)
    with SmtpServer(
        ssl_context=certificate.server_context(), auth_require_tls=False, authenticator=accounts
    ) as server:
        base = f"127.0.0.1:{server.port}?timeout=5&cafile={certificate.cert}"
        wrong = Notify(config, f"smtps://mailer:wrong@{base}")
        try:
            wrong.deliver(envelope(BOOKING_SUBMITTED))
            wrong.send_all()
            rows = wrong.deliveries()
            assert {(row.status, row.attempts) for row in rows} == {("queued", 1)}
            assert all("535" in (row.last_error or "") for row in rows)
        finally:
            wrong.close()
        right = Notify(config, f"smtps://mailer:right@{base}")
        try:
            right.clock.advance(seconds=61)
            assert right.send_all() == 2
            assert len(server.received) == 2
            assert accounts.logins == ["mailer"]
        finally:
            right.close()


def test_smtp_urls_are_read_with_their_options():
    settings = parse_smtp_url("smtp://us%40er:p%3Ass@mail.example.org:587?starttls=1&timeout=7")
    assert (settings.host, settings.port, settings.starttls, settings.implicit_tls) == (
        "mail.example.org",
        587,
        True,
        False,
    )
    assert (settings.username, settings.password, settings.timeout) == ("us@er", "p:ss", 7.0)
    assert "p:ss" not in repr(settings)
    assert parse_smtp_url("smtps://relay.example.org").port == 465
    assert parse_smtp_url("smtp://relay.example.org").timeout == 30.0
    for bad in (
        "http://x",
        "smtp://",
        "smtps://x?starttls=1",
        "smtp://x?timeout=0",
        "smtp://x?tls=1",
    ):
        with pytest.raises(ConfigError):
            parse_smtp_url(bad)


# --- the sink ----------------------------------------------------------------------------------


def test_without_smtp_mail_goes_to_the_sink_once(config):
    notify = Notify(config, "")
    try:
        event = _approved()
        notify.deliver(event)
        assert notify.send_all() == 4
        sink = MailSink(config.data_dir / "mail")
        entries = sink.entries()
        assert len(entries) == 4
        assert {d.status for d in notify.deliveries()} == {"sent"}
        # a sender that crashed after writing sends again: still one file per message
        with notify.db.transaction() as session:
            session.execute(Delivery.__table__.update().values(status="queued"))
        assert notify.send_all() == 4
        assert len(sink.entries()) == 4
        invitation = next(e for e in entries if e.to == "P 0 <p0@example.org>")
        message = sink.read(invitation.name)
        (row,) = [d for d in notify.deliveries() if d.recipient == "p0@example.org"]
        assert row.kind == "invitation" and message["Message-ID"] == row.message_id
        assert message["Subject"] == row.subject == invitation.subject
        assert sink.read("../notify.db") is None and sink.read("x.eml") is None
    finally:
        notify.close()


def test_the_delivery_log_counts_per_booking(notify):
    first, second = _approved(), _approved()
    notify.deliver(first, second)
    with notify.db.transaction(readonly=True) as session:
        count = session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.booking_id == first["data"]["booking_id"])
        )
    assert count == 4
    assert {d.recipient for d in notify.deliveries(first["data"]["booking_id"])} == {
        address_key(" Org@Example.org"),
        *(p["email"] for p in PARTICIPANTS),
    }
    assert notify.settings.reminder_lead == timedelta(hours=24)

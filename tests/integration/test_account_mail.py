"""Invitations and password resets from booking's outbox through notify's consumer and
sender to a real SMTP server on loopback: one mail per event (a redelivery sends nothing
more), in the account holder's language, with the link that then works on booking, once;
what a person who logs in with the university account is told; calendar ignores account
events."""

from __future__ import annotations

import json
import re
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from services.booking.persistence.models import OutboxMessage
from services.booking.usecases import passwords, users
from shared.events import ACCOUNT_INVITED, ACCOUNT_PASSWORD_RESET, EventType
from tests.support.accounts import OIDC, account_mails, quick_passwords
from tests.support.booking import BookingApi
from tests.support.calendar import deliver as deliver_to_calendar
from tests.support.smtp import Notify

LINK = re.compile(r"https?://\S+/password/reset/[\w.\-]+")


@pytest.fixture
def api(make_app, monkeypatch) -> BookingApi:
    quick_passwords(monkeypatch)
    monkeypatch.setattr(passwords, "RESET_ANSWER_SECONDS", 0.0)
    return BookingApi(make_app("booking"))


def _envelopes(api: BookingApi) -> list[dict]:
    """Every event booking wrote, as the bus carries them, oldest first."""
    with api.db.transaction(readonly=True) as session:
        rows = session.scalars(select(OutboxMessage.payload).order_by(OutboxMessage.id)).all()
    return [json.loads(r) for r in rows]


def _mail_all(api: BookingApi, notify: Notify) -> None:
    notify.deliver(*_envelopes(api))
    notify.send_all()


def _text(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def _html(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def _link(message: EmailMessage) -> str:
    (found,) = set(LINK.findall(_text(message)))
    assert f'href="{found}"' in _html(message)
    return found


def _set_password(api: BookingApi, link: str, password: str):
    token = urlsplit(link).path.rsplit("/", 1)[-1]
    return api.post(f"/api/v1/password-reset/{token}", None, {"password": password})


def _logs_in(api: BookingApi, email: str, password: str) -> bool:
    client = api.app.test_client()
    return (
        client.post("/api/v1/session", json={"email": email, "password": password}).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("en", "You have an account in Evenemang", "Choose your password"),
        ("sv", "Du har ett konto i Evenemang", "Välj ditt lösenord"),
    ],
)
def test_an_invitation_arrives_once_with_a_link_that_sets_the_password_once(
    api, notify, smtp, language, subject, words
):
    invited = api.post(
        "/api/v1/users",
        api.admin,
        {"email": "nina@example.org", "name": "Nina New", "language": language},
    )
    assert invited.status_code == 201
    _mail_all(api, notify)
    _mail_all(api, notify)  # a redelivery: the delivery log sends nothing twice
    (message,) = smtp.messages_to("nina@example.org")
    assert len(smtp.received) == 1
    assert message["Subject"] == subject
    assert message["To"] == "Nina New <nina@example.org>"
    assert message["Content-Language"] == language
    assert message["Auto-Submitted"] == "auto-generated"
    assert words in _text(message) and "Nina New" in _text(message)
    link = _link(message)
    assert link.startswith(api.config.base_url)
    assert notify.kinds() == [("nina@example.org", "account_invited", "sent")]
    assert _set_password(api, link, "ninas own password").status_code == 200
    assert _logs_in(api, "nina@example.org", "ninas own password")
    assert _set_password(api, link, "someone else's").status_code == 409
    assert _logs_in(api, "nina@example.org", "ninas own password")


@pytest.mark.parametrize(
    ("language", "subject"),
    [
        ("en", "Choose a new password for Evenemang"),
        ("sv", "Välj ett nytt lösenord till Evenemang"),
    ],
)
def test_a_reset_mail_in_the_person_s_language_carries_a_link_for_an_hour(
    api, notify, smtp, language, subject
):
    users.update_user(api.db, api.organiser.email, password="the old password")
    with api.db.transaction() as session:
        from services.booking.persistence.models import User

        session.get(User, api.organiser.user_id).language = language
    assert (
        api.post("/api/v1/password-reset", None, {"email": api.organiser.email}).status_code == 202
    )
    assert (
        api.post("/api/v1/password-reset", None, {"email": "nobody@example.org"}).status_code == 202
    )
    _mail_all(api, notify)
    (message,) = smtp.wait_for(1)
    assert message.rcpt_tos == (api.organiser.email,)
    parsed = message.message
    assert parsed["Subject"] == subject
    assert "13:00 (CET)" in _text(parsed)  # asked at 12:00 in Stockholm: an hour
    link = _link(parsed)
    assert _set_password(api, link, "the new password").status_code == 200
    assert _logs_in(api, api.organiser.email, "the new password")
    assert not _logs_in(api, api.organiser.email, "the old password")


def test_a_person_with_the_university_account_is_told_to_use_it(
    make_app, config, monkeypatch, smtp
):
    quick_passwords(monkeypatch)
    monkeypatch.setattr(passwords, "RESET_ANSWER_SECONDS", 0.0)
    api = BookingApi(make_app("booking", config.replace(**OIDC)))
    notify = Notify(config, smtp.url)
    try:
        api.post(
            "/api/v1/users",
            api.admin,
            {"email": "nina@example.org", "name": "Nina", "language": "en"},
        )
        with api.db.transaction() as session:
            from services.booking.persistence.models import User

            olle = session.get(User, api.organiser.user_id)
            olle.oidc_issuer, olle.oidc_subject, olle.language = OIDC["oidc_issuer"], "olle", "en"
        api.post("/api/v1/password-reset", None, {"email": api.organiser.email})
        _mail_all(api, notify)
        (invitation,) = smtp.messages_to("nina@example.org")
        assert "log in with your university account at" in _text(invitation)
        assert f"{Notify.BASE_URL}/login" in _text(invitation)
        _link(invitation)  # and a password, if they like
        (reset,) = smtp.messages_to(api.organiser.email)
        assert "there is no password here to change" in _text(reset)
        assert not LINK.findall(_text(reset))
        assert f'href="{Notify.BASE_URL}/login"' in _html(reset)
    finally:
        notify.close()


def test_the_events_are_the_contract_s(api):
    api.post("/api/v1/users", api.admin, {"email": "nina@example.org", "name": "Nina"})
    api.post("/api/v1/password-reset", None, {"email": api.organiser.email})
    invited, reset = account_mails(api.db)
    assert (invited.type, reset.type) == (ACCOUNT_INVITED, ACCOUNT_PASSWORD_RESET)
    with api.db.transaction(readonly=True) as session:
        keys = session.execute(
            select(OutboxMessage.event_type, OutboxMessage.aggregate_id).where(
                OutboxMessage.event_type.like("account.%")
            )
        ).all()
    assert keys == [
        ("account.invited", invited.data.user_id),
        ("account.password_reset", api.organiser.user_id),
    ]


def test_calendar_ignores_account_events(api, make_app):
    calendar = make_app("calendar")
    api.post("/api/v1/users", api.admin, {"email": "nina@example.org", "name": "Nina"})
    mails = [e for e in _envelopes(api) if EventType(e["type"]).is_account]
    deliver_to_calendar(calendar, *mails)
    deliver_to_calendar(calendar, *mails)  # and again: recorded once, changing nothing
    from services.calendar.persistence.models import ProcessedEvent

    with calendar.extensions["evenemang"]["db"].transaction(readonly=True) as session:
        recorded = session.scalars(select(ProcessedEvent.event_type)).all()
    assert recorded == ["account.invited"]
    feed = calendar.test_client().get("/feeds/public.ics")
    assert feed.status_code == 200 and b"BEGIN:VEVENT" not in feed.data

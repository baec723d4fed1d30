"""Notify's HTTP: the delivery log for infra and admins, and the mail sink's outbox pages
for admins, with the roles the contract gives them."""

from __future__ import annotations

import pytest

from shared.auth import Principal, issue_token
from shared.events import BOOKING_APPROVED
from tests.factories import envelope
from tests.support.identity import logged_in
from tests.support.smtp import Notify, SmtpServer

PEOPLE = {
    "admin": Principal("u-admin", "ada@example.org", "Ada Admin", "admin"),
    "infra": Principal("u-infra", "ingrid@example.org", "Ingrid Infra", "infra"),
    "organiser": Principal("u-org", "olle@example.org", "Olle Organiser", "organiser"),
}
PARTICIPANTS = [{"email": f"p{i}@example.org", "name": f"P {i}"} for i in range(3)]


def _bearer(config, role: str) -> dict[str, str]:
    token = issue_token(config.secret_key, PEOPLE[role], f"t-{role}")
    return {"Authorization": f"Bearer {token}"}


def _logged_in(app, role: str):
    return logged_in(app, PEOPLE[role])


@pytest.fixture
def app(make_app):
    return make_app("notify")


# The outbox pages and the mail on them, in each language (the booking's and the page's).
WORDS = {
    "sv": {
        "title": "Utkorgen",
        "count": "4 meddelanden",
        "invitation": "Inbjudan: Thesis defence",
        "approved": "Godkänd: Thesis defence",
        "calendar": "Kalender (REQUEST)",
        "labels": ("Från", "Till", "Svar till", "Datum", "Meddelande-id"),
        "forbidden": "Bara administratörer ser utkorgen.",
        "not_found": "Meddelandet finns inte.",
    },
    "en": {
        "title": "Outbox",
        "count": "4 messages",
        "invitation": "Invitation: Thesis defence",
        "approved": "Approved: Thesis defence",
        "calendar": "Calendar (REQUEST)",
        "labels": ("From", "To", "Reply-To", "Date", "Message-ID"),
        "forbidden": "Only administrators see the outbox.",
        "not_found": "No such message.",
    },
}


@pytest.fixture(params=sorted(WORDS))
def language(request) -> str:
    return request.param


@pytest.fixture
def approved(config, language):
    """An approved booking's mail, planned and sent to the sink."""
    harness = Notify(config, "")
    event = envelope(
        BOOKING_APPROVED, status="approved", participants=PARTICIPANTS, language=language
    )
    harness.deliver(event)
    harness.send_all()
    harness.close()
    return event


def test_the_delivery_log_answers_infra_and_admin_only(app, config, approved):
    client = app.test_client()
    booking_id = approved["data"]["booking_id"]
    path = f"/api/v1/deliveries?booking_id={booking_id}"
    anonymous = client.get(path)
    assert anonymous.status_code == 401
    assert anonymous.mimetype == "application/problem+json"
    assert client.get(path, headers=_bearer(config, "organiser")).status_code == 403
    for role in ("infra", "admin"):
        response = client.get(path, headers=_bearer(config, role))
        assert response.status_code == 200, role
    deliveries = response.get_json()["deliveries"]
    assert len(deliveries) == 4
    for row in deliveries:
        assert {
            "id",
            "booking_id",
            "event_id",
            "recipient",
            "kind",
            "status",
            "attempts",
            "message_id",
            "sent_at",
        } <= set(row)
        assert row["booking_id"] == booking_id
        assert row["event_id"] == approved["id"]
        assert row["status"] == "sent" and row["attempts"] == 1 and row["sent_at"]
    assert sorted((r["recipient"], r["kind"]) for r in deliveries) == [
        ("org@example.org", "approved"),
        ("p0@example.org", "invitation"),
        ("p1@example.org", "invitation"),
        ("p2@example.org", "invitation"),
    ]
    other = client.get("/api/v1/deliveries?booking_id=nope", headers=_bearer(config, "infra"))
    assert other.get_json() == {"deliveries": []}
    choices = "queued, sent, failed, dead, dropped"
    for lang, wording in (("en", "Choose one of"), ("sv", "Välj något av")):
        invalid = client.get(
            f"/api/v1/deliveries?status=lost&lang={lang}", headers=_bearer(config, "infra")
        )
        assert invalid.status_code == 422
        problem = invalid.get_json()
        assert problem["errors"]["status"] == [f"{wording}: {choices}."]
        assert problem["codes"]["status"] == ["choose_one_of"]


def test_the_delivery_log_shows_retries_as_queued_with_the_last_error(app, config):
    with SmtpServer() as smtp:
        smtp.stop()
        harness = Notify(config, smtp.url)
        event = envelope(BOOKING_APPROVED, status="approved")
        harness.deliver(event)
        harness.send_all()
        harness.close()
    response = app.test_client().get(
        "/api/v1/deliveries?status=queued", headers=_bearer(config, "admin")
    )
    (row,) = response.get_json()["deliveries"]
    assert (row["status"], row["attempts"], row["sent_at"]) == ("queued", 1, None)
    assert "Connection refused" in row["last_error"]
    assert row["next_attempt_at"]


def test_the_openapi_document_is_valid_and_describes_the_deliveries_route(app):
    import schemathesis

    document = app.test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    loaded = schemathesis.openapi.from_dict(document)
    operations = {(op.ok().method.upper(), op.ok().path) for op in loaded.get_all_operations()}
    assert operations == {
        ("GET", "/api/v1/deliveries"),
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/openapi.json"),
    }
    parameters = {p["name"] for p in document["paths"]["/api/v1/deliveries"]["get"]["parameters"]}
    assert parameters == {"booking_id", "status", "limit"}


def test_the_outbox_lists_the_sinks_mail_for_admins(app, approved, language):
    words, other = WORDS[language], WORDS["en" if language == "sv" else "sv"]
    assert app.test_client().get("/").headers["Location"].endswith("/outbox")
    anonymous = app.test_client().get("/outbox")
    assert anonymous.status_code == 302
    assert "/login?next=%2Foutbox" in anonymous.headers["Location"]
    refused = _logged_in(app, "infra").get(f"/outbox?lang={language}")
    assert refused.status_code == 403
    assert words["forbidden"] in refused.get_data(as_text=True)
    admin = _logged_in(app, "admin")
    page = admin.get(f"/outbox?lang={language}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert words["title"] in html and words["count"] in html
    assert words["invitation"] in html and words["approved"] in html
    assert other["invitation"] not in html
    assert "p1@example.org" in html


def test_one_message_of_the_outbox(app, config, approved, language):
    from shared.mail import MailSink

    words, other = WORDS[language], WORDS["en" if language == "sv" else "sv"]
    sink = MailSink(config.data_dir / "mail")
    entry = next(e for e in sink.entries() if "p2@example.org" in e.to)
    admin = _logged_in(app, "admin")
    page = admin.get(f"/outbox/{entry.name}?lang={language}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert words["invitation"] in html
    assert words["calendar"] in html and other["calendar"] not in html
    for label in words["labels"]:
        assert f"<dt>{label}</dt>" in html
    assert "BEGIN:VCALENDAR" in html and "invite.ics" in html
    assert "<iframe" in html and "sandbox" in html
    frame = admin.get(f"/outbox/{entry.name}/html")
    assert frame.status_code == 200
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    assert "default-src 'none'" in frame.headers["Content-Security-Policy"]
    raw = admin.get(f"/outbox/{entry.name}/raw")
    assert raw.mimetype == "message/rfc822"
    assert raw.data == sink.raw(entry.name)
    assert admin.get("/outbox/..%2Fnotify.db").status_code == 404
    for bad in ("nope.eml", "0" * 32 + ".eml"):
        missing = admin.get(f"/outbox/{bad}?lang={language}")
        assert missing.status_code == 404
        assert words["not_found"] in missing.get_data(as_text=True)
        assert admin.get(f"/outbox/{bad}/html").status_code == 404
        assert admin.get(f"/outbox/{bad}/raw").status_code == 404
    assert _logged_in(app, "organiser").get(f"/outbox/{entry.name}").status_code == 403
    assert app.test_client().get(f"/outbox/{entry.name}/raw").status_code == 302

"""A staff member's assignments feed: the bookings with a job assigned to them, fed by
events (``booking.assigned`` with lines naming an assignee) and read the way calendar
clients read it, parsed by icalendar and vobject. Only its token's owner sees it; a
revoked or unknown token, or a private feed's token, opens nothing."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.booking.usecases.users import add_user, create_token
from services.calendar.domain import token_hash
from services.calendar.entrypoints.consumer import make_handler
from services.calendar.persistence.models import FeedAssignee
from shared.db import Database
from shared.events import BOOKING_ASSIGNED, BOOKING_CANCELLED, BOOKING_CHANGED, parse_event
from shared.messages import text as _
from tests.factories import envelope, line, resource_ref
from tests.support.calendar import approved, deliver, parse_both, publish
from tests.support.environment import need
from tests.support.libical import restriction_errors
from tests.support.nginx import gunicorn, nginx_binary, nginx_running, wait_up
from tests.support.processes import running
from tests.support.suite import free_port

START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)  # the factory default
PHOTO = resource_ref("r-photo", "photographer", "Fotograf", kind="service", location="")
FILM = resource_ref("r-film", "film", "Filmteam", kind="service", location="")
SEMINAR = {"slug": "seminar", "name_sv": "Seminarium", "name_en": "Seminar"}
ANNA = "anna@example.org"
BO = "bo@example.org"


@pytest.fixture
def calendar(make_app):
    return make_app("calendar")


@pytest.fixture
def bearer(make_app, config):
    """Each person's API token (Authorization header), by address."""
    db = make_app("booking").extensions["evenemang"]["db"]
    headers = {}
    for email in (ANNA, BO, "org@example.org"):
        add_user(db, email, email.split("@")[0].title(), "organiser")
        headers[email] = {"Authorization": f"Bearer {create_token(db, config.secret_key, email)}"}
    return headers


def staff(email: str, name: str = "") -> dict:
    return {"kind": "staff", "email": email, "name": name or email.split("@")[0].title()}


def assigned(revision: int, *lines: dict, event_type=BOOKING_ASSIGNED, **overrides) -> dict:
    """A ``booking.assigned`` envelope (unless told) of an approved seminar in the Aula
    with a photographer and a film crew."""
    overrides.setdefault("updated_at", datetime.now(UTC).isoformat())
    overrides.setdefault("status", "approved")
    return envelope(
        event_type,
        booking_id=overrides.pop("booking_id", "b-1"),
        revision=revision,
        title="Seminar on light",
        category=SEMINAR,
        resources=[resource_ref(), PHOTO, FILM],
        lines=[line("r1", "approved"), *lines],
        **overrides,
    )


def feed_token(calendar, headers: dict, kind: str = "assignments") -> str:
    response = calendar.test_client().post(
        "/api/v1/feed-tokens", json={"label": "work", "kind": kind}, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["kind"] == kind
    assert body["url"].endswith(f"/calendar/feeds/{kind}/{body['token']}.ics")
    assert body["webcal"].startswith("webcal://")
    return body["token"]


def feed(calendar, token: str, lang: str = "en") -> list:
    response = calendar.test_client().get(f"/feeds/assignments/{token}.ics?lang={lang}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"].startswith("private")
    events, _ = parse_both(response.data)
    return events


def test_an_assigned_job_is_in_its_assignees_feed_field_by_field(calendar, bearer):
    deliver(
        calendar,
        approved(
            booking_id="b-1", resources=[resource_ref(), PHOTO], lines=[line("r1", "approved")]
        ),
        assigned(
            3,
            line("r-photo", "approved", assignee=staff(ANNA, "Anna Ek")),
            line("r-film", "approved", assignee=staff(BO, "Bo Ek")),
        ),
    )
    anna = feed_token(calendar, bearer[ANNA])
    response = calendar.test_client().get(f"/feeds/assignments/{anna}.ics")
    assert response.status_code == 200
    assert restriction_errors(response.data.decode()) == []
    [ical], [vob] = parse_both(response.data)
    assert str(ical["SUMMARY"]) == "Seminar on light" == vob.summary.value
    assert ical["DTSTART"].dt == START and ical["DTEND"].dt == START + timedelta(hours=2)
    assert str(ical["LOCATION"]) == "Aula, Building A"
    assert (str(ical["STATUS"]), int(ical["SEQUENCE"])) == ("CONFIRMED", 3)
    assert str(ical["UID"]) == "assignment-booking-b-1@evenemang"  # not the booking's own
    assert str(ical["ORGANIZER"]) == "mailto:org@example.org"
    assert ical["ORGANIZER"].params["CN"] == "Olga Organiser"
    description = str(ical["DESCRIPTION"])  # the booking's language (sv)
    assert "Uppdrag: Fotograf (Anna Ek), Filmteam (Bo Ek)" in description
    assert "Kategori: Seminarium" in description
    assert "Arrangör: Olga Organiser <org@example.org>" in description
    assert [str(c) for c in ical["CATEGORIES"].cats] == ["Seminarium"]
    calendar_name = response.data.decode()
    assert _("feed_assignments_name", "en", email=ANNA) in calendar_name
    # the other assignee has it too; the organiser, assigned nothing, has an empty feed
    assert [str(e["UID"]) for e in feed(calendar, feed_token(calendar, bearer[BO]))] == [
        "assignment-booking-b-1@evenemang"
    ]
    assert feed(calendar, feed_token(calendar, bearer["org@example.org"])) == []


def test_taken_off_a_job_it_shows_cancelled_a_while_then_goes(calendar, bearer):
    anna = feed_token(calendar, bearer[ANNA])
    bo = feed_token(calendar, bearer[BO])
    deliver(calendar, assigned(3, line("r-photo", "approved", assignee=staff(ANNA))))
    assert [str(e["STATUS"]) for e in feed(calendar, anna)] == ["CONFIRMED"]
    assert feed(calendar, bo) == []
    deliver(calendar, assigned(4, line("r-photo", "approved", assignee=staff(BO))))  # reassigned
    [gone] = feed(calendar, anna)
    assert (str(gone["STATUS"]), int(gone["SEQUENCE"])) == ("CANCELLED", 4)
    [now] = feed(calendar, bo)
    assert (str(now["STATUS"]), int(now["SEQUENCE"])) == ("CONFIRMED", 4)
    assert str(now["UID"]) == str(gone["UID"])
    deliver(calendar, assigned(5, line("r-photo", "approved")))  # unassigned
    assert [str(e["STATUS"]) for e in feed(calendar, bo)] == ["CANCELLED"]
    later = datetime.now(UTC) + timedelta(days=31)
    publish(calendar, clock=lambda: later)
    assert feed(calendar, anna) == [] and feed(calendar, bo) == []


def test_a_moved_then_cancelled_booking_follows_in_the_assignees_feed(calendar, bearer):
    anna = feed_token(calendar, bearer[ANNA])
    job = line("r-photo", "approved", assignee=staff(ANNA))
    deliver(
        calendar,
        assigned(3, job),
        assigned(4, job, start=START + timedelta(days=1), event_type=BOOKING_CHANGED),
    )
    [moved] = feed(calendar, anna)
    assert moved["DTSTART"].dt == START + timedelta(days=1) and int(moved["SEQUENCE"]) == 4
    cancelled = assigned(
        5, job, status="cancelled", start=START + timedelta(days=1), event_type=BOOKING_CANCELLED
    )
    deliver(calendar, cancelled)
    [ical] = feed(calendar, anna)
    assert (str(ical["STATUS"]), int(ical["SEQUENCE"])) == ("CANCELLED", 5)
    # a declined line's assignee has no job: taken off, as CANCELLED
    other = assigned(3, line("r-film", "approved", assignee=staff(ANNA)), booking_id="b-2")
    declined = assigned(4, line("r-film", "declined", assignee=staff(ANNA)), booking_id="b-2")
    deliver(calendar, other, declined)
    statuses = {str(e["UID"]): str(e["STATUS"]) for e in feed(calendar, anna)}
    assert statuses["assignment-booking-b-2@evenemang"] == "CANCELLED"


def test_only_the_tokens_owner_sees_it_and_revoked_or_unknown_tokens_get_404(calendar, bearer):
    deliver(calendar, assigned(3, line("r-photo", "approved", assignee=staff(ANNA))))
    client = calendar.test_client()
    anna = feed_token(calendar, bearer[ANNA])
    private = feed_token(calendar, bearer[ANNA], kind="private")
    # one token, one feed: neither path opens the other's feed
    assert client.get(f"/feeds/private/{anna}.ics").status_code == 404
    assert client.get(f"/feeds/assignments/{private}.ics").status_code == 404
    private_feed, _ = parse_both(client.get(f"/feeds/private/{private}.ics").data)
    assert private_feed == []  # her own bookings: none; her jobs are not there
    # someone else cannot revoke it; she can, and it answers 404 from then on
    other = client.delete(f"/api/v1/feed-tokens/{anna}", headers=bearer[BO])
    assert other.status_code == 404
    assert client.delete(f"/api/v1/feed-tokens/{anna}", headers=bearer[ANNA]).status_code == 204
    assert client.get(f"/feeds/assignments/{anna}.ics").status_code == 404
    assert client.get("/feeds/assignments/not-a-token.ics").status_code == 404
    assert client.get(f"/feeds/assignments/{'x' * 200}.ics").status_code == 404
    wrong = client.post("/api/v1/feed-tokens", json={"kind": "public"}, headers=bearer[ANNA])
    assert wrong.status_code == 422 and "kind" in wrong.get_json()["errors"]


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_subscribe_page_offers_an_assignments_link_to_who_has_assignments(
    calendar, bearer, language
):
    deliver(calendar, assigned(3, line("r-photo", "approved", assignee=staff(ANNA))))
    client = calendar.test_client()
    offered = client.get(f"/?lang={language}", headers=bearer[ANNA]).get_data(as_text=True)
    assert _("assignments_feed_intro", language) in offered
    assert 'name="kind" value="assignments"' in offered
    organiser = client.get(f"/?lang={language}", headers=bearer["org@example.org"])
    assert _("assignments_feed_intro", language) not in organiser.get_data(as_text=True)
    made = client.post(
        f"/feed-tokens?lang={language}", data={"kind": "assignments"}, headers=bearer[ANNA]
    )
    html = made.get_data(as_text=True)
    assert made.status_code == 200 and _("new_assignments_feed", language) in html
    url = html.split('id="new-url" readonly value="')[1].split('"')[0]
    assert "/calendar/feeds/assignments/" in url and url.endswith(f".ics?lang={language}")
    response = client.get(url.split("127.0.0.1:8000/calendar")[1])
    assert response.status_code == 200
    [ical], _vob = parse_both(response.data)
    assert str(ical["SUMMARY"]) == "Seminar on light"
    assert _("active_assignment_feeds", language, count=1) in html


def test_a_batch_records_who_is_assigned_in_set_based_writes(config):
    db = Database(config.calendar_database_url)
    try:
        handler = make_handler(db)
        handler.batch(
            [
                parse_event(assigned(3, line("r-photo", "approved", assignee=staff(ANNA)))),
                parse_event(
                    assigned(
                        4,
                        line("r-photo", "approved", assignee=staff(BO)),
                        line("r-film", "approved", assignee=staff(ANNA)),
                    )
                ),
                parse_event(
                    assigned(3, line("r-film", "approved", assignee=staff(BO)), booking_id="b-2")
                ),
            ]
        )
        with db.transaction(readonly=True) as session:
            rows = session.execute(select(FeedAssignee.email, FeedAssignee.booking_id)).all()
        assert sorted(rows) == [(ANNA, "b-1"), (BO, "b-1"), (BO, "b-2")]
        handler.batch([parse_event(assigned(5, line("r-photo", "approved"), booking_id="b-2"))])
        with db.transaction(readonly=True) as session:
            rows = session.execute(select(FeedAssignee.email, FeedAssignee.booking_id)).all()
        assert sorted(rows) == [(ANNA, "b-1"), (BO, "b-1")]
    finally:
        db.dispose()


@pytest.mark.slow
def test_behind_deploys_nginx_the_file_is_sent_by_nginx_and_revoking_removes_it(
    config, calendar, bearer, tmp_path
):
    need(nginx_binary() is not None, "nginx is not installed", "apt-get install nginx")
    deliver(calendar, assigned(3, line("r-photo", "approved", assignee=staff(ANNA))))
    token = feed_token(calendar, bearer[ANNA])
    files = calendar.extensions["feed_publisher"].files
    stored = files.private(token_hash(token), "en")  # written when first asked for
    backend, proxy_dir = free_port(), tmp_path / "nginx"
    proxy_dir.mkdir()
    web = gunicorn(config, "services.calendar:create_app()", backend, tmp_path / "web.log")
    path = f"/calendar/feeds/assignments/{token}.ics"
    with running(web):
        wait_up(f"http://127.0.0.1:{backend}/healthz")
        with nginx_running(proxy_dir, backend, files.root) as port:
            url = f"http://127.0.0.1:{port}{path}"
            with urllib.request.urlopen(url, timeout=10) as response:
                body, etag = response.read(), response.headers["ETag"]
                assert response.headers["Cache-Control"].startswith("private, max-age=")
                assert "X-Accel-Redirect" not in response.headers
            assert body == stored.read_bytes() and b"Seminar on light" in body
            assert token not in stored.name
            again = urllib.request.Request(url, headers={"If-None-Match": etag})
            with pytest.raises(urllib.error.HTTPError) as not_modified:
                urllib.request.urlopen(again, timeout=10)
            assert not_modified.value.code == 304
            not_modified.value.close()
            revoked = calendar.test_client().delete(
                f"/api/v1/feed-tokens/{token}", headers=bearer[ANNA]
            )
            assert revoked.status_code == 204 and not stored.exists()
            with pytest.raises(urllib.error.HTTPError) as gone:
                urllib.request.urlopen(url, timeout=10)
            assert gone.value.code == 404
            gone.value.close()
    access = (proxy_dir / "access.log").read_text()
    assert token not in access and "/calendar/feeds/assignments/***.ics" in access

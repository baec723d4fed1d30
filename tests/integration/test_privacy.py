"""Nothing private through any path: another organiser's private booking that is in the
way shows only as busy (resource and time, no title, no id) in the API's 409 and in GET of
one's own booking, on the request page and the request form, in every feed and in every mail
that reaches someone who may not see it; with the suite's workers running as processes
(booking's relay, calendar's and notify's consumers, notify's sender) on the run's backend
and a real SMTP server on loopback. And a public request that was never approved never
reaches the public feed, while one that was approved and then cancelled does, cancelled."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from services.booking.usecases import users
from tests.support.accounts import quick_passwords
from tests.support.pages import browser, post, text
from tests.support.processes import running, start_worker, wait_for

pytestmark = pytest.mark.slow

PASSWORD = "a long enough password"
SECRET = "Secret merger talks"
SECRET_WISH = "Secret reorganisation"
SECRET_NOTE = "Only for the board"


def _monday(zone: str) -> datetime:
    """A Monday three to four weeks ahead, at midnight in the zone."""
    today = datetime.now(ZoneInfo(zone)).date()
    day = today + timedelta(days=21 + (7 - today.weekday()) % 7)
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))


def _at(day: datetime, hour: int) -> str:
    return day.replace(hour=hour).isoformat()


class People:
    """The booking API as four people use it with their tokens."""

    def __init__(self, app, config) -> None:
        self.client = app.test_client()
        db = app.extensions["evenemang"]["db"]
        self.headers = {}
        for email, name, role in (
            ("ada@example.org", "Ada Admin", "admin"),
            ("ines@example.org", "Ines Infra", "infra"),
            ("priya@example.org", "Priya Private", "organiser"),
            ("otto@example.org", "Otto Other", "organiser"),
        ):
            users.add_user(db, email, name, role, PASSWORD)
            token = users.create_token(db, config.secret_key, email)
            self.headers[email.split("@")[0]] = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, who: str, path: str, body=None):
        return self.client.open(path, method=method, json=body, headers=self.headers[who])

    def created(self, who: str, path: str, body) -> dict:
        response = self.call("POST", who, path, body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()


def _no_secret(where: str, body: str, *ids: str) -> None:
    for secret in (SECRET, SECRET_WISH, SECRET_NOTE, *ids):
        assert secret not in body, f"{secret!r} in {where}"


def _busy(conflicts: list[dict], resource: dict, start: str, end: str, status: str) -> None:
    assert conflicts == [
        {
            "booking_id": None,
            "busy_only": True,
            "resource_id": resource["id"],
            "start": start,
            "end": end,
            "status": status,
            "title": "",
        }
    ]


def test_another_organisers_private_booking_shows_only_as_busy_on_every_path(
    make_app, config, smtp, tmp_path, monkeypatch
):
    quick_passwords(monkeypatch)
    config = config.replace(smtp_url=smtp.url)
    apps = {s: make_app(s, config) for s in ("booking", "calendar", "notify")}
    api = People(apps["booking"], config)
    room = api.created(
        "ada", "/api/v1/resources", {"name": "Board room", "kind": "venue", "slug": "board"}
    )
    hall = api.created(
        "ada", "/api/v1/resources", {"name": "Hall", "kind": "venue", "slug": "hall"}
    )
    api.call("PATCH", "ada", f"/api/v1/resources/{room['id']}", {"requires_approval": False})
    monday = _monday(config.timezone)
    start, end = _at(monday, 10), _at(monday, 12)

    def body(title: str, resource: dict, **extra) -> dict:
        return {
            "title": title,
            "start": start,
            "end": end,
            "resource_ids": [resource["id"]],
        } | extra

    private = {"visibility": "private", "description": SECRET_NOTE, "notes": SECRET_NOTE}
    secret = api.created(
        "priya",
        "/api/v1/bookings",
        body(SECRET, room, participants=[{"email": "board@example.org"}], **private),
    )
    wish = api.created("priya", "/api/v1/bookings", body(SECRET_WISH, hall, **private))
    assert (secret["status"], wish["status"]) == ("approved", "pending")
    secret_ids = (secret["id"], wish["id"])

    workers = [start_worker(s, config, tmp_path) for s in ("booking", "calendar", "notify")]
    with running(*workers):
        # the API: a 409 on create and on change, GET of one's own booking
        refused = api.call("POST", "otto", "/api/v1/bookings", body("Talk by Otto", room))
        assert refused.status_code == 409
        _no_secret("the 409 of a create", refused.get_data(as_text=True), *secret_ids)
        _busy(refused.get_json()["conflicts"], room, secret["start"], secret["end"], "approved")
        mine = api.created(
            "otto",
            "/api/v1/bookings",
            body("Talk by Otto", hall, participants=[{"email": "guest@example.org"}]),
        )
        seen = api.call("GET", "otto", f"/api/v1/bookings/{mine['id']}")
        _no_secret("GET of one's own booking", seen.get_data(as_text=True), *secret_ids)
        _busy(seen.get_json()["conflicts"], hall, wish["start"], wish["end"], "pending")
        moved = api.call(
            "PATCH", "otto", f"/api/v1/bookings/{mine['id']}", {"resource_ids": [room["id"]]}
        )
        assert moved.status_code == 409
        _no_secret("the 409 of a change", moved.get_data(as_text=True), *secret_ids)
        # those who decide on the hall see what they decide between
        decided = api.call("GET", "ines", f"/api/v1/bookings/{mine['id']}").get_json()
        assert [(c["booking_id"], c["title"]) for c in decided["conflicts"]] == [
            (wish["id"], SECRET_WISH)
        ]
        assert api.call("POST", "ines", f"/api/v1/bookings/{wish['id']}/approve").status_code == 200
        seen = api.call("GET", "otto", f"/api/v1/bookings/{mine['id']}")
        _no_secret("GET after the approval", seen.get_data(as_text=True), *secret_ids)
        _busy(seen.get_json()["conflicts"], hall, wish["start"], wish["end"], "approved")

        # the pages: the request page and the request form refused
        otto = browser(apps["booking"], "otto@example.org", PASSWORD)
        page = otto.get(f"/bookings/{mine['id']}")
        assert page.status_code == 200 and "Talk by Otto" in text(page)
        _no_secret("the request page", text(page), *secret_ids)
        form = {
            "date": monday.date().isoformat(),
            "start_time": "10:00",
            "end_time": "12:00",
            "title": "Otto again",
            "resource_ids": [room["id"]],
            "visibility": "internal",
            "language": "en",
            "step": "send",
        }
        taken = post(otto, "/bookings/new", form)
        assert taken.status_code == 409 and "Board room" in text(taken)
        _no_secret("the request form", text(taken), *secret_ids)
        week = otto.get(f"/resources/board/week?week={monday.date().isoformat()}")
        _no_secret("the week view", text(week), *secret_ids)

        # the feeds: anyone's, and Otto's own
        calendar = apps["calendar"].test_client()
        feed_token = calendar.post(
            "/api/v1/feed-tokens", json={}, headers=api.headers["otto"]
        ).get_json()["token"]

        def feed(path: str) -> str:
            return calendar.get(path).get_data(as_text=True)

        wait_for(lambda: feed("/feeds/resources/hall.ics").count("BEGIN:VEVENT") == 1)
        wait_for(lambda: "Talk by Otto" in feed(f"/feeds/private/{feed_token}.ics"))
        for path in (
            "/feeds/public.ics",
            "/feeds/resources/board.ics",
            "/feeds/resources/hall.ics",
            f"/feeds/private/{feed_token}.ics",
        ):
            _no_secret(path, feed(path), *secret_ids)
        assert "BEGIN:VEVENT" in feed("/feeds/resources/board.ics")  # busy, shown as such

        # the mail: Otto's request rejected, then all that was planned is sent
        rejected = api.call(
            "POST", "ines", f"/api/v1/bookings/{mine['id']}/reject", {"reason": "Taken"}
        )
        assert rejected.status_code == 200
        wait_for(lambda: len(smtp.messages_to("otto@example.org")) >= 2, timeout=30)
    allowed = {"priya@example.org", "board@example.org", "ines@example.org", "ada@example.org"}
    others = [m for m in smtp.received if not set(m.rcpt_tos) <= allowed]
    assert {r for m in others for r in m.rcpt_tos} >= {"otto@example.org"}
    for mail in others:
        _no_secret(f"a mail to {mail.rcpt_tos}", mail.data.decode(errors="replace"), *secret_ids)


def test_a_public_request_reaches_the_public_feed_only_once_approved(make_app, config, tmp_path):
    """Withdrawn or rejected before approval: never in public.ics, not even as cancelled;
    approved and then cancelled: there, cancelled, so subscribers' calendars drop it."""
    apps = {s: make_app(s, config) for s in ("booking", "calendar")}
    api = People(apps["booking"], config)
    hall = api.created("ada", "/api/v1/resources", {"name": "Hall", "kind": "venue"})
    monday = _monday(config.timezone)

    def request(title: str, hour: int) -> dict:
        return api.created(
            "priya",
            "/api/v1/bookings",
            {
                "title": title,
                "start": _at(monday, hour),
                "end": _at(monday, hour + 1),
                "resource_ids": [hall["id"]],
                "visibility": "public",
            },
        )

    withdrawn, rejected, approved = (
        request("Withdrawn", 8),
        request("Refused", 10),
        request("Lecture", 12),
    )
    api.call("POST", "priya", f"/api/v1/bookings/{withdrawn['id']}/cancel", {})
    api.call("POST", "ines", f"/api/v1/bookings/{rejected['id']}/reject", {"reason": "No"})
    assert api.call("POST", "ines", f"/api/v1/bookings/{approved['id']}/approve").status_code == 200
    calendar = apps["calendar"].test_client()

    def public() -> dict[str, str]:
        parsed = icalendar.Calendar.from_ical(calendar.get("/feeds/public.ics").data)
        return {str(e["SUMMARY"]): str(e["STATUS"]) for e in parsed.walk("VEVENT")}

    with running(*(start_worker(s, config, tmp_path) for s in ("booking", "calendar"))):
        wait_for(lambda: public() == {"Lecture": "CONFIRMED"}, message="the approval")
        api.call("POST", "priya", f"/api/v1/bookings/{approved['id']}/cancel", {})
        wait_for(lambda: public() == {"Lecture": "CANCELLED"}, message="the cancellation")


def test_pages_and_json_are_not_stored_by_caches_while_feeds_and_static_files_are(
    make_app, config, tmp_path, monkeypatch
):
    """``Cache-Control: no-store`` on every service's pages and JSON, logged in or not (the
    login page carries a form token); the public feeds keep their own caching, and the
    stylesheet is left to the browser."""
    quick_passwords(monkeypatch)
    apps = {s: make_app(s, config) for s in ("booking", "calendar", "notify")}
    People(apps["booking"], config)
    ada = browser(apps["booking"], "ada@example.org", PASSWORD)
    cookie = ada.get_cookie("evenemang_session").value
    stored = {
        "booking": ["/api/v1/bookings", "/api/v1/me", "/", "/bookings", "/users"],
        "calendar": ["/api/v1/me", "/"],
        "notify": ["/api/v1/deliveries", "/api/v1/me", "/outbox"],
    }
    clients = {s: apps[s].test_client() for s in stored}
    for client in clients.values():
        client.set_cookie("evenemang_session", cookie)
    workers = [start_worker(s, config, tmp_path) for s in ("booking", "calendar", "notify")]
    with running(*workers):  # calendar and notify learn of the users from the bus
        for service in ("calendar", "notify"):
            wait_for(lambda s=service: clients[s].get("/api/v1/me").status_code == 200)
    for service, paths in stored.items():
        client = clients[service]
        for path in paths:
            response = client.get(path)
            assert response.status_code in (200, 302), (service, path)
            assert response.headers["Cache-Control"] == "no-store", (service, path)
        unknown = client.get("/api/v1/nothing-here")
        assert unknown.headers["Cache-Control"] == "no-store"
        with client.get("/static/evenemang.css") as static:
            assert static.status_code == 200
            assert "no-store" not in static.headers.get("Cache-Control", "")
    login = apps["booking"].test_client().get("/login")
    assert login.headers["Cache-Control"] == "no-store"
    with apps["calendar"].test_client().get("/feeds/public.ics") as feed:
        assert feed.status_code == 200
        assert feed.headers["Cache-Control"].startswith("public, max-age=")

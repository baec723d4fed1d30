"""Consent to be photographed or filmed (issue 15): a request says whether participants
and speakers will be recorded and how they are told (422 naming ``recording.notice`` when
they are and it does not say how); every participant's invitation and reminder carries
the notice in the mail's language with their own link to opt out (parsed back with the
``email`` package and icalendar from a real SMTP server); the link's page changes nothing
on GET and records the opt-out once on POST; the opt-outs show to the lines' deciders,
infra and admin, never to the organiser or anyone else, nor in any feed; and opting out
mails no one.

Booking's events go to notify (and calendar) as the relay would carry them: the outbox's
envelopes, delivered through each consumer's handler."""

from __future__ import annotations

import html
import itertools
import json
import re
from datetime import timedelta
from typing import Any

import icalendar
import pytest
from sqlalchemy import select

from services.booking.persistence.models import BookingLine, OutboxMessage
from services.booking.usecases import users
from shared import optout_links
from shared.optout_links import OptOutLink
from tests.support.booking import MONDAY, NOW, BookingApi, at
from tests.support.calendar import deliver as deliver_to_calendar
from tests.support.pages import browser, field_error, post, token
from tests.support.pages import text as page_text
from tests.support.smtp import Notify, SmtpServer, calendar_of

PASSWORD = "correct horse battery staple"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"https://evenemang\.example/optout/[A-Za-z0-9_.\-]+")
ANNA, BOB = "anna@example.org", "bob@example.org"
NOTICE = "We take photos for the university's website."
RECORDING = {"photo": True, "film": False, "notice": NOTICE}
WORDS = {
    "sv": {
        "notice": f"Evenemanget kommer att fotograferas: {NOTICE}",
        "opt_out": "Vill du inte bli fotograferad eller filmad, säg det till oss",
        "button": "Jag vill inte bli fotograferad eller filmad",
        "done": "Klart: du har sagt att du inte vill bli fotograferad eller filmad",
        "required": "Skriv hur deltagare och talare får veta att de fotograferas eller filmas.",
        "cancelled": "Evenemanget är inställt.",
        "over": "Evenemanget är över.",
    },
    "en": {
        "notice": f"This event will be photographed: {NOTICE}",
        "opt_out": "If you do not want to be recorded, tell us",
        "button": "I do not want to be photographed or filmed",
        "done": "Done: you have said you do not want to be photographed or filmed",
        "required": "Say how participants and speakers are told that they will be photographed"
        " or filmed.",
        "cancelled": "This event has been cancelled.",
        "over": "This event is over.",
    },
}


class Consent(BookingApi):
    """A hall and a photographer (decided by Tove, its manager) that need no approval, and
    helpers to open and press a participant's opt-out link as a fresh visitor."""

    def __init__(self, app) -> None:
        super().__init__(app)
        self.tove = self.user("organiser", "tove@example.org", "Tove Team")
        self.days = itertools.count()
        for person in (self.organiser, self.tove):  # who also use the pages
            users.update_user(self.db, person.email, password=PASSWORD)
        self.hall = self.make_resource(name="Great hall", requires_approval=False)
        self.photographer = self.make_resource(
            name="Photographer",
            kind="service",
            capacity=None,
            requires_approval=False,
            managers=[self.tove.email],
        )

    def recorded(self, language: str = "en", **overrides: Any) -> dict[str, Any]:
        """An approved request of both, photographed, with Anna and Bob invited."""
        day = MONDAY + timedelta(days=next(self.days))  # each its own: no booking collides
        body = dict(
            start=at(day, 10),
            end=at(day, 12),
            title="Spring symposium",
            language=language,
            participants=[{"email": ANNA, "name": "Anna"}, {"email": BOB}],
            recording=RECORDING,
        )
        return self.booking(self.organiser, self.hall, self.photographer, **{**body, **overrides})

    def token(self, booking: dict[str, Any], email: str = ANNA, language: str = "en") -> str:
        link = OptOutLink(booking["id"], email, language)
        return optout_links.sign(self.config.secret_key, link)

    def visit(self, url: str):
        """A fresh visitor (no session, no language chosen) opening a link."""
        visitor = self.app.test_client()
        return visitor, visitor.get(url)

    def press(self, url: str, **form: str):
        """Open the link and press its button."""
        visitor, page = self.visit(url)
        found = TOKEN.search(page.get_data(as_text=True))
        assert found, page.get_data(as_text=True)
        return visitor.post(url, data={"csrf_token": found[1], **form})

    def read(self, booking: dict[str, Any], user) -> dict[str, Any]:
        response = self.get(f"/api/v1/bookings/{booking['id']}", user)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def envelopes(self, booking_id: str) -> list[dict[str, Any]]:
        """The booking's events as the relay publishes them, oldest first."""
        with self.db.transaction(readonly=True) as session:
            rows = session.scalars(
                select(OutboxMessage.payload)
                .where(OutboxMessage.aggregate_id == booking_id)
                .order_by(OutboxMessage.id)
            )
            return [json.loads(payload) for payload in rows]


@pytest.fixture
def api(make_app) -> Consent:
    return Consent(make_app("booking"))


def _path(url: str) -> str:
    return url.removeprefix(Notify.BASE_URL)


def _text(page) -> str:
    return html.unescape(page.get_data(as_text=True))


# --- the request's input ---------------------------------------------------------------------


@pytest.mark.parametrize("language", sorted(WORDS))
def test_recording_without_saying_how_people_are_told_is_refused_naming_the_notice(api, language):
    for recording in ({"photo": True}, {"film": True, "notice": "   "}):
        body = api.booking_body(api.photographer, recording=recording)
        response = api.post(
            "/api/v1/bookings", api.organiser, body, headers={"Accept-Language": language}
        )
        assert response.status_code == 422, response.get_json()
        problem = response.get_json()
        assert problem["codes"] == {"recording.notice": ["recording_notice_required"]}
        assert problem["errors"]["recording.notice"] == [WORDS[language]["required"]]
    odd = api.booking_body(api.photographer, recording={"photo": "perhaps", "opt_outs": [ANNA]})
    codes = api.post("/api/v1/bookings", api.organiser, odd).get_json()["codes"]
    assert codes == {
        "recording.photo": ["invalid_boolean"],
        "recording.opt_outs": ["unknown_field"],
    }
    assert api.counts() == (0, 0)


def test_recording_is_kept_changed_and_told_in_the_booking_and_its_events(api):
    plain = api.booking(api.organiser, api.photographer, start=at(MONDAY, 14), end=at(MONDAY, 15))
    assert plain["recording"] == {"photo": False, "film": False, "notice": ""}
    booking = api.recorded()
    assert booking["recording"] == RECORDING  # the organiser does not see opt-outs at all
    change = {"recording": {"film": True, "notice": "Filmed for the archive."}}
    changed = api.patch(f"/api/v1/bookings/{booking['id']}", api.organiser, change)
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["recording"] == {
        "photo": False,  # the whole recording is given: what is left out is false
        "film": True,
        "notice": "Filmed for the archive.",
    }
    (entry,) = [
        h
        for h in api.get(f"/api/v1/bookings/{booking['id']}/history", api.organiser).get_json()[
            "history"
        ]
        if h["action"] == "changed"
    ]
    assert {c["field"]: (c["from"], c["to"]) for c in entry["changes"]} == {
        "recording_photo": (True, False),
        "recording_film": (False, True),
        "recording_notice": (NOTICE, "Filmed for the archive."),
    }
    last = api.events(booking["id"])[-1]
    assert last["data"]["recording"] == {
        "photo": False,
        "film": True,
        "notice": "Filmed for the archive.",
        "opt_outs": [],
    }
    refused = api.patch(f"/api/v1/bookings/{booking['id']}", api.organiser, {"recording": {}})
    assert refused.status_code == 200  # nothing recorded: nothing to tell
    assert refused.get_json()["recording"] == {"photo": False, "film": False, "notice": ""}


# --- the link's page ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", sorted(WORDS))
def test_the_link_confirms_on_get_and_opts_out_once_on_post(api, language):
    words = WORDS[language]
    booking = api.recorded(language)
    url = f"/optout/{api.token(booking, ANNA, language)}"
    events = len(api.events(booking["id"]))

    _, page = api.visit(url)  # a mail scanner: nothing changes
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    shown = _text(page)
    assert "Spring symposium" in shown and words["button"] in shown and ANNA in shown
    assert f'lang="{language}"' in shown
    assert api.read(booking, api.infra)["recording"]["opt_outs"] == []
    assert len(api.events(booking["id"])) == events

    done = api.press(url)
    assert done.status_code == 200
    assert words["done"] in _text(done)
    after = api.read(booking, api.infra)
    assert after["recording"]["opt_outs"] == [ANNA]
    assert after["revision"] == booking["revision"] + 1
    assert after["updated_at"] == booking["updated_at"]  # nothing participants see changed
    (opted,) = api.events(booking["id"])[events:]
    assert opted["type"] == "booking.opted_out"
    assert opted["data"]["recording"]["opt_outs"] == [ANNA]

    again = api.press(url)  # idempotent: no new revision, no event
    assert again.status_code == 200
    assert api.read(booking, api.infra)["revision"] == after["revision"]
    assert len(api.events(booking["id"])) == events + 1

    undone = api.press(url, undo="1")  # and a way back
    assert undone.status_code == 200
    assert api.read(booking, api.infra)["recording"]["opt_outs"] == []
    assert [e["type"] for e in api.events(booking["id"])[events:]] == ["booking.opted_out"] * 2


def test_a_forged_or_cut_token_is_a_404_that_says_nothing_more(api):
    booking = api.recorded()
    token = api.token(booking)
    forged = optout_links.sign("another key", OptOutLink(booking["id"], ANNA, "en"))
    for bad in (forged, token[:-3], token[:-3] + "abc", "x" * 2000):
        visitor, page = api.visit(f"/optout/{bad}")
        assert page.status_code in (404, 400)
        assert "Spring symposium" not in _text(page) and ANNA not in _text(page)
        posted = visitor.post(f"/optout/{bad}", data={})
        assert posted.status_code in (400, 404)
    assert api.read(booking, api.infra)["recording"]["opt_outs"] == []


@pytest.mark.parametrize("language", sorted(WORDS))
def test_a_cancelled_or_past_event_says_so_and_takes_no_opt_out(api, language):
    words = WORDS[language]
    cancelled = api.recorded(language)
    assert api.act(cancelled, "cancel", api.organiser).status_code == 200
    _, page = api.visit(f"/optout/{api.token(cancelled, ANNA, language)}")
    assert page.status_code == 410
    assert words["cancelled"] in _text(page) and words["button"] not in _text(page)

    past = api.recorded(language, title="Past")
    api.set_now(NOW + timedelta(days=30))
    url = f"/optout/{api.token(past, ANNA, language)}"
    _, page = api.visit(url)
    assert page.status_code == 410 and words["over"] in _text(page)
    visitor = api.app.test_client()
    assert visitor.post(url, data={"csrf_token": token(visitor)}).status_code == 410
    assert api.read(past, api.infra)["recording"]["opt_outs"] == []


# --- who sees the opt-outs ----------------------------------------------------------------------


def test_opt_outs_show_to_deciders_infra_admin_and_assignees_only(api):
    booking = api.recorded()
    assert api.press(f"/optout/{api.token(booking)}").status_code == 200
    for reader in (api.tove, api.infra, api.admin):
        assert api.read(booking, reader)["recording"]["opt_outs"] == [ANNA]
    listed = api.get("/api/v1/bookings", api.tove).get_json()["bookings"]
    assert [b["recording"]["opt_outs"] for b in listed] == [[ANNA]]
    # the organiser runs the event but is not told who: neither in the booking nor a list
    assert "opt_outs" not in api.read(booking, api.organiser)["recording"]
    mine = api.get("/api/v1/bookings?mine=true", api.organiser).get_json()["bookings"]
    assert ["opt_outs" in b["recording"] for b in mine] == [False]
    assert api.get(f"/api/v1/bookings/{booking['id']}", api.other).status_code == 403
    history = api.get(f"/api/v1/bookings/{booking['id']}/history", api.organiser).get_json()
    assert ANNA not in json.dumps(history)  # the history says a participant, not who


def test_a_line_s_assignee_sees_the_opt_outs(api):
    from services.booking.usecases import queries
    from shared.auth import Principal

    booking = api.recorded()
    api.press(f"/optout/{api.token(booking)}")
    stella = api.user("organiser", "stella@example.org", "Stella Staff")
    with api.db.transaction() as session:
        line = session.get(BookingLine, (booking["id"], api.photographer["id"]))
        line.assignee_kind, line.assignee_email = "staff", stella.email
    ctx = api.app.extensions["booking_context"]
    infra = Principal(api.infra.user_id, api.infra.email, "", "infra")
    view = queries.read_booking(ctx, infra, booking["id"])
    as_stella = Principal(stella.user_id, stella.email, stella.name, "organiser")
    as_otto = Principal(api.other.user_id, api.other.email, api.other.name, "organiser")
    assert view.read_by(as_stella).recording.opt_outs == (ANNA,)
    assert view.read_by(as_otto).recording.opt_outs == ()
    assert not view.read_by(as_otto).opt_outs_shown


# --- mail ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", sorted(WORDS))
def test_invitations_and_reminders_carry_the_notice_and_a_personal_link_that_works(
    api, notify: Notify, smtp: SmtpServer, language
):
    words = WORDS[language]
    booking = api.recorded(language)
    notify.deliver(*api.envelopes(booking["id"]))
    notify.send_all()

    (invitation,) = smtp.messages_to(ANNA)
    text = invitation.get_body(("plain",)).get_content()
    assert words["notice"] in text
    (link,) = LINK.findall(text)
    assert f'href="{link}"' in invitation.get_body(("html",)).get_content()
    assert words["notice"] in html.unescape(invitation.get_body(("html",)).get_content())
    _, calendar, method = calendar_of(invitation)
    (vevent,) = calendar.walk("VEVENT")
    assert method == "REQUEST" and link in str(vevent["DESCRIPTION"])
    assert words["notice"] in str(vevent["DESCRIPTION"])
    (bobs,) = smtp.messages_to(BOB)
    (bob_link,) = LINK.findall(bobs.get_body(("plain",)).get_content())
    assert bob_link != link  # personal
    (organisers,) = smtp.messages_to(api.organiser.email)  # their confirmation: no link
    assert not LINK.findall(organisers.get_body(("plain",)).get_content())

    _, page = api.visit(_path(link))  # the link from the mail works, in the mail's language
    assert words["button"] in _text(page)
    assert api.press(_path(link)).status_code == 200
    assert api.read(booking, api.tove)["recording"]["opt_outs"] == [ANNA]
    assert "opt_outs" not in api.read(booking, api.organiser)["recording"]

    # the opt-out's event mails no one: no update to the participants, nothing to anyone
    sent = len(smtp.received)
    notify.deliver(*api.envelopes(booking["id"])[-1:])
    notify.send_all()
    assert len(smtp.received) == sent

    # a reminder to each participant carries it again (the organiser's does not)
    smtp.recorder.received.clear()
    start = datetime_of(booking["start"])
    assert notify.reminders_due(start - timedelta(hours=24)) == 3
    notify.clock.set(start - timedelta(hours=24))
    notify.send_all()
    (reminder,) = smtp.messages_to(BOB)
    reminded = reminder.get_body(("plain",)).get_content()
    assert words["notice"] in reminded and LINK.findall(reminded) == [bob_link]
    (own,) = smtp.messages_to(api.organiser.email)
    assert words["notice"] not in own.get_body(("plain",)).get_content()


def datetime_of(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value)


def test_no_feed_shows_who_opted_out(api, make_app):
    booking = api.recorded(visibility="public")
    api.press(f"/optout/{api.token(booking)}")
    calendar = make_app("calendar")
    deliver_to_calendar(calendar, *api.envelopes(booking["id"]))
    client = calendar.test_client()
    for path in ("/feeds/public.ics", f"/feeds/resources/{api.photographer['slug']}.ics"):
        feed = client.get(path)
        body = feed.get_data(as_text=True)
        assert feed.status_code == 200 and "Spring symposium" in body, path
        assert ANNA not in body and "/optout/" not in body, path
        for vevent in icalendar.Calendar.from_ical(body).walk("VEVENT"):
            assert ANNA not in str(vevent.get("DESCRIPTION", ""))


# --- pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", sorted(WORDS))
def test_the_request_form_asks_and_the_booking_page_lists_opt_outs_to_deciders(api, lang):
    organiser = browser(api.app, api.organiser.email, PASSWORD, lang)
    form = {
        "date": MONDAY.isoformat(),
        "start_time": "10:00",
        "end_time": "12:00",
        "resource_ids": [api.hall["id"], api.photographer["id"]],
        "title": "Spring symposium",
        "visibility": "internal",
        "language": lang,
        "participants": ANNA,
        "recording_photo": "on",
        "step": "send",
    }
    shown = organiser.get(f"/bookings/new?resource={api.photographer['id']}")
    assert 'id="recording" open' in page_text(shown)  # a photographer chosen: it asks
    refused = post(organiser, "/bookings/new", form, "/bookings/new")
    assert refused.status_code == 422
    assert field_error(refused, "recording_notice") == WORDS[lang]["required"]
    sent = post(organiser, "/bookings/new", {**form, "recording_notice": NOTICE}, "/bookings/new")
    assert sent.status_code == 302, page_text(sent)
    path = sent.headers["Location"]
    booking = {"id": path.rsplit("/", 1)[-1]}
    assert api.read(booking, api.infra)["recording"]["notice"] == NOTICE
    assert api.press(f"/optout/{api.token(booking, ANNA, lang)}").status_code == 200

    heading = {"en": "Not to be recorded", "sv": "Ska inte fotograferas eller filmas"}[lang]
    tove = browser(api.app, api.tove.email, PASSWORD, lang)
    page = page_text(tove.get(path))
    assert heading in page and ANNA in page.split(heading, 1)[1]
    own = _text(organiser.get(path))
    assert NOTICE in own  # what was asked, as sent
    assert heading not in own  # but not who opted out
    edit = _text(organiser.get(f"{path}/edit"))
    assert 'name="recording_photo" value="on" checked' in edit and NOTICE in edit

"""Deciding from a mail's link at ``/decide/{token}``, through the Flask test client with no
login: the confirmation a GET shows changes nothing (a mail scanner follows links); the
POST decides the link's lines as its decider (a person, or a team's shared mailbox for
that team's lines only), once, only for the revision it was sent for, within seven days.
Tokens are signed here with the app's key (shared.decision_links.sign), as notify signs
them. Teams are made through the API. The clock is the app's (BookingApi)."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from services.booking.persistence.models import (
    Base,
    Booking,
    BookingLine,
)
from services.booking.usecases import users
from shared import decision_links, optout_links
from shared.decision_links import Action, DecisionLink
from shared.optout_links import OptOutLink
from tests.support.booking import MONDAY, NOW, BookingApi, at

MAILBOX = "kommunikation@example.org"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Links(BookingApi):
    """Booking with a hall decided by the Infrastructure team (Ivar) and a photographer by
    Kommunikation (Tove, and its shared mailbox), and the organiser's request for both."""

    def __init__(self, app) -> None:
        super().__init__(app)
        self.ivar = self.user("organiser", "ivar@example.org", "Ivar Infra")
        self.tove = self.user("organiser", "tove@example.org", "Tove Team")
        self.hall = self.make_resource(name="Great hall")
        self.photographer = self.make_resource(name="Photographer", kind="service", capacity=None)
        self.team("Infrastructure", [self.ivar.email], "", self.hall)
        self.team("Kommunikation", [self.tove.email], MAILBOX, self.photographer)
        self.request = self.booking(
            self.organiser, self.hall, self.photographer, title="Spring symposium"
        )

    def team(self, name: str, members: list[str], email: str, *decided: dict[str, Any]) -> None:
        """A team made through the API, and given these resources."""
        body = {"name": name, "email": email, "members": members}
        made = self.post("/api/v1/teams", self.admin, body)
        assert made.status_code == 201, made.get_json()
        for resource in decided:
            path = f"/api/v1/resources/{resource['id']}"
            changed = self.patch(path, self.admin, {"team": made.get_json()["slug"]})
            assert changed.status_code == 200, changed.get_json()

    def token(self, decider: str, action: Action = Action.APPROVE, **facts: Any) -> str:
        link = dict(
            booking_id=self.request["id"],
            revision=self.request["revision"],
            decider=decider,
            action=action,
            resource_ids=(self.photographer["id"],),
            issued_at=NOW,
        )
        link.update(facts)
        return decision_links.sign(self.config.secret_key, DecisionLink(**link))

    def open(self, token: str, lang: str = "en"):
        """A fresh visitor (no session) opening the link, as a mail reader or scanner."""
        visitor = self.app.test_client()
        visitor.set_cookie("evenemang_lang", lang)
        return visitor, visitor.get(f"/decide/{token}")

    def confirm(self, token: str, lang: str = "en", **form: str):
        """Open the link and press its button (with ``form``'s fields)."""
        visitor, page = self.open(token, lang)
        found = TOKEN.search(page.get_data(as_text=True))
        assert found, page.status_code
        return visitor.post(f"/decide/{token}", data={"csrf_token": found.group(1), **form})

    def press(self, token: str, lang: str = "en", **form: str):
        """Post the link's form as a browser holding an old copy of its page would (with
        its session's CSRF token), whatever the link's page now shows."""
        visitor = self.app.test_client()
        visitor.set_cookie("evenemang_lang", lang)
        visitor.get("/login")  # a session, with its CSRF token
        with visitor.session_transaction() as session:
            csrf = session["csrf_token"]
        return visitor.post(f"/decide/{token}", data={"csrf_token": csrf, **form})

    def lines(self) -> dict[str, tuple[str, str | None]]:
        with self.db.transaction(readonly=True) as session:
            rows = session.execute(
                select(BookingLine.resource_id, BookingLine.status, BookingLine.decided_by)
            ).all()
        names = {self.hall["id"]: "hall", self.photographer["id"]: "photographer"}
        return {names[r]: (status, by) for r, status, by in rows}

    def everything(self) -> dict[str, Any]:
        """Every table's row count, and every line's state and booking's revision."""
        with self.db.transaction(readonly=True) as session:
            counts = {
                table.name: session.scalar(select(func.count()).select_from(table))
                for table in Base.metadata.sorted_tables
            }
            revisions = session.execute(select(Booking.id, Booking.revision)).all()
        return {"counts": counts, "lines": self.lines(), "revisions": sorted(revisions)}


@pytest.fixture
def site(make_app) -> Links:
    return Links(make_app("booking"))


def words(response) -> str:
    """A page's main text, tags dropped."""
    main = response.get_data(as_text=True).split('<main id="main"', 1)[1]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def say(lang: str, en: str, sv: str) -> str:
    return {"en": en, "sv": sv}[lang]


# --- the confirmation changes nothing ----------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_the_confirmation_says_what_the_link_does_and_a_scanners_get_changes_nothing(site, lang):
    before = site.everything()
    token = site.token(site.tove.email)
    _, page = site.open(token, lang)
    assert page.status_code == 200
    shown = words(page)
    assert say(lang, "Approve this request?", "Godkänna förfrågan?") in shown
    assert "Spring symposium" in shown and "Olle Organiser" in shown
    assert say(lang, "Your decision is on: Photographer", "Ditt beslut gäller: Photographer") in (
        shown
    )
    assert say(lang, "You decide as tove@example.org", "Du beslutar som tove@example.org") in shown
    assert say(lang, "Approve Photographer", "Godkänn Photographer") in shown
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    for _ in range(3):  # a scanner, a preview, the reader: GET and HEAD, any number of times
        assert site.app.test_client().get(f"/decide/{token}").status_code == 200
        assert site.app.test_client().head(f"/decide/{token}").status_code == 200
    assert site.everything() == before


def test_a_reject_link_asks_for_a_reason_on_its_confirmation(site):
    _, page = site.open(site.token(site.tove.email, Action.REJECT))
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Reject this request?" in words(page)
    assert re.search(r'<textarea id="reason" name="reason"[^>]* required', body)


# --- deciding ----------------------------------------------------------------------------


def test_the_button_decides_the_links_line_without_a_password_and_only_once(site):
    token = site.token(site.tove.email)
    done = site.confirm(token)
    assert done.status_code == 200
    shown = words(done)
    assert "Your approval is recorded" in shown
    assert "Photographer for “Spring symposium” is decided." in shown
    assert "The request is now: Pending." in shown
    assert site.lines() == {
        "hall": ("pending", None),
        "photographer": ("approved", "tove@example.org"),
    }
    [*_, last] = site.events(site.request["id"])
    assert last["type"] == "booking.lines_decided"
    assert last["data"]["decided"] == [site.photographer["id"]]
    before = site.everything()

    again = site.press(token)  # the same link's page, sent again (reloaded, or a copy)
    assert again.status_code == 409
    assert "This link has already been used" in words(again)
    _, opened = site.open(token)
    assert opened.status_code == 409 and "already been used" in words(opened)
    assert 'href="/bookings/{}"'.format(site.request["id"]) in opened.get_data(as_text=True)
    assert site.everything() == before


def test_a_reject_without_a_reason_is_a_form_error_and_writes_nothing(site):
    token = site.token(site.tove.email, Action.REJECT)
    before = site.everything()
    refused = site.confirm(token, reason="   ")
    assert refused.status_code == 422
    assert re.search(
        r'<p class="field-error" id="reason-error"><span>Fill in this field, at most 2000 '
        r"characters.</span>",
        refused.get_data(as_text=True),
    )
    assert site.everything() == before
    done = site.confirm(token, reason="Every photographer is away that week")
    assert done.status_code == 200 and "Your rejection is recorded" in words(done)
    assert site.lines()["photographer"] == ("declined", "tove@example.org")
    with site.db.transaction(readonly=True) as session:
        reasons = session.scalars(select(BookingLine.reason)).all()
    assert "Every photographer is away that week" in reasons


def test_a_mailbox_link_decides_its_teams_line_for_the_team(site):
    token = site.token(MAILBOX)
    _, page = site.open(token)
    assert "You decide for the team Kommunikation (kommunikation@example.org)." in words(page)
    assert site.confirm(token).status_code == 200
    assert site.lines() == {
        "hall": ("pending", None),
        "photographer": ("approved", MAILBOX),
    }


def test_a_mailbox_link_naming_another_teams_line_is_refused_and_decides_nothing(site):
    before = site.everything()
    _, page = site.open(site.token(MAILBOX, resource_ids=(site.hall["id"],)))
    assert page.status_code == 403
    assert site.press(site.token(MAILBOX, resource_ids=(site.hall["id"],))).status_code == 403
    assert site.everything() == before
    both = site.token(MAILBOX, resource_ids=(site.hall["id"], site.photographer["id"]))
    _, page = site.open(both)
    assert "Your decision is on: Photographer" in words(page)  # its own line only
    assert site.confirm(both).status_code == 200
    assert site.lines() == {"hall": ("pending", None), "photographer": ("approved", MAILBOX)}


def test_the_infrastructure_teams_address_decides_a_line_no_one_else_decides(site):
    context = site.app.extensions["booking_context"]
    context.config = replace(context.config, infra_team_email="infra-team@example.org")
    room = site.make_resource(name="Small room")  # no team, no manager: infra decides it
    request = site.booking(site.other, room, title="Board meeting")
    token = site.token(
        "infra-team@example.org",
        booking_id=request["id"],
        revision=request["revision"],
        resource_ids=(room["id"],),
    )
    _, page = site.open(token)
    assert "You decide for the infrastructure team (infra-team@example.org)." in words(page)
    assert site.confirm(token).status_code == 200
    [*_, last] = site.events(request["id"])
    assert last["type"] == "booking.approved"
    assert last["data"]["decided_by"] == "infra-team@example.org"


def test_approving_a_line_whose_time_is_taken_says_so(site):
    other = site.booking(site.other, site.photographer, title="Portraits")
    site.approved(other)
    before = site.everything()
    refused = site.confirm(site.token(site.tove.email))
    assert refused.status_code == 409
    assert "Cannot be approved: the time is already booked." in words(refused)
    assert site.everything() == before


def test_approving_a_line_in_a_closure_made_since_says_why(site):
    body = {"start": at(MONDAY, 8), "end": at(MONDAY, 11), "reason": "Lens service"}
    path = f"/api/v1/resources/{site.photographer['id']}/closures"
    assert site.post(path, site.admin, body).status_code == 201
    before = site.everything()
    refused = site.confirm(site.token(site.tove.email))
    assert refused.status_code == 409
    said = words(refused)
    assert "Photographer" in said and "Lens service" in said, said
    assert 'name="csrf_token"' in refused.get_data(as_text=True)  # the button is still there
    assert site.everything() == before


# --- links that no longer decide ------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_a_link_after_a_change_says_the_request_changed_and_links_to_it(site, lang):
    token = site.token(site.tove.email)
    changed = site.patch(
        f"/api/v1/bookings/{site.request['id']}", site.organiser, {"title": "Autumn symposium"}
    )
    assert changed.status_code == 200
    before = site.everything()
    _, page = site.open(token, lang)
    assert page.status_code == 409
    assert say(lang, "The request has changed", "Förfrågan har ändrats") in words(page)
    assert f'href="/bookings/{site.request["id"]}"' in page.get_data(as_text=True)
    assert "Autumn symposium" in words(page)  # as it is now
    assert 'action="/decide/' not in page.get_data(as_text=True)  # no button to press
    posted = site.press(token, lang)  # a page opened before the change, pressed after
    assert posted.status_code == 409
    assert say(lang, "The request has changed", "Förfrågan har ändrats") in words(posted)
    assert site.everything() == before


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_a_link_older_than_seven_days_has_expired(site, lang):
    token = site.token(site.tove.email)
    site.set_now(NOW + timedelta(days=7, seconds=1))
    before = site.everything()
    _, page = site.open(token, lang)
    assert page.status_code == 410
    assert say(lang, "This link has expired", "Länken har gått ut") in words(page)
    assert f'href="/bookings/{site.request["id"]}"' in page.get_data(as_text=True)
    assert site.press(token).status_code == 410
    assert site.everything() == before
    site.set_now(NOW + timedelta(days=6, hours=23))
    assert site.open(token)[1].status_code == 200  # still good a moment before


@pytest.mark.parametrize(
    "who",
    ["deactivated", "left the team", "unknown"],
)
def test_a_link_to_someone_who_no_longer_decides_is_a_403_page(site, who):
    if who == "deactivated":
        users.update_user(site.db, site.tove.email, active=False)
        decider = site.tove.email
    elif who == "left the team":
        decider = site.ivar.email  # decides the hall, not the photographer
    else:
        decider = "nobody@example.org"
    token = site.token(decider)
    before = site.everything()
    _, page = site.open(token)
    assert page.status_code == 403
    assert "Spring symposium" not in words(page)
    assert site.everything() == before


def test_a_forged_broken_or_oversized_token_gets_a_page_that_says_no_more(site):
    good = site.token(site.tove.email)
    link = decision_links.read(site.config.secret_key, good, now=NOW)
    forged = decision_links.sign("another key", link)
    payload, _, signature = good.rpartition(".")
    altered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + signature
    before = site.everything()
    for token, status in ((forged, 404), (altered, 404), (good[:-3], 404), ("x" * 2000, 400)):
        _, page = site.open(token)
        assert page.status_code == status, token[:20]
        assert "Spring symposium" not in words(page) and "Photographer" not in words(page)
        assert page.headers["Cache-Control"] == "no-store"
    assert site.everything() == before


def test_the_decision_needs_the_forms_csrf_token(site):
    token = site.token(site.tove.email)
    visitor, _ = site.open(token)
    before = site.everything()
    assert visitor.post(f"/decide/{token}", data={}).status_code == 400
    assert visitor.post(f"/decide/{token}", data={"csrf_token": "forged"}).status_code == 400
    assert site.app.test_client().post(f"/decide/{token}").status_code == 400  # no session
    assert site.everything() == before


def test_a_participant_opting_out_of_being_recorded_leaves_a_decision_link_standing(site):
    """An opt-out raises the revision, but changes nothing a decider decides on."""
    booking_id = site.request["id"]
    body = {
        "participants": [{"email": "anna@example.org"}],
        "recording": {"photo": True, "film": False, "notice": "Photos on the school's website"},
    }
    changed = site.patch(f"/api/v1/bookings/{booking_id}", site.organiser, body)
    assert changed.status_code == 200, changed.get_json()
    token = site.token(site.tove.email, revision=changed.get_json()["revision"])
    link = OptOutLink(booking_id, "anna@example.org", "en")
    opt_out = f"/optout/{optout_links.sign(site.config.secret_key, link)}"
    visitor = site.app.test_client()
    found = TOKEN.search(visitor.get(opt_out).get_data(as_text=True))
    assert found, "no opt-out form"
    assert visitor.post(opt_out, data={"csrf_token": found.group(1)}).status_code == 200
    assert site.get(f"/api/v1/bookings/{booking_id}", site.admin).get_json()["recording"][
        "opt_outs"
    ] == ["anna@example.org"]

    done = site.confirm(token)
    assert done.status_code == 200, words(done)
    assert site.lines()["photographer"] == ("approved", "tove@example.org")

"""Booking's pages for people and passwords, through the Flask test client in both
languages: the people list (admins, from the navigation), a person's page (name and role,
deactivate, reactivate, the invitation again), inviting, "forgot your password" (the same
confirmation for any address) and setting a password with a mailed link (once; a link
that no longer works says why). Forms carry the page's CSRF token; a refusal shows the
errors beside their fields with the values kept, and writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.booking.usecases import passwords, users
from shared.auth import Principal
from shared.events import EventType, Language
from tests.support.accounts import OIDC, account_mails, newest_link, payloads, quick_passwords
from tests.support.booking import NOW
from tests.support.pages import browser, field_error, login, post, say, text, token

PASSWORD = "a long enough password"
LANGUAGES = ("en", "sv")


class Site:
    """The booking app with a fixed clock and a few people; a browser's ways."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.ctx = app.extensions["booking_context"]
        self.ctx.clock = lambda: NOW
        self.db = self.ctx.db
        self.admin = self.person("admin", "admin@example.org", "Ada Admin")
        self.infra = self.person("infra", "infra@example.org", "Ingrid Infra")
        self.olle = self.person("organiser", "olle@example.org", "Olle Organiser")

    def person(self, role: str, email: str, name: str) -> Principal:
        user = users.add_user(self.db, email, name, role, PASSWORD)
        return Principal(user.id, user.email, user.name, user.role)

    def client(self, who: Principal | None = None, lang: str = "en") -> FlaskClient:
        return browser(self.app, who.email if who else None, PASSWORD, lang)

    def logs_in(self, email: str, password: str) -> bool:
        return login(self.app.test_client(), email, password).status_code == 302

    def set_now(self, now) -> None:
        self.ctx.clock = lambda: now

    def reset_link(self, email: str) -> str:
        """The path of the link a reset for ``email`` mails."""
        passwords.request_password_reset(self.ctx, email)
        return newest_link(self.db)


@pytest.fixture
def site(make_app, monkeypatch) -> Site:
    quick_passwords(monkeypatch)
    monkeypatch.setattr(passwords, "RESET_ANSWER_SECONDS", 0.05)
    return Site(make_app("booking"))


# --- the people list ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_admins_find_people_from_the_navigation(site, lang):
    client = site.client(site.admin, lang)
    nav = text(client.get("/resources"))
    assert 'href="/users"' in nav and say(lang, ">People<", ">Personer<") in nav
    page = client.get("/users")
    assert page.status_code == 200
    listing = text(page)
    for person in (site.admin, site.infra, site.olle):
        assert person.name in listing and person.email in listing
    assert say(lang, "Infrastructure", "Infrastruktur") in listing
    assert say(lang, "Has never logged in", "Har aldrig loggat in") in listing
    assert 'aria-current="page"' in listing and 'href="/users/invite"' in listing
    found = text(client.get("/users?q=olle&role=&active="))
    assert "Olle Organiser" in found and "Ingrid Infra" not in found
    assert "Olle Organiser" not in text(client.get("/users?role=infra"))
    assert "Olle Organiser" not in text(client.get("/users?active=false"))


def test_the_people_pages_are_for_admins_only(site):
    assert site.client().get("/users").status_code == 302  # to the login page
    for who in (site.infra, site.olle):
        client = site.client(who)
        assert 'href="/users"' not in text(client.get("/resources"))
        assert client.get("/users").status_code == 403
        assert client.get(f"/users/{site.olle.user_id}").status_code == 403
        assert client.get("/users/invite").status_code == 403
        before = payloads(site.db)
        data = {"csrf_token": token(client, "/resources")}
        assert client.post(f"/users/{site.admin.user_id}/deactivate", data=data).status_code == 403
        assert payloads(site.db) == before


def test_a_bad_filter_says_so_beside_its_field(site):
    page = site.client(site.admin).get("/users?q=" + "x" * 201)
    assert page.status_code == 422
    assert "200" in field_error(page, "q")


# --- one person -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_admin_changes_a_name_and_role(site, lang):
    client = site.client(site.admin, lang)
    page = client.get(f"/users/{site.olle.user_id}")
    assert page.status_code == 200 and "olle@example.org" in text(page)
    saved = post(client, f"/users/{site.olle.user_id}", {"name": "Olle O", "role": "infra"})
    assert saved.status_code == 302 and saved.headers["Location"] == f"/users/{site.olle.user_id}"
    after = text(client.get(saved.headers["Location"]))
    assert say(lang, "Olle O is saved.", "Olle O är sparad.") in after
    told = [e.data for e in _users_changed(site)][-1]
    assert (told.name, told.role.value) == ("Olle O", "infra")


def _users_changed(site):
    from tests.support.accounts import written

    return written(site.db, EventType.USER_CHANGED)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_bad_name_or_role_is_shown_beside_it_and_nothing_is_written(site, lang):
    client = site.client(site.admin, lang)
    before = payloads(site.db)
    refused = post(client, f"/users/{site.olle.user_id}", {"name": "", "role": "emperor"})
    assert refused.status_code == 422
    assert field_error(refused, "name") and field_error(refused, "role")
    assert payloads(site.db) == before


@pytest.mark.parametrize("lang", LANGUAGES)
def test_deactivating_logs_the_person_out_and_reactivating_lets_them_back(site, lang):
    olle = site.client(site.olle)
    assert olle.get("/bookings").status_code == 200
    client = site.client(site.admin, lang)
    off = post(client, f"/users/{site.olle.user_id}/deactivate", {}, f"/users/{site.olle.user_id}")
    assert off.status_code == 302
    page = text(client.get(off.headers["Location"]))
    assert say(lang, "is deactivated and logged out everywhere", "är avstängd") in page
    assert say(lang, "Reactivate", "Aktivera igen") in page
    assert olle.get("/bookings").status_code == 302  # to the login page: the session ended
    assert not site.logs_in(site.olle.email, PASSWORD)
    on = post(client, f"/users/{site.olle.user_id}/reactivate", {}, f"/users/{site.olle.user_id}")
    assert on.status_code == 302
    assert site.logs_in(site.olle.email, PASSWORD)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_last_admin_is_told_why_they_cannot_step_down(site, lang):
    client = site.client(site.admin, lang)
    me = f"/users/{site.admin.user_id}"
    before = payloads(site.db)
    refused = post(client, f"{me}/deactivate", {}, me)
    assert refused.status_code == 409
    assert say(lang, "last active admin", "sista aktiva administratören") in text(refused)
    demoted = post(client, me, {"name": "Ada Admin", "role": "organiser"})
    assert demoted.status_code == 409
    assert say(lang, "last active admin", "sista aktiva administratören") in field_error(
        demoted, "role"
    )
    assert payloads(site.db) == before


def test_an_admin_who_deactivates_themself_is_logged_out(site):
    site.person("admin", "second@example.org", "Second Admin")
    client = site.client(site.admin)
    me = f"/users/{site.admin.user_id}"
    assert "your own account" in text(client.get(me))
    gone = post(client, f"{me}/deactivate", {}, me)
    assert gone.status_code == 302 and gone.headers["Location"] == "/login"
    assert client.get("/users").status_code == 302


def test_an_admin_who_steps_down_goes_home(site):
    site.person("admin", "second@example.org", "Second Admin")
    client = site.client(site.admin)
    me = f"/users/{site.admin.user_id}"
    down = post(client, me, {"name": "Ada Admin", "role": "infra"})
    assert down.status_code == 302 and down.headers["Location"] == "/"
    assert client.get("/users").status_code == 403


# --- inviting -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_admin_invites_someone_by_mail(site, lang):
    client = site.client(site.admin, lang)
    form = client.get("/users/invite")
    assert form.status_code == 200
    assert f'value="{lang}" checked' in text(form)  # the mail's language: the page's
    sent = post(
        client,
        "/users/invite",
        {"email": "Nina@Example.org", "name": "Nina New", "role": "infra", "language": "en"},
    )
    assert sent.status_code == 302
    page = text(client.get(sent.headers["Location"]))
    assert "Nina New" in page and "nina@example.org" in page
    assert say(lang, "Invited, not logged in yet", "Inbjuden, har inte loggat in") in page
    (mail,) = account_mails(site.db)
    assert mail.type is EventType.ACCOUNT_INVITED and mail.data.language is Language.EN
    again = post(client, sent.headers["Location"] + "/invitation", {}, sent.headers["Location"])
    assert again.status_code == 302
    assert len(account_mails(site.db)) == 2


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_refused_invitation_keeps_what_was_typed(site, lang):
    client = site.client(site.admin, lang)
    before = payloads(site.db)
    taken = post(
        client,
        "/users/invite",
        {"email": "olle@example.org", "name": "Olle Two", "role": "organiser", "language": "sv"},
    )
    assert taken.status_code == 409
    assert "olle@example.org" in field_error(taken, "email")
    assert 'value="Olle Two"' in text(taken)
    bad = post(client, "/users/invite", {"email": "nope", "name": "", "role": "x"})
    assert bad.status_code == 422
    for name in ("email", "name", "role"):
        assert field_error(bad, name)
    assert payloads(site.db) == before


# --- forgot password, set password ----------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_login_page_offers_a_reset_and_every_address_gets_the_same_page(site, lang):
    client = site.client(lang=lang)
    assert 'href="/password/forgot"' in text(client.get("/login"))
    pages = []
    for email in ("olle@example.org", "nobody@example.org"):
        asked = post(client, "/password/forgot", {"email": email})
        assert asked.status_code == 302 and asked.headers["Location"] == "/password/forgot/sent"
        pages.append(text(client.get(asked.headers["Location"])))
    assert pages[0] == pages[1]
    assert say(lang, "works once, for an hour", "fungerar en gång, i en timme") in pages[0]
    assert [m.data.email for m in account_mails(site.db)] == ["olle@example.org"]
    bad = post(client, "/password/forgot", {"email": "not an address"})
    assert bad.status_code == 422 and field_error(bad, "email")
    assert 'value="not an address"' in text(bad)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_mailed_link_sets_the_password_once(site, lang):
    link = site.reset_link("olle@example.org")
    client = site.client(lang=lang)
    form = client.get(link)
    assert form.status_code == 200 and "olle@example.org" in text(form)
    assert form.headers["Cache-Control"] == "no-store"
    assert form.headers["Referrer-Policy"] == "no-referrer"
    differ = post(client, link, {"password": "one new password", "password_again": "another"})
    assert differ.status_code == 422 and field_error(differ, "password_again")
    short = post(client, link, {"password": "short", "password_again": "short"})
    assert short.status_code == 422 and "8" in field_error(short, "password")
    done = post(
        client, link, {"password": "one new password", "password_again": "one new password"}
    )
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert say(lang, "is saved. Log in", "är sparat. Logga in") in text(client.get("/login"))
    assert site.logs_in("olle@example.org", "one new password")
    used = client.get(link)
    assert used.status_code == 409
    assert say(lang, "has been used already", "redan använd") in text(used)
    assert 'href="/password/forgot"' in text(used)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_expired_or_forged_link_says_so(site, lang):
    link = site.reset_link("olle@example.org")
    client = site.client(lang=lang)
    forged = client.get(link[:-3] + "abc")
    assert forged.status_code == 404
    assert say(lang, "not valid", "inte giltig") in text(forged)
    site.set_now(NOW + timedelta(hours=1, seconds=1))
    expired = client.get(link)
    assert expired.status_code == 410
    assert say(lang, "has expired", "har gått ut") in text(expired)
    before = payloads(site.db)
    posted = post(
        client,
        link,
        {"password": "one new password", "password_again": "one new password"},
        "/login",
    )
    assert posted.status_code == 410
    assert payloads(site.db) == before


def test_without_password_login_there_is_no_reset(make_app, config, monkeypatch):
    quick_passwords(monkeypatch)
    app = make_app("booking", config.replace(**OIDC, password_login=False))
    client = app.test_client()
    assert "/password/forgot" not in text(client.get("/login"))
    assert client.get("/password/forgot").status_code == 403

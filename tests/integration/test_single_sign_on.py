"""Single sign-on against a real OpenID provider (oidc-provider from npm, on loopback): the
person goes through its login and consent pages with ``requests`` as a browser would, and
comes back to booking's callback (the Flask test client, on the run's database).

First login, returning login, group → role, linking by a confirmed address, key rotation,
and every forged, broken or replayed answer refused with a page, no session and nothing
written about the person."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from services.booking import openid
from services.booking.persistence.models import (
    OutboxMessage,
    PendingSignIn,
    User,
    UserSession,
)
from services.booking.usecases.users import add_user, update_user
from shared.events import RESOURCE_CHANGED, USER_CHANGED, parse_event
from tests.support.booking import BookingApi
from tests.support.openid_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    Account,
    OpenIdProvider,
    ProviderVisit,
    openid_provider,
    path_of,
    query_of,
)

ANN = Account(
    "ann-pass",
    {
        "email": "Ann.Andersson@uni.example",
        "email_verified": True,
        "name": "Ann Andersson",
        "groups": ["staff"],
    },
)
MALLORY = Account(
    "mallory-pass",
    {"email": "mallory@uni.example", "email_verified": True, "name": "Mallory", "groups": []},
)
ROLE_GROUPS = {"oidc_infra_groups": "grp-infra, grp-venues", "oidc_admin_groups": "grp-admin"}


class Browser:
    """One person's browser: its cookies at booking (the Flask test client) and at the
    provider."""

    def __init__(self, app, provider: OpenIdProvider) -> None:
        self.app = app
        self.client = english(app)
        self.visit = ProviderVisit(provider)

    def start(self, next_path: str | None = None) -> str:
        """Click "Log in with your university account": the provider's address."""
        answer = self.client.get(
            "/login/oidc", query_string={"next": next_path} if next_path else {}
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)
        return answer.headers["Location"]

    def at_provider(
        self, login: str, password: str, *, consent: bool = True, next_path=None
    ) -> str:
        """Start, and go through the provider's pages: the address it sends us back to."""
        return self.visit.authorize(self.start(next_path), login, password, consent=consent)

    def back(self, return_url: str):
        return self.client.get(path_of(return_url))

    def log_in(self, login: str, password: str, **kwargs: Any):
        return self.back(self.at_provider(login, password, **kwargs))

    def me(self) -> dict | None:
        answer = self.client.get("/api/v1/me")
        return answer.get_json() if answer.status_code == 200 else None

    def log_out(self) -> None:
        assert self.client.delete("/api/v1/session").status_code == 204


def english(app):
    """A test client whose browser asks for English (pages default to Swedish)."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def provider(config, tmp_path) -> Iterator[OpenIdProvider]:
    redirect = config.base_url + "/login/oidc/callback"
    with openid_provider(tmp_path, [redirect], {"ann": ANN, "mallory": MALLORY}) as running:
        yield running


def single_sign_on(config, provider: OpenIdProvider, **settings: Any):
    return config.replace(
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        **settings,
    )


@pytest.fixture
def app(config, make_app, provider):
    return make_app("booking", single_sign_on(config, provider, **ROLE_GROUPS))


@pytest.fixture
def browser(app, provider) -> Browser:
    return Browser(app, provider)


def users(app) -> list[User]:
    with app.extensions["evenemang"]["db"].transaction(readonly=True) as session:
        return list(session.scalars(select(User).order_by(User.created_at)))


def user_events(app) -> list[Any]:
    with app.extensions["evenemang"]["db"].transaction(readonly=True) as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.event_type == USER_CHANGED)
            .order_by(OutboxMessage.id)
        )
        return [parse_event(row.payload).data for row in rows]


def session_ids(app) -> list[str]:
    """The sessions booking keeps, oldest first."""
    with app.extensions["evenemang"]["db"].transaction(readonly=True) as session:
        return list(session.scalars(select(UserSession.id).order_by(UserSession.created_at)))


def pending(app) -> int:
    with app.extensions["evenemang"]["db"].transaction(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(PendingSignIn))


def refused(client, answer, status: int, wording: str):
    """Sent to the page saying why (the tests check there is no session after it)."""
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert answer.headers["Location"] == "/login/oidc/failed"
    shown = client.get("/login/oidc/failed")
    page = shown.get_data(as_text=True)
    assert shown.status_code == status, page
    assert "did not work" in page and wording in page, page
    assert "no-store" in shown.headers["Cache-Control"]
    return shown


# --- the flow ----------------------------------------------------------------------------------


@pytest.mark.parametrize("claims_in", ["userinfo", "id_token"])
def test_a_first_login_creates_an_organiser_and_lands_where_they_were_going(
    config, make_app, tmp_path, claims_in
):
    redirect = config.base_url + "/login/oidc/callback"
    with openid_provider(
        tmp_path, [redirect], {"ann": ANN}, id_token_claims=claims_in == "id_token"
    ) as provider:
        app = make_app("booking", single_sign_on(config, provider, **ROLE_GROUPS))
        page = english(app).get("/login?next=/queue").get_data(as_text=True)
        assert "Log in with your university account" in page
        assert 'href="/login/oidc?next=/queue"' in page

        browser = Browser(app, provider)
        asked = query_of(browser.start("/bookings"))
        assert asked["response_type"] == "code" and asked["client_id"] == CLIENT_ID
        assert asked["redirect_uri"] == redirect
        assert asked["scope"].split() == ["openid", "email", "profile", "groups"]
        assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
        assert len(asked["state"]) >= 32 and len(asked["nonce"]) >= 32
        assert pending(app) == 1

        answer = browser.log_in("ann", ANN.password, next_path="/bookings")
        assert answer.status_code == 302 and answer.headers["Location"] == "/bookings"
        me = browser.me()
        assert me["email"] == "ann.andersson@uni.example"
        assert (me["name"], me["role"]) == ("Ann Andersson", "organiser")

        [ann] = users(app)
        assert (ann.id, ann.oidc_issuer, ann.oidc_subject) == (
            me["user_id"],
            provider.issuer,
            "ann",
        )
        assert ann.password_hash is None and ann.last_login_at is not None
        [created] = user_events(app)
        assert (created.user_id, created.role, created.revision) == (ann.id, "organiser", 1)
        assert pending(app) == 1  # the login begun above and never finished (expires)


def test_a_returning_login_is_matched_by_sub_not_by_address(app, browser, provider):
    browser.log_in("ann", ANN.password)
    first = browser.me()
    first_session = session_ids(app)[0]
    browser.log_out()
    provider.set_account(
        "ann",
        ANN.password,
        **{**ANN.claims, "email": "ann.berg@uni.example", "name": "Ann Berg"},
    )
    browser.log_in("ann", ANN.password)
    again = browser.me()
    assert again["user_id"] == first["user_id"]
    [ann] = users(app)
    # the provider's name is followed; the address stays the one Evenemang knows them by
    assert (ann.name, ann.email) == ("Ann Berg", "ann.andersson@uni.example")
    assert [(e.name, e.revision, e.ended_sessions) for e in user_events(app)] == [
        ("Ann Andersson", 1, ()),
        ("Ann Andersson", 2, (first_session,)),  # logging out tells calendar and notify
        ("Ann Berg", 3, (first_session,)),
    ]


def test_the_role_follows_the_groups_at_every_login(app, browser, provider):
    def log_in_with(groups: list[str]) -> str:
        provider.set_account("ann", ANN.password, **{**ANN.claims, "groups": groups})
        browser.log_in("ann", ANN.password)
        return browser.me()["role"]

    assert log_in_with(["grp-admin", "staff"]) == "admin"
    other_session = Browser(browser.app, provider)
    other_session.log_in("ann", ANN.password)
    assert log_in_with(["grp-venues"]) == "infra"
    assert other_session.me()["role"] == "infra"  # a live session has the new role at once
    assert log_in_with(["grp-venues"]) == "infra"  # the same groups change nothing
    assert log_in_with(["grp-infra", "grp-admin"]) == "admin"
    provider.set_account(
        "ann", ANN.password, **{k: v for k, v in ANN.claims.items() if k != "groups"}
    )
    browser.log_in("ann", ANN.password)
    assert browser.me()["role"] == "organiser"  # no groups claim: no group's role
    assert [(e.role, e.revision) for e in user_events(app)] == [
        ("admin", 1),
        ("infra", 2),
        ("admin", 3),
        ("organiser", 4),
    ]


def test_without_group_roles_the_roles_stay_as_evenemang_has_them(config, make_app, provider):
    app = make_app("booking", single_sign_on(config, provider))
    db = app.extensions["evenemang"]["db"]
    add_user(db, "ann.andersson@uni.example", "Ann Andersson", "admin", "old-password-1")
    browser = Browser(app, provider)
    browser.log_in("ann", ANN.password)
    assert browser.me()["role"] == "admin"
    assert len(user_events(app)) == 1  # linking changes nothing others see


def resource_events(app, resource_id: str) -> list[Any]:
    with app.extensions["evenemang"]["db"].transaction(readonly=True) as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.event_type == RESOURCE_CHANGED,
                OutboxMessage.aggregate_id == resource_id,
            )
            .order_by(OutboxMessage.id)
        )
        return [parse_event(row.payload).data for row in rows]


def test_teams_named_by_groups_follow_them_at_every_login(config, make_app, provider):
    groups = "kommunikation=grp-komm, kommunikation=grp-photo, infrastructure=grp-infra"
    app = make_app("booking", single_sign_on(config, provider, oidc_team_groups=groups))
    api = BookingApi(app)
    team = {"name": "Kommunikation", "slug": "kommunikation", "members": ["olle@example.org"]}
    assert api.post("/api/v1/teams", api.admin, team).status_code == 201
    studio = api.make_resource(name="Studio", kind="studio", team="kommunikation")
    [created] = resource_events(app, studio["id"])
    browser = Browser(app, provider)

    def log_in_with(*groups: str) -> tuple[str, ...]:
        provider.set_account("ann", ANN.password, **{**ANN.claims, "groups": list(groups)})
        browser.log_in("ann", ANN.password)
        assert browser.me() is not None
        return api.get("/api/v1/teams/kommunikation", api.admin).get_json()["members"]

    # in one of its groups: a member (the team "infrastructure" is not made yet: skipped)
    assert log_in_with("grp-photo", "grp-infra") == [
        "ann.andersson@uni.example",
        "olle@example.org",
    ]
    assert log_in_with("grp-komm") == ["ann.andersson@uni.example", "olle@example.org"]
    # in none: no longer a member; members put there on the teams page stay
    assert log_in_with("staff") == ["olle@example.org"]
    assert log_in_with() == ["olle@example.org"]
    # each change of members is a new revision of the team's resources, with the deciders
    changes = resource_events(app, studio["id"])[1:]
    assert [(e.revision, e.team.members) for e in changes] == [
        (created.revision + 1, ("ann.andersson@uni.example", "olle@example.org")),
        (created.revision + 2, ("olle@example.org",)),
    ]


def test_a_confirmed_address_links_an_existing_password_user_once(app, browser, provider):
    db = app.extensions["evenemang"]["db"]
    made = add_user(db, "ann.andersson@uni.example", "Ann A.", "organiser", "old-password-1")
    browser.log_in("ann", ANN.password)
    assert browser.me()["user_id"] == made.id
    [ann] = users(app)
    assert (ann.oidc_issuer, ann.oidc_subject) == (provider.issuer, "ann")
    assert ann.name == "Ann Andersson"
    # the password still works for them
    login = english(app).post(
        "/api/v1/session", json={"email": "ann.andersson@uni.example", "password": "old-password-1"}
    )
    assert login.status_code == 200
    # and another identity at the provider with the same address is not linked on top
    provider.set_account("ann-twin", "twin-pass", **ANN.claims)
    twin = Browser(app, provider)
    refused(
        twin.client,
        twin.log_in("ann-twin", "twin-pass"),
        403,
        "already linked to another university",
    )
    assert twin.me() is None
    assert [u.oidc_subject for u in users(app)] == ["ann"]


def test_an_unconfirmed_address_links_nobody_and_creates_nobody(app, browser, provider):
    db = app.extensions["evenemang"]["db"]
    add_user(db, "ann.andersson@uni.example", "Ann A.", "organiser", "old-password-1")
    provider.set_account("ann", ANN.password, **{**ANN.claims, "email_verified": False})
    refused(browser.client, browser.log_in("ann", ANN.password), 403, "did not confirm the address")
    assert browser.me() is None
    [ann] = users(app)
    assert ann.oidc_subject is None and ann.last_login_at is None
    assert len(user_events(app)) == 1

    provider.set_account("mallory", MALLORY.password, **{**MALLORY.claims, "email_verified": False})
    stranger = Browser(app, provider)
    refused(
        stranger.client,
        stranger.log_in("mallory", MALLORY.password),
        403,
        "did not confirm the address",
    )
    assert len(users(app)) == 1


def test_a_deactivated_user_is_not_logged_in(app, browser, provider):
    browser.log_in("ann", ANN.password)
    browser.log_out()
    update_user(app.extensions["evenemang"]["db"], "ann.andersson@uni.example", active=False)
    refused(browser.client, browser.log_in("ann", ANN.password), 403, "is deactivated")
    assert browser.me() is None


def test_swedish_visitors_read_why_in_swedish(app, browser, provider):
    provider.set_account("ann", ANN.password, **{**ANN.claims, "email_verified": False})
    browser.client.get("/login?lang=sv")
    browser.log_in("ann", ANN.password)
    answer = browser.client.get("/login/oidc/failed")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 403
    assert "Inloggningen med ditt universitetskonto gick inte" in page
    assert "bekräftade inte adressen ann.andersson@uni.example" in page


# --- keys ---------------------------------------------------------------------------------------


def test_logins_follow_a_key_rotation_and_a_removed_key_is_refused(
    app, browser, provider, monkeypatch, caplog
):
    browser.log_in("ann", ANN.password)  # the provider's first key, now known here
    first_key = provider.keys()["signing"]
    browser.log_out()

    rotated = provider.rotate_keys()  # a new key signs; the old one is still published
    assert rotated["signing"] != first_key
    browser.log_in("ann", ANN.password)  # a kid not seen before: the key set is fetched again
    assert browser.me()["email"] == "ann.andersson@uni.example"
    browser.log_out()

    provider.retire_old_keys()  # the first key is gone from the provider's JWKS
    assert provider.keys()["published"] == [rotated["signing"]]
    # five minutes on, the key set fetched before the removal is no longer trusted as is
    monkeypatch.setattr(openid, "JWKS_MAX_AGE", 0.0)
    provider.alter_next_id_token(key="retired")  # a token signed by the removed key
    refused(browser.client, browser.log_in("ann", ANN.password), 400, "could not be verified")
    assert f"No key for kid: '{first_key}'" in caplog.text
    assert browser.me() is None

    browser.log_in("ann", ANN.password)  # the current key still logs in
    assert browser.me() is not None


def test_a_provider_that_replaced_every_key_still_logs_people_in(app, browser, provider):
    browser.log_in("ann", ANN.password)
    browser.log_out()
    provider.rotate_keys()
    provider.retire_old_keys()  # as a restart with a new JWKS: the old key is gone
    browser.log_in("ann", ANN.password)
    assert browser.me()["role"] == "organiser"


# --- forged, broken and replayed answers -------------------------------------------------------

INVALID = "could not be verified"
# what the provider's next ID token gets, what the page says, and why (in the log)
BROKEN_TOKENS = {
    "a wrong nonce": ({"nonce": "not-the-one-we-sent"}, INVALID, "Invalid claim: 'nonce'"),
    "no nonce": ({"drop": ("nonce",)}, INVALID, "Missing claim: 'nonce'"),
    "expired": ({"exp": -600, "iat": -4200}, "has expired", "The token is expired"),
    "another issuer": ({"iss": "https://login.elsewhere.example"}, INVALID, "claim: 'iss'"),
    "another audience": ({"aud": "someone-else"}, INVALID, "Invalid claim: 'aud'"),
    "others as audience": ({"aud": ["someone-else", "x"]}, INVALID, "Invalid claim: 'aud'"),
    "signed by a stranger": ({"key": "stranger"}, INVALID, "bad_signature"),
    "unsigned": ({"key": "none"}, INVALID, "'none' is not allowed"),
}


@pytest.mark.parametrize("broken", BROKEN_TOKENS)
def test_a_broken_or_forged_id_token_logs_nobody_in(app, browser, provider, broken, caplog):
    change, wording, reason = BROKEN_TOKENS[broken]
    change = dict(change)
    now = int(time.time())
    for name in ("exp", "iat"):
        if name in change:
            change[name] = now + change[name]
    provider.alter_next_id_token(**change)
    refused(browser.client, browser.log_in("ann", ANN.password), 400, wording)
    assert reason in caplog.text
    assert browser.me() is None
    assert users(app) == [] and user_events(app) == []


def test_userinfo_for_someone_else_than_the_id_token_logs_nobody_in(app, browser, provider):
    # the ID token names mallory (well signed), the access token is ann's: userinfo says ann
    provider.alter_next_id_token(sub="mallory")
    refused(browser.client, browser.log_in("ann", ANN.password), 400, "could not be verified")
    assert users(app) == []


def test_a_replayed_callback_is_refused(app, browser, provider):
    return_url = browser.at_provider("ann", ANN.password)
    before = browser.client.get_cookie("evenemang_session").value  # the cookie with the state
    assert browser.back(return_url).status_code == 302
    me = browser.me()

    # the same answer again in the same browser: its state was used up
    refused(
        browser.client,
        browser.back(return_url),
        400,
        "does not belong to a login started in this browser",
    )
    assert browser.me() == me  # the first login stands, nothing else happened

    # again with the cookie as it was before the answer (copied, or the browser went back)
    replay = english(app)
    replay.set_cookie("evenemang_session", before)
    refused(replay, replay.get(path_of(return_url)), 400, "already been used")
    assert replay.get("/api/v1/me").status_code == 401
    assert len(users(app)) == 1 and len(user_events(app)) == 1


def test_a_tampered_state_is_refused_and_leaves_the_real_one_usable(app, browser, provider):
    return_url = browser.at_provider("ann", ANN.password)
    answer = query_of(return_url)
    tampered = {
        **answer,
        "state": answer["state"][:-2] + ("AA" if answer["state"][-2:] != "AA" else "BB"),
    }
    refused(
        browser.client,
        browser.client.get("/login/oidc/callback?" + urlencode(tampered)),
        400,
        "does not belong to a login started in this browser",
    )
    assert browser.me() is None and users(app) == []
    assert browser.back(return_url).status_code == 302
    assert browser.me()["name"] == "Ann Andersson"


def test_an_answer_for_a_login_begun_elsewhere_is_refused(app, browser, provider):
    # Mallory begins a login and sends her answer to Ann's browser (login CSRF)
    mallory = Browser(app, provider)
    planted = mallory.at_provider("mallory", MALLORY.password)
    browser.start()  # Ann even has a login of her own under way
    refused(
        browser.client,
        browser.back(planted),
        400,
        "does not belong to a login started in this browser",
    )
    assert browser.me() is None and users(app) == []
    elsewhere = english(app)
    refused(elsewhere, elsewhere.get(path_of(planted)), 400, "does not belong to a login")


def test_a_code_from_another_login_fails_its_pkce_check(app, browser, provider):
    first = browser.start()
    second = browser.start()  # two tabs: both states are this browser's
    code_of_first = query_of(browser.visit.authorize(first, "ann", ANN.password))["code"]
    second_state = query_of(second)["state"]
    forged = urlencode({"code": code_of_first, "state": second_state, "iss": provider.issuer})
    refused(
        browser.client,
        browser.client.get(f"/login/oidc/callback?{forged}"),
        400,
        "no longer accepts",
    )
    assert browser.me() is None and users(app) == []


def test_an_answer_from_another_issuer_is_refused(app, browser, provider):
    answer = query_of(browser.at_provider("ann", ANN.password))
    mixed_up = urlencode({**answer, "iss": "https://login.elsewhere.example"})
    refused(
        browser.client,
        browser.client.get(f"/login/oidc/callback?{mixed_up}"),
        400,
        "could not be verified",
    )
    assert users(app) == []


def test_the_providers_error_is_shown_and_nothing_is_kept(app, browser, provider):
    return_url = browser.at_provider("ann", ANN.password, consent=False)  # "Deny"
    assert query_of(return_url)["error"] == "access_denied"
    shown = refused(browser.client, browser.back(return_url), 403, "it answered “access_denied”")
    assert 'href="/login/oidc"' in shown.get_data(as_text=True)  # try again
    assert browser.me() is None and users(app) == [] and pending(app) == 0
    # the same answer again: not usable twice
    refused(browser.client, browser.back(return_url), 400, "does not belong")


def test_the_failure_page_shows_again_on_reload_and_in_the_other_language(app, browser, provider):
    shown = refused(
        browser.client, browser.log_in("ann", ANN.password, consent=False), 403, "access_denied"
    )
    assert 'href="?lang=sv"' in shown.get_data(as_text=True)  # not the callback's answer again
    swedish = browser.client.get("/login/oidc/failed?lang=sv")
    assert swedish.status_code == 403
    assert "loggade inte in dig" in swedish.get_data(as_text=True)
    assert english(app).get("/login/oidc/failed").headers["Location"] == "/login"  # none here


def test_a_login_that_waited_too_long_is_refused(app, browser, provider):
    return_url = browser.at_provider("ann", ANN.password)
    with app.extensions["evenemang"]["db"].transaction() as session:
        for row in session.scalars(select(PendingSignIn)):
            row.created_at = row.created_at.replace(year=row.created_at.year - 1)
    refused(browser.client, browser.back(return_url), 400, "took too long")
    assert users(app) == []


# --- the provider out of reach, misconfigured ----------------------------------------------------


def test_a_provider_that_does_not_answer_is_given_up_on_in_time(config, make_app):
    with socket.socket() as silent:  # accepts connections (the kernel does) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        issuer = f"http://127.0.0.1:{silent.getsockname()[1]}"
        app = make_app(
            "booking",
            config.replace(
                oidc_issuer=issuer,
                oidc_client_id=CLIENT_ID,
                oidc_client_secret=CLIENT_SECRET,
                oidc_timeout=0.5,
            ),
        )
        started = time.monotonic()
        client = english(app)
        answer = client.get("/login/oidc")
        assert time.monotonic() - started < 5
    refused(client, answer, 502, "did not answer as expected")


def test_discovery_naming_another_issuer_is_refused(config, make_app, provider):
    app = make_app(
        "booking",
        config.replace(
            oidc_issuer=provider.issuer.replace("127.0.0.1", "localhost"),
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET,
        ),
    )
    client = english(app)
    refused(client, client.get("/login/oidc"), 502, "did not answer as expected")


# --- password login on and off -------------------------------------------------------------------


def test_password_login_can_be_turned_off(config, make_app, provider):
    app = make_app("booking", single_sign_on(config, provider, password_login=False))
    db = app.extensions["evenemang"]["db"]
    add_user(db, "olle@uni.example", "Olle", "organiser", "olle-password-1")
    client = english(app)
    page = client.get("/login").get_data(as_text=True)
    assert "Log in with your university account" in page
    assert 'name="password"' not in page

    with client.session_transaction() as session:  # a form's token, as from an older page
        session["csrf_token"] = "token-from-an-older-page"
    posted = client.post(
        "/login",
        data={
            "csrf_token": "token-from-an-older-page",
            "email": "olle@uni.example",
            "password": "olle-password-1",
        },
    )
    assert posted.status_code == 403
    assert "Logging in with a password is turned off here" in posted.get_data(as_text=True)
    api = client.post(
        "/api/v1/session", json={"email": "olle@uni.example", "password": "olle-password-1"}
    )
    assert api.status_code == 403
    assert api.get_json()["code"] == "password_login_off"
    assert client.get("/api/v1/me").status_code == 401

    browser = Browser(app, provider)
    browser.log_in("ann", ANN.password)
    assert browser.me()["email"] == "ann.andersson@uni.example"
    mallory = Browser(app, provider)
    answer = mallory.log_in("mallory", MALLORY.password, consent=False)
    shown = refused(mallory.client, answer, 403, "access_denied")
    assert "Log in with a password" not in shown.get_data(as_text=True)


def test_without_single_sign_on_the_login_page_is_as_before(make_app):
    app = make_app("booking")
    client = english(app)
    page = client.get("/login").get_data(as_text=True)
    assert "university account" not in page and 'name="password"' in page
    assert client.get("/login/oidc").status_code == 404
    assert client.get("/login/oidc/callback?code=x&state=y").status_code == 404


def test_password_logins_are_noted(make_app):
    app = make_app("booking")
    db = app.extensions["evenemang"]["db"]
    add_user(db, "olle@uni.example", "Olle", "organiser", "olle-password-1")
    body = {"email": "olle@uni.example", "password": "olle-password-1"}
    assert english(app).post("/api/v1/session", json=body).status_code == 200
    [olle] = users(app)
    assert olle.last_login_at is not None

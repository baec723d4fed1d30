"""People through the JSON API: admins find, change and invite people (user.changed and
account.invited written with each change), the last active admin stays one, a deactivated
person's token and session stop at once on booking; password resets answer the same,
in the same time, for any address, and a mailed link sets a password once, in its time.
Every refusal is a problem naming the field, and writes nothing."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

import pytest

from services.booking.usecases import passwords, users
from shared.events import EventType, Language, Role
from tests.support.accounts import (
    OIDC,
    account_mails,
    newest_link,
    payloads,
    quick_passwords,
    token_of,
    written,
)
from tests.support.booking import NOW, BookingApi, problem

PASSWORD = "correct horse battery"


@pytest.fixture
def api(make_app, monkeypatch) -> BookingApi:
    quick_passwords(monkeypatch)
    monkeypatch.setattr(passwords, "RESET_ANSWER_SECONDS", 0.05)
    return BookingApi(make_app("booking"))


def _user(api: BookingApi, who) -> dict:
    response = api.get(f"/api/v1/users/{who.user_id}", api.admin)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- finding people -------------------------------------------------------------------------


def test_admins_list_people_with_role_activity_teams_and_last_login(api):
    api.post("/api/v1/teams", api.admin, {"name": "Kommunikation", "members": [api.infra.email]})
    users.record_login(api.db, api.infra.user_id)
    listed = api.get("/api/v1/users", api.admin)
    assert listed.status_code == 200
    people = {p["email"]: p for p in listed.get_json()["users"]}
    assert set(people) == {api.admin.email, api.infra.email, api.organiser.email, api.other.email}
    infra = people[api.infra.email]
    assert infra == {
        "id": api.infra.user_id,
        "email": api.infra.email,
        "name": "Ingrid Infra",
        "role": "infra",
        "active": True,
        "teams": ["kommunikation"],
        "last_login_at": infra["last_login_at"],
        "sso": False,
    }
    assert infra["last_login_at"].endswith(("+01:00", "+02:00"))
    assert people[api.organiser.email]["last_login_at"] is None
    assert people[api.organiser.email]["teams"] == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=ingrid", ["infra@example.org"]),
        ("q=OLLE%20ORG", ["olle@example.org"]),
        ("q=otto@", ["otto@example.org"]),
        ("q=%25", []),  # a wildcard is a character like any other
        ("role=organiser", ["olle@example.org", "otto@example.org"]),
        ("role=admin&active=true", ["admin@example.org"]),
        ("active=false", []),
    ],
)
def test_people_are_found_by_name_address_role_and_activity(api, query, expected):
    listed = api.get(f"/api/v1/users?{query}", api.admin)
    assert listed.status_code == 200
    assert sorted(p["email"] for p in listed.get_json()["users"]) == expected


@pytest.mark.parametrize(
    ("query", "field"), [("role=emperor", "role"), ("active=maybe", "active"), ("limit=0", "limit")]
)
def test_a_bad_filter_is_a_422_on_its_field(api, query, field):
    body = problem(api.get(f"/api/v1/users?{query}", api.admin), 422)
    assert field in body["errors"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/users", None),
        ("GET", "/api/v1/users/{id}", None),
        ("PATCH", "/api/v1/users/{id}", {"role": "admin"}),
        ("POST", "/api/v1/users", {"email": "new@example.org", "name": "New"}),
        ("POST", "/api/v1/users/{id}/invitation", None),
    ],
)
def test_only_admins_keep_people(api, method, path, body):
    before = payloads(api.db)
    path = path.format(id=api.organiser.user_id)
    assert api.call(method, path, None, body).status_code == 401
    for who in (api.infra, api.organiser):
        refused = problem(api.call(method, path, who, body), 403)
        assert refused["code"] == "forbidden"
    assert payloads(api.db) == before


def test_an_unknown_person_is_a_404(api):
    assert problem(api.get("/api/v1/users/nobody", api.admin), 404)
    assert problem(api.patch("/api/v1/users/nobody", api.admin, {"active": False}), 404)


# --- changing people ------------------------------------------------------------------------


def test_an_admin_changes_a_role_and_a_name_and_the_others_hear_of_it(api):
    changed = api.patch(
        f"/api/v1/users/{api.organiser.user_id}", api.admin, {"role": "infra", "name": " Olle O "}
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["role"] == "infra" and changed.get_json()["name"] == "Olle O"
    told = written(api.db, EventType.USER_CHANGED)[-1].data
    assert (told.user_id, told.role, told.name, told.revision) == (
        api.organiser.user_id,
        Role.INFRA,
        "Olle O",
        2,
    )
    me = api.get("/api/v1/me", api.organiser)
    assert me.get_json()["role"] == "infra"  # booking: at once, for a live token


def test_a_change_that_changes_nothing_writes_nothing(api):
    before = payloads(api.db)
    same = api.patch(f"/api/v1/users/{api.infra.user_id}", api.admin, {"role": "infra"})
    assert same.status_code == 200
    assert payloads(api.db) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "emperor"}, "role"),
        ({"active": "perhaps"}, "active"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"email": "other@example.org"}, "email"),
    ],
)
def test_a_bad_change_is_a_422_on_its_field_and_writes_nothing(api, body, field):
    before = payloads(api.db)
    refused = problem(api.patch(f"/api/v1/users/{api.infra.user_id}", api.admin, body), 422)
    assert field in refused["errors"]
    assert payloads(api.db) == before


def test_deactivation_stops_the_persons_token_and_session_on_booking_at_once(api):
    users.update_user(api.db, api.organiser.email, password=PASSWORD)
    browser = api.app.test_client()
    assert (
        browser.post(
            "/api/v1/session", json={"email": api.organiser.email, "password": PASSWORD}
        ).status_code
        == 200
    )
    assert browser.get("/api/v1/me").status_code == 200
    off = api.patch(f"/api/v1/users/{api.organiser.user_id}", api.admin, {"active": False})
    assert off.status_code == 200 and off.get_json()["active"] is False
    assert api.get("/api/v1/me", api.organiser).status_code == 401
    assert browser.get("/api/v1/me").status_code == 401
    relogin = browser.post(
        "/api/v1/session", json={"email": api.organiser.email, "password": PASSWORD}
    )
    assert relogin.status_code == 401
    told = written(api.db, EventType.USER_CHANGED)[-1].data
    assert told.user_id == api.organiser.user_id and told.active is False
    on = api.patch(f"/api/v1/users/{api.organiser.user_id}", api.admin, {"active": True})
    assert on.get_json()["active"] is True
    assert api.get("/api/v1/me", api.organiser).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"), [({"active": False}, "active"), ({"role": "infra"}, "role")]
)
def test_the_last_active_admin_cannot_deactivate_or_demote_themself(api, body, field):
    before = payloads(api.db)
    refused = problem(api.patch(f"/api/v1/users/{api.admin.user_id}", api.admin, body), 409)
    assert refused["code"] == "last_active_admin"
    assert list(refused["errors"]) == [field]
    assert "admin" in refused["errors"][field][0]
    assert payloads(api.db) == before
    assert _user(api, api.admin)["role"] == "admin" and _user(api, api.admin)["active"]


def test_with_another_admin_an_admin_may_step_down(api):
    second = api.user("admin", "second@example.org", "Second Admin")
    stepped = api.patch(f"/api/v1/users/{api.admin.user_id}", api.admin, {"role": "organiser"})
    assert stepped.status_code == 200
    assert api.get("/api/v1/users", api.admin).status_code == 403  # the role is gone at once
    last = problem(api.patch(f"/api/v1/users/{second.user_id}", second, {"active": False}), 409)
    assert last["code"] == "last_active_admin"


def test_a_deactivated_admin_does_not_count_as_one_left(api):
    second = api.user("admin", "second@example.org", "Second Admin")
    assert (
        api.patch(f"/api/v1/users/{second.user_id}", api.admin, {"active": False}).status_code
        == 200
    )
    refused = api.patch(f"/api/v1/users/{api.admin.user_id}", api.admin, {"role": "infra"})
    assert problem(refused, 409)["code"] == "last_active_admin"


# --- inviting -------------------------------------------------------------------------------


def test_an_invitation_makes_a_user_without_a_password_and_mails_them_a_link(api):
    invited = api.post(
        "/api/v1/users",
        api.admin,
        {"email": " Nina@Example.org ", "name": "Nina New", "role": "infra", "language": "en"},
    )
    assert invited.status_code == 201, invited.get_json()
    person = invited.get_json()
    assert person["email"] == "nina@example.org" and person["role"] == "infra"
    assert person["active"] is True and person["last_login_at"] is None
    assert person["teams"] == [] and person["sso"] is False
    told = written(api.db, EventType.USER_CHANGED)[-1].data
    assert told.email == "nina@example.org" and told.revision == 1
    (mail,) = account_mails(api.db)
    assert mail.type is EventType.ACCOUNT_INVITED
    account = mail.data
    assert (account.user_id, account.email, account.name) == (
        person["id"],
        "nina@example.org",
        "Nina New",
    )
    assert account.language is Language.EN and account.sso is False
    assert account.url.startswith(f"{api.config.base_url}/password/reset/")
    assert account.expires_at == NOW + timedelta(days=7)
    assert mail.aggregate_id == person["id"] and account.mail_id


def test_an_invitation_defaults_to_an_organiser_in_swedish(api):
    invited = api.post("/api/v1/users", api.admin, {"email": "nils@example.org", "name": "Nils"})
    assert invited.status_code == 201 and invited.get_json()["role"] == "organiser"
    assert account_mails(api.db)[-1].data.language is Language.SV


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"email": "olle@example.org", "name": "Olle again"}, 409, "email"),
        ({"email": "OLLE@example.org", "name": "Olle again"}, 409, "email"),
        ({"email": "not an address", "name": "X"}, 422, "email"),
        ({"name": "X"}, 422, "email"),
        ({"email": "x@example.org"}, 422, "name"),
        ({"email": "x@example.org", "name": "X", "role": "emperor"}, 422, "role"),
        ({"email": "x@example.org", "name": "X", "language": "de"}, 422, "language"),
        ({"email": "x@example.org", "name": "X", "password": "secret99"}, 422, "password"),
    ],
)
def test_a_refused_invitation_names_the_field_and_writes_nothing(api, body, status, field):
    before = payloads(api.db)
    refused = problem(api.post("/api/v1/users", api.admin, body), status)
    assert field in refused["errors"]
    assert payloads(api.db) == before


def test_the_invitation_again_only_for_someone_without_a_password(api):
    person = api.post("/api/v1/users", api.admin, {"email": "nina@example.org", "name": "Nina"})
    person_id = person.get_json()["id"]
    again = api.post(f"/api/v1/users/{person_id}/invitation", api.admin)
    assert again.status_code == 202
    assert [m.type for m in account_mails(api.db)] == [EventType.ACCOUNT_INVITED] * 2
    users.update_user(api.db, "nina@example.org", password=PASSWORD)
    before = payloads(api.db)
    refused = problem(api.post(f"/api/v1/users/{person_id}/invitation", api.admin), 409)
    assert refused["code"] == "has_password_already" and "email" in refused["errors"]
    assert payloads(api.db) == before


def test_the_openapi_document_has_the_people_and_password_routes(api):
    document = api.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert set(paths["/api/v1/users"]) == {"get", "post"}
    assert set(paths["/api/v1/users/{user_id}"]) == {"get", "patch"}
    assert "409" in paths["/api/v1/users/{user_id}"]["patch"]["responses"]
    reset = paths["/api/v1/password-reset"]["post"]
    assert "202" in reset["responses"] and "security" not in reset
    assert {"404", "409", "410", "422"} <= set(
        paths["/api/v1/password-reset/{token}"]["post"]["responses"]
    )


# --- password resets ------------------------------------------------------------------------


def _reset(api: BookingApi, email: str):
    return api.post("/api/v1/password-reset", None, {"email": email})


def test_a_reset_answers_the_same_for_a_known_and_an_unknown_address(api, monkeypatch):
    api.user("organiser", "gone@example.org")
    users.update_user(api.db, "gone@example.org", active=False)
    answers = {}
    for email in ("olle@example.org", "OLLE@example.org", "nobody@example.org", "gone@example.org"):
        response = _reset(api, email)
        answers[email] = (response.status_code, response.get_json(), response.mimetype)
    assert len(set(map(repr, answers.values()))) == 1
    assert answers["nobody@example.org"][0] == 202
    assert "an hour" in answers["nobody@example.org"][1]["detail"]
    mails = account_mails(api.db)
    assert [(m.type, m.data.email) for m in mails] == [
        (EventType.ACCOUNT_PASSWORD_RESET, "olle@example.org")
    ] * 2
    assert mails[0].data.expires_at == NOW + timedelta(hours=1)


def test_a_reset_takes_as_long_for_a_known_address_as_for_an_unknown_one(api, monkeypatch):
    monkeypatch.setattr(passwords, "RESET_ANSWER_SECONDS", 0.25)
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for _ in range(3):
        for kind, email in (("known", "olle@example.org"), ("unknown", "nobody@example.org")):
            started = time.perf_counter()
            assert _reset(api, email).status_code == 202
            times[kind].append(time.perf_counter() - started)
    known, unknown = (statistics.median(times[k]) for k in ("known", "unknown"))
    assert 0.25 <= known < 0.4 and 0.25 <= unknown < 0.4, times
    assert abs(known - unknown) < 0.05, times


def test_an_account_is_mailed_at_most_three_resets_an_hour(api):
    for _ in range(5):
        assert _reset(api, "olle@example.org").status_code == 202
    assert len(account_mails(api.db)) == passwords.RESETS_PER_HOUR


@pytest.mark.parametrize("body", [{}, {"email": "nope"}, {"email": "a@b.c", "extra": 1}])
def test_a_malformed_reset_request_is_a_422(api, body):
    assert problem(api.post("/api/v1/password-reset", None, body), 422)
    assert account_mails(api.db) == []


def _set(api: BookingApi, path: str, password: str = "a new password 1"):
    return api.post(f"/api/v1/password-reset/{token_of(path)}", None, {"password": password})


def _logs_in(api: BookingApi, email: str, password: str) -> bool:
    client = api.app.test_client()
    response = client.post("/api/v1/session", json={"email": email, "password": password})
    return response.status_code == 200


def test_a_reset_link_sets_the_password_once(api):
    users.update_user(api.db, api.organiser.email, password=PASSWORD)
    _reset(api, api.organiser.email)
    link = newest_link(api.db)
    done = _set(api, link)
    assert done.status_code == 200 and done.get_json() == {"email": api.organiser.email}
    assert _logs_in(api, api.organiser.email, "a new password 1")
    assert not _logs_in(api, api.organiser.email, PASSWORD)
    before = payloads(api.db)
    again = problem(_set(api, link, "yet another password"), 409)
    assert again["code"] == "password_link_used" and "token" in again["errors"]
    assert payloads(api.db) == before
    assert _logs_in(api, api.organiser.email, "a new password 1")
    told = written(api.db, EventType.USER_CHANGED)[-1].data
    assert told.user_id == api.organiser.user_id


def test_a_password_changed_otherwise_ends_every_link_made_before(api):
    _reset(api, api.organiser.email)
    first = newest_link(api.db)
    _reset(api, api.organiser.email)
    second = newest_link(api.db)
    assert _set(api, second).status_code == 200
    assert problem(_set(api, first), 409)["code"] == "password_link_used"


def test_an_invitation_link_works_for_seven_days(api):
    api.post("/api/v1/users", api.admin, {"email": "nina@example.org", "name": "Nina"})
    link = newest_link(api.db)
    api.set_now(NOW + timedelta(days=7) - timedelta(seconds=1))
    assert _set(api, link).status_code == 200
    assert _logs_in(api, "nina@example.org", "a new password 1")


def test_a_reset_link_expires_after_an_hour_and_writes_nothing(api):
    _reset(api, api.organiser.email)
    link = newest_link(api.db)
    api.set_now(NOW + timedelta(hours=1))
    before = payloads(api.db)
    refused = problem(_set(api, link), 410)
    assert refused["code"] == "password_link_expired" and "token" in refused["errors"]
    assert payloads(api.db) == before


def test_an_invitation_link_expires_after_seven_days(api):
    api.post("/api/v1/users", api.admin, {"email": "nina@example.org", "name": "Nina"})
    link = newest_link(api.db)
    api.set_now(NOW + timedelta(days=7))
    assert problem(_set(api, link), 410)["code"] == "password_link_expired"


def test_a_forged_or_altered_link_is_a_404(api):
    _reset(api, api.organiser.email)
    token = token_of(newest_link(api.db))
    body, _, signature = token.rpartition(".")
    forged = [
        "nonsense",
        f"{body}.{signature[:-2]}xx",
        f"{body[:-2]}AA.{signature}",
        token[:-1],
    ]
    for bad in forged:
        response = api.post(f"/api/v1/password-reset/{bad}", None, {"password": "whatever99"})
        assert problem(response, 404)["code"] == "password_link_invalid", bad


def test_a_link_of_a_deactivated_person_does_not_work(api):
    _reset(api, api.organiser.email)
    link = newest_link(api.db)
    users.update_user(api.db, api.organiser.email, active=False)
    assert problem(_set(api, link), 409)["code"] == "password_link_inactive"


@pytest.mark.parametrize("body", [{}, {"password": "short"}, {"password": "x" * 513}])
def test_a_password_too_short_or_long_is_a_422_and_the_link_still_works(api, body):
    _reset(api, api.organiser.email)
    link = newest_link(api.db)
    response = api.post(f"/api/v1/password-reset/{token_of(link)}", None, body)
    assert "password" in problem(response, 422)["errors"]
    assert _set(api, link).status_code == 200


def test_without_password_login_reset_and_links_are_refused(make_app, config, monkeypatch):
    quick_passwords(monkeypatch)
    api = BookingApi(make_app("booking", config.replace(**OIDC, password_login=False)))
    refused = problem(_reset(api, api.organiser.email), 403)
    assert refused["code"] == "password_login_off"
    invited = api.post("/api/v1/users", api.admin, {"email": "nina@example.org", "name": "Nina"})
    assert invited.status_code == 201
    (mail,) = account_mails(api.db)
    assert mail.data.sso is True and mail.data.url == "" and mail.data.expires_at is None

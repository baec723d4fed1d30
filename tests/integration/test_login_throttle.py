"""Logins that resist guessing: after 5 failures per account or per client address, each
further attempt must wait longer (answered 429 with Retry-After after a hold of at most a
second, the password not checked), counted in booking's database so two instances share the
count; the client address is read through EVENEMANG_PROXY_HOPS; an unknown address answers
the same as a wrong password, and as slowly."""

from __future__ import annotations

import statistics
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.booking.domain import LoginThrottled
from services.booking.persistence.models import LoginThrottle
from services.booking.usecases.logins import HOLD_SLOTS, LoginGate, log_in
from services.booking.usecases.users import add_user, update_user
from shared.password_checks import PasswordChecks
from tests.support.pages import field_error, login, token

EMAIL, PASSWORD = "ines@example.org", "correct horse battery"
START = datetime(2030, 3, 1, 11, 0, tzinfo=UTC)


class Booking:
    """Booking's app (one instance) with a clock the test moves, and logins from chosen
    client addresses."""

    def __init__(self, app, now: list[datetime]) -> None:
        self.app = app
        self.now = now
        app.extensions["booking_context"].clock = lambda: now[0]

    @property
    def ctx(self):
        return self.app.extensions["booking_context"]

    def attempt(self, email: str, password: str, address: str = "10.0.0.1", **headers):
        return self.app.test_client().post(
            "/api/v1/session",
            json={"email": email, "password": password},
            environ_base={"REMOTE_ADDR": address},
            headers=headers,
        )

    def statuses(self, email: str, password: str, addresses) -> list[int]:
        return [self.attempt(email, password, address).status_code for address in addresses]


def advance(now: list[datetime], **delta: float) -> None:
    now[0] += timedelta(**delta)


@pytest.fixture
def now() -> list[datetime]:
    return [START]


@pytest.fixture
def booking(make_app, now) -> Booking:
    site = Booking(make_app("booking"), now)
    add_user(site.ctx.db, EMAIL, "Ines Infra", "infra", PASSWORD)
    return site


def addresses(prefix: str, n: int = 5) -> list[str]:
    return [f"{prefix}.{i}" for i in range(1, n + 1)]


@pytest.mark.parametrize("email", [EMAIL, "nobody@example.org"])
def test_an_account_waits_longer_after_each_failure_past_five(booking, now, email):
    """The same for an account that exists and one that does not: nothing to tell apart."""
    password = PASSWORD if email == EMAIL else "whatever"
    assert booking.statuses(email, "wrong", addresses("10.1.0")) == [401] * 5
    refused = booking.attempt(email, password, "10.2.0.1")  # even the right password
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["code"] == "login_throttled"
    assert refused.get_json()["detail"] == "Too many failed logins. Wait 1 s and try again."
    advance(now, seconds=1)
    assert booking.attempt(email, "wrong", "10.2.0.2").status_code == 401
    assert booking.attempt(email, "wrong", "10.2.0.3").headers["Retry-After"] == "2"
    advance(now, seconds=2)
    assert booking.attempt(email, "wrong", "10.2.0.4").status_code == 401
    advance(now, seconds=3)
    assert booking.attempt(email, "wrong", "10.2.0.5").headers["Retry-After"] == "1"
    advance(now, seconds=1)
    assert booking.attempt(email, password, "10.2.0.6").status_code == (
        200 if email == EMAIL else 401
    )


def test_a_right_password_starts_the_account_afresh(booking, now):
    assert booking.statuses(EMAIL, "wrong", addresses("10.1.0", 4)) == [401] * 4
    assert booking.attempt(EMAIL, PASSWORD, "10.1.1.1").status_code == 200
    assert booking.statuses(EMAIL, "wrong", addresses("10.1.2")) == [401] * 5
    assert booking.attempt(EMAIL, PASSWORD, "10.1.3.1").status_code == 429


def test_failures_stop_counting_after_fifteen_quiet_minutes(booking, now):
    assert booking.statuses(EMAIL, "wrong", addresses("10.1.0")) == [401] * 5
    advance(now, minutes=14, seconds=59)
    assert booking.attempt(EMAIL, "wrong", "10.1.1.1").status_code == 401
    assert booking.attempt(EMAIL, PASSWORD, "10.1.1.2").status_code == 429
    advance(now, minutes=15)
    assert booking.attempt(EMAIL, PASSWORD, "10.1.1.3").status_code == 200


def test_the_wait_doubles_and_is_said_in_minutes_when_long(booking, now):
    for n in range(1, 13):
        assert booking.attempt(EMAIL, "wrong", f"10.1.0.{n}").status_code == 401, n
        if 5 <= n < 12:
            advance(now, seconds=2 ** (n - 5))  # just what the wait asked for
    refused = booking.attempt(EMAIL, PASSWORD, "10.1.1.1", **{"Accept-Language": "sv"})
    assert refused.headers["Retry-After"] == str(2**7)
    assert refused.get_json()["detail"] == (
        "För många misslyckade inloggningar. Vänta 3 min och försök igen."
    )


def test_an_address_waits_after_five_failures_whatever_the_accounts(booking, now):
    for i in range(5):
        assert booking.attempt(f"guess{i}@example.org", "wrong", "10.3.0.1").status_code == 401
    refused = booking.attempt(EMAIL, PASSWORD, "10.3.0.1")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert booking.attempt(EMAIL, PASSWORD, "10.3.0.2").status_code == 200  # another address


def test_an_ipv6_subscriber_is_one_address_however_many_it_uses(booking, now):
    for i in range(5):
        address = f"2001:db8:1:2::{i + 1:x}"
        assert booking.attempt(f"guess{i}@example.org", "wrong", address).status_code == 401
    assert booking.attempt(EMAIL, PASSWORD, "2001:db8:1:2:ffff::9").status_code == 429
    assert booking.attempt(EMAIL, PASSWORD, "2001:db8:1:3::1").status_code == 200


def test_the_address_comes_through_the_configured_proxies_only(make_app, config, now):
    behind = Booking(make_app("booking", config.replace(proxy_hops=1)), now)
    add_user(behind.ctx.db, EMAIL, "Ines Infra", "infra", PASSWORD)
    for i in range(5):
        forwarded = {"X-Forwarded-For": "198.51.100.7"}
        response = behind.attempt(f"g{i}@example.org", "wrong", "10.0.0.254", **forwarded)
        assert response.status_code == 401
    proxy = "10.0.0.254"
    assert (
        behind.attempt(EMAIL, PASSWORD, proxy, **{"X-Forwarded-For": "198.51.100.7"}).status_code
        == 429
    )
    assert (
        behind.attempt(EMAIL, PASSWORD, proxy, **{"X-Forwarded-For": "198.51.100.8"}).status_code
        == 200
    )


def test_without_proxies_a_forged_forwarded_for_changes_nothing(booking, now):
    for i in range(5):
        forged = {"X-Forwarded-For": f"203.0.113.{i}"}
        assert (
            booking.attempt(f"g{i}@example.org", "wrong", "10.4.0.1", **forged).status_code == 401
        )
    forged = {"X-Forwarded-For": "203.0.113.99"}
    assert booking.attempt(EMAIL, PASSWORD, "10.4.0.1", **forged).status_code == 429


def test_two_instances_share_the_count(make_app, config, now):
    first = Booking(make_app("booking"), now)
    second = Booking(make_app("booking"), now)  # another process in production: same database
    add_user(first.ctx.db, EMAIL, "Ines Infra", "infra", PASSWORD)
    assert first.statuses(EMAIL, "wrong", addresses("10.5.0", 3)) == [401] * 3
    assert second.statuses(EMAIL, "wrong", addresses("10.5.1", 2)) == [401] * 2
    assert second.attempt(EMAIL, PASSWORD, "10.5.2.1").status_code == 429
    assert first.attempt(EMAIL, PASSWORD, "10.5.2.2").status_code == 429
    for i in range(4):
        assert first.attempt(f"g{i}@example.org", "wrong", "10.6.0.1").status_code == 401
    assert second.attempt("g9@example.org", "wrong", "10.6.0.1").status_code == 401
    assert first.attempt("g10@example.org", "wrong", "10.6.0.1").status_code == 429


def test_attempts_at_once_cannot_slip_past_the_count(booking, now):
    assert booking.statuses(EMAIL, "wrong", addresses("10.7.0", 4)) == [401] * 4
    outcomes: list[str] = []
    start = threading.Barrier(8)
    gate = LoginGate(PasswordChecks(slots=8))  # as if 8 processes: the count alone holds

    def guess(i: int) -> None:
        start.wait()
        try:
            checked = log_in(booking.ctx, gate, EMAIL, "wrong", f"10.7.1.{i}") is None
            outcomes.append("checked" if checked else "in")
        except LoginThrottled:
            outcomes.append("throttled")

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["checked"] + ["throttled"] * 7


def test_a_login_finding_the_check_busy_is_told_to_retry_and_not_counted(booking, now):
    gate = booking.app.extensions["login_gate"]
    with gate.checks.turn() as taken:  # another request of this process is checking one
        assert taken
        started = time.perf_counter()
        busy = booking.attempt(EMAIL, "wrong", "10.10.0.1")
        assert busy.status_code == 429 and busy.headers["Retry-After"] == "1"
        assert 0.9 < time.perf_counter() - started < 1.5  # held for its second, no hash checked
    assert booking.statuses(EMAIL, "wrong", addresses("10.10.1", 4)) == [401] * 4
    assert booking.attempt(EMAIL, PASSWORD, "10.10.2.1").status_code == 200


def test_the_login_page_says_how_long_to_wait(booking, now):
    client = booking.app.test_client()
    client.set_cookie("evenemang_lang", "en")
    for _ in range(5):
        assert login(client, EMAIL, "wrong").status_code == 401
    response = login(client, EMAIL, PASSWORD)
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert field_error(response, "password") == "Too many failed logins. Wait 1 s and try again."
    again = login(client, EMAIL, PASSWORD)  # told, and back sooner: a short page this time
    assert again.status_code == 429 and again.headers["Retry-After"] == "1"
    short = again.get_data(as_text=True)
    assert "Too many failed logins. Wait 1 s and try again." in short
    assert 'href="/login"' in short and "<form" not in short
    assert client.get("/bookings").status_code == 302  # not logged in
    advance(now, seconds=1)
    assert login(client, EMAIL, PASSWORD).status_code == 302
    assert token(client, "/bookings")


def test_the_count_keeps_neither_addresses_nor_accounts_in_clear(booking, now):
    booking.attempt(EMAIL, "wrong", "192.0.2.44")
    with booking.ctx.db.transaction(readonly=True) as session:
        keys = session.scalars(select(LoginThrottle.key)).all()
    assert len(keys) == 2
    for key in keys:
        assert len(key) == 64 and int(key, 16) >= 0
        assert "ines" not in key and "192" not in key


def test_an_unknown_address_is_answered_as_a_wrong_password_is(booking, now):
    db = booking.ctx.db
    add_user(db, "gone@example.org", "Gone", "organiser", PASSWORD)
    update_user(db, "gone@example.org", active=False)
    add_user(db, "sso@example.org", "Single Sign-On Only", "organiser")  # no password
    answers = [
        booking.attempt(email, password, f"10.8.0.{i}")
        for i, (email, password) in enumerate(
            [
                (EMAIL, "wrong"),
                ("nobody@example.org", "wrong"),
                ("gone@example.org", PASSWORD),
                ("sso@example.org", "anything"),
            ]
        )
    ]
    assert {a.status_code for a in answers} == {401}
    assert len({a.get_data() for a in answers}) == 1


def test_an_unknown_address_takes_as_long_as_a_wrong_password(booking, now):
    """Measured: the medians of 7 logins each, interleaved, within a factor of 2."""
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    for i in range(7):
        for kind, email in (("known", EMAIL), ("unknown", f"nobody{i}@example.org")):
            advance(now, minutes=16)  # no wait from the count: only the check is timed
            started = time.perf_counter()
            response = booking.attempt(email, "wrong", f"10.9.{i}.1")
            timings[kind].append(time.perf_counter() - started)
            assert response.status_code == 401
    known, unknown = (statistics.median(timings[k]) for k in ("known", "unknown"))
    assert 0.5 < unknown / known < 2, timings
    assert unknown > 0.01  # a hash was checked: argon2 takes tens of milliseconds


def test_a_refusal_is_held_for_its_wait_while_holds_are_free(booking, now):
    """A client that guesses again as soon as it hears back hears back after a second, not
    at once; when the process holds as many refusals as it may, the next is answered at
    once, so its other threads stay free."""
    assert booking.statuses(EMAIL, "wrong", ["10.11.0.1"] * 5) == [401] * 5
    gate = booking.app.extensions["login_gate"]
    assert gate.hold == timedelta(seconds=1)

    def timed() -> float:
        started = time.perf_counter()
        assert booking.attempt(EMAIL, "wrong", "10.11.0.1").status_code == 429
        return time.perf_counter() - started

    assert 0.9 < timed() < 1.5
    for _ in range(HOLD_SLOTS):
        assert gate.holding.acquire(blocking=False)  # every hold taken by other requests
    try:
        assert timed() < 0.5
    finally:
        for _ in range(HOLD_SLOTS):
            gate.holding.release()


def test_refusals_are_answered_at_once_with_no_hold(make_app, config, now):
    booking = Booking(make_app("booking", config.replace(login_hold_seconds=0)), now)
    add_user(booking.ctx.db, EMAIL, "Ines Infra", "infra", PASSWORD)
    assert booking.statuses(EMAIL, "wrong", ["10.12.0.1"] * 5) == [401] * 5
    started = time.perf_counter()
    assert booking.attempt(EMAIL, "wrong", "10.12.0.1").status_code == 429
    assert time.perf_counter() - started < 0.5

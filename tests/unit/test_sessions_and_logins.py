"""The rules of sessions and of the login throttle, without a database: when a session is
over, what its cookie says, how long a login waits after failures, which part of a client
address counts, and password checks taking turns at the lowest priority."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta

import pytest

from services.booking.domain import LoginPolicy, LoginThrottled, address_group
from shared.auth import hash_password
from shared.config import Config, ConfigError
from shared.password_checks import PasswordChecks
from shared.sessions import SessionClaim, SessionLimits

T0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seen_after", "now_after", "over"),
    [
        (timedelta(0), timedelta(hours=8), False),
        (timedelta(0), timedelta(hours=8, seconds=1), True),
        (timedelta(days=29, hours=20), timedelta(days=30), False),
        (timedelta(days=29, hours=20), timedelta(days=30, seconds=1), True),
    ],
)
def test_a_session_is_over_after_eight_idle_hours_or_thirty_days(seen_after, now_after, over):
    assert SessionLimits().over(T0, T0 + seen_after, T0 + now_after) is over


def test_the_last_seen_time_is_written_again_after_five_minutes():
    limits = SessionLimits()
    assert not limits.stale(T0, T0 + timedelta(minutes=4, seconds=59))
    assert limits.stale(T0, T0 + timedelta(minutes=5))


def test_limits_follow_the_configuration_and_refresh_well_inside_a_short_idle_time():
    limits = SessionLimits.from_config(Config(session_idle_hours=0.5, session_max_days=2))
    assert limits.idle == timedelta(minutes=30) and limits.max_age == timedelta(days=2)
    assert limits.refresh == timedelta(minutes=5)
    tiny = SessionLimits.from_config(Config(session_idle_hours=0.1))
    assert tiny.refresh == timedelta(minutes=1, seconds=30)


def test_a_claim_goes_into_the_cookie_and_back_in_whole_seconds():
    claim = SessionClaim("sid", "uid", T0, T0 + timedelta(minutes=7, microseconds=5))
    assert claim.dump() == {
        "sid": "sid",
        "uid": "uid",
        "started": int(T0.timestamp()),
        "seen": int(T0.timestamp()) + 420,
    }
    assert SessionClaim.load(claim.dump()) == SessionClaim(
        "sid", "uid", T0, T0 + timedelta(minutes=7)
    )


@pytest.mark.parametrize(
    "data",
    [
        None,
        "sid",
        {"user_id": "u", "email": "a@example.org", "name": "A", "role": "admin"},
        {"sid": "s", "uid": "u", "started": "yesterday", "seen": 0},
        {"sid": 1, "uid": "u", "started": 0, "seen": 0},
        {"sid": "s", "uid": "u", "started": 10**20, "seen": 0},
    ],
)
def test_anything_else_in_the_cookie_names_no_session(data):
    assert SessionClaim.load(data) is None


def _waits(policy: LoginPolicy, failures: int) -> timedelta:
    return policy.wait(failures, T0, T0)


def test_five_failures_cost_nothing_then_each_more_doubles_the_wait_up_to_the_window():
    policy = LoginPolicy()
    assert [_waits(policy, n).total_seconds() for n in range(1, 5)] == [0, 0, 0, 0]
    assert [_waits(policy, n).total_seconds() for n in range(5, 11)] == [1, 2, 4, 8, 16, 32]
    assert _waits(policy, 15) == timedelta(minutes=15)
    assert _waits(policy, 10_000) == timedelta(minutes=15)


def test_the_wait_runs_from_the_last_failure_and_failures_lapse_after_the_window():
    policy = LoginPolicy()
    assert policy.wait(6, T0, T0 + timedelta(seconds=1)) == timedelta(seconds=1)
    assert policy.wait(6, T0, T0 + timedelta(seconds=3)) == timedelta(0)
    assert policy.counted(9, T0, T0 + timedelta(minutes=14, seconds=59)) == 9
    assert policy.counted(9, T0, T0 + timedelta(minutes=15)) == 0
    assert policy.wait(9, T0, T0 + timedelta(minutes=15)) == timedelta(0)


def test_a_throttled_login_says_when_in_seconds_then_minutes():
    short = LoginThrottled(timedelta(seconds=1.2))
    assert short.retry_after == 2 and short.message.code == "login_wait_seconds"
    assert short.message.params == {"seconds": 2}
    long = LoginThrottled(timedelta(seconds=121))
    assert long.retry_after == 121 and long.message.params == {"minutes": 3}


@pytest.mark.parametrize(
    ("address", "group"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::ffff", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("not an address", "not an address"),
        (None, "unknown"),
    ],
)
def test_a_client_is_counted_by_its_address_or_its_ipv6_subscriber_prefix(address, group):
    assert address_group(address) == group


@pytest.mark.parametrize(
    "name",
    [
        "session_idle_hours",
        "session_max_days",
        "login_max_failures",
        "login_window_minutes",
    ],
)
def test_the_limits_must_be_positive(name):
    with pytest.raises(ConfigError, match=f"EVENEMANG_{name.upper()}"):
        Config(**{name: 0}).validate()


def test_a_session_cannot_idle_longer_than_it_may_live():
    with pytest.raises(ConfigError, match="EVENEMANG_SESSION_IDLE_HOURS"):
        Config(session_idle_hours=49, session_max_days=2).validate()
    assert Config.from_env(
        {"EVENEMANG_SESSION_IDLE_HOURS": "2.5", "EVENEMANG_LOGIN_MAX_FAILURES": "3"}
    ).session_idle_hours == pytest.approx(2.5)


def test_one_password_check_at_a_time_among_processes_sharing_a_directory(tmp_path):
    first, second = PasswordChecks(lock_dir=tmp_path), PasswordChecks(lock_dir=tmp_path)
    try:
        with first.turn() as mine:
            assert mine
            with first.turn() as again, second.turn() as theirs:
                assert not again and not theirs  # never waits: the caller answers 429
        with second.turn() as theirs:
            assert theirs
    finally:
        first.close()
        second.close()


def test_without_a_writable_directory_each_process_takes_its_own_turns(tmp_path):
    checks = PasswordChecks(lock_dir=tmp_path / "missing")
    try:
        with checks.turn() as mine:
            assert mine
    finally:
        checks.close()


def test_passwords_are_checked_at_the_lowest_priority(tmp_path):
    checks = PasswordChecks(lock_dir=tmp_path)
    try:
        priority = checks._executor().submit(
            lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        )
        assert priority.result() == 19
        hashed = hash_password("right")
        assert checks.verify(hashed, "right") and not checks.verify(hashed, "wrong")
        assert not checks.verify(None, "anything")  # a dummy hash is checked
    finally:
        checks.close()

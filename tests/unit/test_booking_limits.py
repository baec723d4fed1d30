"""The limits per person as rules (services.booking.domain.limits) and as settings: when the
next request or change may come, which addresses are outside, and what the configuration
refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.booking.domain import (
    LimitReached,
    Limits,
    RuleViolation,
    check_change_rate,
    check_new_booking,
    check_participants,
    outside,
)
from services.booking.usecases.common import limits_of
from shared.config import Config, ConfigError

NOW = datetime(2030, 3, 1, 12, tzinfo=UTC)


def minutes_ago(*minutes: float) -> list[datetime]:
    return sorted(NOW - timedelta(minutes=m) for m in minutes)


def test_the_next_request_may_come_when_the_oldest_counted_is_an_hour_old():
    limits = Limits(bookings_per_hour=3)
    check_new_booking(limits, minutes_ago(50, 10), pending=0, now=NOW)
    check_new_booking(limits, minutes_ago(70, 50, 10), pending=0, now=NOW)  # one is older
    with pytest.raises(LimitReached) as caught:
        check_new_booking(limits, minutes_ago(59, 50, 10, 5), pending=0, now=NOW)
    # four in the hour, three allowed: the second oldest must age out first
    assert caught.value.retry_after == 10 * 60
    assert caught.value.message.code == "too_many_bookings_an_hour"
    assert caught.value.message.params == {"limit": 3, "minutes": 10}


def test_requests_waiting_at_once_say_no_time():
    with pytest.raises(LimitReached) as caught:
        check_new_booking(Limits(pending_at_once=2), [], pending=2, now=NOW)
    assert caught.value.retry_after is None
    check_new_booking(Limits(pending_at_once=2), [], pending=1, now=NOW)


def test_zero_turns_a_count_off():
    many = minutes_ago(*range(1, 59))
    check_new_booking(Limits(bookings_per_hour=0, pending_at_once=0), many, 10_000, NOW)
    check_change_rate(Limits(changes_per_hour=0), many, NOW)


def test_changes_an_hour():
    check_change_rate(Limits(changes_per_hour=2), minutes_ago(61, 30), NOW)
    with pytest.raises(LimitReached) as caught:
        check_change_rate(Limits(changes_per_hour=2), minutes_ago(59.5, 30), NOW)
    assert caught.value.retry_after == 30
    assert caught.value.message.params["minutes"] == 1


def test_participants_over_the_limit_are_refused_on_the_field():
    check_participants(Limits(participants=2), ["a", "b"])
    with pytest.raises(RuleViolation) as caught:
        check_participants(Limits(participants=2), ["a", "b", "c"])
    assert [m.code for m in caught.value.errors["participants"]] == ["too_many_participants"]


def test_addresses_outside_the_internal_domains():
    limits = limits_of(Config(internal_domains=" Uni.Example, @student.uni.example,"))
    assert limits.internal_domains == {"uni.example", "student.uni.example"}
    addresses = ["a@uni.example", "b@STUDENT.uni.example", "c@sub.uni.example", "d@else.example"]
    assert outside(limits, addresses) == ["c@sub.uni.example", "d@else.example"]
    assert outside(limits_of(Config()), addresses) == []  # no domain set: any address


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("max_bookings_per_hour", "-1"),
        ("max_pending_bookings", "-5"),
        ("max_changes_per_hour", "-1"),
        ("max_participants", "0"),
        ("max_participants", "501"),
    ],
)
def test_the_configuration_refuses_limits_that_mean_nothing(name, value, tmp_path):
    with pytest.raises(ConfigError, match=f"EVENEMANG_{name.upper()}"):
        Config.from_env({f"EVENEMANG_{name.upper()}": value}, data_dir=tmp_path)


def test_the_limits_are_read_from_the_environment(tmp_path):
    config = Config.from_env(
        {"EVENEMANG_MAX_BOOKINGS_PER_HOUR": "0", "EVENEMANG_MAX_PARTICIPANTS": "500"},
        data_dir=tmp_path,
    )
    assert (limits_of(config).bookings_per_hour, limits_of(config).participants) == (0, 500)
    assert limits_of(Config()) == Limits(60, 50, 200, 20, frozenset())

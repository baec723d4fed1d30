"""The largest series allowed (500 dates × 10 resources) is checked and read in a number of
statements that does not grow with its dates: its approval takes as many as a 5-date
series', its read a handful; and what it collides with on date 250 is still found (as busy
only, to an organiser who may not see it). The times are figures of bench/series.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.booking.domain import MAX_OCCURRENCES
from tests.integration.test_booking_statements import statements_of
from tests.support.booking import MONDAY, BookingApi, at, problem

RESOURCES = 10
# The token check (3 with SQLite's BEGIN), then the booking, its lines, its dates and what
# they collide with (5): 500 dates on 10 resources are one range scan statement.
READ_STATEMENTS = 8


@pytest.fixture
def api(make_app, config) -> BookingApi:
    return BookingApi(make_app("booking", config.replace(max_pending_bookings=0)))


def series(api: BookingApi, rooms, dates: int, first=MONDAY):
    return api.booking(
        api.organiser,
        *rooms,
        title=f"{dates} days",
        start=at(first, 10),
        end=at(first, 12),
        rrule=f"FREQ=DAILY;COUNT={dates}",
    )


def test_approving_500_dates_takes_the_statements_5_dates_take(api):
    rooms = [api.make_resource(max_advance_days=3650) for _ in range(RESOURCES)]
    small = series(api, rooms, 5)
    large = series(api, rooms, MAX_OCCURRENCES, first=MONDAY + timedelta(days=10))
    assert len(large["occurrences"]) == MAX_OCCURRENCES

    answers = {}
    counts = {}
    for name, booking in (("small", small), ("large", large)):
        answer, statements = statements_of(api, lambda b=booking: api.act(b, "approve", api.infra))
        answers[name], counts[name] = answer, len(statements)
    assert answers["small"].status_code == answers["large"].status_code == 200
    # The slots are rewritten with one INSERT (many rows); the rest does not depend on dates.
    assert counts["large"] == counts["small"], counts

    read, statements = statements_of(
        api, lambda: api.get(f"/api/v1/bookings/{large['id']}", api.organiser)
    )
    assert read.status_code == 200
    assert len(read.get_json()["occurrences"]) == MAX_OCCURRENCES
    assert len(statements) <= READ_STATEMENTS, "\n".join(s[:90] for s in statements)


def test_a_collision_deep_in_the_series_is_found_and_shown_as_busy(api):
    rooms = [api.make_resource(max_advance_days=3650) for _ in range(RESOURCES)]
    day_250 = MONDAY + timedelta(days=249)
    theirs = api.booking(
        api.other, rooms[7], title="Private retreat", start=at(day_250, 11), end=at(day_250, 13)
    )
    api.approved(theirs)

    refused = api.submit(
        api.organiser,
        *rooms,
        start=at(MONDAY, 10),
        end=at(MONDAY, 12),
        rrule=f"FREQ=DAILY;COUNT={MAX_OCCURRENCES}",
    )

    body = problem(refused, 409)
    assert [(c["resource_id"], c["start"][:10]) for c in body["conflicts"]] == [
        (rooms[7]["id"], day_250.isoformat())
    ]
    conflict = body["conflicts"][0]
    assert conflict["booking_id"] is None and conflict["title"] == ""
    assert "Private retreat" not in refused.get_data(as_text=True)

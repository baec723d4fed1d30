"""A local time the clocks skip (Stockholm, the last Sunday of March, 02:00-03:00) or pass
twice (the last Sunday of October) is refused with a 422 on its field, never moved: in the
API without an offset, on the request form, and for a series' date that lands in the gap. A
series' date in the autumn hour is its first passing (summer time), as written in README."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest

from tests.support.booking import NOW, BookingApi, problem
from tests.support.pages import browser, field_error, post

PASSWORD = "a long enough password"
SPRING, AUTUMN = "2030-03-31", "2030-10-27"  # Sundays: summer time begins, ends


@pytest.fixture
def api(make_app) -> BookingApi:
    return BookingApi(make_app("booking"), NOW)


@pytest.mark.parametrize(
    ("start", "code"),
    [
        (f"{SPRING}T02:30:00", "time_skipped_give_offset"),
        (f"{AUTUMN}T02:30:00", "time_twice_give_offset"),
    ],
    ids=["skipped", "twice"],
)
def test_the_api_refuses_a_wall_time_that_is_no_single_moment(api, start, code):
    room = api.make_resource()
    said = problem(api.submit(api.organiser, room, start=start, end=start[:11] + "05:00:00"), 422)
    assert said["codes"] == {"start": [code]}
    assert "Europe/Stockholm" in said["errors"]["start"][0]
    assert api.counts() == (0, 0)


@pytest.mark.parametrize(
    ("offset", "utc"), [("+02:00", "00:30"), ("+01:00", "01:30")], ids=["first", "second"]
)
def test_with_its_offset_the_autumn_hour_is_the_moment_meant(api, offset, utc):
    room = api.make_resource()
    booking = api.booking(
        api.organiser, room, start=f"{AUTUMN}T02:30:00{offset}", end=f"{AUTUMN}T05:00:00+01:00"
    )
    assert f"{datetime.fromisoformat(booking['start']).astimezone(UTC):%H:%M}" == utc


def test_a_series_with_a_date_in_the_gap_is_refused_naming_it(api):
    room = api.make_resource()
    said = problem(
        api.submit(
            api.organiser,
            room,
            start="2030-03-30T02:30:00+01:00",
            end="2030-03-30T02:45:00+01:00",
            rrule="FREQ=DAILY;COUNT=3",
        ),
        422,
    )
    assert said["codes"] == {"rrule": ["occurrence_skipped"]}
    assert "2030-03-31 02:30" in said["errors"]["rrule"][0]


def test_a_series_date_in_the_autumn_hour_is_its_first_passing(api):
    room = api.make_resource()
    booking = api.booking(
        api.organiser,
        room,
        start="2030-10-20T02:30:00+02:00",
        end="2030-10-20T02:45:00+02:00",
        rrule="FREQ=WEEKLY;COUNT=3",
    )
    starts = [o["start"] for o in booking["occurrences"]]
    assert starts == [
        "2030-10-20T02:30:00+02:00",
        "2030-10-27T02:30:00+02:00",  # summer time still: the first 02:30 of the night
        "2030-11-03T02:30:00+01:00",
    ]


@pytest.mark.parametrize("lang", ["en", "sv"])
@pytest.mark.parametrize(
    ("day", "field", "en", "sv"),
    [
        (SPRING, "start_time", "skip this time", "hoppar över"),
        (AUTUMN, "start_time", "happens twice", "två gånger"),
    ],
    ids=["skipped", "twice"],
)
def test_the_form_refuses_it_beside_the_time(make_app, monkeypatch, lang, day, field, en, sv):
    from argon2 import PasswordHasher

    from services.booking.usecases import users

    monkeypatch.setattr(
        "shared.auth._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    api = BookingApi(make_app("booking"), NOW)
    users.add_user(api.db, "paula@example.org", "Paula", "organiser", PASSWORD)
    room = api.make_resource()
    page = browser(api.app, "paula@example.org", PASSWORD, lang=lang)
    form = {"date": day, "start_time": "02:30", "end_time": "04:00", "title": "Night work"}
    form.update(resource_ids=room["id"], visibility="internal", language="en", step="send")
    response = post(page, "/bookings/new", form)
    assert response.status_code == 422
    said = html.unescape(field_error(response, field))
    assert (en if lang == "en" else sv) in said and "Europe/Stockholm" in said
    assert api.counts() == (0, 0)

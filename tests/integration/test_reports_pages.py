"""The reports pages through the Flask test client, in both languages, over the year of
tests/support/report_fixtures.py: who may open them (and sees them in the navigation),
each report and grouping drawn as an SVG chart beside the same figures as a table, links
to the files, and bad filters shown beside their fields (422), never a 500."""

from __future__ import annotations

import re

import pytest

from services.booking.usecases import users
from tests.support import report_fixtures
from tests.support.pages import browser, field_error, say, text

PASSWORD = "a long enough password"
YEAR = "from=2026-01-01&to=2026-12-31"
GROUPS = [
    ("events", "month"),
    ("events", "quarter"),
    ("events", "year"),
    ("events", "category"),
    ("events", "unit"),
    ("events", "resource"),
    ("occupancy", "week"),
    ("occupancy", "month"),
    ("occupancy", "hour"),
    ("services", "month"),
    ("services", "resource"),
    ("decisions", "team"),
    ("decisions", "reason"),
]


@pytest.fixture
def app(make_app):
    app = make_app("booking")
    db = app.extensions["booking_context"].db
    for role, email in (
        ("infra", "infra@example.org"),
        ("organiser", "olle@example.org"),
        ("organiser", "kim@example.org"),
    ):
        users.add_user(db, email, email.split("@")[0].title(), role, PASSWORD)
    organiser = report_fixtures.organiser(db)
    report_fixtures.seed(db, organiser)
    return app


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_each_report_is_a_chart_and_a_table(app, lang):
    client = browser(app, "kim@example.org", PASSWORD, lang)
    for name, group in GROUPS:
        response = client.get(f"/reports/{name}?{YEAR}&group={group}")
        assert response.status_code == 200, (name, group)
        page = text(response)
        assert '<svg class="chart-svg"' in page and "<title id=" in page, (name, group)
        assert 'role="img"' in page
        assert "<table" in page and "style=" not in page
        assert f"/api/v1/reports/{name}?" in page and "format=xlsx" in page
    page = text(client.get(f"/reports/events?{YEAR}&group=month"))
    assert say(lang, "Seminar", "Seminarium") in page  # the legend names the series
    assert re.search(r"<dd>8</dd>", page)  # the events of the year


def test_heat_map_and_figures_in_the_table(app):
    client = browser(app, "infra@example.org", PASSWORD)
    page = text(client.get(f"/reports/occupancy?{YEAR}&group=hour"))
    assert page.count('class="heat h') == 168
    assert '<th scope="row">Sunday</th>' in page  # the recording's hours
    page = text(client.get(f"/reports/decisions?{YEAR}"))
    assert "Kommunikation" in page and "33.3 %" in page


def test_organisers_outside_teams_neither_see_nor_open_reports(app):
    organiser = browser(app, "olle@example.org", PASSWORD)
    assert organiser.get("/reports/events").status_code == 403
    assert "/reports" not in text(organiser.get("/bookings"))
    member = browser(app, "kim@example.org", PASSWORD)
    assert 'href="/reports"' in text(member.get("/bookings"))
    assert member.get("/reports").status_code == 302
    assert browser(app).get("/reports/events").status_code == 302  # to the login page
    assert browser(app, "infra@example.org", PASSWORD).get("/reports/nothing").status_code == 404


@pytest.mark.parametrize(
    ("query", "field", "en"),
    [
        ("from=2026-05-01&to=2026-04-01", "to", "Must be after the start."),
        ("from=2026-01-01&to=9999-01-01", "to", "Give a year between 1970 and 2200."),
        ("from=2020-01-01&to=2026-12-31", "to", "A report covers at most 5 years."),
        ("unit=nowhere", "unit", "There is no unit with the short name “nowhere”."),
        ("group=decade", "group", "Choose one of: month, quarter, year, category, unit, resource."),
    ],
)
def test_bad_filters_are_shown_beside_their_fields(app, query, field, en):
    client = browser(app, "infra@example.org", PASSWORD)
    response = client.get(f"/reports/events?{query}")
    assert response.status_code == 422
    assert field_error(response, field) == en

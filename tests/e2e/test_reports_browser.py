"""The reports in a real browser (the system's Chromium through Playwright) against
booking's app served over HTTP on loopback, over the hand-counted year of
tests/support/report_fixtures.py: a team member opens each report, changes its grouping
with the filters form and downloads the Excel file; the charts fit a phone without
sideways scrolling and the page breaks no Content-Security-Policy rule. Each report is
photographed at desktop and phone width under ``test-output/screenshots/reports/``."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import load_workbook
from werkzeug.serving import make_server

from services.booking.usecases import users
from tests.support import report_fixtures
from tests.support.browser import (
    PHONE,
    SCREENSHOTS,
    Screenshots,
    chromium,
    new_page,
    require_browser,
)

pytestmark = pytest.mark.slow
PASSWORD = "a long enough password"
YEAR = "from=2026-01-01&to=2026-12-31"
VIEWS = [
    ("events", "month", "events by month"),
    ("events", "unit", "events by unit"),
    ("occupancy", "week", "occupancy by week"),
    ("occupancy", "hour", "busiest hours"),
    ("services", "month", "services by month"),
    ("decisions", "team", "decision times"),
    ("decisions", "reason", "reasons declined"),
]


@pytest.fixture
def site(make_app) -> Iterator[str]:
    """Booking's app with the year seeded, served on a free loopback port."""
    require_browser()
    app = make_app("booking")
    db = app.extensions["booking_context"].db
    users.add_user(db, "olle@example.org", "Olle", "organiser", PASSWORD)
    users.add_user(db, "kim@example.org", "Kim Komm", "organiser", PASSWORD)
    report_fixtures.seed(db, report_fixtures.organiser(db))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def log_in(page: Any, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)  # deciders land on the queue


def test_each_report_in_a_browser_at_desktop_and_phone_width(site):
    shots = Screenshots(SCREENSHOTS / "reports")
    with chromium() as browser:
        page = new_page(browser, site)
        refused: list[str] = []
        page.on(
            "console", lambda m: refused.append(m.text) if "Content Security" in m.text else None
        )
        log_in(page, "kim@example.org")
        page.get_by_role("link", name="Reports").first.click()
        page.wait_for_url("**/reports/events**")
        for name, group, label in VIEWS:
            page.goto(f"/reports/{name}?{YEAR}")
            page.get_by_label("Group by").select_option(group)
            page.get_by_role("button", name="Filter", exact=True).click()
            page.wait_for_url(f"**group={group}**")
            assert page.locator("svg.chart-svg").count() == 1, label
            assert page.locator("table.figures tbody tr").count() > 0, label
            shots.take(page, label)
        page.set_viewport_size(PHONE)
        page.goto(f"/reports/events?{YEAR}&group=month")
        box = page.locator("svg.chart-svg").bounding_box()
        assert box is not None and box["width"] <= PHONE["width"]
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], "the page scrolls sideways on a phone"
        with page.expect_download() as download:
            page.get_by_role("link", name="Excel", exact=True).click()
        book = load_workbook(io.BytesIO(download.value.path().read_bytes()), read_only=True)
        rows = list(book[book.sheetnames[0]].iter_rows(values_only=True))
        book.close()
        assert rows[0][:2] == ("Period", "Category (short name)")
        assert ("2026-02", "seminar", "Seminar", 2, 40) in rows
        page.goto("/reports/events?from=2026-05-01&to=2026-04-01")
        assert page.locator("#to-error").inner_text().strip() == "Must be after the start."
        shots.take(page, "a period backwards")
        assert refused == []
        organiser = new_page(browser, site)
        log_in(organiser, "olle@example.org")
        assert organiser.get_by_role("link", name="Reports").count() == 0
    assert len(shots.taken) == 2 * (len(VIEWS) + 1)

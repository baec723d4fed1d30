"""The free/busy grid in a real browser against a real ``evenemang up --demo``: an organiser
drags across two seminar rooms and two hours, the request form opens with that time and
both rooms, and the request is sent; then picks a span by keyboard alone (arrows, Space,
Enter) and sends that; a new week and a filter come from the server without a reload; on a
phone the grid shows one day and a tap opens the form. The grid is photographed at desktop
and phone width in English and Swedish under ``test-output/screenshots/grid/``."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.test_web_browser import ORGANISER, event_day, log_in
from tests.support.browser import (
    PHONE,
    SCREENSHOTS,
    Screenshots,
    chromium,
    new_page,
    require_browser,
)
from tests.support.suite import evenemang_up, wait_healthy

pytestmark = pytest.mark.slow

FIRST_HOUR = 7  # the demo's venues open at 07:00: the week's first column
VENUES = ["Aula Magna", "Foyer", "Seminar room 1", "Seminar room 2"]


@pytest.fixture
def suite(config, tmp_path):
    require_browser()
    with evenemang_up(config, tmp_path, "--demo") as running:
        wait_healthy(running, timeout=180)  # a busy machine starts slowly
        yield running


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def cell(page: Any, resource: str, hour: int, day: date) -> Any:
    """A cell of the week grid of venues: its resource's row, its hour, its day."""
    return page.locator(
        f'td[data-at="{VENUES.index(resource)}.{hour - FIRST_HOUR}.{day.weekday()}"]'
    )


def form_values(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def send(page: Any, title: str) -> None:
    page.get_by_label("Title").fill(title)
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url("**/bookings/*")
    assert title in page.inner_text("h1")


def test_book_from_the_grid_by_mouse_keyboard_and_phone(suite):
    from playwright.sync_api import expect  # installed (require_browser) before it is used

    shots = Screenshots(SCREENSHOTS / "grid")
    day = event_day()  # a Tuesday one to two weeks ahead
    with chromium() as browser:
        page = new_page(browser, suite.url)
        log_in(page, ORGANISER)
        page.get_by_role("link", name="Free times").click()
        page.wait_for_url("**/grid")
        page.locator(".fb-pick summary").click()  # opened by hand: a reload would close it
        page.get_by_label("Kind").select_option("venue")  # the script fetches the venues
        expect(page).to_have_url(re.compile(r"kind=venue"))  # the address follows
        rows = page.locator("#fb-grid tbody tr:not(.fb-dayhead) th")
        expect(rows.nth(4)).to_have_text(VENUES[0])  # the second day starts over: 4 venues
        assert rows.all_inner_texts()[:4] == VENUES
        assert page.locator(".fb-pick").get_attribute("open") is not None  # no reload
        page.locator("a[rel=next]").click()  # a week on, from the server, no reload
        next_week = iso_week(date.today() + timedelta(days=7))
        expect(page.locator("#fb")).to_have_attribute("data-week", next_week)
        expect(page).to_have_url(re.compile(f"week={next_week}"))
        page.goto(f"/grid?week={iso_week(day)}&kind=venue")

        # By mouse: from Seminar room 1 at 10 to Seminar room 2 at 11, that is 10:00–12:00.
        start, end = cell(page, "Seminar room 1", 10, day), cell(page, "Seminar room 2", 11, day)
        start.scroll_into_view_if_needed()
        a, b = start.bounding_box(), end.bounding_box()
        page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
        page.mouse.down()
        page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=8)
        assert page.locator("#fb-grid .fb-selected").count() == 4
        page.mouse.up()
        page.wait_for_url("**/bookings/new?**")
        assert form_values(page)["date"] == [day.isoformat()]
        assert (form_values(page)["start_time"], form_values(page)["end_time"]) == (
            ["10:00"],
            ["12:00"],
        )
        assert page.get_by_label("Seminar room 1").is_checked()
        assert page.get_by_label("Seminar room 2").is_checked()
        assert page.get_by_label("Starts").input_value() == "10:00"
        send(page, "Dragged workshop")

        # By keyboard: Foyer 13:00, Space, two to the right, Enter: 13:00–16:00.
        page.goto(f"/grid?week={iso_week(day)}&kind=venue")
        requested = cell(page, "Seminar room 1", 10, day)
        assert "fb-pending" in requested.get_attribute("class")
        assert "Requested: Seminar room 1" in requested.inner_text()
        cell(page, "Foyer", 13, day).locator("a").focus()
        page.keyboard.press("Space")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        assert "Foyer" in page.locator("#fb-selection").inner_text()
        page.keyboard.press("Enter")
        page.wait_for_url("**/bookings/new?**")
        assert (form_values(page)["start_time"], form_values(page)["end_time"]) == (
            ["13:00"],
            ["16:00"],
        )
        assert page.get_by_label("Foyer").is_checked()
        send(page, "Keyed meeting")

        page.goto(f"/grid?week={iso_week(day)}&kind=venue")
        shots.take(page, "grid week en")
        page.goto(f"/grid?day={day.isoformat()}&kind=venue")
        shots.take(page, "grid day en")
        page.goto(f"/grid?week={iso_week(day)}&kind=venue&lang=sv")
        # the resources named in Swedish: Seminar room 1 is Seminarierum 1
        assert "Önskad: Seminarierum 1" in cell(page, "Seminar room 1", 10, day).inner_text()
        shots.take(page, "grid week sv")
        page.goto(f"/grid?day={day.isoformat()}&kind=venue&lang=sv")
        shots.take(page, "grid day sv")
        page.goto("/grid?lang=en")

        # On a phone: one day at a time, and a tap on a free half hour opens the form.
        phone = browser.new_context(viewport=PHONE, base_url=suite.url, locale="en", has_touch=True)
        phone.set_default_timeout(15_000)
        mobile = phone.new_page()
        log_in(mobile, ORGANISER)
        mobile.goto(f"/grid?week={iso_week(day)}&kind=venue")
        mobile.wait_for_selector("#fb-grid.fb-day-grid")
        assert "day=" in mobile.url
        mobile.get_by_role("link", name="Next day").click()
        expect(mobile.locator("#fb-h")).to_be_focused()
        heading = mobile.inner_text("#fb-h")
        mobile.get_by_role("link", name="Previous day").click()
        expect(mobile.locator("#fb-h")).not_to_have_text(heading)
        target = mobile.locator("#fb-grid td.fb-free a").first
        target.scroll_into_view_if_needed()
        target.tap()
        mobile.wait_for_url("**/bookings/new?**")
        chosen = form_values(mobile)
        start_h, start_m = map(int, chosen["start_time"][0].split(":"))
        end_h, end_m = map(int, chosen["end_time"][0].split(":"))
        assert (end_h * 60 + end_m) - (start_h * 60 + start_m) == 30
        phone.close()

        page.goto("/bookings")
        listed = page.inner_text("main")
        assert "Dragged workshop" in listed and "Keyed meeting" in listed
    assert len(shots.taken) == 8 and all(p.stat().st_size > 0 for p in shots.taken)

"""The short request form in a real browser against ``evenemang up --demo``: a taken time
answers with the next free times, one click from a filled-in form that then sends; the
time, the title and the send button on one desktop screen; a repeat read as a sentence
while it is entered (and without JavaScript after "Show free…"); the answer to "Show
free…" where the person is looking, and nothing free for an impossible time; each role
lands where its work is; on a phone the decision buttons follow the summary. Screenshots
of the suggestions under ``test-output/screenshots/suggestions/``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from shared.messages import text
from tests.e2e.test_web_browser import (  # noqa: F401 - suite: the demo running
    ADMIN,
    INFRA,
    MANAGER,
    ORGANISER,
    SECOND,
    log_in,
    suite,
)
from tests.support.browser import (
    PHONE,
    SCREENSHOTS,
    Screenshots,
    chromium,
    new_page,
)

pytestmark = pytest.mark.slow


def a_weekday(weekday: int, weeks: int = 2) -> date:
    """A day of the week (0: Monday) two to three weeks ahead: past every demo resource's
    notice, inside its opening hours."""
    day = date.today() + timedelta(days=7 * weeks)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def fill_time(page: Any, day: date, start: str, end: str) -> None:
    page.get_by_label("Date", exact=True).fill(day.isoformat())
    page.get_by_label("Starts").fill(start)
    page.get_by_label("Ends", exact=True).fill(end)


def focused_id(page: Any) -> str:
    page.wait_for_function("document.activeElement && document.activeElement.id !== ''")
    return page.evaluate("document.activeElement.id")


def taken_time_offers_free_times(suite: Any) -> None:  # noqa: F811 - the fixture's value
    shots = Screenshots(SCREENSHOTS / "suggestions")
    day = a_weekday(3)  # a Thursday
    with chromium() as browser:
        first = new_page(browser, suite.url)
        log_in(first, ORGANISER)
        first.goto(f"/bookings/new?start={day}T13:00&end={day}T15:00&resource=seminar-room-2")
        assert first.get_by_label("Seminar room 2").is_checked()
        first.get_by_label("Title").fill("Reading group")
        first.get_by_role("button", name="Send request").click()
        first.wait_for_url("**/bookings/*")  # no approval needed: it holds the room now

        second = new_page(browser, suite.url)
        log_in(second, SECOND)
        second.goto("/bookings/new")
        fill_time(second, day, "13:30", "14:30")
        second.get_by_label("Seminar room 2").check()
        second.get_by_label("Title").fill("Thesis defence")
        second.get_by_role("button", name="Send request").click()
        taken = second.locator("#taken")
        taken.wait_for()
        assert "Seminar room 2" in taken.inner_text()
        assert "Reading group" not in taken.inner_text()  # another organiser's: busy only
        times = taken.locator(".suggested-times button")
        assert 1 <= times.count() <= 5
        assert focused_id(second) == "taken"
        shots.take(second, "taken slot suggestions")

        label = times.first.inner_text()
        times.first.click()
        second.wait_for_load_state()
        assert "The suggestion is filled in" in second.inner_text("main")
        assert second.get_by_label("Title").input_value() == "Thesis defence"
        assert second.get_by_label("Seminar room 2").is_checked()
        starts = second.get_by_label("Starts").input_value()
        assert starts in label and starts != "13:30"
        shots.take(second, "suggestion filled in")
        second.get_by_role("button", name="Send request").click()
        second.wait_for_url("**/bookings/*")
        assert "Thesis defence" in second.inner_text("h1")

        # The API offers the same.
        api = second.request.get(
            f"/api/v1/suggestions?resource_ids=seminar-room-2&start={day}T13:30&end={day}T14:30"
        )
        assert api.status == 200 and len(api.json()["times"]) == 5


def short_form_on_one_screen(suite: Any) -> None:  # noqa: F811 - the fixture's value
    day = a_weekday(2)  # a Wednesday
    with chromium() as browser:
        page = new_page(browser, suite.url)
        log_in(page, ORGANISER)
        page.goto("/bookings/new")
        for control in (
            page.get_by_label("Date", exact=True),
            page.get_by_label("Starts"),
            page.get_by_label("Ends", exact=True),
            page.get_by_label("Title"),
            page.get_by_role("button", name="Send request"),
        ):
            box = control.bounding_box()
            assert box is not None and box["y"] + box["height"] <= 800, box

        fill_time(page, day, "10:00", "12:00")
        page.locator("#repeat > summary").click()
        page.locator("#repeat-weekly").check()
        page.locator("#weekday-wed").check()
        page.locator("#repeat_count").fill("4")
        last = day + timedelta(weeks=3)
        sentence = page.locator("#repeat-sentence")
        expected = f"every Wednesday, 4 times, until {last.day} {last:%b}"
        if last.year != day.year:
            expected += f" {last.year}"
        page.wait_for_function(
            "t => document.getElementById('repeat-sentence').innerText.includes(t)", arg=expected
        )
        assert sentence.is_visible()

        # "Show free…": the answer where the person is looking.
        page.get_by_role("button", name="Show free venues and services").click()
        page.wait_for_load_state()
        assert page.url.endswith("#free-result")
        assert focused_id(page) == "free-result"
        assert expected in sentence.inner_text()  # worded by the server as well

        # An impossible time: nothing free, the error beside the field.
        page.locator("#repeat-none").check()
        fill_time(page, day, "12:00", "10:00")
        page.get_by_role("button", name="Show free venues and services").click()
        page.wait_for_load_state()
        assert page.locator("#end_time-error").is_visible()
        assert page.locator(".choices .badge-ok").count() == 0

    with chromium() as browser:  # no JavaScript: the sentence after "Show free…"
        context = browser.new_context(base_url=suite.url, java_script_enabled=False)
        page = context.new_page()
        log_in(page, ORGANISER)
        page.goto(f"/bookings/new?lang=sv&start={day}T10:00&end={day}T12:00")
        page.locator("#repeat > summary").click()
        page.locator("#repeat-weekly").check()
        page.locator("#weekday-wed").check()
        page.locator("#repeat_count").fill("4")
        page.get_by_role("button", name="Visa lediga lokaler och tjänster").click()
        page.wait_for_load_state()
        month = text(f"mon_{last.month}", "sv")
        shown = page.locator("#repeat-sentence").inner_text()
        assert f"varje onsdag, 4 gånger, till {last.day} {month}" in shown


LANDINGS = [(ORGANISER, "/bookings"), (INFRA, "/queue"), (MANAGER, "/queue"), (ADMIN, "/queue")]


def each_role_lands_where_its_work_is(suite: Any) -> None:  # noqa: F811 - the fixture's value
    with chromium() as browser:
        for who, lands in LANDINGS:
            page = new_page(browser, suite.url)
            log_in(page, who)
            assert page.url == f"{suite.url}{lands}", who
            page.goto("/")
            assert page.url == f"{suite.url}{lands}", who
            if who is ADMIN:
                links = page.locator("main .admin-links")
                assert links.get_by_role("link", name="People").is_visible()
                assert links.get_by_role("link", name="Venues and services").is_visible()
            page.context.close()


def phone_decision_buttons_follow_the_summary(suite: Any) -> None:  # noqa: F811 - the fixture's value
    day = a_weekday(1, weeks=3)  # a Tuesday
    with chromium() as browser:
        organiser = new_page(browser, suite.url)
        log_in(organiser, ORGANISER)
        organiser.goto(f"/bookings/new?start={day}T10:00&end={day}T11:00&resource=film-studio")
        organiser.get_by_label("Title").fill("Interview")
        organiser.get_by_role("button", name="Send request").click()
        organiser.wait_for_url("**/bookings/*")
        path = organiser.url.removeprefix(suite.url)

        infra = new_page(browser, suite.url)
        infra.set_viewport_size(PHONE)
        log_in(infra, INFRA)
        infra.goto(path)
        approve = infra.get_by_role("button", name="Approve").first
        sent = infra.locator("#sent-h")
        summary = infra.locator("p.lead")
        assert summary.bounding_box()["y"] < approve.bounding_box()["y"]
        assert approve.bounding_box()["y"] < sent.bounding_box()["y"]
        assert approve.bounding_box()["y"] < 2 * PHONE["height"]


def test_the_short_form_suggestions_landings_and_phone_in_a_browser(suite, subtests):  # noqa: F811
    for name, check in (
        ("a taken time offers free times", taken_time_offers_free_times),
        ("the short form on one screen", short_form_on_one_screen),
        ("each role lands where its work is", each_role_lands_where_its_work_is),
        ("on a phone the decisions follow the summary", phone_decision_buttons_follow_the_summary),
    ):
        with subtests.test(name):
            check(suite)

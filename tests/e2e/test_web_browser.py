"""The web pages in a real browser against a real ``evenemang up --demo``: an organiser asks
for a venue and a photographer, fixes a field error and sends; the infrastructure team
approves from the queue; the organiser sees it approved; a second organiser asking for the
same slot is told what it collides with and offered an alternative; the public feed and
the mail sink show the event. Every page is photographed at desktop and phone width under
``test-output/screenshots/``."""

from __future__ import annotations

import time
import urllib.request
from datetime import date, timedelta
from typing import Any

import pytest

from services.booking.usecases.users import add_user
from shared.db import Database
from tests.support.browser import Screenshots, chromium, new_page, require_browser
from tests.support.suite import evenemang_up, wait_healthy

pytestmark = pytest.mark.slow

ORGANISER = ("organiser@example.org", "demo-organiser-pass")
SECOND = ("second.organiser@example.org", "second-organiser-pass")
INFRA = ("infra@example.org", "demo-infra-pass")
MANAGER = ("studio.manager@example.org", "demo-manager-pass")
ADMIN = ("admin@example.org", "demo-admin-pass")
TITLE = "Spring symposium"


def event_day() -> date:
    """A Tuesday one to two weeks ahead: past every demo resource's notice, inside opening
    hours."""
    day = date.today() + timedelta(days=8)
    return day + timedelta(days=(1 - day.weekday()) % 7)


def log_in(page: Any, who: tuple[str, str]) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(who[0])
    page.get_by_label("Password").fill(who[1])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def choose_time(page: Any, day: date) -> None:
    page.goto("/bookings/new")
    page.get_by_label("Date", exact=True).fill(day.isoformat())
    page.get_by_label("Starts").fill("10:00")
    page.get_by_label("Ends", exact=True).fill("12:00")
    page.get_by_role("button", name="Show free venues and services").click()
    page.wait_for_load_state()


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def wait_for(check, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    return check()


@pytest.fixture
def suite(config, tmp_path):
    require_browser()
    db = Database(config.booking_database_url)
    try:
        add_user(db, SECOND[0], "Siri Second", "organiser", SECOND[1])
    finally:
        db.dispose()
    with evenemang_up(config, tmp_path, "--demo") as running:
        wait_healthy(running, timeout=180)  # a busy machine starts the demo slowly
        yield running


def test_request_decide_conflict_feed_and_mail_in_a_browser(suite, subtests):
    shots = Screenshots()
    day = event_day()
    with chromium() as browser:
        organiser = new_page(browser, suite.url)
        organiser.goto("/bookings")
        assert "/login?next=" in organiser.url
        shots.take(organiser, "login")
        log_in(organiser, ORGANISER)
        shots.take(organiser, "my requests empty")

        # A venue and a photographer; too many people for the hall, then fixed.
        choose_time(organiser, day)
        form = organiser.locator("form.request-form")
        assert form.get_by_label("Aula Magna").is_enabled()
        shots.take(organiser, "new request free")
        form.get_by_label("Aula Magna").check()
        form.get_by_label("Photographer").check()
        form.get_by_label("Title").fill(TITLE)
        form.get_by_text("More details (optional)").click()  # the optional ones, folded
        form.get_by_label("Description").fill("Talks and posters, open to everyone.")
        form.get_by_label("Expected attendees").fill("400")
        form.get_by_label("Public", exact=True).check()
        form.get_by_label("English", exact=True).check()
        form.get_by_label("Participants").fill("ann@example.org, Bo Berg <bo@example.org>")
        form.get_by_label("Notes for the team").fill("Posters in the foyer")
        form.get_by_role("button", name="Send request").click()
        error = organiser.locator("#expected_attendees-error")
        assert error.inner_text().strip() == "Aula Magna: holds at most 300 people."
        # the script moves focus once the page has loaded; wait for it rather than race it
        organiser.wait_for_function(
            "document.activeElement.className === 'error-summary'", timeout=5000
        )
        assert organiser.get_by_label("Title").input_value() == TITLE
        assert organiser.get_by_label("Aula Magna").is_checked()
        assert organiser.get_by_label("Photographer").is_checked()
        shots.take(organiser, "new request error")
        organiser.get_by_label("Expected attendees").fill("120")
        organiser.get_by_role("button", name="Send request").click()
        organiser.wait_for_url("**/bookings/*")
        assert f"Your request “{TITLE}” was sent." in organiser.inner_text("main")
        assert organiser.locator(".page-head .badge").inner_text() == "Pending"
        request_url = organiser.url
        shots.take(organiser, "request pending")

        # A second organiser picks the same slot while it is still only requested.
        second = new_page(browser, suite.url)
        log_in(second, SECOND)
        choose_time(second, day)
        second.get_by_label("Aula Magna").check()
        second.get_by_label("Title").fill("Competing party")

        # The studio manager decides the photographer, not the hall: their queue lists the
        # request with only the photographer's line theirs to approve.
        manager = new_page(browser, suite.url)
        log_in(manager, MANAGER)
        manager.goto("/queue")
        mine = manager.locator("li.item", has_text=TITLE)
        assert mine.get_by_role("button", name="Approve Photographer").is_visible()
        shots.take(manager, "queue manager")

        # The infrastructure team approves from the queue.
        infra = new_page(browser, suite.url)
        log_in(infra, INFRA)
        assert infra.locator(".main-nav .count").inner_text() == "1"
        infra.get_by_role("link", name="Queue").click()
        row = infra.locator("li.item", has_text=TITLE)
        assert "Aula Magna, Photographer" in row.inner_text()
        shots.take(infra, "queue")
        row.get_by_role("button", name="Approve").click()
        infra.wait_for_url("**/queue")
        assert f"“{TITLE}” is approved." in infra.inner_text("main")
        shots.take(infra, "queue empty")

        manager.reload()
        assert TITLE not in manager.inner_text("main")

        # The organiser sees it approved.
        organiser.goto("/bookings")
        card = organiser.locator("li.item", has_text=TITLE)
        assert card.locator(".badge").inner_text() == "Approved"
        shots.take(organiser, "my requests approved")
        organiser.goto(request_url)
        assert "Decided by infra@example.org." in organiser.inner_text("main")
        shots.take(organiser, "request approved")

        # The second organiser sends for the taken slot: the conflict and an alternative.
        second.get_by_role("button", name="Send request").click()
        taken = second.locator("#taken")
        assert "Aula Magna" in taken.inner_text() and TITLE in taken.inner_text()
        alternative = taken.locator(".suggested-resources li").first
        alternative_name = alternative.inner_text()
        assert any(n in alternative_name for n in ("Foyer", "Seminar room 1", "Seminar room 2"))
        assert second.get_by_label("Title").input_value() == "Competing party"
        shots.take(second, "conflict")
        alternative.get_by_role("button").click()  # the form again, that resource instead
        second.wait_for_load_state()
        assert second.get_by_label("Title").input_value() == "Competing party"
        second.get_by_role("button", name="Send request").click()
        second.wait_for_url("**/bookings/*")
        assert "Competing party" in second.inner_text("h1")

        # The week of the hall, the resources and the Swedish pages.
        infra.goto(f"/resources/aula-magna/week?week={day.isoformat()}")
        assert TITLE in infra.inner_text(".week")
        shots.take(infra, "week")
        admin = new_page(browser, suite.url)
        log_in(admin, ADMIN)
        admin.goto("/resources")
        shots.take(admin, "resources")
        admin.goto("/resources/aula-magna/edit")
        shots.take(admin, "resource edit")
        admin.goto("/bookings/new?lang=sv")
        assert "Ny förfrågan" in admin.inner_text("h1")
        shots.take(admin, "new request swedish")
        admin.get_by_role("button", name="Skicka förfrågan").click()
        assert admin.locator("#title-error").inner_text().strip() == "Fyll i det här fältet."
        assert admin.locator("#date-error").inner_text().strip() == "Ange ett datum."
        shots.take(admin, "new request swedish error")
        admin.goto("/queue")
        assert "Att besluta" in admin.inner_text("nav")  # the choice of language is kept
        admin.goto("/calendar/")
        shots.take(admin, "calendar subscribe")
        organiser.goto("/queue")
        assert organiser.inner_text("h1") == "You do not have access"
        shots.take(organiser, "forbidden")
        organiser.goto("/queue?lang=sv")
        assert organiser.inner_text("h1") == "Du har inte behörighet"

        with subtests.test("the public feed shows the event"):
            feed = wait_for(lambda: TITLE in fetch(suite.url + "/calendar/feeds/public.ics")[1])
            assert feed, "the approved public event never reached the public feed"

        with subtests.test("the mail sink shows the event"):
            page = admin.goto("/notify/outbox")
            assert page.status == 200, f"the mail sink page answered {page.status}"

            def in_outbox() -> bool:
                admin.reload()
                sink = admin.inner_text("main")
                return TITLE in sink and ORGANISER[0] in sink

            assert wait_for(in_outbox), "the mail about the event is not in the mail sink"
            shots.take(admin, "mail sink")
    assert shots.taken and all(path.stat().st_size > 0 for path in shots.taken)

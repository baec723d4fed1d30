"""Deciding line by line in a real browser against a real ``evenemang up``: an organiser asks
for a hall and a photographer; the hall's team and the photographer's team each log in,
see the request with only their own line theirs to decide, and decide it (one from the
request's page, one from the queue); the organiser sees the booking approved once both
are. Then the decision links notify mailed (read from the mail sink), opened without
logging in: the confirmation, a rejection with its reason, the link used again, another
decider's link now outdated, and the organiser told which part was declined and why.
Every page is photographed at desktop and phone width, under the test's own folder and
``test-output/screenshots/decide/``."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
from datetime import timedelta
from typing import Any

import pytest

from services.booking.commands import CreateResource
from services.booking.persistence.unit_of_work import Context
from services.booking.usecases import resources, users
from shared import decision_links
from shared.auth import Principal
from shared.db import Database
from shared.decision_links import Action
from shared.events import Kind
from tests.e2e.test_web_browser import choose_time, event_day, log_in, wait_for
from tests.support.browser import SCREENSHOTS, Screenshots, chromium, new_page, require_browser
from tests.support.suite import evenemang_up, wait_healthy
from tests.support.teams import add_team

pytestmark = pytest.mark.slow

ORGANISER = ("olle@example.org", "organiser-password")
HALL_DECIDER = ("ivar@example.org", "hall-decider-password")
PHOTO_DECIDER = ("tove@example.org", "photo-decider-password")
PHOTO_MAILBOX = "foto@example.org"
TITLE = "Spring symposium"


def prepare(config) -> dict[str, str]:
    """Before the suite starts: the people, a hall and a photographer, and a team for each;
    the resources' ids."""
    db = Database(config.booking_database_url)
    try:
        admin = users.add_user(db, "ada@example.org", "Ada Admin", "admin", "admin-password")
        for (email, password), name in (
            (ORGANISER, "Olle Organiser"),
            (HALL_DECIDER, "Ivar Hall"),
            (PHOTO_DECIDER, "Tove Photo"),
        ):
            users.add_user(db, email, name, "organiser", password)
        ctx = Context(db=db, config=config)
        actor = Principal(admin.id, admin.email, admin.name, admin.role)
        hall = resources.create_resource(
            ctx, actor, CreateResource(name="Great hall", kind=Kind.VENUE, capacity=200)
        )
        photographer = resources.create_resource(
            ctx, actor, CreateResource(name="Photographer", kind=Kind.SERVICE)
        )
        add_team(ctx, actor, "Halls", members=[HALL_DECIDER[0]], resources_decided=[hall.id])
        add_team(
            ctx,
            actor,
            "Photo",
            members=[PHOTO_DECIDER[0]],
            email=PHOTO_MAILBOX,
            resources_decided=[photographer.id],
        )
        return {"hall": hall.id, "photographer": photographer.id}
    finally:
        db.dispose()


@pytest.fixture
def suite(config, tmp_path):
    require_browser()
    ids = prepare(config)
    with evenemang_up(config, tmp_path) as running:
        wait_healthy(running, timeout=60)
        yield running, ids


def posted_lines(page: Any, action: str) -> list[list[str]]:
    """The lines each of the page's ``action`` (approve, reject) forms posts."""
    forms = page.locator(f"main form[action$='/{action}']")
    return [
        sorted(
            forms.nth(i)
            .locator("input[name=resource_ids]")
            .evaluate_all("inputs => inputs.map(i => i.value)")
        )
        for i in range(forms.count())
    ]


def request_symposium(page: Any, day) -> str:
    """The organiser asks for the hall and the photographer; the request's address."""
    choose_time(page, day)
    form = page.locator("form.request-form")
    form.get_by_label("Great hall").check()
    form.get_by_label("Photographer").check()
    form.get_by_label("Title").fill(TITLE)
    form.get_by_role("button", name="Send request").click()
    page.wait_for_url("**/bookings/*")
    return page.url


def mailed_link(config, booking_id: str, decider: str, action: Action) -> str:
    """The path of the decision link notify mailed to ``decider`` about this booking (from
    the mail sink), once it is there."""
    found = wait_for(lambda: _links_in_sink(config).get((booking_id, decider, action)))
    assert found, f"no {action} link to {decider} in the mail sink"
    return found


def _links_in_sink(config) -> dict[tuple[str, str, Action], str]:
    links = {}
    for path in (config.data_dir / "mail").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        for token in re.findall(r"/decide/([A-Za-z0-9_.-]+)", body.get_content() if body else ""):
            link = decision_links.read(config.secret_key, token)
            links[(link.booking_id, link.decider, link.action)] = f"/decide/{token}"
    return links


def test_two_teams_each_decide_their_own_line_in_a_browser(suite, config, tmp_path):
    running, ids = suite
    shots = Screenshots(tmp_path / "screenshots")
    day = event_day()
    with chromium() as browser:
        organiser = new_page(browser, running.url)
        log_in(organiser, ORGANISER)
        request_url = request_symposium(organiser, day)
        assert organiser.locator(".page-head .badge").inner_text() == "Pending"
        assert posted_lines(organiser, "approve") == []  # the organiser decides nothing
        shots.take(organiser, "organiser request pending")

        # The hall's team: the queue offers the hall only; the request's page too.
        hall = new_page(browser, running.url)
        log_in(hall, HALL_DECIDER)
        assert hall.locator(".main-nav .count").inner_text() == "1"
        hall.goto("/queue")
        row = hall.locator("li.item", has_text=TITLE)
        assert row.get_by_role("button", name="Approve Great hall").is_visible()
        assert row.locator("input[name=resource_ids]").input_value() == ids["hall"]
        shots.take(hall, "hall team queue")
        row.get_by_role("link", name="Open").click()
        hall.wait_for_url("**/bookings/*")
        assert posted_lines(hall, "approve") == [[ids["hall"]]]
        assert posted_lines(hall, "reject") == [[ids["hall"]]]
        assert "Yours to decide" in hall.locator("#line-great-hall").inner_text()
        assert "Yours to decide" not in hall.locator("#line-photographer").inner_text()
        shots.take(hall, "hall team request")
        hall.locator("#decide").get_by_role("button", name="Approve").click()
        hall.wait_for_url("**/bookings/*")
        assert "the request waits for its other decisions" in hall.inner_text("main")
        assert hall.locator(".page-head .badge").inner_text() == "Pending"
        shots.take(hall, "hall team approved its line")

        # The photographer's team decides its line from the queue.
        photo = new_page(browser, running.url)
        log_in(photo, PHOTO_DECIDER)
        photo.goto(request_url)
        assert posted_lines(photo, "approve") == [[ids["photographer"]]]
        assert "Approved" in photo.locator("#line-great-hall").inner_text()
        shots.take(photo, "photo team request")
        photo.goto("/queue")
        row = photo.locator("li.item", has_text=TITLE)
        shown = " ".join(row.inner_text().split())
        assert "Great hall Approved Decided by ivar@example.org" in shown
        assert "Photographer Pending Yours to decide" in shown
        row.get_by_role("button", name="Approve").click()  # the last line waiting: all of it
        photo.wait_for_url("**/queue")
        assert f"“{TITLE}” is approved." in photo.inner_text("main")
        shots.take(photo, "photo team queue after")

        # The organiser sees it approved, each line by its own team.
        organiser.goto(request_url)
        assert organiser.locator(".page-head .badge").inner_text() == "Approved"
        assert HALL_DECIDER[0] in organiser.locator("#line-great-hall").inner_text()
        assert PHOTO_DECIDER[0] in organiser.locator("#line-photographer").inner_text()
        history = organiser.locator(".history").inner_text()
        assert "Decision on Great hall: Pending → Approved" in history
        assert "Decision on Photographer: Pending → Approved" in history
        shots.take(organiser, "organiser sees it approved")

        # A second request, decided from the mail's links, without logging in.
        second_url = request_symposium(organiser, day + timedelta(days=1))
        booking_id = second_url.rsplit("/", 1)[1]
        reader = new_page(browser, running.url)
        reject = mailed_link(config, booking_id, PHOTO_MAILBOX, Action.REJECT)
        reader.goto(reject)
        assert reader.inner_text("h1") == "Reject this request?"
        assert "You decide for the team Photo (foto@example.org)." in reader.inner_text("main")
        shots.take(reader, "decide link reject confirmation")
        reader.get_by_label("Reason for rejecting").fill("Every photographer is away that day")
        reader.get_by_role("button", name="Reject Photographer").click()
        assert reader.inner_text("h1") == "Your rejection is recorded"
        shots.take(reader, "decide link rejected")
        reader.goto(reject)
        assert reader.inner_text("h1") == "This link has already been used"
        shots.take(reader, "decide link used")

        reader.goto(mailed_link(config, booking_id, HALL_DECIDER[0], Action.APPROVE))
        assert reader.inner_text("h1") == "The request has changed"  # rejected meanwhile
        shots.take(reader, "decide link changed")

        organiser.goto(second_url)
        declined = organiser.locator("#declined").inner_text()
        assert "Photographer" in declined and "Every photographer is away that day" in declined
        shots.take(organiser, "organiser sees the declined part")

    assert shots.taken and all(path.stat().st_size > 0 for path in shots.taken)
    kept = SCREENSHOTS / "decide"
    shutil.rmtree(kept, ignore_errors=True)
    shutil.copytree(shots.directory, kept)

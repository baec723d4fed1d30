"""Consent to be recorded in a real browser against a real ``evenemang up``: the organiser
asks for a photographer, and the request form asks whether people will be photographed and
how they are told (refused without saying how); Anna's invitation (read from the mail
sink) carries the notice and her own link; she opens it with no login, at phone width, in
the mail's language, and says no; the photographer's manager finds her under "Not to be
recorded" while the organiser does not. Every page is photographed at desktop and phone
width, under the test's own folder."""

from __future__ import annotations

import email
import email.policy
import re
from typing import Any

import pytest

from services.booking.commands import CreateResource
from services.booking.persistence.unit_of_work import Context
from services.booking.usecases import resources, users
from shared.auth import Principal
from shared.db import Database
from shared.events import Kind
from tests.e2e.test_web_browser import choose_time, event_day, log_in, wait_for
from tests.support.browser import Screenshots, chromium, new_page, require_browser
from tests.support.suite import evenemang_up, wait_healthy

pytestmark = pytest.mark.slow

ORGANISER = ("olle@example.org", "organiser-password")
MANAGER = ("tove@example.org", "photo-manager-password")
ANNA = "anna@example.org"
NOTICE = "We take photos for the university's website."


def prepare(config) -> None:
    """Before the suite starts: the people and a photographer Tove manages."""
    db = Database(config.booking_database_url)
    try:
        admin = users.add_user(db, "ada@example.org", "Ada Admin", "admin", "admin-password")
        users.add_user(db, ORGANISER[0], "Olle Organiser", "organiser", ORGANISER[1])
        users.add_user(db, MANAGER[0], "Tove Photo", "organiser", MANAGER[1])
        ctx = Context(db=db, config=config)
        actor = Principal(admin.id, admin.email, admin.name, admin.role)
        cmd = CreateResource(
            name="Photographer", kind=Kind.SERVICE, requires_approval=False, managers=(MANAGER[0],)
        )
        resources.create_resource(ctx, actor, cmd)
    finally:
        db.dispose()


@pytest.fixture
def suite(config, tmp_path):
    require_browser()
    prepare(config)
    with evenemang_up(config, tmp_path) as running:
        wait_healthy(running, timeout=60)
        yield running


def mailed_opt_out(config, to: str) -> tuple[str, str]:
    """The text of the invitation notify mailed to ``to`` and the path of its opt-out link."""

    def find() -> tuple[str, str] | None:
        for path in (config.data_dir / "mail").glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if to not in str(message["To"]):
                continue
            text = message.get_body(preferencelist=("plain",)).get_content()
            found = re.search(r"/optout/[A-Za-z0-9_.-]+", text)
            if found:
                return text, found[0]
        return None

    found = wait_for(find)
    assert found, f"no opt-out link mailed to {to}"
    return found


def test_a_participant_opts_out_by_the_mailed_link_and_the_photographer_is_told(
    suite: Any, config, tmp_path
):
    running = suite
    shots = Screenshots(tmp_path / "screenshots")
    with chromium() as browser:
        organiser = new_page(browser, running.url)
        log_in(organiser, ORGANISER)
        choose_time(organiser, event_day())
        form = organiser.locator("form.request-form")
        form.get_by_label("Photographer").check()
        form.get_by_label("Title").fill("Spring symposium")
        form.get_by_label("Participants").fill(ANNA)
        form.get_by_label("Swedish").check()  # the mail's language, and so the link's page
        organiser.locator("#recording summary").click()
        form.get_by_label("Speakers and audience will be photographed").check()
        form.get_by_role("button", name="Send request").click()
        assert "Say how participants and speakers are told" in organiser.inner_text("main")
        shots.take(organiser, "recording notice missing")
        organiser.get_by_label("How they are told").fill(NOTICE)
        organiser.get_by_role("button", name="Send request").click()
        organiser.wait_for_url("**/bookings/*")
        request_url = organiser.url
        assert NOTICE in organiser.inner_text("main")
        assert "Not to be recorded" not in organiser.inner_text("main")

        text, link = mailed_opt_out(config, ANNA)
        assert f"Evenemanget kommer att fotograferas: {NOTICE}" in text  # the booking's sv
        anna = browser.new_context(
            viewport={"width": 390, "height": 844}, base_url=running.url
        ).new_page()
        anna.goto(link)
        assert anna.inner_text("h1") == "Fotografering och filmning"
        assert anna.locator("html").get_attribute("lang") == "sv"
        shots.take(anna, "opt out confirmation")
        anna.get_by_role("button", name="Jag vill inte bli fotograferad eller filmad").click()
        assert "Klart: du har sagt" in anna.inner_text("main")
        shots.take(anna, "opted out")

        tove = new_page(browser, running.url)
        log_in(tove, MANAGER)
        tove.goto(request_url)
        section = tove.locator("#opt-outs")
        assert "Not to be recorded" in section.inner_text() and ANNA in section.inner_text()
        shots.take(tove, "manager sees who is not to be recorded")
        organiser.goto(request_url)
        assert organiser.locator("#opt-outs").count() == 0

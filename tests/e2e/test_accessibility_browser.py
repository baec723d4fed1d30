"""Every page of the suite checked by axe-core against WCAG 2.1 A and AA, in Swedish and
English, at desktop and phone width, as the person who sees it: one ``evenemang up --demo``
and one browser. The pages are reached the way people reach them (a request sent, a form
with its errors, a slot taken, the queue, a decision link from the mail sink, the admin's
pages, the error pages, each mail's HTML); any violation, or an element one can Tab to that
shows no focus ring, fails the test with the page, the rule, its impact, the elements and
what to fix."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from tests.e2e.test_decide_browser import _links_in_sink
from tests.e2e.test_web_browser import ADMIN, INFRA, ORGANISER, event_day, log_in, wait_for
from tests.support.axe import Audit, require_axe
from tests.support.browser import DESKTOP, chromium, new_page, require_browser
from tests.support.suite import evenemang_up, wait_healthy

pytestmark = pytest.mark.slow

LANGUAGES = ("sv", "en")
TITLE = "Accessible symposium"
SECOND = ("kim.kommunikation@example.org", "demo-komm-pass")  # a demo user who decides no hall


@pytest.fixture
def suite(config, tmp_path):
    require_browser()
    require_axe()
    hold = {"EVENEMANG_LOGIN_HOLD_SECONDS": "0"}  # the throttled login page, without waiting
    with evenemang_up(config, tmp_path, "--demo", env=hold) as running:
        wait_healthy(running, timeout=60)
        yield running


def in_language(path: str, language: str) -> str:
    parts = urlsplit(path)
    query = f"{parts.query}&" if parts.query else ""
    return f"{parts.path}?{query}{urlencode({'lang': language})}"


def visit(audit: Audit, page: Any, path: str, name: str, status: int = 200) -> None:
    """The page at ``path`` in each language, checked at both widths."""
    for language in LANGUAGES:
        response = page.goto(in_language(path, language))
        assert response.status == status, f"{name}: {path} answered {response.status}"
        assert urlsplit(page.url).path == urlsplit(path).path, f"{name}: sent to {page.url}"
        audit.check(page, name)


def submitted(
    audit: Audit,
    page: Any,
    path: str,
    name: str,
    fields: dict[str, str] | None = None,
    button: str = "main form button[type=submit]",
) -> None:
    """The page a form at ``path`` answers with (``fields`` filled in by name), in each
    language, checked at both widths."""
    for language in LANGUAGES:
        page.goto(in_language(path, language))
        for field, value in (fields or {}).items():
            page.locator(f"main [name={field}]").fill(value)
        page.locator(button).last.click()
        page.wait_for_load_state()
        audit.check(page, name)


def fill_time(page: Any, day, start: str = "10:00", end: str = "12:00") -> None:
    """The request form's time, then "Show free…" (by field names: any language)."""
    page.locator("[name=date]").fill(day.isoformat())
    page.locator("[name=start_time]").fill(start)
    page.locator("[name=end_time]").fill(end)
    page.locator("button[name=step][value=check]").click()
    page.wait_for_load_state()


def send(page: Any) -> None:
    page.locator("button[name=step][value=send]").click()
    page.wait_for_load_state()


def test_every_page_passes_axe_in_both_languages_and_widths(suite, config):
    audit = Audit()
    day = event_day()
    week = f"/resources/aula-magna/week?week={day.isoformat()}"
    with chromium() as browser:
        anyone = new_page(browser, suite.url)
        visit(audit, anyone, "/login", "login")
        wrong = {"email": ORGANISER[0], "password": "not the password"}
        submitted(audit, anyone, "/login", "login refused", wrong)
        visit(audit, anyone, "/password/forgot", "password forgot")
        submitted(audit, anyone, "/password/forgot", "password forgot, empty")
        forgot = {"email": "nobody@example.org"}
        submitted(audit, anyone, "/password/forgot", "password forgot sent", forgot)
        visit(audit, anyone, "/password/reset/not-a-token", "password link dead", status=404)
        visit(audit, anyone, "/calendar/", "calendar subscribe, anonymous")
        visit(audit, anyone, "/decide/not-a-token", "decision link forged", status=404)

        # An organiser's request for a hall and a photographer, and their pages.
        organiser = new_page(browser, suite.url)
        log_in(organiser, ORGANISER)
        visit(audit, organiser, "/bookings", "my requests, none")
        visit(audit, organiser, "/bookings/new", "new request")
        send_button = "button[name=step][value=send]"
        submitted(audit, organiser, "/bookings/new", "new request, errors", button=send_button)
        for language in LANGUAGES:
            organiser.goto(in_language("/bookings/new", language))
            fill_time(organiser, day)
            audit.check(organiser, "new request, what is free")
        organiser.get_by_label("Aula Magna").check()
        organiser.get_by_label("Photographer").check()
        organiser.locator("[name=title]").fill(TITLE)
        send(organiser)
        organiser.wait_for_url("**/bookings/*")
        request_path = urlsplit(organiser.url).path
        booking_id = request_path.rsplit("/", 1)[1]
        visit(audit, organiser, request_path, "request, organiser")
        visit(audit, organiser, f"{request_path}/edit", "change request")
        visit(audit, organiser, "/bookings", "my requests")
        visit(audit, organiser, "/settings", "settings")
        visit(audit, organiser, "/logout", "log out")
        visit(audit, organiser, "/calendar/", "calendar subscribe")
        link = {"label": "Phone"}
        submitted(audit, organiser, "/calendar/", "calendar, a personal link made", link)
        visit(audit, organiser, "/resources", "resources, organiser")
        visit(audit, organiser, week, "week")
        iso_year, iso_week, _ = day.isocalendar()
        visit(audit, organiser, f"/grid?week={iso_year}-W{iso_week:02d}", "grid, week")
        visit(audit, organiser, f"/grid?day={day.isoformat()}", "grid, day")
        visit(audit, organiser, "/grid?kind=studio", "grid, studios")
        visit(audit, organiser, "/queue", "forbidden", status=403)
        visit(audit, organiser, "/notify/outbox", "mail sink forbidden", status=403)
        visit(audit, organiser, "/bookings/no-such-id", "not found", status=404)

        # A second organiser chooses the same hall in each language while it is only asked
        # for; sent once it is approved, each is told the slot is taken.
        competing = {}
        for language in LANGUAGES:
            second = new_page(browser, suite.url, language=language)
            second.goto(in_language("/login", language))
            second.locator("[name=email]").fill(SECOND[0])
            second.locator("[name=password]").fill(SECOND[1])
            second.locator("form button[type=submit]").last.click()
            second.wait_for_url(lambda url: "/login" not in url)  # a team member: the queue
            second.goto(in_language("/bookings/new", language))
            fill_time(second, day)
            second.get_by_label("Aula Magna").check()
            second.locator("[name=title]").fill("Competing party")
            competing[language] = second

        # The decision links notify mailed, opened without logging in.
        links = wait_for(
            lambda: {a: p for (b, _, a), p in _links_in_sink(config).items() if b == booking_id}
        )
        assert links, "no decision link for the request reached the mail sink"
        for action, path in sorted(links.items()):
            visit(audit, anyone, path, f"decision link, {action}")
        submitted(audit, anyone, links["reject"], "decision link, reject without a reason")

        # The deciders: the queue, the request with its decision forms, the week.
        infra = new_page(browser, suite.url)
        log_in(infra, INFRA)
        visit(audit, infra, "/queue", "queue")
        visit(audit, infra, request_path, "request, decider")
        visit(audit, infra, week, "week, decider")
        infra.goto("/queue?lang=en")
        infra.locator("li.item", has_text=TITLE).get_by_role("button", name="Approve").click()
        infra.wait_for_url("**/queue*")
        audit.check(infra, "queue after a decision")
        visit(audit, infra, request_path, "request approved, decider")
        visit(audit, anyone, sorted(links.values())[0], "decision link used", status=409)
        closing = {"start_date": day.isoformat(), "end_date": day.isoformat(), "reason": "Paint"}
        closure = ".closure-form button[type=submit]"
        submitted(audit, infra, week, "week, closing over a booking", closing, closure)

        for language, second in competing.items():
            send(second)
            assert second.locator("#taken").is_visible(), f"no taken slot shown ({language})"
            audit.check(second, "slot taken")
            second.context.close()

        # The admin's pages.
        admin = new_page(browser, suite.url)
        log_in(admin, ADMIN)
        visit(audit, admin, "/resources", "resources")
        visit(audit, admin, "/resources/new", "new resource")
        submitted(audit, admin, "/resources/new", "new resource, errors")
        visit(audit, admin, "/resources/aula-magna/edit", "edit resource")
        visit(audit, admin, "/teams", "teams")
        visit(audit, admin, "/teams/new", "new team")
        submitted(audit, admin, "/teams/new", "new team, errors")
        visit(audit, admin, "/teams/infrastructure/edit", "edit team")
        visit(audit, admin, "/users", "people")
        visit(audit, admin, "/lists", "categories and units")
        visit(audit, admin, "/lists/categories/new", "new category")
        visit(audit, admin, "/lists/units/new", "new unit")
        visit(audit, admin, "/suppliers", "suppliers")
        visit(audit, admin, "/suppliers/new", "new supplier")
        for report in ("events", "occupancy", "services", "decisions"):
            visit(audit, admin, f"/reports/{report}", f"report, {report}")
        visit(audit, admin, "/users/invite", "invite")
        submitted(audit, admin, "/users/invite", "invite, errors")
        admin.goto("/users?lang=en")
        person = admin.locator("main a[href*='/users/']", has_text="Kim Kommunikation").first
        visit(audit, admin, urlsplit(person.get_attribute("href")).path, "person")
        visit(audit, admin, "/notify/outbox", "mail sink")
        admin.goto("/notify/outbox?lang=en")
        messages = admin.locator("main a[href*='/outbox/']").evaluate_all(
            "links => [...new Set(links.map(a => a.getAttribute('href')))]"
        )
        visit(audit, admin, urlsplit(messages[0]).path, "mail sink message")
        # Each mail's own HTML, which that page shows in a sandboxed frame (no script runs
        # there): as a page of its own.
        mail = browser.new_page(viewport=DESKTOP)
        for href in messages:
            mail.set_content(admin.request.get(f"{href}/html").text())
            audit.check(mail, f"mail {href}")
        visit(audit, admin, "/notify/outbox/no-such.eml", "mail sink not found", status=404)

        # Last: the short page of a login throttled after repeated failures (it counts
        # this browser's address too), which has no form.
        for language in LANGUAGES:
            for _ in range(8):
                anyone.goto(in_language("/login", language))
                anyone.locator("[name=email]").fill("guesser@example.org")
                anyone.locator("[name=password]").fill("guess")
                anyone.locator("form button[type=submit]").last.click()
                anyone.wait_for_load_state()
                if not anyone.locator("[name=password]").count():
                    break
            assert not anyone.locator("[name=password]").count(), "never told to wait"
            audit.check(anyone, "login throttled")
    audit.assert_clean()

"""What a new user met on the pages and in mail (issue 14's rough edges), each mended:
automatic approval worded as such, a one-date cancel naming its date, times in the zone
they are shown in (with it), the menu item of the page a visitor is on, a favicon, and one
word for a reason."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher

from services.booking.commands import CancelOccurrence
from services.booking.usecases import decisions
from shared.messages import text as words
from tests.integration.test_notify_http import (  # noqa: F401 - fixtures
    _logged_in,
    app,
    approved,
    language,
)
from tests.integration.test_web_pages import Site
from tests.support.pages import say, text


@pytest.fixture
def site(make_app, monkeypatch) -> Site:
    monkeypatch.setattr(
        "shared.auth._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    return Site(make_app("booking"))


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_a_request_needing_no_approval_says_it_was_approved_automatically(site, lang):
    free = site.resource(name="Open room", requires_approval=False)
    booking = site.booking(site.organiser, free)
    page = _plain(text(site.client(site.organiser, lang).get(f"/bookings/{booking.id}")))
    assert say(lang, "Approved automatically", "Godkändes automatiskt") in page
    assert say(lang, "Decided by automatically", "Beslut: automatiskt") not in page
    assert say(lang, "Decided by", "Beslutat av") not in page


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_the_history_names_the_date_cancelled_and_its_times_zone(site, lang):
    booking = site.booking(site.organiser, site.room, rrule="FREQ=WEEKLY;COUNT=3")
    site.approve(booking)
    decisions.cancel_occurrence(
        site.ctx, site.organiser.principal, booking.id, CancelOccurrence(1, "ill")
    )
    page = _plain(text(site.client(site.organiser, lang).get(f"/bookings/{booking.id}")))
    # the second date of the weekly series: Monday 11 March 2030
    assert say(lang, "The date Mon 11 Mar 2030:", "Datumet mån 11 mars 2030:") in page
    assert say(lang, "Date: Active", "Datum: Aktiv") not in page
    # when each step happened, in Stockholm's time and saying so (CET or CEST)
    history = page.split(say(lang, "History", "Historik"))[-1]
    assert len(re.findall(r"\d\d:\d\d CES?T · ", history)) == 3, history


def test_the_outbox_shows_the_configured_zones_time_with_the_zone(app, approved, language):  # noqa: F811
    admin = _logged_in(app, "admin")
    listing = admin.get(f"/outbox?lang={language}").get_data(as_text=True)
    dates = re.findall(r"(?:Date|Datum): ([^<]+)</span>", listing)
    assert dates and all(re.search(r"\d\d:\d\d (CET|CEST)$", d) for d in dates), dates
    assert "+0000" not in listing
    name = re.search(r'href="[^"]*/outbox/([^"/]+)"', listing).group(1)
    message = admin.get(f"/outbox/{name}?lang={language}").get_data(as_text=True)
    assert re.search(r"<dd>[^<]*\d\d:\d\d (CET|CEST)</dd>", message)


def _current(html: str) -> list[str]:
    """The labels of the navigation's links marked as the page one is on."""
    nav = html.split('<nav class="main-nav"')[1].split("</nav>")[0]
    return [
        _plain(label).strip() for label in re.findall(r'aria-current="page">(.*?)</a>', nav, re.S)
    ]


def test_the_menu_marks_the_page_one_is_on(site):
    mine = site.booking(site.organiser, site.hall)
    theirs = site.booking(site.other, site.hall)
    organiser, infra = site.client(site.organiser), site.client(site.infra)
    admin = site.client(site.admin)
    seen = {
        "/bookings/new": _current(text(organiser.get("/bookings/new"))),
        "/bookings": _current(text(organiser.get("/bookings"))),
        "own request": _current(text(organiser.get(f"/bookings/{mine.id}"))),
        "/queue": _current(text(infra.get("/queue"))),
        "a request to decide": _current(text(infra.get(f"/bookings/{theirs.id}"))),
        "/resources": _current(text(organiser.get("/resources"))),
        "a week": _current(text(organiser.get("/resources/great-hall/week"))),
        "/teams": _current(text(admin.get("/teams"))),
        "/users": _current(text(admin.get("/users"))),
        "/settings": _current(text(organiser.get("/settings"))),
    }
    assert seen == {
        "/bookings/new": ["New request"],
        "/bookings": ["My requests"],
        "own request": ["My requests"],
        "/queue": ["Queue 2"],
        "a request to decide": ["Queue 2"],
        "/resources": ["Venues and services"],
        "a week": ["Venues and services"],
        "/teams": ["Teams"],
        "/users": ["People"],
        "/settings": [],
    }


def test_a_favicon_is_linked_from_every_page_and_answers_at_the_root(site, make_app):
    page = text(site.client(site.organiser).get("/bookings"))
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    client = site.app.test_client()
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.data.startswith(b"<svg")
    icon.close()
    for one in (site.app, make_app("calendar"), make_app("notify")):
        root = one.test_client().get("/favicon.ico")
        assert root.status_code == 200 and root.mimetype == "image/svg+xml"
        assert "no-store" not in root.headers.get("Cache-Control", "")
        root.close()


@pytest.mark.parametrize("lang, word", [("sv", "Skäl"), ("en", "Reason")])
def test_a_reason_is_one_word_on_pages_and_in_mail(lang, word):
    for code in ("reason", "cancel_reason", "closure_reason"):
        assert words(code, lang) == word
    assert words("reject_reason", lang).startswith(word)
    with open("services/notify/templates/notify/mail/rejected.txt") as mail:
        assert '{{ _("reason") }}:' in mail.read()

"""A request's lines on the pages, through the Flask test client: each line with its state,
who decided it and when, and who decides it; decision forms for exactly the lines the
reader decides (one line, or all of theirs at once); the organiser told which part was
declined and why; the history wording line decisions in Swedish and English; the queue of
a team member listing their lines. The clock is
fixed at Friday 1 March 2030, 12:00 in Stockholm."""

from __future__ import annotations

import html
import re

import pytest
from argon2 import PasswordHasher

from services.booking.usecases import bookings, queries
from tests.integration.test_web_pages import LANGUAGES, Person, Site, history_of
from tests.support.pages import field_error, post, say, text
from tests.support.teams import add_team

MAILBOX = "kommunikation@example.org"


class Teams:
    """The site with two teams: Infrastructure (Ivar) decides the hall and the room;
    Kommunikation (Tove; a shared mailbox) decides the photographer and the studio."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.ivar = site.person("organiser", "ivar@example.org")
        self.tove = site.person("organiser", "tove@example.org")
        admin = site.admin.principal
        add_team(
            site.ctx,
            admin,
            "Infrastructure",
            members=[self.ivar.email],
            resources_decided=[site.hall.id, site.room.id],
        )
        add_team(
            site.ctx,
            admin,
            "Kommunikation",
            members=[self.tove.email],
            email=MAILBOX,
            resources_decided=[site.photographer.id, site.studio.id],
        )

    def request(self, title: str = "Symposium"):
        """The organiser's request for the hall and the photographer."""
        return self.site.booking(
            self.site.organiser, self.site.hall, self.site.photographer, title=title
        )

    def lines(self, booking) -> dict[str, str]:
        view = queries.read_booking(self.site.ctx, self.site.infra.principal, booking.id)
        return {line.resource.name: line.status.value for line in view.lines}


@pytest.fixture
def teams(make_app, monkeypatch) -> Teams:
    # Real argon2 with cheap parameters, as test_web_pages logs in: many logins here too.
    monkeypatch.setattr(
        "shared.auth._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    return Teams(Site(make_app("booking")))


def forms(page: str) -> list[dict[str, object]]:
    """Every posting form of a page: its action, the lines it posts, its CSRF token."""
    found = []
    for attrs, body in re.findall(r'<form method="post"([^>]*)>(.*?)</form>', page, re.S):
        found.append(
            {
                "action": re.search(r'action="([^"]+)"', attrs).group(1),
                "lines": re.findall(r'name="resource_ids" value="([^"]+)"', body),
                "csrf": 'name="csrf_token" value="' in body,
            }
        )
    return found


def decisions(page: str) -> set[tuple[str, frozenset[str]]]:
    """The approve and reject forms of a page, each with the lines it acts on."""
    found = [
        (f["action"].rsplit("/", 1)[1], frozenset(f["lines"]))
        for f in forms(page)
        if f["action"].endswith(("/approve", "/reject"))
    ]
    assert len(set(found)) == len(found), "two forms do the same"
    return set(found)


def on(*lines: str) -> frozenset[str]:
    return frozenset(lines)


def line_text(page: str, slug: str) -> str:
    found = re.search(rf'<li class="line[^"]*" id="line-{slug}">(.*?)</li>', page, re.S)
    assert found, f"no line {slug}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def page_of(site: Site, who: Person, booking, lang: str = "en") -> str:
    response = site.client(who, lang).get(f"/bookings/{booking.id}")
    assert response.status_code == 200
    return text(response)


# --- who sees which buttons ------------------------------------------------------------------


def test_each_team_sees_decision_forms_for_its_own_line_only(teams):
    site = teams.site
    booking = teams.request()
    hall, photographer = site.hall.id, site.photographer.id
    assert decisions(page_of(site, teams.tove, booking)) == {
        ("approve", on(photographer)),
        ("reject", on(photographer)),
    }
    assert decisions(page_of(site, teams.ivar, booking)) == {
        ("approve", on(hall)),
        ("reject", on(hall)),
    }
    assert decisions(page_of(site, site.organiser, booking)) == set()
    assert site.client(site.other).get(f"/bookings/{booking.id}").status_code == 403


def test_infra_decides_each_line_or_both_at_once(teams):
    site = teams.site
    booking = teams.request()
    page = page_of(site, site.infra, booking)
    hall, photographer = site.hall.id, site.photographer.id
    assert decisions(page) == {
        ("approve", on(hall)),
        ("approve", on(hall, photographer)),
        ("approve", on(photographer)),
        ("reject", on(hall)),
        ("reject", on(hall, photographer)),
        ("reject", on(photographer)),
    }
    assert "Approve all 2" in page and "Reject all 2" in page
    assert all(f["csrf"] for f in forms(page))


def test_the_organiser_who_decides_a_resource_gets_no_form_for_their_own_request(teams):
    site = teams.site
    booking = site.booking(teams.tove, site.hall, site.photographer)
    page = page_of(site, teams.tove, booking)
    assert decisions(page) == set()
    assert "Yours to decide" not in page
    refused = post(
        site.client(teams.tove),
        f"/bookings/{booking.id}/approve",
        {"resource_ids": site.photographer.id},
        page=f"/bookings/{booking.id}",
    )
    assert refused.status_code == 403
    assert teams.lines(booking) == {"Great hall": "pending", "Photographer": "pending"}


def test_posting_a_line_the_reader_does_not_decide_is_refused_and_writes_nothing(teams):
    site = teams.site
    booking = teams.request()
    page = f"/bookings/{booking.id}"
    client = site.client(teams.tove)
    for action, data in (("approve", {}), ("reject", {"reason": "No photographer then"})):
        response = post(
            client, f"{page}/{action}", {"resource_ids": site.hall.id, **data}, page=page
        )
        assert response.status_code == 403, action
    assert teams.lines(booking) == {"Great hall": "pending", "Photographer": "pending"}


# --- deciding line by line -------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_two_teams_decide_their_lines_and_the_organiser_sees_it_approved(teams, lang):
    site = teams.site
    booking = teams.request()
    page = f"/bookings/{booking.id}"
    tove = site.client(teams.tove, lang)
    response = post(tove, f"{page}/approve", {"resource_ids": site.photographer.id}, page=page)
    assert response.status_code == 302
    shown = text(tove.get(page))
    assert (
        say(
            lang,
            "Approved for “Symposium”; the request waits for its other decisions.",
            "Godkänt för ”Symposium”; förfrågan väntar på sina andra beslut.",
        )
        in shown
    )
    assert say(lang, "Decided by tove@example.org", "Beslutat av tove@example.org") in (
        line_text(shown, "photographer")
    )
    # nothing of hers waits: only the approval she may withdraw
    assert decisions(shown) == {("reject", on(site.photographer.id))}
    assert teams.lines(booking) == {"Great hall": "pending", "Photographer": "approved"}

    ivar = site.client(teams.ivar, lang)
    assert (
        post(ivar, f"{page}/approve", {"resource_ids": site.hall.id}, page=page).status_code == 302
    )
    organiser = text(site.client(site.organiser, lang).get(page))
    assert say(lang, "The booking is approved.", "Bokningen är godkänd.") in organiser
    hall = line_text(organiser, "great-hall")
    assert say(lang, "Approved", "Godkänd") in hall and "ivar@example.org" in hall
    assert (
        say(
            lang,
            "Who decides: Infrastructure, ivar@example.org, and infrastructure and admins.",
            "Beslutar: Infrastructure, ivar@example.org, samt infrastruktur och administratörer.",
        )
        in hall
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_declined_line_is_shown_to_the_organiser_with_its_reason(teams, lang):
    site = teams.site
    booking = teams.request()
    page = f"/bookings/{booking.id}"
    post(site.client(teams.ivar), f"{page}/approve", {"resource_ids": site.hall.id}, page=page)
    tove = site.client(teams.tove, lang)
    response = post(
        tove,
        f"{page}/reject",
        {"resource_ids": site.photographer.id, "reason": "Every photographer is away"},
        page=page,
    )
    assert response.status_code == 302
    assert say(
        lang,
        "Declined for “Symposium”; the request goes on with the rest.",
        "Avböjt för ”Symposium”; förfrågan går vidare med resten.",
    ) in text(tove.get(page))
    assert teams.lines(booking) == {"Great hall": "approved", "Photographer": "declined"}
    organiser = text(site.client(site.organiser, lang).get(page))
    assert say(lang, "The booking is approved.", "Bokningen är godkänd.") in organiser
    callout = organiser.split('id="declined"')[1].split("</div>")[0]
    assert say(lang, "Part of the request was declined", "En del av förfrågan avböjdes") in callout
    assert "Photographer" in callout and "Every photographer is away" in callout
    line = line_text(organiser, "photographer")
    assert say(lang, "Declined", "Avböjd") in line and "Every photographer is away" in line


@pytest.mark.parametrize("lang", LANGUAGES)
def test_one_lines_reject_needs_a_reason_shown_beside_that_lines_form(teams, lang):
    site = teams.site
    booking = teams.request()
    page = f"/bookings/{booking.id}"
    infra = site.client(site.infra, lang)
    response = post(
        infra,
        f"{page}/reject",
        {"resource_ids": site.photographer.id, "part": "photographer", "reason": " "},
        page=page,
    )
    assert response.status_code == 422
    assert field_error(response, "reason-photographer") == say(
        lang, "Fill in this field, at most 2000 characters.", "Fyll i fältet, högst 2000 tecken."
    )
    assert '<details class="line-reject" open>' in text(response)
    assert teams.lines(booking) == {"Great hall": "pending", "Photographer": "pending"}


def test_an_approved_line_can_be_declined_by_its_decider_after_all(teams):
    site = teams.site
    booking = teams.request()
    page = f"/bookings/{booking.id}"
    tove = site.client(teams.tove)
    post(tove, f"{page}/approve", {"resource_ids": site.photographer.id}, page=page)
    shown = text(tove.get(page))
    assert "Withdraw the approval" in line_text(shown, "photographer")
    assert decisions(shown) == {("reject", on(site.photographer.id))}
    response = post(
        tove,
        f"{page}/reject",
        {"resource_ids": site.photographer.id, "reason": "Double-booked"},
        page=page,
    )
    assert response.status_code == 302
    assert teams.lines(booking) == {"Great hall": "pending", "Photographer": "declined"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_history_words_each_lines_decision(teams, lang):
    site = teams.site
    booking = teams.request()
    bookings.approve_booking(site.ctx, teams.tove.principal, booking.id)
    shown = history_of(page_of(site, site.organiser, booking, lang))
    assert (
        say(
            lang,
            "Decision on Photographer: Pending → Approved",
            "Beslut om Photographer: Väntar → Godkänd",
        )
        in shown
    )


def test_on_a_phone_the_decision_forms_come_right_after_the_summary(teams):
    site = teams.site
    page = page_of(site, site.infra, teams.request())
    order = [page.index(marker) for marker in ('class="lead"', 'id="lines-h"', 'id="decide"')]
    assert order == sorted(order)
    assert order[-1] < page.index('id="sent-h"') < page.index('id="history-h"')


# --- the queue -------------------------------------------------------------------------------


def test_a_team_members_queue_lists_their_lines_and_approves_only_those(teams):
    site = teams.site
    booking = teams.request()
    client = site.client(teams.tove)
    queue = text(client.get("/queue"))
    assert "Symposium" in queue
    row = queue.split('<li class="item">')[1]
    assert "Yours to decide" in row and "Approve Photographer" in row
    assert "The other parts wait for their own deciders." in row
    assert decisions(row) == {("approve", on(site.photographer.id))}
    response = post(
        client,
        f"/bookings/{booking.id}/approve",
        {"resource_ids": site.photographer.id, "next": "/queue"},
        page="/queue",
    )
    assert response.status_code == 302 and response.location == "/queue"
    assert "Symposium" not in text(client.get("/queue")).split("</h1>")[1]
    ivar = text(site.client(teams.ivar).get("/queue")).split('<li class="item">')[1]
    assert "Symposium" in ivar
    assert "Decided by tove@example.org, Fri 1 Mar 2030, 12:00." in html.unescape(ivar)
    assert teams.lines(booking) == {"Great hall": "pending", "Photographer": "approved"}


def test_the_queue_disables_approving_only_for_the_line_whose_time_is_taken(teams):
    site = teams.site
    teams.request()
    site.approve(site.booking(site.other, site.hall, title="Held"))
    tove_row = text(site.client(teams.tove).get("/queue")).split('<li class="item">')[1]
    assert "disabled" not in tove_row.split("<form")[1]
    ivar_row = text(site.client(teams.ivar).get("/queue")).split('<li class="item">')[1]
    assert "disabled" in ivar_row.split("<form")[1]

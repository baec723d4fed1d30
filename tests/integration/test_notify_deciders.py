"""Mail to deciders and about lines, end to end through notify's consumer, scheduler and
sender on the run's database (SQLite or PostgreSQL) to a real SMTP server on loopback,
every mail parsed back with the ``email`` package and every decision link read back as
booking reads it: exactly who can act is asked, each about their own lines; the organiser
hears of each part; freed slots; the daily digest and the 48-hour reminder, each once
(also with two schedulers at once); names that follow a rename."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from typing import Any

import pytest

from services.notify.domain import digest_cutoff
from services.notify.mail.message import message_id
from shared.db import utcnow
from shared.decision_links import Action, read
from shared.events import (
    BOOKING_APPROVED,
    BOOKING_LINES_DECIDED,
    BOOKING_REJECTED,
    BOOKING_SLOT_FREED,
    BOOKING_SUBMITTED,
    make_envelope,
)
from tests.factories import line, resource, resource_changed, snapshot, team, user_changed
from tests.support.smtp import Notify, SmtpServer

ORGANISER = "org@example.org"
INFRA = Notify.INFRA[0]
KOMM = team("komm", "Kommunikation", members=("kim@example.org", "kai@example.org"))
INFRA_TEAM = team("infra", "Infrastructure", "venues@example.org", ("ines@example.org",))
VENUE = resource("v1", "aula-magna", "Aula Magna", location="Building A", team=INFRA_TEAM)
PHOTOS = resource("p1", "photo", "Photographer", kind="service", team=KOMM)
FILM = resource("f1", "film", "Film crew", kind="service", team=KOMM, managers=["mia@example.org"])
LONELY = resource("x1", "lonely", "Lonely room", location="Building Z")
DECIDE = re.compile(r"https://evenemang\.example/decide/([A-Za-z0-9_.\-]+)")

WORDS = {
    "sv": {
        "to_decide": "Att besluta: Thesis defence",
        "for_you": "Att besluta av dig:",
        "part": "Beslut om en del av din förfrågan: Thesis defence",
        "approved": "Godkänt:",
        "declined": "Inte godkänt:",
        "rest_waiting": "Resten väntar fortfarande på beslut",
        "possible": "Kan nu godkännas: Thesis defence",
        "free_again": "Ledigt igen: Thesis defence",
        "waiting": "Väntar fortfarande på ditt beslut: Thesis defence",
        "digest": "Väntar på ditt beslut: 2",
        "some_declined": "En del av det du bad om blev inte godkänt",
    },
    "en": {
        "to_decide": "To decide: Thesis defence",
        "for_you": "For you to decide:",
        "part": "Decision on part of your request: Thesis defence",
        "approved": "Approved:",
        "declined": "Declined:",
        "rest_waiting": "The rest is still waiting for a decision",
        "possible": "Can now be approved: Thesis defence",
        "free_again": "Free again: Thesis defence",
        "waiting": "Still waiting for your decision: Thesis defence",
        "digest": "Waiting for your decision: 2",
        "some_declined": "Part of what you asked for was declined",
    },
}


@pytest.fixture(params=sorted(WORDS))
def language(request) -> str:
    return request.param


@pytest.fixture
def words(language: str) -> dict[str, str]:
    return WORDS[language]


class Request:
    """One booking's events, each a new revision of the whole snapshot with its lines."""

    def __init__(self, resources=(VENUE, PHOTOS), since: datetime | None = None, **overrides):
        since = since or utcnow() - timedelta(hours=1)
        lines = [line(r["id"], waiting_since=since) for r in resources]
        start = overrides.pop("start", utcnow() + timedelta(days=10))
        self.data = snapshot(
            resources=list(resources),
            lines=lines,
            start=start.replace(microsecond=0),
            occurrences=[],
            **overrides,
        )
        self.data["occurrences"] = [
            {"n": 0, "start": self.data["start"], "end": self.data["end"], "status": "active"}
        ]
        self.started = False

    def event(self, event_type: str, **changes: Any) -> dict[str, Any]:
        data = {**self.data, "changes": [], "decided": [], **changes}
        data["revision"] = self.data["revision"] + (1 if self.started else 0)
        self.started, self.data = True, data
        return make_envelope(event_type, data)

    def notice(self, **changes: Any) -> dict[str, Any]:
        """A ``booking.slot_freed``: the current revision, repeated."""
        return make_envelope(BOOKING_SLOT_FREED, {**self.data, **changes})


def _send(notify: Notify, *envelopes: dict) -> None:
    notify.deliver(*envelopes)
    notify.send_all()


def _recipients(smtp: SmtpServer) -> list[str]:
    return sorted(a for r in smtp.received for a in r.rcpt_tos)


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


def _html(message) -> str:
    return message.get_body(("html",)).get_content()


def _links(notify: Notify, message) -> list[Any]:
    """The decision links of a mail, read with the suite's secret key; the text and the
    HTML part carry the same ones."""
    tokens = DECIDE.findall(_text(message))
    assert sorted(tokens) == sorted(DECIDE.findall(_html(message)))
    return [read(notify.config.secret_key, token) for token in tokens]


# --- who is asked, about what ---------------------------------------------------------------


def test_a_request_for_a_venue_and_a_photographer_asks_each_team_about_its_own_line(
    notify, smtp, language, words
):
    request = Request(resources=(VENUE, PHOTOS, FILM), language=language)
    submitted = request.event(BOOKING_SUBMITTED)
    _send(notify, submitted)

    deciders = ["venues@example.org", "kim@example.org", "kai@example.org", "mia@example.org"]
    assert _recipients(smtp) == sorted([ORGANISER, *deciders])  # not infra, not ines
    (venue,) = smtp.messages_to("venues@example.org")
    assert venue["Subject"] == words["to_decide"]
    assert f"{words['for_you']}\r\n- Aula Magna, Building A" in _text(venue)
    assert "- Photographer" not in _text(venue)
    assert venue["Message-ID"] == message_id(
        notify.settings, submitted["id"], "venues@example.org", "decision_needed"
    )
    links = _links(notify, venue)
    assert sorted((x.action, x.resource_ids, x.decider, x.revision) for x in links) == [
        (Action.APPROVE, ("v1",), "venues@example.org", 1),
        (Action.REJECT, ("v1",), "venues@example.org", 1),
    ]
    (film,) = smtp.messages_to("mia@example.org")  # the film crew's manager alone
    assert "- Film crew" in _text(film) and "- Photographer" not in _text(film)
    assert {x.resource_ids for x in _links(notify, film)} == {("f1",)}
    for member in ("kim@example.org", "kai@example.org"):  # the team: both its lines
        (mail,) = smtp.messages_to(member)
        assert "- Photographer" in _text(mail) and "- Film crew" in _text(mail)
        assert "- Aula Magna" not in _text(mail)
        links = _links(notify, mail)
        assert {x.decider for x in links} == {member}
        assert sorted((x.action.value, x.resource_ids) for x in links) == [
            ("approve", ("f1",)),
            ("approve", ("f1", "p1")),
            ("approve", ("p1",)),
            ("reject", ("f1",)),
            ("reject", ("f1", "p1")),
            ("reject", ("p1",)),
        ]


def test_the_organiser_is_not_asked_and_a_line_no_one_else_decides_goes_to_infra(notify, smtp):
    # kim, of the photographers' team, asks for them and for a room only kim manages
    mine = {**LONELY, "managers": ["kim@example.org"]}
    request = Request(resources=(mine, PHOTOS), organiser={"email": "Kim@example.org"})
    _send(notify, request.event(BOOKING_SUBMITTED))
    assert _recipients(smtp) == sorted(["kim@example.org", "kai@example.org", INFRA])
    assert [m["Subject"] for m in smtp.messages_to("kim@example.org")] == [
        "Förfrågan mottagen: Thesis defence"  # the receipt, nothing to decide
    ]
    (to_infra,) = smtp.messages_to(INFRA)
    assert [x.resource_ids for x in _links(notify, to_infra)] == [("x1",), ("x1",)]
    assert [x.resource_ids for x in _links(notify, smtp.messages_to("kai@example.org")[0])] == [
        ("p1",),
        ("p1",),
    ]


def test_a_decided_line_asks_no_one_and_the_organiser_hears_which_part_and_why(
    notify, smtp, language, words
):
    request = Request(language=language)
    _send(notify, request.event(BOOKING_SUBMITTED))
    smtp.recorder.received.clear()
    since = request.data["lines"][1]["waiting_since"]
    declined = line("p1", "declined", reason="No photographer that day")
    _send(
        notify,
        request.event(
            BOOKING_LINES_DECIDED,
            lines=[declined, line("v1", waiting_since=since)],
            resources=[VENUE],
            decided=["p1"],
        ),
    )
    assert _recipients(smtp) == [ORGANISER]
    (part,) = smtp.messages_to(ORGANISER)
    assert part["Subject"] == words["part"]
    assert f"{words['declined']}\r\n- Photographer: No photographer that day" in _text(part)
    assert words["rest_waiting"] in _text(part)
    assert "No photographer that day" in _html(part)

    smtp.recorder.received.clear()
    _send(
        notify,
        request.event(
            BOOKING_APPROVED, status="approved", lines=[declined, line("v1", "approved")]
        ),
    )
    (approved,) = smtp.messages_to(ORGANISER)
    assert words["some_declined"] in _text(approved)
    assert "- Photographer: No photographer that day" in _text(approved)


def test_a_rejection_gives_each_line_s_reason_once(notify, smtp):
    request = Request(language="en")
    _send(notify, request.event(BOOKING_SUBMITTED))
    smtp.recorder.received.clear()
    lines = [
        line("v1", "declined", reason="Renovation"),
        line("p1", "declined", reason="Renovation"),
    ]
    _send(
        notify,
        request.event(
            BOOKING_REJECTED, status="rejected", resources=[], lines=lines, reason="Renovation"
        ),
    )
    (rejected,) = smtp.messages_to(ORGANISER)
    text = _text(rejected)
    assert "- Aula Magna, Building A: Renovation\r\n- Photographer: Renovation" in text
    assert "Reason: Renovation" not in text  # the lines say it


# --- freed slots ------------------------------------------------------------------------------


def test_a_freed_slot_is_offered_to_the_line_s_deciders_and_told_to_the_organiser_once(
    notify, smtp, language, words
):
    request = Request(language=language)
    _send(notify, request.event(BOOKING_SUBMITTED))
    smtp.recorder.received.clear()
    notice = request.notice(freed=["v1"])
    _send(notify, notice, notice)
    notify.deliver_batch(notice)
    notify.send_all()
    assert _recipients(smtp) == sorted([ORGANISER, "venues@example.org"])
    (offer,) = smtp.messages_to("venues@example.org")
    assert offer["Subject"] == words["possible"]
    assert {x.resource_ids for x in _links(notify, offer)} == {("v1",)}
    (told,) = smtp.messages_to(ORGANISER)
    assert told["Subject"] == words["free_again"]
    assert "- Aula Magna, Building A" in _text(told)


def test_a_freed_slot_of_a_line_decided_since_offers_nothing(notify, smtp):
    request = Request()
    _send(notify, request.event(BOOKING_SUBMITTED))
    notice = request.notice(freed=["v1"])
    since = request.data["lines"][1]["waiting_since"]
    decided = [line("v1", "declined", reason="No"), line("p1", waiting_since=since)]
    _send(notify, request.event(BOOKING_LINES_DECIDED, lines=decided, decided=["v1"]))
    smtp.recorder.received.clear()
    _send(notify, notice)
    assert smtp.received == []


# --- names follow renames --------------------------------------------------------------------


def test_a_reminder_after_a_rename_names_the_resource_as_it_is_called_now(notify, smtp):
    start = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
    request = Request(resources=(VENUE,), start=start)
    _send(
        notify, request.event(BOOKING_APPROVED, status="approved", lines=[line("v1", "approved")])
    )
    notify.deliver(resource_changed("v1", "aula-nova", "Aula Nova", revision=4, location="Hus B"))
    notify.deliver(resource_changed("v1", "aula-magna", "Aula Magna", revision=3))  # older
    smtp.recorder.received.clear()
    assert notify.scheduled(start - timedelta(hours=24)) == 1
    notify.clock.set(start - timedelta(hours=24))
    notify.send_all()
    (reminder,) = smtp.messages_to(ORGANISER)
    assert "Aula Nova, Hus B" in _text(reminder) and "Aula Magna" not in _text(reminder)


# --- the digest and the 48-hour reminder ------------------------------------------------------


def _next_seven(notify: Notify) -> datetime:
    """The first 07:00 (in the suite's time zone) after now."""
    return digest_cutoff(utcnow() + timedelta(days=1), notify.settings.zone)[1]


def test_a_decider_who_chose_the_digest_gets_one_mail_a_day_of_what_still_waits(
    notify, smtp, language, words
):
    notify.deliver(user_changed("kim@example.org", "daily"))
    first, second, decided = (Request(language=language) for _ in range(3))
    for request in (first, second, decided):
        _send(notify, request.event(BOOKING_SUBMITTED))
    since = decided.data["lines"][0]["waiting_since"]
    _send(
        notify,
        decided.event(
            BOOKING_LINES_DECIDED,
            lines=[line("v1", waiting_since=since), line("p1", "approved")],
            decided=["p1"],
        ),
    )
    assert smtp.messages_to("kim@example.org") == []  # no mail per request
    assert len(smtp.messages_to("kai@example.org")) == 3  # each decider's own choice
    smtp.recorder.received.clear()

    seven = _next_seven(notify)
    assert notify.scheduled(seven - timedelta(minutes=1)) == 0
    results: list[int] = []
    schedulers = [
        threading.Thread(target=lambda: results.append(notify.scheduled(seven))) for _ in range(2)
    ]
    for thread in schedulers:
        thread.start()
    for thread in schedulers:
        thread.join(60)
    assert sorted(results) == [0, 1]  # two schedulers at once: one digest
    assert notify.scheduled(seven + timedelta(hours=3)) == 0
    notify.clock.set(seven)
    notify.send_all()
    (digest,) = smtp.messages_to("kim@example.org")
    assert digest["Subject"] == words["digest"]
    assert digest["Content-Language"] == language
    links = _links(notify, digest)
    booked = {(x.booking_id, x.resource_ids, x.decider) for x in links}
    assert booked == {
        (first.data["booking_id"], ("p1",), "kim@example.org"),
        (second.data["booking_id"], ("p1",), "kim@example.org"),
    }


def test_a_line_waiting_48_hours_reminds_its_deciders_once_with_two_schedulers(
    notify, smtp, language, words
):
    since = utcnow() - timedelta(hours=1)
    requests = [Request(since=since, language=language) for _ in range(3)]
    for request in requests:
        _send(notify, request.event(BOOKING_SUBMITTED))
    decided = requests[2]
    _send(
        notify,
        decided.event(
            BOOKING_LINES_DECIDED,
            lines=[line("v1", "approved"), line("p1", waiting_since=since)],
            decided=["v1"],
        ),
    )
    smtp.recorder.received.clear()
    due = since + timedelta(hours=48)
    assert notify.scheduled(due - timedelta(minutes=1)) == 0
    results: list[int] = []
    schedulers = [
        threading.Thread(target=lambda: results.append(notify.scheduled(due))) for _ in range(2)
    ]
    for thread in schedulers:
        thread.start()
    for thread in schedulers:
        thread.join(60)
    # per request: the venue's mailbox and the two photographers (the decided venue line
    # of the third is not reminded)
    assert sum(results) == 8
    assert notify.scheduled(due + timedelta(hours=1)) == 0
    notify.clock.set(due)
    notify.send_all()
    assert len(smtp.messages_to("venues@example.org")) == 2
    assert len(smtp.messages_to("kim@example.org")) == 3
    reminder = smtp.messages_to("venues@example.org")[0]
    assert reminder["Subject"] == words["waiting"]
    assert {x.resource_ids for x in _links(notify, reminder)} == {("v1",)}


def test_a_48_hour_reminder_still_queued_is_dropped_once_the_line_is_decided(notify, smtp):
    since = utcnow() - timedelta(hours=1)
    request = Request(resources=(VENUE,), since=since)
    _send(notify, request.event(BOOKING_SUBMITTED))
    assert notify.scheduled(since + timedelta(hours=48)) == 1
    _send(
        notify,
        request.event(BOOKING_APPROVED, status="approved", lines=[line("v1", "approved")]),
    )
    (reminder,) = [d for d in notify.deliveries() if d.kind == "waiting_reminder"]
    assert (reminder.status, reminder.last_error) == (
        "dropped",
        "the line was decided or its booking ended",
    )
    sent = sorted(d.kind for d in notify.deliveries() if d.status == "sent")
    assert sent == ["approved", "decision_needed", "receipt"]

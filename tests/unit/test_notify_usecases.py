"""Notify's use cases driven with the fake unit of work (no database): who gets which mail
for each event type, nothing planned twice, reminders planned and moved with the booking,
due mail sent and retried, and the delivery log read back."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

import pytest

from services.notify.commands import ListDeliveries
from services.notify.domain import DROPPED_DECIDED, DeliveryStatus
from services.notify.persistence.fake import FakeUnitOfWork
from services.notify.settings import MailSettings, SenderSettings
from services.notify.usecases.deliveries import list_deliveries
from services.notify.usecases.planning import plan_deliveries
from services.notify.usecases.reminders import queue_due_reminders, queue_scheduled_mail
from services.notify.usecases.sending import claim_due_mail, send_due_mail
from shared.decision_links import Action, DecisionLink, read
from shared.events import make_envelope, parse_event
from shared.mail import MailSink, SinkConnection, SmtpConnection, parse_smtp_url
from tests.factories import line, resource, resource_changed, snapshot, team, user_changed
from tests.support.processes import ROOT
from tests.support.smtp import free_port

NOW = datetime(2030, 2, 1, 12, 0, tzinfo=UTC)
START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
INFRA = "infra@example.org"
ORGANISER = "org@example.org"
GUESTS = ["anna@example.org", "bob@example.org"]
SECRET = "a-secret-key-for-decision-links"
SETTINGS = MailSettings(
    mail_from="Evenemang <noreply@evenemang.example>",
    infra_team=(INFRA,),
    base_url="https://evenemang.example",
    secret_key=SECRET,
)
AULA = {**snapshot()["resources"][0], "managers": ["manager@example.org"]}


def _occurrences(start: datetime, count: int = 1) -> list[dict[str, Any]]:
    return [
        {
            "n": n,
            "start": (start + timedelta(weeks=n)).isoformat(),
            "end": (start + timedelta(weeks=n, hours=2)).isoformat(),
            "status": "active",
        }
        for n in range(count)
    ]


class Booking:
    """One booking's events, each a new revision of the whole snapshot (typed on arrival)."""

    def __init__(self, **overrides: Any) -> None:
        defaults = {"resources": [AULA], "participants": [{"email": g} for g in GUESTS]}
        self.data = snapshot(**{**defaults, **overrides})

    def event(self, event_type: str, **changes: Any):
        data = {**copy.deepcopy(self.data), "changes": [], **changes}
        data["revision"] = self.data["revision"] + (1 if hasattr(self, "_started") else 0)
        self._started = True
        self.data = data
        return parse_event(make_envelope(event_type, data))

    def move(self, start: datetime, **changes: Any):
        return self.event(
            "booking.changed",
            start=start.isoformat(),
            end=(start + timedelta(hours=2)).isoformat(),
            occurrences=_occurrences(start),
            **changes,
        )


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


def plan(uow: FakeUnitOfWork, *events, now: datetime = NOW) -> int:
    return plan_deliveries(uow, list(events), SETTINGS, now)


def queued(uow: FakeUnitOfWork, event=None) -> list[tuple[str, str]]:
    """(recipient, kind) of the queued mail (of one event), sorted."""
    return sorted(
        (r.recipient, r.kind)
        for r in uow.deliveries.rows
        if r.status is DeliveryStatus.QUEUED and (event is None or r.event_id == event.id)
    )


def everyone(kind: str) -> list[tuple[str, str]]:
    return [(g, kind) for g in GUESTS]


# --- who gets which mail, event by event ------------------------------------------------------


def test_each_event_type_mails_whom_the_table_says(uow):
    booking = Booking()
    steps = [
        (
            booking.event("booking.submitted"),  # the aula's manager decides it
            [("manager@example.org", "decision_needed"), (ORGANISER, "receipt")],
        ),
        (
            booking.event("booking.approved", status="approved"),
            sorted([*everyone("invitation"), (ORGANISER, "approved")]),
        ),
        (
            booking.event(
                "booking.changed",
                status="approved",
                title="New title",
                changes=[{"field": "title", "from": "Thesis defence", "to": "New title"}],
            ),
            [(ORGANISER, "changed")],
        ),
        (
            booking.move(START + timedelta(days=1), status="approved"),
            sorted([*everyone("invitation_update"), (ORGANISER, "changed")]),
        ),
        (
            booking.event("booking.cancelled", status="cancelled", reason="Ill"),
            sorted([*everyone("invitation_cancel"), (ORGANISER, "cancelled")]),
        ),
    ]
    for event, expected in steps:
        plan(uow, event)
        assert queued(uow, event) == expected, event.type


def test_a_rejection_tells_only_the_organiser_when_no_calendar_was_invited(uow):
    booking = Booking()
    plan(uow, booking.event("booking.submitted"))
    rejected = booking.event("booking.rejected", status="rejected", reason="Renovation")
    plan(uow, rejected)
    assert queued(uow, rejected) == [(ORGANISER, "rejected")]


def test_an_approved_change_back_to_pending_asks_its_deciders_again(uow):
    booking = Booking()
    plan(uow, booking.event("booking.approved", status="approved"))
    back = booking.move(
        START + timedelta(days=2),
        status="pending",
        changes=[{"field": "status", "from": "approved", "to": "pending"}],
    )
    plan(uow, back)
    assert queued(uow, back) == sorted(
        [
            *everyone("invitation_update"),
            ("manager@example.org", "decision_needed"),
            (ORGANISER, "changed"),
        ]
    )


# --- lines: each decider their own, with links; the organiser told of each part -----------

KOMM = team("komm", "Kommunikation", "komm@example.org", ("kim@example.org",))
VENUE = resource("v1", "aula-magna", "Aula Magna", location="Building A", managers=["ines@x.org"])
PHOTOS = resource("p1", "photo", "Photographer", kind="service", team=KOMM)
DECIDE = re.compile(r"https://evenemang\.example/decide/(\S+)")


def lines_request(**overrides: Any) -> Booking:
    """A venue and a photographer, each waiting for its own deciders since ``NOW``."""
    lines = [line("v1", waiting_since=NOW), line("p1", waiting_since=NOW)]
    defaults = {"resources": [VENUE, PHOTOS], "lines": lines}
    return Booking(**{**defaults, **overrides})


def message(uow: FakeUnitOfWork, recipient: str, kind: str):
    (row,) = [r for r in uow.deliveries.rows if (r.recipient, r.kind) == (recipient, kind)]
    return BytesParser(policy=policy.default).parsebytes(row.message)


def links_in(mail) -> list[DecisionLink]:
    """Every decision link of a mail's text part, read back as booking reads them."""
    text = mail.get_body(("plain",)).get_content()
    return [read(SECRET, token, NOW) for token in DECIDE.findall(text)]


def test_a_request_asks_each_decider_once_about_their_own_lines_with_links(uow):
    booking = lines_request()
    submitted = booking.event("booking.submitted")
    plan(uow, submitted)
    assert queued(uow, submitted) == [
        ("ines@x.org", "decision_needed"),
        ("komm@example.org", "decision_needed"),  # the team's mailbox, not its members
        (ORGANISER, "receipt"),
    ]
    links = links_in(message(uow, "komm@example.org", "decision_needed"))
    assert {(x.action, x.resource_ids) for x in links} == {
        (Action.APPROVE, ("p1",)),
        (Action.REJECT, ("p1",)),
    }
    assert {(x.decider, x.booking_id, x.revision) for x in links} == {
        ("komm@example.org", booking.data["booking_id"], 1)
    }
    html = message(uow, "ines@x.org", "decision_needed").get_body(("html",)).get_content()
    assert len(DECIDE.findall(html)) == 2 and "Aula Magna, Building A" in html


def test_a_decider_of_several_lines_gets_links_for_each_and_for_all(uow):
    studio = resource("s1", "studio", "Studio", kind="studio", team=KOMM)
    booking = lines_request(resources=[PHOTOS, studio], lines=[line("p1"), line("s1")])
    plan(uow, booking.event("booking.submitted"))
    links = links_in(message(uow, "komm@example.org", "decision_needed"))
    assert sorted((x.action.value, x.resource_ids) for x in links) == [
        ("approve", ("p1",)),
        ("approve", ("p1", "s1")),
        ("approve", ("s1",)),
        ("reject", ("p1",)),
        ("reject", ("p1", "s1")),
        ("reject", ("s1",)),
    ]


def test_the_organiser_hears_which_part_was_decided_and_why(uow):
    booking = lines_request(language="en")
    plan(uow, booking.event("booking.submitted"))
    declined = line("p1", "declined", reason="No photographer free that day")
    part = booking.event(
        "booking.lines_decided", lines=[line("v1", "approved"), declined], decided=["v1", "p1"]
    )
    plan(uow, part)
    assert queued(uow, part) == [(ORGANISER, "lines_decided")]
    text = message(uow, ORGANISER, "lines_decided").get_body(("plain",)).get_content()
    assert "Approved:\r\n- Aula Magna, Building A" in text
    assert "Declined:\r\n- Photographer: No photographer free that day" in text
    # the photographer is not among the live resources any more: named from before
    approved = booking.event(
        "booking.approved",
        status="approved",
        resources=[VENUE],
        lines=[line("v1", "approved"), declined],
        decided=[],
    )
    plan(uow, approved)
    text = message(uow, ORGANISER, "approved").get_body(("plain",)).get_content()
    assert "Part of what you asked for was declined" in text
    assert "- Photographer: No photographer free that day" in text


def test_a_freed_slot_is_offered_once_though_its_revision_is_the_stored_one(uow):
    booking = lines_request()
    plan(uow, booking.event("booking.submitted"))
    notice = parse_event(make_envelope("booking.slot_freed", {**booking.data, "freed": ["v1"]}))
    assert plan(uow, notice) == 2
    assert queued(uow, notice) == [("ines@x.org", "decision_possible"), (ORGANISER, "slot_freed")]
    assert [x.resource_ids for x in links_in(message(uow, "ines@x.org", "decision_possible"))] == [
        ("v1",),
        ("v1",),
    ]
    assert plan(uow, notice) == 0  # the same notice again: nothing twice
    assert uow.bookings.stored[booking.data["booking_id"]].freed == ()  # not stored


def test_names_in_mail_follow_a_resource_renamed_after_the_booking(uow):
    booking = Booking(resources=[VENUE], participants=[])
    plan(uow, booking.event("booking.approved", status="approved"))
    renamed = resource_changed("v1", "aula-nova", "Aula Nova", revision=3, location="Building B")
    plan(uow, parse_event(renamed))
    plan(uow, parse_event(resource_changed("v1", "aula-magna", "Aula Magna", revision=2)))
    assert uow.resources.stored["v1"].name == "Aula Nova"  # an older revision changes nothing
    assert queue_due_reminders(uow, SETTINGS, now=START - timedelta(hours=24)) == 1
    text = message(uow, ORGANISER, "reminder").get_body(("plain",)).get_content()
    assert "Aula Nova, Building B" in text and "Aula Magna" not in text


# --- the daily digest and the 48-hour reminder -------------------------------------------------

SEVEN = datetime(2030, 2, 2, 6, 0, tzinfo=UTC)  # 07:00 in Stockholm


def test_a_decider_who_chose_the_digest_gets_one_mail_a_day_of_what_still_waits(uow):
    plan(uow, parse_event(user_changed("komm@example.org", "daily")))
    first, second, third = lines_request(), lines_request(), lines_request()
    plan(uow, first.event("booking.submitted"), second.event("booking.submitted"))
    assert ("komm@example.org", "decision_needed") not in queued(uow)
    assert ("ines@x.org", "decision_needed") in queued(uow)  # each mode is the decider's
    approved = second.event(
        "booking.lines_decided", lines=[line("v1", waiting_since=NOW), line("p1", "approved")]
    )
    plan(uow, approved)  # decided before the digest: not listed
    plan(uow, third.event("booking.submitted"), now=SEVEN + timedelta(minutes=1))
    assert queue_scheduled_mail(uow, SETTINGS, SEVEN - timedelta(seconds=1)) == 0
    assert queue_scheduled_mail(uow, SETTINGS, SEVEN) == 1
    assert queue_scheduled_mail(uow, SETTINGS, SEVEN + timedelta(hours=2)) == 0  # once a day
    digest = message(uow, "komm@example.org", "digest")
    links = links_in(digest)
    assert {(x.booking_id, x.resource_ids) for x in links} == {(first.data["booking_id"], ("p1",))}
    assert digest["References"] is None
    # the request that waited since after 07:00 is in the next day's digest
    assert queue_scheduled_mail(uow, SETTINGS, SEVEN + timedelta(days=1)) == 1
    rows = [r for r in uow.deliveries.rows if r.kind == "digest"]
    assert len({r.event_id for r in rows}) == 2


def test_a_line_waiting_48_hours_reminds_its_deciders_once_unless_decided_first(uow):
    since = NOW - timedelta(hours=1)
    waiting = lines_request(
        lines=[line("v1", waiting_since=since), line("p1", waiting_since=since)]
    )
    plan(uow, waiting.event("booking.submitted"))
    due = since + timedelta(hours=48)
    assert queue_scheduled_mail(uow, SETTINGS, due - timedelta(seconds=1)) == 0
    plan(
        uow,
        waiting.event(
            "booking.lines_decided", lines=[line("v1", "approved"), line("p1", waiting_since=since)]
        ),
    )
    assert queue_scheduled_mail(uow, SETTINGS, due) == 1  # the photographer's team alone
    assert queue_scheduled_mail(uow, SETTINGS, due + timedelta(hours=1)) == 0  # once
    reminder = message(uow, "komm@example.org", "waiting_reminder")
    assert [x.resource_ids for x in links_in(reminder)] == [("p1",), ("p1",)]
    # decided before the sender sent it: dropped, never sent
    plan(
        uow,
        waiting.event(
            "booking.approved",
            status="approved",
            lines=[line("v1", "approved"), line("p1", "approved")],
        ),
    )
    (row,) = [r for r in uow.deliveries.rows if r.kind == "waiting_reminder"]
    assert (row.status, row.last_error) == (DeliveryStatus.DROPPED, DROPPED_DECIDED)


def test_a_waiting_line_of_a_booking_that_has_started_is_not_reminded(uow):
    since = START - timedelta(hours=49)
    booking = lines_request(lines=[line("v1", waiting_since=since)], resources=[VENUE])
    plan(uow, booking.event("booking.submitted"))
    assert queue_scheduled_mail(uow, SETTINGS, START + timedelta(minutes=1)) == 0
    assert queue_scheduled_mail(uow, SETTINGS, START + timedelta(hours=1)) == 0


# --- nothing twice -------------------------------------------------------------------------------


def test_a_redelivered_event_plans_nothing_twice(uow):
    booking = Booking()
    submitted = booking.event("booking.submitted")
    approved = booking.event("booking.approved", status="approved")
    # receipt, approval, two invitations; no decider: the batch shows it decided
    assert plan(uow, submitted, approved) == 4
    assert plan(uow, approved) == 0
    assert plan(uow, submitted) == 0  # stale
    assert plan(uow, approved, approved) == 0
    assert len(uow.deliveries.rows) == 4
    keys = [r.key for r in uow.deliveries.rows]
    assert len(keys) == len(set(keys))


def test_a_replayed_event_after_the_read_model_was_rebuilt_still_sends_nothing_twice(uow):
    approved = Booking().event("booking.approved", status="approved")
    first = plan(uow, approved)
    uow.bookings.stored.clear()  # the read model rebuilt from nothing
    assert plan(uow, approved) == 0
    assert len(uow.deliveries.rows) == first


def test_a_use_case_that_fails_leaves_nothing_behind(uow):
    """A time zone no one knows fails while the mail is worded, after the calendars and
    reminders were planned: none of it stays (the consumer retries the event later)."""
    booking = Booking(timezone="Mars/Olympus_Mons")
    with pytest.raises(ZoneInfoNotFoundError):
        plan(uow, booking.event("booking.approved", status="approved"))
    assert uow.commits == 0
    assert uow.bookings.stored == {} and uow.invitations.stored == {}
    assert uow.reminders.stored == {} and uow.deliveries.rows == []


def test_a_newer_calendar_message_supersedes_one_still_queued(uow):
    booking = Booking()
    approved = booking.event("booking.approved", status="approved")
    plan(uow, approved)
    plan(uow, booking.move(START + timedelta(hours=3), status="approved"))
    first = [r for r in uow.deliveries.rows if r.event_id == approved.id]
    invitations = [r for r in first if r.kind == "invitation"]
    assert {r.status for r in invitations} == {DeliveryStatus.DROPPED}
    assert {r.last_error for r in invitations} == {"superseded by a newer calendar message"}
    assert [r.status for r in first if r.kind == "approved"] == [DeliveryStatus.QUEUED]


# --- reminders ------------------------------------------------------------------------------------


def test_reminders_are_planned_on_approval_and_queued_once_when_due(uow):
    booking = Booking()
    plan(uow, booking.event("booking.approved", status="approved"))
    assert uow.reminders.lock_for_booking(booking.data["booking_id"]) == {0: START}
    assert queue_due_reminders(uow, SETTINGS, now=START - timedelta(hours=25)) == 0
    due = START - timedelta(hours=24)
    assert queue_due_reminders(uow, SETTINGS, now=due) == 3  # organiser and two guests
    assert queue_due_reminders(uow, SETTINGS, now=due + timedelta(hours=1)) == 0
    assert [k for _, k in queued(uow)].count("reminder") == 3


def test_reminders_move_with_the_booking_and_queued_ones_are_dropped_when_it_ends(uow):
    booking = Booking()
    booking_id = booking.data["booking_id"]
    plan(uow, booking.event("booking.approved", status="approved"))
    later = START + timedelta(days=2)
    plan(uow, booking.move(later, status="approved"))
    assert uow.reminders.lock_for_booking(booking_id) == {0: later}
    assert queue_due_reminders(uow, SETTINGS, now=START - timedelta(hours=23)) == 0
    assert queue_due_reminders(uow, SETTINGS, now=later - timedelta(hours=24)) == 3
    plan(uow, booking.event("booking.cancelled", status="cancelled"))
    reminders = [r for r in uow.deliveries.rows if r.kind == "reminder"]
    assert {r.status for r in reminders} == {DeliveryStatus.DROPPED}
    assert uow.reminders.lock_for_booking(booking_id) == {}


def test_a_reminder_whose_occurrence_changed_after_it_was_due_is_not_sent(uow):
    booking = Booking()
    plan(uow, booking.event("booking.approved", status="approved"))
    uow.bookings.stored[booking.data["booking_id"]] = booking.move(START + timedelta(hours=1)).data
    assert queue_due_reminders(uow, SETTINGS, now=START - timedelta(hours=24)) == 0


# --- sending ---------------------------------------------------------------------------------


def _sender_settings(tmp_path: Path, **options: Any) -> SenderSettings:
    return SenderSettings("", tmp_path, "noreply@evenemang.example", **options)


def test_due_mail_goes_to_the_sink_once_and_is_marked_sent(uow, tmp_path):
    plan(uow, Booking().event("booking.approved", status="approved"))
    sink = MailSink(tmp_path)
    settings = _sender_settings(tmp_path)
    clock = lambda: NOW  # noqa: E731
    assert send_due_mail(uow, lambda: SinkConnection(sink), settings, clock) == 3
    assert send_due_mail(uow, lambda: SinkConnection(sink), settings, clock) == 0
    assert {(r.status, r.attempts) for r in uow.deliveries.rows} == {(DeliveryStatus.SENT, 1)}
    stored = [
        BytesParser(policy=policy.default).parsebytes(sink.raw(e.name)) for e in sink.entries()
    ]
    assert sorted(m["Message-ID"] for m in stored) == sorted(
        r.message_id for r in uow.deliveries.rows
    )
    assert sorted(m["To"].addresses[0].addr_spec for m in stored) == sorted([ORGANISER, *GUESTS])


def test_mail_that_cannot_reach_the_server_waits_with_backoff_then_is_dead(uow, tmp_path):
    plan(uow, Booking(participants=[]).event("booking.approved", status="approved"))
    url = f"smtp://127.0.0.1:{free_port()}?timeout=2"  # nothing listens there
    nowhere = lambda: SmtpConnection(parse_smtp_url(url))  # noqa: E731
    settings = _sender_settings(tmp_path, max_attempts=3, retry_seconds=10)
    moments = [NOW, NOW + timedelta(seconds=9), NOW + timedelta(seconds=10)]
    moments += [NOW + timedelta(seconds=30), NOW + timedelta(seconds=31)]
    claimed = [send_due_mail(uow, nowhere, settings, lambda at=at: at) for at in moments]
    assert claimed == [1, 0, 1, 1, 0]  # after 10 s, then 20 s more; the third try was the last
    (row,) = uow.deliveries.rows
    assert (row.status, row.attempts) == (DeliveryStatus.DEAD, 3)
    assert "Connection refused" in row.last_error


def test_a_claim_holds_its_mail_until_the_lease_has_passed(uow, tmp_path):
    plan(uow, Booking(participants=[]).event("booking.approved", status="approved"))
    settings = _sender_settings(tmp_path, lease_seconds=300)
    assert len(claim_due_mail(uow, settings, NOW, "a-sender-that-dies")) == 1
    assert claim_due_mail(uow, settings, NOW + timedelta(seconds=299), "another") == []
    assert len(claim_due_mail(uow, settings, NOW + timedelta(seconds=301), "another")) == 1


def test_a_live_senders_claim_holds_and_a_dead_ones_comes_back_at_once(uow, tmp_path):
    plan(uow, Booking(participants=[]).event("booking.approved", status="approved"))
    settings = _sender_settings(tmp_path, lease_seconds=300)
    code = "from shared import holders; print(holders.token(), flush=True); input()"
    sender = subprocess.Popen(  # another sender process on this host
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        its_token = sender.stdout.readline().strip()
        assert len(claim_due_mail(uow, settings, NOW, its_token)) == 1
        assert claim_due_mail(uow, settings, NOW + timedelta(seconds=1), "another") == []
    finally:
        sender.kill()
        sender.communicate(timeout=10)
    # its lease has 299 s to run, but its holder is gone
    assert len(claim_due_mail(uow, settings, NOW + timedelta(seconds=1), "another")) == 1


# --- the delivery log ------------------------------------------------------------------------


def test_the_delivery_log_is_read_newest_first_by_booking_and_state(uow, tmp_path):
    first, second = Booking(), Booking()
    plan(uow, first.event("booking.approved", status="approved"))
    plan(uow, second.event("booking.approved", status="approved"))
    claim_due_mail(uow, _sender_settings(tmp_path, batch_size=1), NOW, "busy")
    everything = list_deliveries(uow, ListDeliveries())
    assert [d.id for d in everything] == sorted((d.id for d in everything), reverse=True)
    assert {d.status for d in everything} == {DeliveryStatus.QUEUED}  # one held, shown queued
    mine = list_deliveries(uow, ListDeliveries(booking_id=first.data["booking_id"]))
    assert len(mine) == 3 and {d.booking_id for d in mine} == {first.data["booking_id"]}
    assert len(list_deliveries(uow, ListDeliveries(status=DeliveryStatus.QUEUED, limit=2))) == 2
    assert list_deliveries(uow, ListDeliveries(status=DeliveryStatus.SENT)) == []

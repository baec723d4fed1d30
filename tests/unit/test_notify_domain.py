"""Notify's rules on their own (no database, no mail): who is asked to decide, what each
participant's calendar is sent, when reminders go out, and how hard a mail is retried."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.notify.domain import (
    DeliveryStatus,
    DigestItem,
    Invited,
    MailKind,
    Outcome,
    Retry,
    decider_mails,
    digest_cutoff,
    digest_id,
    digest_mail,
    fingerprint,
    freed_mails,
    participant_mails,
    plan_mail,
    reminder_id,
    reminder_mails,
    reply_to,
    reschedule,
    reschedule_waiting,
    waiting_id,
    waiting_reminder_mails,
    waiting_times,
    with_names,
)
from shared.events import Kind, Language, ResourceRef, load_snapshot, make_envelope, parse_event
from tests.factories import WAITING_SINCE, line, resource, snapshot, team

START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
AULA = {**snapshot()["resources"][0], "managers": ["Manager@example.org", "infra@example.org"]}
PHOTO = {
    "id": "r2",
    "slug": "photo",
    "name": "Photographer",
    "kind": "service",
    "requires_approval": False,
    "managers": ["photo@example.org"],
}
STUDIO = {**AULA, "id": "r3", "slug": "studio", "name": "Studio", "managers": ["s@example.org"]}
GUESTS = [{"email": "anna@example.org", "name": "Anna"}, {"email": "bob@example.org"}]
INFRA = ("infra@example.org",)


def event(event_type: str = "booking.submitted", **overrides: Any):
    defaults = {"booking_id": "b-1", "resources": [AULA, PHOTO], "participants": GUESTS}
    return parse_event(make_envelope(event_type, snapshot(**{**defaults, **overrides})))


def who(mails) -> list[tuple[str, str]]:
    return sorted((m.recipient, m.kind.value) for m in mails)


def test_without_lines_a_new_request_asks_the_managers_whose_approval_it_needs():
    """A snapshot from before lines (its lines follow its status): the aula waits for its
    managers (each address once, in any case); the photographer needs no approval."""
    mails, items = decider_mails(event(), None, INFRA)
    assert who(mails) == [
        ("infra@example.org", "decision_needed"),
        ("manager@example.org", "decision_needed"),
    ]
    assert items == [] and not any(m.again for m in mails)
    assert {m.lines for m in mails} == {("r1",)}


def test_without_lines_a_change_back_to_pending_asks_again_and_an_added_resource_its_managers():
    approved = event("booking.approved", status="approved").data
    back = event(
        "booking.changed", changes=[{"field": "status", "from": "approved", "to": "pending"}]
    )
    mails, _ = decider_mails(back, approved, INFRA)
    assert len(mails) == 2 and all(m.again for m in mails)
    assert all(m.again for m in decider_mails(back, None, INFRA)[0])  # nothing stored yet
    added = event(
        "booking.changed",
        resources=[AULA, STUDIO],
        changes=[{"field": "resources", "from": ["aula"], "to": ["aula", "studio"]}],
    )
    assert who(decider_mails(added, event().data, INFRA)[0]) == [
        ("s@example.org", "decision_needed")
    ]
    assert decider_mails(event("booking.changed"), event().data, INFRA) == ([], [])


def test_deciders_hear_nothing_of_a_booking_that_is_not_waiting():
    assert decider_mails(event("booking.approved", status="approved"), None, INFRA) == ([], [])
    assert decider_mails(event("booking.cancelled", status="cancelled"), None, INFRA) == ([], [])


# --- lines: who is asked to decide what ------------------------------------------------------

INFRA_TEAM = team("infra", "Infrastructure", "infra-box@example.org", ("ines@example.org",))
KOMM = team("komm", "Kommunikation", members=("kim@example.org", "kai@example.org"))
VENUE = resource("v1", "aula-magna", "Aula Magna", location="Building A", team=INFRA_TEAM)
PHOTOS = resource("p1", "photo", "Photographer", kind="service", team=KOMM, managers=["mia@x.org"])
FILM = resource("f1", "film", "Film crew", kind="service", team=KOMM, managers=["mia@x.org"])
LONELY = resource("x1", "lonely", "Lonely room")


def request(event_type: str = "booking.submitted", resources=(VENUE, PHOTOS), **overrides: Any):
    """A request of lines: each resource waiting since ``WAITING_SINCE`` unless told."""
    lines = overrides.pop("lines", [line(r["id"]) for r in resources])
    data = snapshot(booking_id="b-2", resources=list(resources), lines=lines, **overrides)
    return parse_event(make_envelope(event_type, data))


def asked(mails) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(m.recipient, m.kind.value, m.lines) for m in mails}


def test_each_waiting_line_alerts_its_team_s_mailbox_else_its_members_and_its_managers():
    mails, items = decider_mails(request(resources=(VENUE, PHOTOS, FILM)), None, INFRA)
    # one mail per recipient, with just their lines; not the venue team's members (it has
    # a mailbox), and not the infra team's address (every line has its deciders)
    assert asked(mails) == {
        ("infra-box@example.org", "decision_needed", ("v1",)),
        ("kim@example.org", "decision_needed", ("p1", "f1")),
        ("kai@example.org", "decision_needed", ("p1", "f1")),
        ("mia@x.org", "decision_needed", ("p1", "f1")),
    }
    assert items == []


def test_the_organiser_is_not_asked_to_decide_their_own_request_unless_the_resource_allows_it():
    kim = {"email": "Kim@example.org", "name": "Kim"}
    mails, _ = decider_mails(request(resources=(PHOTOS,), organiser=kim), None, INFRA)
    assert {m.recipient for m in mails} == {"kai@example.org", "mia@x.org"}
    allowed = {**PHOTOS, "self_approval": True}
    mails, _ = decider_mails(request(resources=(allowed,), organiser=kim), None, INFRA)
    assert {m.recipient for m in mails} == {"kim@example.org", "kai@example.org", "mia@x.org"}


def test_a_line_no_one_else_decides_alerts_the_infra_team_address():
    mails, _ = decider_mails(request(resources=(LONELY, PHOTOS)), None, INFRA)
    assert ("infra@example.org", "decision_needed", ("x1",)) in asked(mails)
    assert all(m.lines == ("p1",) for m in mails if m.recipient != "infra@example.org")
    own = {**LONELY, "managers": ["org@example.org"]}  # only the organiser manages it
    assert asked(decider_mails(request(resources=(own,)), None, INFRA)[0]) == {
        ("infra@example.org", "decision_needed", ("x1",))
    }
    assert decider_mails(request(resources=(LONELY,)), None, ()) == ([], [])  # none set


def test_only_lines_that_newly_wait_alert_and_a_line_sent_back_is_asked_again():
    submitted = request()
    part = request(
        "booking.lines_decided", lines=[line("v1", "approved"), line("p1")], decided=["v1"]
    )
    assert decider_mails(part, submitted.data, INFRA) == ([], [])  # p1 was asked already
    later = WAITING_SINCE + timedelta(days=1)
    moved = request(
        "booking.changed", lines=[line("v1", "approved"), line("p1", waiting_since=later)]
    )
    mails, _ = decider_mails(moved, part.data, INFRA)
    assert {m.recipient for m in mails} == {"kim@example.org", "kai@example.org", "mia@x.org"}
    assert all(m.revised and not m.again for m in mails)
    back = request("booking.changed", lines=[line("v1", waiting_since=later), line("p1")])
    (mail,) = decider_mails(back, part.data, INFRA)[0]
    assert (mail.recipient, mail.lines, mail.again) == ("infra-box@example.org", ("v1",), True)


def test_a_decider_who_chose_the_daily_digest_gets_items_instead_of_mail():
    mails, items = decider_mails(
        request(resources=(VENUE, PHOTOS, FILM)), None, INFRA, daily={"mia@x.org"}
    )
    assert "mia@x.org" not in {m.recipient for m in mails}
    assert items == [DigestItem("mia@x.org", "b-2", "p1"), DigestItem("mia@x.org", "b-2", "f1")]


def test_a_freed_slot_offers_the_freed_lines_that_still_wait_to_their_deciders_and_organiser():
    notice = request("booking.slot_freed", freed=["v1"])
    mails, _ = freed_mails(notice, notice.data, INFRA)
    assert asked(mails) == {
        ("infra-box@example.org", "decision_possible", ("v1",)),
        ("org@example.org", "slot_freed", ("v1",)),
    }
    declined = request(
        "booking.lines_decided", lines=[line("v1", "declined"), line("p1")], revision=2
    )
    assert freed_mails(notice, declined.data, INFRA) == ([], [])  # decided since
    assert len(freed_mails(notice, None, INFRA)[0]) == 2  # a booking notify never saw


def test_a_line_waiting_48_hours_before_the_booking_starts_is_reminded_once():
    since = START - timedelta(days=5)
    late = START - timedelta(hours=47)  # will not have waited 48 hours before it starts
    waiting = request(lines=[line("v1", waiting_since=since), line("p1", waiting_since=late)]).data
    due = since + timedelta(hours=48)
    assert waiting_times(waiting) == {"v1": (since, due)}
    assert reschedule_waiting(waiting, {}) == ([], {"v1": (since, due)})
    assert reschedule_waiting(waiting, {"v1": since}) == ([], {})
    decided = request(lines=[line("v1", "approved"), line("p1", waiting_since=late)]).data
    assert reschedule_waiting(decided, {"v1": since}) == (["v1"], {})
    event_id, mails, _ = waiting_reminder_mails(waiting, {"v1": since}, due, INFRA)
    assert asked(mails) == {("infra-box@example.org", "waiting_reminder", ("v1",))}
    assert event_id == waiting_id("b-2", [("v1", since)]) == mails[0].event_id
    assert waiting_reminder_mails(waiting, {"v1": since}, START, INFRA) == (None, [], [])
    anew = {"v1": since - timedelta(hours=1)}  # it started waiting anew since
    assert waiting_reminder_mails(waiting, anew, due, INFRA) == (None, [], [])


STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.mark.parametrize(
    ("now", "day", "cutoff"),
    [
        (datetime(2030, 3, 4, 5, 59, tzinfo=UTC), date(2030, 3, 3), "2030-03-03T06:00:00+00:00"),
        (datetime(2030, 3, 4, 6, 0, tzinfo=UTC), date(2030, 3, 4), "2030-03-04T06:00:00+00:00"),
        (datetime(2030, 7, 1, 5, 0, tzinfo=UTC), date(2030, 7, 1), "2030-07-01T05:00:00+00:00"),
    ],
)
def test_a_day_s_digest_covers_the_lines_waiting_by_seven_in_the_suite_s_time_zone(
    now, day, cutoff
):
    due_day, due_cutoff = digest_cutoff(now, STOCKHOLM)
    assert (due_day, due_cutoff.astimezone(UTC).isoformat()) == (day, cutoff)


def test_a_digest_lists_what_still_waits_for_its_recipient_soonest_first_once_a_day():
    later = request(resources=(VENUE, PHOTOS), language="en").data
    sooner = request(
        resources=(PHOTOS,), start=START - timedelta(days=1), language="en"
    ).data.replace(booking_id="b-3")
    decided = request(lines=[line("v1"), line("p1", "approved")]).data.replace(booking_id="b-4")
    snapshots = {"b-2": later, "b-3": sooner, "b-4": decided}
    items = [("b-2", "v1"), ("b-2", "p1"), ("b-3", "p1"), ("b-4", "p1"), ("gone", "p1")]
    mail = digest_mail("Mia@x.org", date(2030, 3, 4), items, snapshots, INFRA)
    # not the venue (mia does not decide it), nor lines decided or bookings unknown
    assert [(w.snapshot.booking_id, w.lines) for w in mail.items] == [
        ("b-3", ("p1",)),
        ("b-2", ("p1",)),
    ]
    assert mail.kind is MailKind.DIGEST and mail.booking_id == ""
    assert mail.event_id == digest_id("mia@x.org", date(2030, 3, 4))
    assert mail.event_id != digest_id("mia@x.org", date(2030, 3, 5))
    assert mail.snapshot.language.value == "en"  # the bookings' common language
    mixed = {**snapshots, "b-2": later.replace(language=Language.SV)}
    assert digest_mail("mia@x.org", date(2030, 3, 4), items, mixed, INFRA).snapshot.language == (
        Language.SV
    )
    assert digest_mail("mia@x.org", date(2030, 3, 4), [("b-4", "p1")], snapshots, INFRA) is None


def test_mail_names_resources_as_they_are_called_now():
    (mail,), _ = decider_mails(request(resources=(VENUE,)), None, INFRA)
    newer = ResourceRef("v1", "aula", "Aula Nova", Kind.VENUE, "Building B")
    gone = ResourceRef("g1", "old", "Old hall", Kind.VENUE)
    (named,) = with_names([mail], {"v1": newer, "g1": gone})
    assert (named.resource("v1").name, named.resource("v1").location) == ("Aula Nova", "Building B")
    assert named.resource("v1").team == mail.resource("v1").team  # the rest as the booking said
    assert named.resource("g1") == gone  # a declined line's resource, named all the same
    assert with_names([mail], {}) == [mail]


def test_approval_invites_every_participant_and_remembers_what_each_calendar_was_sent():
    approved = event("booking.approved", status="approved")
    mails, invited = participant_mails(approved, {})
    assert who(mails) == [("anna@example.org", "invitation"), ("bob@example.org", "invitation")]
    assert invited["anna@example.org"] == Invited("Anna", fingerprint(approved.data), True)
    again, _ = participant_mails(approved, invited)
    assert again == []  # the same state: nothing to send


def test_a_pending_request_invites_no_one():
    assert participant_mails(event(), {}) == ([], {})


def test_a_new_time_updates_calendars_and_a_new_title_does_not():
    approved = event("booking.approved", status="approved")
    _, invited = participant_mails(approved, {})
    retitled = event("booking.changed", status="approved", title="Another title")
    assert participant_mails(retitled, invited)[0] == []
    later = START + timedelta(days=1)
    moved = event(
        "booking.changed",
        status="approved",
        start=later,
        occurrences=[
            {
                "n": 0,
                "start": later.isoformat(),
                "end": (later + timedelta(hours=2)).isoformat(),
                "status": "active",
            }
        ],
    )
    assert {m.kind for m in participant_mails(moved, invited)[0]} == {MailKind.INVITATION_UPDATE}


def test_a_participant_taken_off_is_told_and_one_added_is_invited():
    _, invited = participant_mails(event("booking.approved", status="approved"), {})
    changed = event(
        "booking.changed",
        status="approved",
        participants=[GUESTS[0], {"email": "nina@example.org", "name": "Nina"}],
    )
    mails, after = participant_mails(changed, invited)
    assert who(mails) == [
        ("bob@example.org", "invitation_cancel"),
        ("nina@example.org", "invitation"),
    ]
    assert next(m for m in mails if m.recipient == "bob@example.org").removed
    assert after["bob@example.org"].active is False


def test_an_ended_booking_cancels_each_calendar_once():
    _, invited = participant_mails(event("booking.approved", status="approved"), {})
    cancelled = event("booking.cancelled", status="cancelled", reason="Ill")
    mails, after = participant_mails(cancelled, invited)
    assert {m.kind for m in mails} == {MailKind.INVITATION_CANCEL} and len(mails) == 2
    assert participant_mails(cancelled, after)[0] == []


def test_a_cancelled_occurrence_is_cancelled_alone_in_each_calendar():
    series = [
        {
            "n": n,
            "start": (START + timedelta(weeks=n)).isoformat(),
            "end": (START + timedelta(weeks=n, hours=2)).isoformat(),
            "status": "active",
        }
        for n in range(3)
    ]
    rule = {"rrule": "FREQ=WEEKLY;COUNT=3", "status": "approved"}
    _, invited = participant_mails(event("booking.approved", occurrences=series, **rule), {})
    after = copy.deepcopy(series)
    after[1]["status"] = "cancelled"
    one_off = event(
        "booking.occurrence_cancelled", occurrences=after, cancelled_occurrence=1, **rule
    )
    mails, _ = participant_mails(one_off, invited)
    assert {(m.kind, m.occurrence) for m in mails} == {(MailKind.INVITATION_CANCEL, 1)}


def test_a_batch_tells_the_organiser_each_step_and_the_others_only_the_newest_state():
    submitted = event()
    approved = event("booking.approved", status="approved", revision=2)
    plan = plan_mail([submitted, approved], None, {}, INFRA)
    assert who(plan.mails) == [
        ("anna@example.org", "invitation"),
        ("bob@example.org", "invitation"),
        ("org@example.org", "approved"),
        ("org@example.org", "receipt"),
    ]
    assert set(plan.invited) == {"anna@example.org", "bob@example.org"}


def test_replies_reach_whoever_can_answer():
    submitted = event()
    receipt, *_ = plan_mail([submitted], None, {}, INFRA).mails
    assert [p.email for p in reply_to(receipt, INFRA)] == ["infra@example.org"]
    (to_infra, to_manager), _ = decider_mails(submitted, None, INFRA)
    assert [p.email for p in reply_to(to_manager, INFRA)] == ["org@example.org"]
    assert [p.email for p in reply_to(to_infra, INFRA)] == ["org@example.org"]
    own = {**AULA, "self_approval": True}  # a manager may decide their own request
    mails, _ = decider_mails(event(resources=[own], organiser={"email": INFRA[0]}), None, INFRA)
    (to_themself,) = [m for m in mails if m.for_organiser]
    assert reply_to(to_themself, INFRA) == []  # never to oneself


def test_the_calendar_fingerprint_is_the_one_stored_before_the_typed_contract():
    """Stored fingerprints must keep matching, or every calendar would be sent an update."""
    approved = load_snapshot(snapshot(booking_id="b-1", status="approved"))
    assert fingerprint(approved) == (
        "ad69c6bd1238e82078d8f0014f9f498838e28012394fe6652f276fda24a59a75"
    )


# --- reminders ----------------------------------------------------------------------------------


def _approved_at(start: datetime, status: str = "approved"):
    occurrence = {
        "n": 0,
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "status": "active",
    }
    return load_snapshot(snapshot(start=start, occurrences=[occurrence], status=status))


def test_reminders_follow_the_occurrences_of_an_approved_booking():
    lead, now = timedelta(hours=24), START - timedelta(days=5)
    booking = _approved_at(START)
    assert reschedule(booking, {}, lead, now) == ([], {0: START})
    assert reschedule(booking, {0: START}, lead, now) == ([], {})  # already there
    later = START + timedelta(days=1)
    assert reschedule(_approved_at(later), {0: START}, lead, now) == ([0], {0: later})
    assert reschedule(_approved_at(START, "cancelled"), {0: START}, lead, now) == ([0], {})
    too_late = START - timedelta(hours=23)  # within the lead: the change mail says it all
    assert reschedule(booking, {}, lead, too_late) == ([], {})


def test_a_reminder_goes_to_the_organiser_and_each_participant_under_one_id_per_start():
    booking = _approved_at(START).replace(
        participants=load_snapshot(snapshot(participants=GUESTS)).participants
    )
    mails = reminder_mails(booking, 0, START)
    assert [m.recipient for m in mails] == [
        "org@example.org",
        "anna@example.org",
        "bob@example.org",
    ]
    assert {m.event_id for m in mails} == {reminder_id(booking.booking_id, 0, START)}
    moved = reminder_id(booking.booking_id, 0, START + timedelta(hours=1))
    assert moved != mails[0].event_id


# --- retries --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [
        (1, (DeliveryStatus.QUEUED, 60)),
        (2, (DeliveryStatus.QUEUED, 120)),
        (3, (DeliveryStatus.QUEUED, 240)),
        (4, (DeliveryStatus.DEAD, None)),
    ],
)
def test_a_mail_that_could_not_be_sent_waits_twice_as_long_each_time_then_is_dead(
    attempts, expected
):
    after = Retry(max_attempts=4, retry_seconds=60).after(
        Outcome(DeliveryStatus.QUEUED, "451 busy"), attempts, START
    )
    waited = None if after.retry_at is None else (after.retry_at - START).total_seconds()
    assert (after.status, waited) == expected
    assert after.error == "451 busy"  # the last error is kept, also when dead


def test_a_mail_refused_for_good_is_not_retried_and_a_claim_shows_as_queued():
    retry = Retry()
    refused = Outcome(DeliveryStatus.FAILED, "550 no such user")
    assert retry.after(refused, 1, START) == refused
    assert retry.after(Outcome(DeliveryStatus.SENT), 1, START) == Outcome(DeliveryStatus.SENT)
    assert DeliveryStatus.SENDING.shown is DeliveryStatus.QUEUED
    assert DeliveryStatus.DEAD.shown is DeliveryStatus.DEAD

"""Notify's rules on their own (no database, no mail): who is asked to decide, what each
participant's calendar is sent, when reminders go out, and how hard a mail is retried."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.notify.domain import (
    DeliveryStatus,
    Invited,
    MailKind,
    Outcome,
    Retry,
    decider_mails,
    fingerprint,
    participant_mails,
    plan_mail,
    reminder_id,
    reminder_mails,
    reply_to,
    reschedule,
)
from shared.events import load_snapshot, make_envelope, parse_event
from tests.factories import snapshot

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


def test_a_new_request_asks_the_infra_team_and_the_managers_whose_approval_it_needs():
    mails = decider_mails(event(), INFRA)
    # each address once (a manager who is also the infra team, any case), and not the
    # photographer's manager: that service needs no approval
    assert who(mails) == [
        ("infra@example.org", "decision_needed"),
        ("manager@example.org", "decision_needed"),
    ]
    assert not any(m.again for m in mails)


def test_a_change_back_to_pending_asks_again_and_an_added_resource_asks_only_its_managers():
    back = event(
        "booking.changed", changes=[{"field": "status", "from": "approved", "to": "pending"}]
    )
    assert all(m.again for m in decider_mails(back, INFRA))
    assert len(decider_mails(back, INFRA)) == 2
    added = event(
        "booking.changed",
        resources=[AULA, STUDIO],
        changes=[{"field": "resources", "from": ["aula"], "to": ["aula", "studio"]}],
    )
    assert who(decider_mails(added, INFRA)) == [("s@example.org", "decision_needed")]
    assert decider_mails(event("booking.changed"), INFRA) == []  # nothing new to decide


def test_deciders_hear_nothing_of_a_booking_that_is_not_waiting():
    assert decider_mails(event("booking.approved", status="approved"), INFRA) == []


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
    plan = plan_mail([submitted, approved], {}, INFRA)
    assert who(plan.mails) == [
        ("anna@example.org", "invitation"),
        ("bob@example.org", "invitation"),
        ("org@example.org", "approved"),
        ("org@example.org", "receipt"),
    ]
    assert set(plan.invited) == {"anna@example.org", "bob@example.org"}


def test_replies_reach_whoever_can_answer():
    submitted = event()
    receipt, *_ = plan_mail([submitted], {}, INFRA).mails
    assert [p.email for p in reply_to(receipt, INFRA)] == ["infra@example.org"]
    (to_infra, to_manager) = decider_mails(submitted, INFRA)
    assert [p.email for p in reply_to(to_manager, INFRA)] == ["org@example.org"]
    assert [p.email for p in reply_to(to_infra, INFRA)] == ["org@example.org"]
    organiser_decides = decider_mails(event(organiser={"email": "INFRA@example.org"}), INFRA)
    assert reply_to(organiser_decides[0], INFRA) == []  # never to oneself


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

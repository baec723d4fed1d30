"""Who gets what, and mail that clients understand: booking events through notify's consumer
and sender to a real SMTP server on loopback, every mail parsed back with the ``email``
package and every calendar part with icalendar and libical's iTIP restriction check."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest

from services.notify.mail.message import message_id
from shared.events import (
    BOOKING_APPROVED,
    BOOKING_CANCELLED,
    BOOKING_CHANGED,
    BOOKING_OCCURRENCE_CANCELLED,
    BOOKING_REJECTED,
    BOOKING_SUBMITTED,
    make_envelope,
)
from tests.factories import snapshot
from tests.support.calendar import deliver as deliver_to_calendar
from tests.support.libical import restriction_errors
from tests.support.smtp import Notify, SmtpServer, calendar_of, ics_attachment

ORGANISER = "org@example.org"
INFRA = Notify.INFRA[0]
MANAGER = "manager@example.org"
PHOTO_BOSS = "photo-boss@example.org"
PARTICIPANTS = [
    {"email": "anna@example.org", "name": "Anna Andersson"},
    {"email": "john@example.org", "name": "Doe, John: PhD"},
    {"email": "bob@example.org", "name": ""},
]
GUESTS = [p["email"] for p in PARTICIPANTS]
AULA = {
    "id": "r1",
    "slug": "aula",
    "name": "Aula",
    "kind": "venue",
    "location": "Building A",
    "requires_approval": True,
    "managers": [MANAGER],
}
STUDIO = {
    "id": "r3",
    "slug": "studio",
    "name": "Studio",
    "kind": "studio",
    "location": "Building C",
    "requires_approval": True,
    "managers": ["studio-boss@example.org"],
}
PHOTOGRAPHER = {
    "id": "r2",
    "slug": "photo",
    "name": "Photographer",
    "kind": "service",
    "location": "",
    "requires_approval": False,
    "managers": [PHOTO_BOSS],
}
START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)

# What the mail says, in each language a booking can have (the catalogue's words).
WORDS = {
    "sv": {
        "receipt": "Förfrågan mottagen: Thesis defence",
        "to_decide": "Att besluta: Thesis defence",
        "decide_again": "Nytt beslut behövs: Thesis defence",
        "approved": "Godkänd: Thesis defence",
        "participants_invited": "Deltagarna (3) har fått en kalenderinbjudan.",
        "invitation": "Inbjudan: Thesis defence, måndag 4 mars kl. 10:00",
        "automatic": "lokalerna och tjänsterna du valde behöver inget godkännande",
        "rejected": "Inte godkänd: Thesis defence",
        "reason_renovated": "Skäl: The aula is being renovated",
        "changed": "Ändrad: Thesis defence (room 2)",
        "title_changed": "- Titel: Thesis defence → Thesis defence (room 2)",
        "needs_decision": "Ändringen kräver ett nytt beslut",
        "start_moved": "- Början: måndag 4 mars 2030 10:00 → tisdag 5 mars 2030 10:00",
        "status_changed": "- Status: godkänd → väntar på beslut",
        "updated": "Uppdaterad: Thesis defence, tisdag 5 mars kl. 10:00",
        "update_pending": "Ändringen väntar på beslut; du får besked när den är beslutad.",
        "cancelled": "Inställd: Thesis defence",
        "reason_ill": "Skäl: The speaker is ill",
        "calendar_cancelled": "Inställt: Thesis defence",
        "occurrence_cancelled": "Inställt tillfälle: Thesis defence, måndag 11 mars kl. 10:00",
        "instance_cancelled": "Inställt: Thesis defence, måndag 11 mars kl. 10:00",
        "removed": "Inte längre inbjuden: Thesis defence",
        "reminder": "Påminnelse: Thesis defence, ",
        "when": "När: måndag 4 mars 2030 kl. 10:00–12:00 (CET)",
        "where": "Var: Aula, Building A",
        "services": "Tjänster: Photographer",
        "organiser": "Arrangör: Olga Organiser <org@example.org>",
        "footer": "Det här mejlet skickades automatiskt av Evenemang.",
        "calendar_attached": "Kalenderfilen är bifogad.",
    },
    "en": {
        "receipt": "Request received: Thesis defence",
        "to_decide": "To decide: Thesis defence",
        "decide_again": "New decision needed: Thesis defence",
        "approved": "Approved: Thesis defence",
        "participants_invited": "The participants (3) have been sent a calendar invitation.",
        "invitation": "Invitation: Thesis defence, Monday 4 March, 10:00",
        "automatic": "the venues and services you chose need no approval",
        "rejected": "Not approved: Thesis defence",
        "reason_renovated": "Reason: The aula is being renovated",
        "changed": "Changed: Thesis defence (room 2)",
        "title_changed": "- Title: Thesis defence → Thesis defence (room 2)",
        "needs_decision": "The change needs a new decision",
        "start_moved": "- Start: Monday 4 March 2030 10:00 → Tuesday 5 March 2030 10:00",
        "status_changed": "- Status: approved → waiting for a decision",
        "updated": "Updated: Thesis defence, Tuesday 5 March, 10:00",
        "update_pending": (
            "The change is waiting for a decision; you will hear once it has been decided."
        ),
        "cancelled": "Cancelled: Thesis defence",
        "reason_ill": "Reason: The speaker is ill",
        "calendar_cancelled": "Cancelled: Thesis defence",
        "occurrence_cancelled": "Occurrence cancelled: Thesis defence, Monday 11 March, 10:00",
        "instance_cancelled": "Cancelled: Thesis defence, Monday 11 March, 10:00",
        "removed": "No longer invited: Thesis defence",
        "reminder": "Reminder: Thesis defence, ",
        "when": "When: Monday 4 March 2030, 10:00–12:00 (CET)",
        "where": "Where: Aula, Building A",
        "services": "Services: Photographer",
        "organiser": "Organiser: Olga Organiser <org@example.org>",
        "footer": "This email was sent automatically by Evenemang.",
        "calendar_attached": "The calendar file is attached.",
    },
}


def occurrences(start: datetime, count: int = 1, hours: int = 2) -> list[dict[str, Any]]:
    return [
        {
            "n": n,
            "start": (start + timedelta(weeks=n)).isoformat(),
            "end": (start + timedelta(weeks=n, hours=hours)).isoformat(),
            "status": "active",
        }
        for n in range(count)
    ]


class Story:
    """One booking's events, each a new revision of the whole snapshot."""

    def __init__(self, **overrides: Any) -> None:
        defaults = {
            "resources": [AULA, PHOTOGRAPHER],
            "participants": PARTICIPANTS,
            "url": "https://evenemang.example/bookings/b-1",
        }
        self.data = snapshot(**{**defaults, **overrides})
        self.started = False

    @property
    def booking_id(self) -> str:
        return self.data["booking_id"]

    def event(self, event_type: str, **changes: Any) -> dict[str, Any]:
        data = copy.deepcopy(self.data)
        data.update(changes)
        if self.started:
            data["revision"] = self.data["revision"] + 1
        data.setdefault("changes", [])
        if "changes" not in changes:
            data["changes"] = []
        self.started = True
        self.data = data
        return make_envelope(event_type, data)

    def move(self, start: datetime, **changes: Any) -> dict[str, Any]:
        """A new time, the way booking reports it."""
        moved = {
            "start": start.isoformat(),
            "end": (start + timedelta(hours=2)).isoformat(),
            "occurrences": occurrences(start),
            "changes": [{"field": "start", "from": self.data["start"], "to": start.isoformat()}],
        }
        return self.event(BOOKING_CHANGED, **{**moved, **changes})


@pytest.fixture(params=sorted(WORDS))
def language(request) -> str:
    """The booking's language: every test that reads what a mail says runs in both."""
    return request.param


@pytest.fixture
def words(language: str) -> dict[str, str]:
    return WORDS[language]


def _deliver_and_send(notify: Notify, *envelopes: dict) -> None:
    notify.deliver(*envelopes)
    notify.send_all()


def _recipients(smtp: SmtpServer) -> list[str]:
    return sorted(a for r in smtp.received for a in r.rcpt_tos)


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


def _html(message) -> str:
    return message.get_body(("html",)).get_content()


def _vevent(message) -> tuple[str, icalendar.Event, str | None, icalendar.Calendar]:
    text, calendar, method = calendar_of(message)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    return text, events[0], method, calendar


def _approved(story: Story, notify: Notify, smtp: SmtpServer) -> None:
    _deliver_and_send(
        notify,
        story.event(BOOKING_SUBMITTED),
        story.event(BOOKING_APPROVED, status="approved", decided_by="infra@example.org"),
    )
    smtp.recorder.received.clear()


# --- the table, row by row ----------------------------------------------------------------


def test_a_request_waiting_for_approval_gets_a_receipt_and_one_alert_per_decider(
    notify, smtp, language, words
):
    story = Story(language=language)
    _deliver_and_send(notify, story.event(BOOKING_SUBMITTED))

    # the service's manager is not asked: the photographer needs no approval; nor the infra
    # team's address: the aula has its own decider
    assert _recipients(smtp) == sorted([ORGANISER, MANAGER])
    (receipt,) = smtp.messages_to(ORGANISER)
    assert receipt["Subject"] == words["receipt"]
    assert "https://evenemang.example/bookings/b-1" in _text(receipt)
    assert 'href="https://evenemang.example/bookings/b-1"' in _html(receipt)
    (alert,) = smtp.messages_to(MANAGER)
    assert alert["Subject"] == words["to_decide"]
    assert "https://evenemang.example/queue" in _text(alert)
    assert alert["Reply-To"].addresses[0].addr_spec == ORGANISER
    assert "Olga Organiser" in _text(alert)
    for guest in GUESTS:
        assert smtp.messages_to(guest) == []


def test_approval_confirms_to_the_organiser_and_invites_each_participant(
    notify, smtp, make_app, language, words
):
    story = Story(language=language)
    submitted = story.event(BOOKING_SUBMITTED)
    approved = story.event(BOOKING_APPROVED, status="approved", decided_by="infra@example.org")
    _deliver_and_send(notify, submitted)
    smtp.recorder.received.clear()
    _deliver_and_send(notify, approved)

    assert _recipients(smtp) == sorted([ORGANISER, *GUESTS])  # nothing more to deciders
    (confirmation,) = smtp.messages_to(ORGANISER)
    assert confirmation["Subject"] == words["approved"]
    assert words["participants_invited"] in _text(confirmation)
    assert confirmation.get_content_type() == "multipart/alternative"

    calendar_app = make_app("calendar")
    deliver_to_calendar(calendar_app, submitted, approved)
    feed = icalendar.Calendar.from_ical(
        calendar_app.test_client().get("/feeds/public.ics").data.decode()
    )
    (in_feed,) = list(feed.walk("VEVENT"))

    for participant in PARTICIPANTS:
        (invitation,) = smtp.messages_to(participant["email"])
        assert invitation["Subject"] == words["invitation"]
        assert words["when"] in _text(invitation) and words["organiser"] in _text(invitation)
        assert words["calendar_attached"] in _text(invitation)
        text, event, method, calendar = _vevent(invitation)
        assert method == "REQUEST" == str(calendar["METHOD"])
        assert str(event["UID"]) == story.data["uid"] == str(in_feed["UID"])
        assert int(event["SEQUENCE"]) == 2 == int(in_feed["SEQUENCE"])
        assert str(event["STATUS"]) == "CONFIRMED"
        assert str(event["ORGANIZER"]) == f"mailto:{ORGANISER}"
        attendees = [str(a) for a in _list(event["ATTENDEE"])]
        assert attendees == [f"mailto:{g}" for g in GUESTS]
        assert event.decoded("DTSTART") == START
        assert str(event["LOCATION"]) == "Aula, Building A"
        assert "VALARM" not in text
        assert restriction_errors(text) == []
        assert ics_attachment(invitation) == ("invite.ics", text)
        assert invitation["Reply-To"].addresses[0].addr_spec == ORGANISER
        assert invitation["From"].addresses[0].display_name == "Olga Organiser via Evenemang"
    john = smtp.messages_to("john@example.org")[0]
    cn = next(a for a in _list(_vevent(john)[1]["ATTENDEE"]) if "john" in str(a))
    assert cn.params["CN"] == "Doe, John: PhD"  # quoted, not cut at the comma or colon
    assert 'CN="Doe, John: PhD"' in _vevent(john)[0]


def test_automatic_approval_says_so_and_invites(notify, smtp, language, words):
    story = Story(resources=[PHOTOGRAPHER], language=language)
    _deliver_and_send(
        notify, story.event(BOOKING_APPROVED, status="approved", decided_by="automatic")
    )
    assert _recipients(smtp) == sorted([ORGANISER, *GUESTS])
    assert words["automatic"] in _text(smtp.messages_to(ORGANISER)[0])


def test_a_rejection_tells_the_organiser_the_reason_and_no_one_else(notify, smtp, language, words):
    story = Story(language=language)
    _deliver_and_send(notify, story.event(BOOKING_SUBMITTED))
    smtp.recorder.received.clear()
    _deliver_and_send(
        notify,
        story.event(BOOKING_REJECTED, status="rejected", reason="The aula is being renovated"),
    )
    assert _recipients(smtp) == [ORGANISER]
    (decision,) = smtp.messages_to(ORGANISER)
    assert decision["Subject"] == words["rejected"]
    assert words["reason_renovated"] in _text(decision)
    assert decision["Reply-To"].addresses[0].addr_spec == INFRA


def test_a_change_of_title_tells_the_organiser_what_changed_and_no_one_else(
    notify, smtp, language, words
):
    story = Story(language=language)
    _approved(story, notify, smtp)
    _deliver_and_send(
        notify,
        story.event(
            BOOKING_CHANGED,
            title="Thesis defence (room 2)",
            changes=[{"field": "title", "from": "Thesis defence", "to": "Thesis defence (room 2)"}],
        ),
    )
    assert _recipients(smtp) == [ORGANISER]
    (changed,) = smtp.messages_to(ORGANISER)
    assert changed["Subject"] == words["changed"]
    assert words["title_changed"] in _text(changed)
    assert words["needs_decision"] not in _text(changed)


def test_a_new_time_needing_a_new_decision_updates_calendars_and_asks_deciders(
    notify, smtp, language, words
):
    story = Story(language=language)
    _approved(story, notify, smtp)
    later = START + timedelta(days=1)
    _deliver_and_send(
        notify,
        story.move(
            later,
            status="pending",
            decided_by=None,
            changes=[
                {"field": "start", "from": START.isoformat(), "to": later.isoformat()},
                {"field": "status", "from": "approved", "to": "pending"},
            ],
        ),
    )
    assert _recipients(smtp) == sorted([ORGANISER, MANAGER, *GUESTS])
    organiser_text = _text(smtp.messages_to(ORGANISER)[0])
    assert words["needs_decision"] in organiser_text
    assert words["start_moved"] in organiser_text
    assert words["status_changed"] in organiser_text
    (alert,) = smtp.messages_to(MANAGER)
    assert alert["Subject"] == words["decide_again"]
    for guest in GUESTS:
        (update,) = smtp.messages_to(guest)
        assert update["Subject"] == words["updated"]
        assert words["update_pending"] in _text(update)
        text, event, method, _ = _vevent(update)
        assert method == "REQUEST"
        assert str(event["UID"]) == story.data["uid"]
        assert int(event["SEQUENCE"]) == 3
        assert event.decoded("DTSTART") == later
        assert str(event["STATUS"]) == "TENTATIVE"
        assert restriction_errors(text) == []

    smtp.recorder.received.clear()  # approved again: calendars learn it is confirmed
    _deliver_and_send(notify, story.event(BOOKING_APPROVED, status="approved"))
    assert _recipients(smtp) == sorted([ORGANISER, *GUESTS])
    event = _vevent(smtp.messages_to(GUESTS[0])[0])[1]
    assert (str(event["STATUS"]), int(event["SEQUENCE"])) == ("CONFIRMED", 4)


def test_a_new_place_without_a_new_decision_updates_calendars(notify, smtp):
    story = Story(resources=[{**AULA, "requires_approval": False}])
    _approved(story, notify, smtp)
    other = {**AULA, "id": "r9", "slug": "hall", "name": "Hall", "location": "Building B"}
    _deliver_and_send(
        notify,
        story.event(
            BOOKING_CHANGED,
            resources=[other],
            changes=[{"field": "resources", "from": ["aula"], "to": ["hall"]}],
        ),
    )
    assert _recipients(smtp) == sorted([ORGANISER, *GUESTS])
    text, event, _, _ = _vevent(smtp.messages_to(GUESTS[1])[0])
    assert str(event["LOCATION"]) == "Hall, Building B"
    assert int(event["SEQUENCE"]) == 3
    assert restriction_errors(text) == []


def test_managers_of_a_resource_added_to_a_pending_request_are_asked_too(notify, smtp):
    story = Story()
    _deliver_and_send(notify, story.event(BOOKING_SUBMITTED))
    smtp.recorder.received.clear()
    _deliver_and_send(
        notify,
        story.event(
            BOOKING_CHANGED,
            resources=[AULA, STUDIO],
            changes=[{"field": "resources", "from": ["aula"], "to": ["aula", "studio"]}],
        ),
    )
    # the aula's manager was asked already: no second alert
    assert _recipients(smtp) == sorted([ORGANISER, "studio-boss@example.org"])


def test_a_cancellation_confirms_with_the_reason_and_cancels_each_calendar(
    notify, smtp, language, words
):
    story = Story(language=language)
    _approved(story, notify, smtp)
    _deliver_and_send(
        notify, story.event(BOOKING_CANCELLED, status="cancelled", reason="The speaker is ill")
    )
    assert _recipients(smtp) == sorted([ORGANISER, *GUESTS])
    (confirmation,) = smtp.messages_to(ORGANISER)
    assert confirmation["Subject"] == words["cancelled"]
    assert words["reason_ill"] in _text(confirmation)
    for guest in GUESTS:
        (cancel,) = smtp.messages_to(guest)
        assert cancel["Subject"] == words["calendar_cancelled"]
        text, event, method, calendar = _vevent(cancel)
        assert method == "CANCEL" == str(calendar["METHOD"])
        assert str(event["STATUS"]) == "CANCELLED"
        assert str(event["UID"]) == story.data["uid"]
        assert int(event["SEQUENCE"]) == 3
        assert str(event["ORGANIZER"]) == f"mailto:{ORGANISER}"
        assert "DTSTAMP" in event
        assert "VALARM" not in text
        assert restriction_errors(text) == []
        assert ics_attachment(cancel) == ("cancel.ics", text)
        assert words["reason_ill"] in _text(cancel)


def test_cancelling_one_occurrence_cancels_that_instance_in_each_calendar(
    notify, smtp, make_app, language, words
):
    series = occurrences(START, count=3)
    story = Story(rrule="FREQ=WEEKLY;COUNT=3", occurrences=series, language=language)
    submitted = story.event(BOOKING_SUBMITTED)
    approved = story.event(BOOKING_APPROVED, status="approved")
    _deliver_and_send(notify, submitted, approved)
    smtp.recorder.received.clear()
    after = copy.deepcopy(series)
    after[1]["status"] = "cancelled"
    cancelled = story.event(
        BOOKING_OCCURRENCE_CANCELLED,
        occurrences=after,
        cancelled_occurrence=1,
        reason="Public holiday",
        changes=[{"field": "occurrences[1].status", "from": "active", "to": "cancelled"}],
    )
    _deliver_and_send(notify, cancelled)

    assert _recipients(smtp) == sorted([ORGANISER, *GUESTS])
    (notice,) = smtp.messages_to(ORGANISER)
    assert notice["Subject"] == words["occurrence_cancelled"]
    second = START + timedelta(weeks=1)
    for guest in GUESTS:
        (cancel,) = smtp.messages_to(guest)
        assert cancel["Subject"] == words["instance_cancelled"]
        text, event, method, _ = _vevent(cancel)
        assert method == "CANCEL"
        assert event.decoded("RECURRENCE-ID") == second
        assert event.decoded("DTSTART") == second
        assert "RRULE" not in event
        assert (str(event["UID"]), int(event["SEQUENCE"])) == (story.data["uid"], 3)
        assert str(event["STATUS"]) == "CANCELLED"
        assert restriction_errors(text) == []

    calendar_app = make_app("calendar")  # the feed says the same with an EXDATE
    deliver_to_calendar(calendar_app, submitted, approved, cancelled)
    feed = icalendar.Calendar.from_ical(
        calendar_app.test_client().get("/feeds/public.ics").data.decode()
    )
    (in_feed,) = list(feed.walk("VEVENT"))
    assert str(in_feed["UID"]) == story.data["uid"]
    assert [d.dt for d in in_feed["EXDATE"].dts] == [second]

    smtp.recorder.received.clear()  # a later change sends the series with that EXDATE
    _deliver_and_send(notify, story.move(START + timedelta(hours=1), occurrences=after))
    text, event, method, _ = _vevent(smtp.messages_to(GUESTS[0])[0])
    assert method == "REQUEST"
    assert restriction_errors(text) == []


def test_participants_added_are_invited_and_removed_ones_told(notify, smtp, language, words):
    story = Story(language=language)
    _approved(story, notify, smtp)
    newcomer = {"email": "nina@example.org", "name": "Nina New"}
    _deliver_and_send(
        notify,
        story.event(
            BOOKING_CHANGED,
            participants=[*PARTICIPANTS[:2], newcomer],
            changes=[{"field": "participants", "from": PARTICIPANTS, "to": []}],
        ),
    )
    assert _recipients(smtp) == sorted([ORGANISER, "bob@example.org", "nina@example.org"])
    assert _vevent(smtp.messages_to("nina@example.org")[0])[2] == "REQUEST"
    (removed,) = smtp.messages_to("bob@example.org")
    assert removed["Subject"] == words["removed"]
    text, event, method, _ = _vevent(removed)
    assert method == "CANCEL"
    assert [str(a) for a in _list(event["ATTENDEE"])] == ["mailto:bob@example.org"]
    assert restriction_errors(text) == []


def test_a_stale_event_mails_the_organiser_its_step_and_no_one_else(notify, smtp, language, words):
    """Issue 12: an event that arrives behind a newer one still gets the organiser's mail
    it owes (the receipt); participants follow the newest state only."""
    story = Story(language=language)
    submitted = story.event(BOOKING_SUBMITTED)
    approved = story.event(BOOKING_APPROVED, status="approved")
    _deliver_and_send(notify, approved, submitted)  # reordered: revision 1 after 2
    assert _recipients(smtp) == sorted([ORGANISER, ORGANISER, *GUESTS])
    subjects = sorted(m["Subject"] for m in smtp.messages_to(ORGANISER))
    assert subjects == sorted([words["approved"], words["receipt"]])


def test_a_batch_mails_the_organiser_each_step_and_deciders_only_what_still_waits(
    notify, smtp, language, words
):
    story = Story(language=language)
    notify.deliver_batch(
        story.event(BOOKING_SUBMITTED), story.event(BOOKING_APPROVED, status="approved")
    )
    notify.send_all()
    subjects = sorted(m["Subject"] for m in smtp.messages_to(ORGANISER))
    assert subjects == sorted([words["receipt"], words["approved"]])
    assert smtp.messages_to(INFRA) == [] and smtp.messages_to(MANAGER) == []
    assert all(len(smtp.messages_to(g)) == 1 for g in GUESTS)


# --- reminders ------------------------------------------------------------------------------


def _soon(days: float) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(second=0, microsecond=0)


def test_a_reminder_goes_out_a_day_before_to_the_organiser_and_participants(
    notify, smtp, language, words
):
    start = _soon(3)
    story = Story(start=start, occurrences=occurrences(start), language=language)
    _approved(story, notify, smtp)
    assert notify.reminders_due(start - timedelta(hours=25)) == 0
    assert notify.reminders_due(start - timedelta(hours=24)) == 4
    assert notify.reminders_due(start - timedelta(hours=23)) == 0  # once
    notify.clock.set(start - timedelta(hours=24))
    notify.send_all()
    assert _recipients(smtp) == sorted([ORGANISER, *GUESTS])
    reminder = smtp.messages_to(GUESTS[0])[0]
    assert reminder["Subject"].startswith(words["reminder"])
    assert reminder.get_content_type() == "multipart/alternative"  # no calendar part


def test_a_reminder_moves_with_the_booking_and_is_dropped_when_it_is_cancelled(notify, smtp):
    start = _soon(3)
    story = Story(start=start, occurrences=occurrences(start))
    _approved(story, notify, smtp)
    later = start + timedelta(days=2)
    _deliver_and_send(notify, story.move(later))
    smtp.recorder.received.clear()
    assert notify.reminders_due(start - timedelta(hours=23)) == 0  # the old time: nothing
    assert notify.reminders_due(later - timedelta(hours=24)) == 4

    # queued but not sent yet when the booking is cancelled: dropped, never sent
    _deliver_and_send(notify, story.event(BOOKING_CANCELLED, status="cancelled"))
    sent = sorted((d.recipient, d.kind) for d in notify.deliveries() if d.status == "sent")
    assert not [kind for _, kind in sent if kind == "reminder"]
    assert len(smtp.received) == 4  # the cancellation to the organiser and three calendars
    reminders = [d for d in notify.deliveries(story.booking_id) if d.kind == "reminder"]
    assert [d.status for d in reminders] == ["dropped"] * 4


def test_a_cancelled_occurrence_gets_no_reminder(notify, smtp):
    start = _soon(3)
    series = occurrences(start, count=2)
    story = Story(start=start, rrule="FREQ=WEEKLY;COUNT=2", occurrences=series)
    _approved(story, notify, smtp)
    after = copy.deepcopy(series)
    after[0]["status"] = "cancelled"
    _deliver_and_send(
        notify,
        story.event(BOOKING_OCCURRENCE_CANCELLED, occurrences=after, cancelled_occurrence=0),
    )
    assert notify.reminders_due(start) == 0
    assert notify.reminders_due(start + timedelta(weeks=1) - timedelta(hours=24)) == 4


# --- language, headers, structure -------------------------------------------------------------


def test_each_booking_s_mail_is_in_its_language_with_its_times_and_details(
    notify, smtp, language, words
):
    story = Story(language=language)
    _deliver_and_send(
        notify,
        story.event(BOOKING_SUBMITTED),
        story.event(BOOKING_APPROVED, status="approved"),
    )
    subjects = sorted(m["Subject"] for m in smtp.messages_to(ORGANISER))
    assert subjects == sorted([words["receipt"], words["approved"]])
    receipt = next(m for m in smtp.messages_to(ORGANISER) if m["Subject"] == words["receipt"])
    assert receipt["Content-Language"] == language
    assert f'<html lang="{language}">' in _html(receipt)
    for line in (words["when"], words["where"], words["services"], words["footer"]):
        assert line in _text(receipt)
    assert words["organiser"] not in _text(receipt)  # the organiser is not told who they are
    invitation = smtp.messages_to(GUESTS[0])[0]
    assert invitation["Subject"] == words["invitation"]
    assert invitation["Content-Language"] == language
    assert words["when"] in _text(invitation) and words["organiser"] in _text(invitation)
    assert smtp.messages_to(MANAGER)[0]["Subject"] == words["to_decide"]


def test_swedish_is_the_default_language(notify, smtp):
    story = Story()
    del story.data["language"]
    _deliver_and_send(notify, story.event(BOOKING_SUBMITTED))
    receipt = smtp.messages_to(ORGANISER)[0]
    assert receipt["Content-Language"] == "sv"
    assert receipt["Subject"] == WORDS["sv"]["receipt"]
    assert WORDS["sv"]["when"] in _text(receipt)


def test_a_series_lists_its_dates_ahead_in_each_language(notify, smtp, language):
    series = occurrences(START, count=12)
    story = Story(rrule="FREQ=WEEKLY;COUNT=12", occurrences=series, language=language)
    _deliver_and_send(notify, story.event(BOOKING_SUBMITTED))
    text = _text(smtp.messages_to(ORGANISER)[0])
    heading, first, more = {
        "sv": (
            "Tillfällen:",
            "- måndag 4 mars 2030 kl. 10:00–12:00 (CET)",
            "… och 2 tillfällen till",
        ),
        "en": ("Occurrences:", "- Monday 4 March 2030, 10:00–12:00 (CET)", "… and 2 more"),
    }[language]
    assert heading in text and first in text
    assert text.count("\r\n- ") == 11 and more in text


def test_a_booking_across_days_gives_both_dates(notify, smtp, language):
    end = START + timedelta(days=1, hours=3)
    story = Story(
        end=end,
        occurrences=[
            {"n": 0, "start": START.isoformat(), "end": end.isoformat(), "status": "active"}
        ],
        language=language,
    )
    _deliver_and_send(notify, story.event(BOOKING_SUBMITTED))
    expected = {
        "sv": "När: måndag 4 mars 2030 kl. 10:00 – tisdag 5 mars 2030 kl. 13:00 (CET)",
        "en": "When: Monday 4 March 2030, 10:00 – Tuesday 5 March 2030, 13:00 (CET)",
    }[language]
    assert expected in _text(smtp.messages_to(ORGANISER)[0])


def test_a_title_with_line_breaks_cannot_inject_headers(notify, smtp):
    title = "Party\r\nBcc: victim@example.org\r\nX-Injected: yes\nSubject: spoof"
    story = Story(
        title=title,
        organiser={"email": ORGANISER, "name": "Olga\r\nBcc: victim2@example.org"},
    )
    _deliver_and_send(
        notify, story.event(BOOKING_SUBMITTED), story.event(BOOKING_APPROVED, status="approved")
    )
    assert "victim@example.org" not in _recipients(smtp)
    assert "victim2@example.org" not in _recipients(smtp)
    for received in smtp.received:
        message = received.message
        assert message.get_all("Subject") and len(message.get_all("Subject")) == 1
        assert message["Bcc"] is None and message["X-Injected"] is None
        assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])
        assert "Party Bcc: victim@example.org X-Injected: yes Subject: spoof" in message["Subject"]
        header_block = received.data.split(b"\r\n\r\n", 1)[0]
        assert b"\r\nBcc:" not in header_block and b"\r\nX-Injected:" not in header_block
    invitation = smtp.messages_to(GUESTS[0])[0]
    text = _vevent(invitation)[0]
    assert restriction_errors(text) == []
    assert "\r\nBcc:" not in text


def test_every_mail_has_the_headers_and_parts_clients_expect(notify, smtp):
    story = Story()
    submitted = story.event(BOOKING_SUBMITTED)
    approved = story.event(BOOKING_APPROVED, status="approved")
    _deliver_and_send(notify, submitted, approved)
    assert len(smtp.received) == 6
    for received in smtp.received:
        message = received.message
        assert received.mail_from == "noreply@evenemang.example"
        assert message["From"].addresses[0].addr_spec == "noreply@evenemang.example"
        assert message["Date"].datetime is not None
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["Message-ID"].endswith("@evenemang.example>")
        html = _html(message)
        assert "<img" not in html and "src=" not in html and "<script" not in html.lower()
        assert "<h1" in html and "<title>" in html
    invitation = smtp.messages_to(GUESTS[0])[0]
    assert invitation.get_content_type() == "multipart/mixed"
    alternative, attachment = invitation.get_payload()
    assert [p.get_content_type() for p in alternative.get_payload()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    calendar_part = alternative.get_payload()[2]
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_content_charset() == "utf-8"
    assert attachment.get_content_type() == "application/ics"
    expected = message_id(notify.settings, approved["id"], GUESTS[0], "invitation")
    assert invitation["Message-ID"] == expected
    receipt = smtp.messages_to(ORGANISER)
    ids = {m["Message-ID"] for m in receipt}
    assert message_id(notify.settings, submitted["id"], ORGANISER, "receipt") in ids


def _list(value: Any) -> list:
    return value if isinstance(value, list) else [value]

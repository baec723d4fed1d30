"""An assignee hears of their job by mail with a calendar invitation: booking events
(``booking.assigned`` with lines naming an assignee, then changes and cancellation)
through notify's consumer and sender to a real SMTP server on loopback, every mail parsed
back with the ``email`` package and its calendar part with icalendar and libical."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.notify.persistence.models import Delivery
from shared.events import (
    BOOKING_APPROVED,
    BOOKING_ASSIGNED,
    BOOKING_CANCELLED,
    BOOKING_CHANGED,
)
from shared.messages import text as say
from tests.factories import envelope, line, resource_ref, user_changed
from tests.support.libical import restriction_errors
from tests.support.smtp import calendar_of, ics_attachment

START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)  # the factory default
PHOTO = resource_ref("r-photo", "photographer", "Fotograf", kind="service", location="")
SEMINAR = {"slug": "seminar", "name_sv": "Seminarium", "name_en": "Seminar"}
ANNA = "anna@example.org"  # a known user who chose English
BO = "bo@example.org"  # no user of ours: Swedish
UID = "assignment-booking-b-1@evenemang"


def staff(email: str, name: str) -> dict:
    return {"kind": "staff", "email": email, "name": name}


def event(event_type: str, revision: int, *lines: dict, **overrides) -> dict:
    """An event of an approved seminar in the Aula with a photographer."""
    overrides.setdefault("status", "approved")
    overrides.setdefault("title", "Seminar on light")
    return envelope(
        event_type,
        booking_id="b-1",
        revision=revision,
        category=SEMINAR,
        resources=[resource_ref(), PHOTO],
        lines=[line("r1", "approved"), *lines],
        **overrides,
    )


def photo(assignee: dict | None = None, status: str = "approved") -> dict:
    return line("r-photo", status, assignee=assignee)


@pytest.fixture
def booked(notify, smtp):
    """An approved booking whose photographer is not assigned yet (its mail sent and
    forgotten); Anna is a known user who reads English."""
    notify.deliver(user_changed(ANNA, language="en"), event(BOOKING_APPROVED, 2, photo()))
    notify.send_all()
    smtp.recorder.received.clear()
    return notify


def _sent(notify, smtp, *envelopes) -> dict[str, list]:
    notify.deliver(*envelopes)
    notify.send_all()
    mails: dict[str, list] = {}
    for received in smtp.received:
        for to in received.rcpt_tos:
            mails.setdefault(to.lower(), []).append(received.message)
    smtp.recorder.received.clear()
    return mails


def _calendar(message) -> tuple[str, object, str | None]:
    text, calendar, method = calendar_of(message)
    [vevent] = calendar.walk("VEVENT")
    assert restriction_errors(text) == []
    return text, vevent, method


def test_an_assignee_gets_an_invitation_in_their_language(booked, smtp):
    mails = _sent(booked, smtp, event(BOOKING_ASSIGNED, 3, photo(staff(ANNA, "Anna Ek"))))
    assert list(mails) == [ANNA]  # the assignee alone: the organiser is told nothing new
    [message] = mails[ANNA]
    assert message["Content-Language"] == "en"
    assert message["Subject"].startswith(
        say("mail_assignment_subject", "en", job="Fotograf", title="Seminar on light", when="")
    )
    assert "Olga Organiser via" in message["From"]
    assert "org@example.org" in message["Reply-To"]  # questions go to the organiser
    body = message.get_body(("plain",)).get_content()
    intro = say(
        "mail_assignment_intro", "en", job="Fotograf", title="Seminar on light",
        organiser="Olga Organiser",
    )  # fmt: skip
    assert intro in body
    assert "Monday 4 March 2030" in body and "Aula, Building A" in body
    assert f"{say('assignment_category', 'en')}: Seminar" in body
    text, vevent, method = _calendar(message)
    assert method == "REQUEST" and "METHOD:REQUEST" in text
    assert str(vevent["UID"]) == UID and int(vevent["SEQUENCE"]) == 3
    assert str(vevent["ATTENDEE"]) == f"mailto:{ANNA}"
    assert vevent["ATTENDEE"].params["CN"] == "Anna Ek"
    assert str(vevent["ORGANIZER"]) == "mailto:org@example.org"
    assert vevent["DTSTART"].dt == START and str(vevent["LOCATION"]) == "Aula, Building A"
    assert "Job: Fotograf (Anna Ek)" in str(vevent["DESCRIPTION"])  # her language
    name, attached = ics_attachment(message)
    assert name == "invite.ics" and "METHOD:REQUEST" in attached


def test_reassigned_the_old_one_gets_a_cancel_and_the_new_one_an_invitation(booked, smtp):
    _sent(booked, smtp, event(BOOKING_ASSIGNED, 3, photo(staff(ANNA, "Anna Ek"))))
    reassigned = event(BOOKING_ASSIGNED, 4, photo(staff(BO, "Bo Ek")))
    mails = _sent(booked, smtp, reassigned)
    assert sorted(mails) == [ANNA, BO]
    [cancel] = mails[ANNA]
    _, vevent, method = _calendar(cancel)
    assert method == "CANCEL" and str(vevent["STATUS"]) == "CANCELLED"
    assert (str(vevent["UID"]), int(vevent["SEQUENCE"])) == (UID, 4)
    assert str(vevent["ATTENDEE"]) == f"mailto:{ANNA}"
    assert cancel["Subject"] == say(
        "mail_assignment_cancel_subject", "en", title="Seminar on light"
    )
    [invitation] = mails[BO]
    assert invitation["Content-Language"] == "sv"  # not a user of ours: Swedish
    _, vevent, method = _calendar(invitation)
    assert method == "REQUEST" and str(vevent["ATTENDEE"]) == f"mailto:{BO}"
    assert "Uppdrag: Fotograf (Bo Ek)" in str(vevent["DESCRIPTION"])
    # the same event again (a redelivery), and once more in a batch: nothing twice
    assert _sent(booked, smtp, reassigned) == {}
    booked.deliver_batch(reassigned)
    assert booked.send_all() == 0
    with booked.db.transaction(readonly=True) as session:
        kinds = session.execute(
            select(Delivery.recipient, Delivery.kind).where(Delivery.event_id == reassigned["id"])
        ).all()
    assert sorted(kinds) == [(ANNA, "assignment_cancel"), (BO, "assignment")]
    # unassigned: a CANCEL to the one who had it
    mails = _sent(booked, smtp, event(BOOKING_ASSIGNED, 5, photo()))
    assert list(mails) == [BO]
    assert _calendar(mails[BO][0])[2] == "CANCEL"


def test_a_new_time_updates_and_a_cancellation_cancels_the_assignees_calendar(booked, smtp):
    job = photo(staff(BO, "Bo Ek"))
    _sent(booked, smtp, event(BOOKING_ASSIGNED, 3, job))
    later = START + timedelta(days=1)
    moved = event(
        BOOKING_CHANGED,
        4,
        job,
        start=later,
        changes=[{"field": "start", "from": START.isoformat(), "to": later.isoformat()}],
    )
    mails = _sent(booked, smtp, moved)
    [update] = mails[BO]
    assert update["Subject"].startswith(
        say("mail_assignment_update_subject", "sv", title="Seminar on light", when="")
    )
    _, vevent, method = _calendar(update)
    assert method == "REQUEST" and vevent["DTSTART"].dt == later
    assert (str(vevent["UID"]), int(vevent["SEQUENCE"])) == (UID, 4)
    # a change of title alone leaves the job's calendar as it was
    retitled = event(BOOKING_CHANGED, 5, job, start=later, title="Seminar on shadow")
    assert BO not in _sent(booked, smtp, retitled)
    cancelled = event(
        BOOKING_CANCELLED,
        6,
        job,
        start=later,
        title="Seminar on shadow",
        status="cancelled",
        reason="The speaker is ill",
    )
    [cancel] = _sent(booked, smtp, cancelled)[BO]
    _, vevent, method = _calendar(cancel)
    assert method == "CANCEL" and int(vevent["SEQUENCE"]) == 6
    body = cancel.get_body(("plain",)).get_content()
    assert "The speaker is ill" in body
    assert say(
        "mail_assignment_cancelled_intro", "sv", title="Seminar on shadow", job="Fotograf"
    ) in (" ".join(body.split()))


def test_a_supplier_is_invited_only_when_it_has_an_address(booked, smtp):
    mailed = {
        "kind": "supplier",
        "supplier_id": "s-1",
        "name": "Foto AB",
        "email": "bokning@foto.example",
    }
    silent = {"kind": "supplier", "supplier_id": "s-2", "name": "Bild AB"}
    mails = _sent(booked, smtp, event(BOOKING_ASSIGNED, 3, photo(mailed)))
    assert list(mails) == ["bokning@foto.example"]
    assert _calendar(mails["bokning@foto.example"][0])[2] == "REQUEST"
    mails = _sent(booked, smtp, event(BOOKING_ASSIGNED, 4, photo(silent)))
    assert list(mails) == ["bokning@foto.example"]  # the CANCEL; the new one has no address
    assert _calendar(mails["bokning@foto.example"][0])[2] == "CANCEL"

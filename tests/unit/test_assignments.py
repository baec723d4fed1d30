"""Who is assigned a booking's jobs, as calendar's assignments feeds and notify's
assignment mail see it: pure rules over typed snapshots, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.calendar.domain import (
    FeedKind,
    FeedOwner,
    RenderedEntry,
    Retention,
    assignments_feed,
    entry_facts,
    feed_vevents,
    token_feed,
)
from services.notify.domain import MailKind, assignee_mails
from shared.booking_ical import assigned_people, assignment_spec
from shared.events import Role, make_envelope, parse_event
from tests.factories import line, resource, snapshot

NOW = datetime(2030, 3, 1, tzinfo=UTC)
PHOTO = resource("r-photo", "photo", "Fotograf", kind="service")


def staff(email: str) -> dict[str, Any]:
    return {"kind": "staff", "email": email, "name": email.split("@")[0].title()}


def booking(revision: int, *assignees: dict | None, event: str = "booking.assigned", **over):
    """An approved booking of the Aula and a photographer, the photo line's assignee one of
    ``assignees`` (by line: r-photo, then r-film)."""
    lines = [line("r1", "approved")]
    for rid, who in zip(("r-photo", "r-film"), assignees, strict=False):
        lines.append(line(rid, over.pop(f"{rid}_status", "approved"), assignee=who))
    data = snapshot(
        booking_id="b-1",
        revision=revision,
        status=over.pop("status", "approved"),
        resources=[resource("r1", "aula", "Aula"), PHOTO, resource("r-film", "film", "Film")],
        lines=lines,
        updated_at=over.pop("updated_at", NOW.isoformat()),
        **over,
    )
    return parse_event(make_envelope(event, data))


def test_staff_of_lines_not_declined_are_assigned_while_the_booking_goes_ahead():
    snap = booking(3, staff("A@x.org"), staff("b@x.org"), **{"r-film_status": "declined"}).data
    assert list(assigned_people(snap)) == ["a@x.org"]
    supplier = {"kind": "supplier", "supplier_id": "s", "name": "Foto AB", "email": "f@x.org"}
    snap = booking(3, supplier).data
    assert assigned_people(snap) == {}
    assert list(assigned_people(snap, suppliers=True)) == ["f@x.org"]
    assert assigned_people(booking(4, staff("a@x.org"), status="cancelled").data) == {}


def test_the_jobs_vevent_has_its_own_uid_and_names_the_attendee_only_in_mail():
    snap = booking(3, staff("a@x.org")).data
    feed = assignment_spec(snap)
    mail = assignment_spec(snap, language="en", attendee=assigned_people(snap)["a@x.org"])
    assert feed.uid == mail.uid == f"assignment-{snap.uid}" != snap.uid
    assert feed.attendees == () and [a.email for a in mail.attendees] == ["a@x.org"]
    assert "Uppdrag: Fotograf (A)" in feed.description and "Job: Fotograf (A)" in mail.description


def _entry(event, previous=None) -> RenderedEntry:
    facts = entry_facts(event.data, previous)
    return RenderedEntry.of(
        facts, revision=event.revision, assignment="JOB", assignment_withdrawn="OFF"
    )


def test_an_assignments_feed_lists_its_owner_s_jobs_and_those_taken_off_a_while():
    owner = lambda email: FeedOwner("u-" + email, email, Role.ORGANISER)  # noqa: E731
    anna, bo = assignments_feed(owner("a@x.org")), assignments_feed(owner("b@x.org"))
    assert token_feed(FeedKind.ASSIGNMENTS, owner("a@x.org")) == anna
    first = _entry(booking(3, staff("a@x.org")))
    assert feed_vevents(anna, [first], NOW, Retention()) == ["JOB"]
    assert feed_vevents(bo, [first], NOW, Retention()) == []
    moved = _entry(booking(4, staff("b@x.org")), first)  # reassigned
    assert moved.unassigned == (("a@x.org", NOW),)
    assert feed_vevents(anna, [moved], NOW, Retention()) == ["OFF"]
    assert feed_vevents(bo, [moved], NOW, Retention()) == ["JOB"]
    back = _entry(booking(5, staff("a@x.org")), moved)  # and back again: listed, not called off
    assert feed_vevents(anna, [back], NOW, Retention()) == ["JOB"]
    assert feed_vevents(bo, [back], NOW, Retention()) == ["OFF"]
    assert feed_vevents(bo, [back], NOW + timedelta(days=31), Retention()) == []
    ended = _entry(booking(6, staff("a@x.org"), status="cancelled"), back)
    assert feed_vevents(anna, [ended], NOW, Retention()) == ["JOB"]  # its own VEVENT: CANCELLED


def _mails(event, previous=None) -> list[tuple[MailKind, str]]:
    return [(m.kind, m.recipient) for m in assignee_mails(event, previous)]


def test_assignees_are_invited_updated_and_cancelled_as_their_jobs_change():
    unassigned = booking(2, None, event="booking.approved")
    first = booking(3, staff("a@x.org"))
    assert _mails(first, unassigned.data) == [(MailKind.ASSIGNMENT, "a@x.org")]
    assert _mails(first, first.data) == []  # nothing new: nothing sent
    retitled = booking(4, staff("a@x.org"), title="Other", event="booking.changed")
    assert _mails(retitled, first.data) == []
    later = booking(
        4, staff("a@x.org"), event="booking.changed", start=datetime(2030, 3, 5, 9, tzinfo=UTC)
    )
    assert _mails(later, first.data) == [(MailKind.ASSIGNMENT_UPDATE, "a@x.org")]
    swapped = booking(4, staff("b@x.org"))
    assert _mails(swapped, first.data) == [
        (MailKind.ASSIGNMENT_CANCEL, "a@x.org"),
        (MailKind.ASSIGNMENT, "b@x.org"),
    ]
    cancel = assignee_mails(swapped, first.data)[0]
    assert cancel.lines == ("r-photo",)  # the job she had, for the mail to name
    cancelled = booking(5, staff("a@x.org"), status="cancelled", event="booking.cancelled")
    assert _mails(cancelled, first.data) == [(MailKind.ASSIGNMENT_CANCEL, "a@x.org")]
    no_address = {"kind": "supplier", "supplier_id": "s-1", "name": "Bild AB"}
    assert _mails(booking(4, no_address), unassigned.data) == []

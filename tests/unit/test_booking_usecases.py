"""Booking's real use cases over the fake unit of work (persistence/fake.py): requests,
decisions, cancelling and changing, with no database. The clock is fixed at Friday
1 March 2030, 12:00 in Stockholm."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from services.booking.commands import (
    ApproveBooking,
    CancelBooking,
    ChangeBooking,
    CheckRequest,
    RejectBooking,
)
from services.booking.domain import Forbidden, RuleViolation, SlotTaken
from services.booking.usecases import bookings, queries
from shared.auth import Principal
from shared.events import EventType, LineStatus, Status
from shared.messages import text
from tests.support.fake_booking import FakeBooking, at


class Booking(FakeBooking):
    """The fake store with a hall that needs approval and a room that does not; a request
    is for the hall unless it names resources."""

    def __init__(self) -> None:
        super().__init__()
        self.hall = self.resource("Hall")
        self.room = self.resource("Open room", requires_approval=False)

    def resource(self, name: str, **rules: Any):
        return super().resource(name, capacity=50, **rules)

    def submit(self, who: Principal, *chosen, day: int = 4, **extra: Any):
        return super().submit(who, *(chosen or [self.hall]), day=day, **extra)


@pytest.fixture
def app() -> Booking:
    return Booking()


def test_a_request_for_a_resource_that_needs_approval_waits_with_one_event(app):
    booking = app.submit(app.olle, title="Thesis defence")
    assert (booking.status, booking.revision, booking.organiser.email) == (
        Status.PENDING,
        1,
        "olle@example.org",
    )
    [(event_type, snapshot)] = app.events(booking.id)
    assert event_type == EventType.BOOKING_SUBMITTED
    assert (snapshot.title, snapshot.status, snapshot.revision) == ("Thesis defence", "pending", 1)
    assert snapshot.occurrences[0].start == at(4, 10)  # typed: an aware datetime
    history = queries.booking_history(app.ctx, app.olle, booking.id)
    assert [h.action for h in history] == ["submitted"]


def test_a_free_resource_without_approval_is_booked_at_once(app):
    booking = app.submit(app.olle, app.room)
    assert booking.status == Status.APPROVED and booking.decided_by == "automatic"
    assert [t for t, _ in app.events(booking.id)] == [EventType.BOOKING_APPROVED]
    history = queries.booking_history(app.ctx, app.olle, booking.id)
    assert [(h.actor, h.action) for h in history] == [
        ("olle@example.org", "submitted"),
        ("automatic", "approved"),
    ]
    with pytest.raises(SlotTaken) as caught:
        app.submit(app.otto, app.room)
    # another organiser's booking: busy, no id nor title
    assert [(c.booking_id, c.title, c.start) for c in caught.value.conflicts] == [
        (None, "", booking.start)
    ]
    assert len(app.store.bookings) == 1  # the refused request left nothing behind


def test_approving_one_of_two_competing_requests_holds_the_slot_against_the_other(app):
    first = app.submit(app.olle, title="First")
    second = app.submit(app.otto, title="Second")
    approval = bookings.approve_booking(app.ctx, app.infra, first.id)
    assert approval.booking.status == Status.APPROVED
    assert approval.booking.decided_by == "infra@example.org"
    assert [c.booking_id for c in approval.competing] == [second.id]
    with pytest.raises(SlotTaken) as caught:
        bookings.approve_booking(app.ctx, app.infra, second.id)
    assert [(c.booking_id, c.status) for c in caught.value.conflicts] == [
        (first.id, Status.APPROVED)
    ]
    assert queries.read_booking(app.ctx, app.infra, second.id).status == Status.PENDING
    assert [t for t, _ in app.events(second.id)] == [EventType.BOOKING_SUBMITTED]
    [item] = queries.decision_queue(app.ctx, app.infra)
    assert item.booking.id == second.id
    assert [c.booking_id for c in item.held] == [first.id] and item.competing == ()


def test_only_infra_or_a_manager_of_every_resource_decides(app):
    booking = app.submit(app.olle)
    with pytest.raises(Forbidden) as caught:
        bookings.approve_booking(app.ctx, app.otto, booking.id)
    assert caught.value.message.code == "only_deciders"
    assert queries.decision_queue(app.ctx, app.otto) == []
    assert queries.queue_size(app.ctx, app.otto) is None
    assert queries.queue_size(app.ctx, app.infra) == 1


def test_a_rejection_needs_a_reason_and_keeps_it(app):
    booking = app.submit(app.olle)
    with pytest.raises(RuleViolation) as caught:
        bookings.reject_booking(app.ctx, app.infra, booking.id, RejectBooking("  "))
    [said] = caught.value.errors["reason"]
    assert (text(said, "sv"), text(said, "en")) == ("Fyll i det här fältet.", "Fill in this field.")
    assert queries.read_booking(app.ctx, app.olle, booking.id).status == Status.PENDING
    rejected = bookings.reject_booking(app.ctx, app.infra, booking.id, RejectBooking("Renovation"))
    assert (rejected.status, rejected.reason, rejected.revision) == ("rejected", "Renovation", 2)
    event_type, snapshot = app.events(booking.id)[-1]
    assert (event_type, snapshot.reason) == (EventType.BOOKING_REJECTED, "Renovation")


def test_cancelling_frees_the_slot_and_only_those_involved_may(app):
    booking = app.submit(app.olle, app.room)
    with pytest.raises(Forbidden):
        bookings.cancel_booking(app.ctx, app.otto, booking.id, CancelBooking())
    cancelled = bookings.cancel_booking(app.ctx, app.olle, booking.id, CancelBooking("Ill"))
    assert (cancelled.status, cancelled.reason) == (Status.CANCELLED, "Ill")
    assert app.events(booking.id)[-1][0] == EventType.BOOKING_CANCELLED
    assert app.submit(app.otto, app.room).status == Status.APPROVED  # the time is free again
    with pytest.raises(Exception) as again:
        bookings.cancel_booking(app.ctx, app.olle, booking.id, CancelBooking())
    said = again.value.message
    assert text(said, "en") == "A cancelled booking cannot be cancelled."
    assert text(said, "sv") == "En inställd bokning kan inte ställas in."


def test_a_new_time_sends_an_approved_booking_back_to_pending_other_changes_do_not(app):
    booking = app.submit(app.olle)
    bookings.approve_booking(app.ctx, app.infra, booking.id)
    noted = bookings.change_booking(
        app.ctx, app.olle, booking.id, ChangeBooking.of(notes="Coffee at 11")
    )
    assert (noted.status, noted.notes, noted.revision) == ("approved", "Coffee at 11", 3)
    moved = bookings.change_booking(app.ctx, app.olle, booking.id, ChangeBooking.of(end=at(4, 13)))
    assert (moved.status, moved.end, moved.decided_by, moved.revision) == (
        Status.PENDING,
        at(4, 13),
        None,
        4,
    )
    event_type, snapshot = app.events(booking.id)[-1]
    assert event_type == EventType.BOOKING_CHANGED
    assert [(c.field, c.old, c.new) for c in snapshot.changes] == [
        ("end", at(4, 12).isoformat(), at(4, 13).isoformat()),
        ("status", "approved", "pending"),
    ]
    same = bookings.change_booking(app.ctx, app.olle, booking.id, ChangeBooking.of(end=at(4, 13)))
    assert same.revision == 4  # nothing changed, nothing written


def test_a_change_into_a_taken_slot_is_refused_and_changes_nothing(app):
    held = app.submit(app.otto, app.room, day=5)
    mine = app.submit(app.olle, app.room)
    with pytest.raises(SlotTaken) as caught:
        bookings.change_booking(
            app.ctx,
            app.olle,
            mine.id,
            ChangeBooking.of(title="Moved", start=at(5, 10), end=at(5, 12)),
        )
    assert [(c.booking_id, c.busy_only, c.start) for c in caught.value.conflicts] == [
        (None, True, held.start)
    ]
    after = queries.read_booking(app.ctx, app.olle, mine.id)
    assert (after.title, after.start, after.revision) == ("Seminar", at(4, 10), 1)


def test_checking_a_series_names_what_is_free_taken_and_unavailable(app):
    closed = app.resource("Office", opening_hours={"mon": ((time(8), time(9)),)})
    taken = app.submit(app.otto, app.room, day=11, visibility="public", title="Board")
    check = queries.check_request(
        app.ctx,
        app.olle,
        CheckRequest(at(4, 10), at(4, 12), "FREQ=WEEKLY;COUNT=20", limit=20),
    )
    states = {c.resource.name: c.state for c in check.resources}
    assert states == {"Hall": "free", "Open room": "taken", "Office": "unavailable"}
    [room] = [c for c in check.resources if c.resource.id == app.room.id]
    assert [(b.booking_id, b.title) for b in room.taken] == [(taken.id, "Board")]
    assert (check.occurrences, check.checked) == (20, 20)
    assert [r.name for r in check.alternatives({"venue"}, {app.room.id})] == ["Hall"]
    assert closed.id not in {r.id for r in check.free()}


# --- lines: one decision per resource -------------------------------------------------------


def test_each_manager_decides_their_own_line_and_the_status_follows(app):
    studio = app.resource("Studio", managers=("sam@example.org",))
    sam = app.person("sam@example.org", "organiser")
    booking = app.submit(app.olle, app.hall, studio)
    with pytest.raises(Forbidden):
        bookings.approve_booking(app.ctx, sam, booking.id, ApproveBooking((app.hall.id,)))
    after_sam = bookings.approve_booking(app.ctx, sam, booking.id).booking
    assert after_sam.status == Status.PENDING
    assert {x.resource.name: x.status for x in after_sam.lines} == {
        "Hall": LineStatus.PENDING,
        "Studio": LineStatus.APPROVED,
    }
    assert [x.resource.name for x in after_sam.lines_for(sam)] == ["Studio"]
    done = bookings.approve_booking(app.ctx, app.infra, booking.id).booking
    assert done.status == Status.APPROVED
    assert [t for t, _ in app.events(booking.id)] == [
        EventType.BOOKING_SUBMITTED,
        EventType.BOOKING_LINES_DECIDED,
        EventType.BOOKING_APPROVED,
    ]


def test_declining_the_only_line_left_waiting_approves_the_rest(app):
    studio = app.resource("Studio")
    booking = app.submit(app.olle, app.hall, studio)
    bookings.approve_booking(app.ctx, app.infra, booking.id, ApproveBooking(("hall",)))
    declined = bookings.reject_booking(app.ctx, app.infra, booking.id, RejectBooking("Busy"))
    assert declined.status == Status.APPROVED
    assert [r.name for r in declined.resources] == ["Hall"]
    event_type, snapshot = app.events(booking.id)[-1]
    assert event_type == EventType.BOOKING_APPROVED and snapshot.decided == (studio.id,)
    assert snapshot.line(studio.id).reason == "Busy"


def test_no_self_approval_unless_the_resource_allows_it(app):
    own = app.submit(app.infra, app.hall)
    with pytest.raises(Forbidden) as caught:
        bookings.approve_booking(app.ctx, app.infra, own.id)
    assert caught.value.message.code == "no_self_approval"
    relaxed = app.resource("Relaxed")
    app.store.resources[relaxed.id].self_approval = True
    mine = app.submit(app.infra, relaxed, day=5)
    assert bookings.approve_booking(app.ctx, app.infra, mine.id).booking.status == "approved"


def test_a_cancelled_booking_offers_its_slot_to_the_request_that_wanted_it(app):
    held = app.submit(app.olle, app.hall)
    wanting = app.submit(app.otto, app.hall)
    bookings.approve_booking(app.ctx, app.infra, held.id)
    with pytest.raises(SlotTaken):
        bookings.approve_booking(app.ctx, app.infra, wanting.id)
    bookings.cancel_booking(app.ctx, app.olle, held.id, CancelBooking("Called off"))
    offered = [s for t, s in app.events(wanting.id) if t == EventType.BOOKING_SLOT_FREED]
    assert [(s.freed, s.revision) for s in offered] == [((app.hall.id,), 1)]

"""Issue 15's use cases over the fake unit of work: the lists admins keep, a request's
category and unit in its event, suppliers, and who does a line's job (booking.assigned),
with no database. The clock is fixed at Friday 1 March 2030, 12:00 in Stockholm."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.booking.commands import (
    ApproveBooking,
    AssigneeChoice,
    AssignLine,
    ChangeListEntry,
    CreateListEntry,
    CreateSupplier,
    CreateTeam,
)
from services.booking.domain import Forbidden, RuleViolation
from services.booking.usecases import assignments, bookings, catalog, teams
from shared.events import AssigneeKind, EventType, Label
from tests.support.fake_booking import FakeBooking


@pytest.fixture
def app() -> FakeBooking:
    app = FakeBooking()
    catalog.create_entry(
        app.ctx, app.admin, "categories", CreateListEntry("seminar", "Seminarium", "Seminar")
    )
    catalog.create_entry(
        app.ctx, app.admin, "units", CreateListEntry("math", "Matematik", "Mathematics")
    )
    return app


def test_only_admins_keep_the_lists_and_suppliers(app):
    entry = CreateListEntry("gala", "Gala", "Gala")
    with pytest.raises(Forbidden):
        catalog.create_entry(app.ctx, app.infra, "categories", entry)
    with pytest.raises(Forbidden):
        catalog.update_entry(app.ctx, app.olle, "units", "math", ChangeListEntry.of(active=False))
    with pytest.raises(Forbidden):
        catalog.list_suppliers(app.ctx, app.infra)
    assert [e.slug for e in catalog.list_entries(app.ctx, "categories")] == ["seminar"]


def test_a_request_carries_its_labels_and_a_retired_one_is_refused(app):
    hall = app.resource("Hall")
    booking = app.submit(app.olle, hall, category="seminar", unit="math")
    [(event_type, snapshot)] = app.events(booking.id)
    assert event_type == EventType.BOOKING_SUBMITTED
    assert snapshot.category == Label("seminar", "Seminarium", "Seminar")
    assert snapshot.unit == Label("math", "Matematik", "Mathematics")
    catalog.update_entry(app.ctx, app.admin, "units", "math", ChangeListEntry.of(active=False))
    with pytest.raises(RuleViolation) as refused:
        app.submit(app.olle, hall, day=5, unit="math")
    assert [m.code for m in refused.value.errors["unit"]] == ["unknown_unit"]


def test_a_team_member_assigns_a_supplier_once(app):
    teams.create_team(app.ctx, app.admin, CreateTeam("Kommunikation", members=("fia@example.org",)))
    fia = app.person("fia@example.org", "organiser")
    photo = app.resource("Photographer", kind="service", team="kommunikation")
    supplier = catalog.create_supplier(
        app.ctx, app.admin, CreateSupplier("Bild AB", "UH-1", Decimal(900), date(2030, 1, 1))
    )
    booking = app.submit(app.olle, photo)
    bookings.approve_booking(app.ctx, fia, booking.id, ApproveBooking())
    cmd = AssignLine(AssigneeChoice(AssigneeKind.SUPPLIER, supplier_id=supplier.id))
    with pytest.raises(Forbidden):
        assignments.assign_line(app.ctx, app.olle, booking.id, photo.id, cmd)
    assigned = assignments.assign_line(app.ctx, fia, booking.id, photo.slug, cmd)
    [line] = assigned.lines
    assert line.assignee is not None and line.assignee.name == "Bild AB"
    again = assignments.assign_line(app.ctx, fia, booking.id, photo.id, cmd)
    assert again.revision == assigned.revision
    event_type, snapshot = app.events(booking.id)[-1]
    assert event_type == EventType.BOOKING_ASSIGNED
    assert snapshot.lines[0].assignee is not None
    assert snapshot.lines[0].assignee.supplier_id == supplier.id
    assert [t for t, _ in app.events(booking.id)].count(EventType.BOOKING_ASSIGNED) == 1

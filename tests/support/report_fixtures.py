"""A year of the events area (2026, Europe/Stockholm), counted by hand, for the reports'
tests: rows written straight into booking's tables (the reports read what is stored,
whichever use case stored it). The figures each report must give are in the tests.

Teams: ``infra-team`` (Hall), ``komm`` (Photo, Studio; member kim@example.org). Aula has
no team and no opening hours (always open); Hall is open Monday to Friday 08-18.

    B1 seminar series, hist, 20 attendees: Mon 2, 9 (cancelled), 16 Feb, 2 Mar 10-12;
       Hall approved (2 h after the request), Photo approved (24 h), staff
    B2 conference, kansli, 100: Tue 10 Mar 09-17; Hall approved (48 h), Photo declined
       "  No photographer available " (24 h), Studio approved (6 h), supplier Foto AB
       (800/h), 5 hours delivered
    B3 public lecture, hist, 50: moved from 31 Mar to Wed 1 Apr 18-20; Aula approved (1 h)
    B4 reception, kansli, 80: Thu 30 Apr 20:00 - Fri 1 May 02:00; Aula approved (48 h)
    B5 recording, hist, 5: Sun 29 Mar 01:00 CET - 04:00 CEST (2 real hours, across the
       change to summer time); Studio approved (24 h), staff; Aula approved (2 h);
       two opt-outs
    B6 seminar, pending, private (Olle's): Fri 20 Mar 10-11; Hall pending
    B7 other, rejected: Wed 25 Mar 13-15; Photo declined "no photographer available" (2 h)
    B8 conference, kansli, 30: Wed 10 Jun 10-13; Photo approved (0.5 h), supplier Bild HB
       (700/h, valid from 1 Jun 2026)
    B9 seminar, 2025: Wed 5 Nov 2025 10-12; Photo approved, supplier Film AB (600/h,
       valid in 2025 only)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from services.booking.persistence.models import (
    Booking,
    BookingLine,
    Occurrence,
    RecordingOptOut,
    Resource,
    Supplier,
    Team,
    TeamMember,
    Unit,
    User,
)
from shared.db import Database

ZONE = ZoneInfo("Europe/Stockholm")
WEEKDAYS_OPEN = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def local(day: str, hour: int, minute: int = 0) -> datetime:
    """A Stockholm wall-clock time as a UTC instant."""
    wall = datetime.combine(date.fromisoformat(day), time(hour, minute), ZONE)
    return wall.astimezone(UTC)


@dataclass
class EventsArea:
    """The ids the tests name."""

    resources: dict[str, str] = field(default_factory=dict)
    suppliers: dict[str, str] = field(default_factory=dict)
    bookings: dict[str, str] = field(default_factory=dict)


def _booking(
    session: Session,
    key: str,
    area: EventsArea,
    organiser_id: str,
    *,
    created: datetime,
    times: list[tuple[datetime, datetime, str]],
    lines: list[dict],
    status: str = "approved",
    **fields,
) -> None:
    booking = Booking(
        uid=f"{key}@reports.test",
        title=f"{key} {fields.get('category')}",
        start=times[0][0],
        end=times[0][1],
        timezone="Europe/Stockholm",
        status=status,
        organiser_id=organiser_id,
        created_at=created,
        updated_at=created,
        **fields,
    )
    session.add(booking)
    session.flush()
    area.bookings[key] = booking.id
    for n, (start, end, state) in enumerate(times, start=1):
        session.add(Occurrence(booking_id=booking.id, n=n, start=start, end=end, status=state))
    for line in lines:
        resource = area.resources[line.pop("resource")]
        waited = line.pop("after", None)
        decided = None if waited is None else created + timedelta(hours=waited)
        if "supplier" in line:
            line["supplier_id"] = area.suppliers[line.pop("supplier")]
            line["assignee_kind"] = "supplier"
        session.add(
            BookingLine(booking_id=booking.id, resource_id=resource, decided_at=decided, **line)
        )


def seed(db: Database, organiser_id: str) -> EventsArea:
    """Write the year described above; ``organiser_id``: who made the requests."""
    area = EventsArea()
    with db.transaction() as session:
        infra_team = Team(slug="infra-team", name="Infrastruktur", email="")
        komm = Team(slug="komm", name="Kommunikation", email="")
        session.add_all([infra_team, komm])
        session.flush()
        session.add(TeamMember(team_id=komm.id, email="kim@example.org"))
        specs = {
            "hall": ("Hall", "venue", infra_team.id, WEEKDAYS_OPEN),
            "aula": ("Aula", "venue", None, None),
            "photo": ("Photo", "service", komm.id, None),
            "studio": ("Studio", "studio", komm.id, None),
        }
        for slug, (name, kind, team_id, hours) in specs.items():
            resource = Resource(
                slug=slug, name=name, kind=kind, team_id=team_id, opening_hours=hours
            )
            session.add(resource)
            session.flush()
            area.resources[slug] = resource.id
        session.add_all(
            [
                Unit(slug="hist", name_sv="Historiska institutionen", name_en="History"),
                Unit(slug="kansli", name_sv="Skolans kansli", name_en="School office"),
            ]
        )
        for key, name, rate, start, end in (
            ("foto", "Foto AB", "800", date(2026, 1, 1), None),
            ("bild", "Bild HB", "700", date(2026, 6, 1), None),
            ("film", "Film AB", "600", date(2025, 1, 1), date(2025, 12, 31)),
        ):
            supplier = Supplier(
                name=name,
                agreement_ref=f"UPH-{key}",
                hourly_rate=Decimal(rate),
                valid_from=start,
                valid_to=end,
            )
            session.add(supplier)
            session.flush()
            area.suppliers[key] = supplier.id
        _seed_bookings(session, area, organiser_id)
    return area


def _seed_bookings(session: Session, area: EventsArea, organiser_id: str) -> None:
    def make(key: str, **kw) -> None:
        _booking(session, key, area, organiser_id, **kw)

    staff = {"assignee_kind": "staff", "assignee_email": "kim@example.org"}
    make(
        "B1",
        category="seminar",
        unit="hist",
        expected_attendees=20,
        rrule="FREQ=WEEKLY;COUNT=4",
        created=local("2026-01-05", 9),
        times=[
            (local("2026-02-02", 10), local("2026-02-02", 12), "active"),
            (local("2026-02-09", 10), local("2026-02-09", 12), "cancelled"),
            (local("2026-02-16", 10), local("2026-02-16", 12), "active"),
            (local("2026-03-02", 10), local("2026-03-02", 12), "active"),
        ],
        lines=[
            {"resource": "hall", "status": "approved", "after": 2},
            {"resource": "photo", "status": "approved", "after": 24, **staff},
        ],
    )
    make(
        "B2",
        category="conference",
        unit="kansli",
        expected_attendees=100,
        created=local("2026-01-10", 8),
        times=[(local("2026-03-10", 9), local("2026-03-10", 17), "active")],
        lines=[
            {"resource": "hall", "status": "approved", "after": 48},
            {
                "resource": "photo",
                "status": "declined",
                "after": 24,
                "reason": "  No photographer available ",
            },
            {
                "resource": "studio",
                "status": "approved",
                "after": 6,
                "supplier": "foto",
                "hours_delivered": Decimal("5.00"),
            },
        ],
    )
    make(
        "B3",
        category="public-lecture",
        unit="hist",
        expected_attendees=50,
        created=local("2026-01-20", 12),
        times=[(local("2026-04-01", 18), local("2026-04-01", 20), "active")],
        lines=[{"resource": "aula", "status": "approved", "after": 1}],
    )
    make(
        "B4",
        category="reception",
        unit="kansli",
        expected_attendees=80,
        created=local("2026-02-01", 10),
        times=[(local("2026-04-30", 20), local("2026-05-01", 2), "active")],
        lines=[{"resource": "aula", "status": "approved", "after": 48}],
    )
    make(
        "B5",
        category="recording",
        unit="hist",
        expected_attendees=5,
        created=local("2026-03-01", 10),
        times=[
            (datetime(2026, 3, 29, 0, tzinfo=UTC), datetime(2026, 3, 29, 2, tzinfo=UTC), "active")
        ],
        lines=[
            {"resource": "studio", "status": "approved", "after": 24, **staff},
            {"resource": "aula", "status": "approved", "after": 2},
        ],
        recording_photo=True,
    )
    make(
        "B6",
        category="seminar",
        unit="hist",
        expected_attendees=10,
        status="pending",
        visibility="private",
        created=local("2026-03-05", 10),
        times=[(local("2026-03-20", 10), local("2026-03-20", 11), "active")],
        lines=[{"resource": "hall", "status": "pending"}],
    )
    make(
        "B7",
        category="other",
        status="rejected",
        created=local("2026-03-03", 10),
        times=[(local("2026-03-25", 13), local("2026-03-25", 15), "active")],
        lines=[
            {
                "resource": "photo",
                "status": "declined",
                "after": 2,
                "reason": "no photographer available",
            }
        ],
    )
    make(
        "B8",
        category="conference",
        unit="kansli",
        expected_attendees=30,
        created=local("2026-05-01", 10),
        times=[(local("2026-06-10", 10), local("2026-06-10", 13), "active")],
        lines=[{"resource": "photo", "status": "approved", "after": 0.5, "supplier": "bild"}],
    )
    make(
        "B9",
        category="seminar",
        unit="hist",
        expected_attendees=12,
        created=local("2025-10-01", 10),
        times=[(local("2025-11-05", 10), local("2025-11-05", 12), "active")],
        lines=[{"resource": "photo", "status": "approved", "after": 3, "supplier": "film"}],
    )
    for email in ("a@example.org", "b@example.org"):
        session.add(RecordingOptOut(booking_id=area.bookings["B5"], email=email))


def organiser(db: Database) -> str:
    """The id of the person who made the requests (Olle)."""
    with db.transaction(readonly=True) as session:
        return session.query(User.id).filter(User.email == "olle@example.org").scalar()

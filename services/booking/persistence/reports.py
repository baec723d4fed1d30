"""The reports' grouping queries: each figure is summed, counted or ranked by the database
over occurrences, lines and bookings; Python gets one row per group (a period and a
category, a venue and a week, an hour of the week, a team), never the bookings.

Periods come in as literal rows of UTC instants (``domain.reporting``), so a month, week or
year is the local one on SQLite and PostgreSQL alike, daylight saving time included. An
occurrence counts in the period its start falls in, except for a venue's booked hours,
which are clipped to each week (or month) they cover."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement, Select

from services.booking.commands import ReportQuery
from services.booking.domain.model import MAX_OCCURRENCE_LENGTH
from services.booking.domain.reporting import EPOCH_MONDAY, WEEK_SECONDS, OffsetSpan, Period
from services.booking.persistence.models import (
    Booking,
    BookingLine,
    Category,
    Occurrence,
    RecordingOptOut,
    Resource,
    Supplier,
    Team,
    TeamMember,
    Unit,
)
from services.booking.persistence.report_sql import (
    epoch,
    floor_int,
    greatest,
    least,
    number_table,
    period_table,
    rows_table,
)
from shared.db import UTCDateTime
from shared.events import LineStatus, Status

SERVICE_KINDS = ("service", "studio")
ACTIVE = "active"


def _periods(periods: Sequence[Period], reach: timedelta = timedelta(0)):
    """The periods as a table; ``start`` moved back by ``reach`` (the longest occurrence),
    so an occurrence that began before a period and runs into it is found by its start."""
    return period_table([(p.label, p.start - reach, p.end, p.start) for p in periods])


def _seconds() -> ColumnElement:
    return epoch(Occurrence.end) - epoch(Occurrence.start)


def _kept(stmt: Select, query: ReportQuery, *, line_filter: bool) -> Select:
    """Only the bookings of the query's unit and category; of its resource: the line of
    that resource (``line_filter``) or bookings holding or wanting it."""
    if query.unit:
        stmt = stmt.where(Booking.unit == query.unit)
    if query.category:
        stmt = stmt.where(Booking.category == query.category)
    if query.resource:
        if line_filter:
            stmt = stmt.where(BookingLine.resource_id == query.resource)
        else:
            wants = select(BookingLine.booking_id).where(
                BookingLine.booking_id == Booking.id,
                BookingLine.resource_id == query.resource,
                BookingLine.status != LineStatus.DECLINED.value,
            )
            stmt = stmt.where(wants.exists())
    return stmt


def longest_occurrence(session: Session, start: datetime, end: datetime) -> timedelta:
    """The longest occurrence starting in [start - the longest allowed, end): how far back
    a period looks for the ones running into it (a range of the index by start)."""
    found = session.scalar(
        select(func.max(_seconds())).where(
            Occurrence.start >= start - MAX_OCCURRENCE_LENGTH, Occurrence.start < end
        )
    )
    return timedelta(seconds=int(found or 0))


# --- events ----------------------------------------------------------------------------------


def events(session: Session, query: ReportQuery, periods: Sequence[Period]) -> list[Any]:
    """(period, key, events, attendees): each active occurrence of an approved booking,
    counted in the period of its start; the key is the booking's category, unit or (a
    row per approved line) resource, by the query's group (category under a period)."""
    table = _periods(periods)
    key: ColumnElement = {"unit": Booking.unit, "resource": BookingLine.resource_id}.get(
        query.group, Booking.category
    )
    stmt = (
        select(
            table.c.label,
            key.label("key"),
            func.count().label("events"),
            func.coalesce(func.sum(Booking.expected_attendees), 0).label("attendees"),
        )
        .select_from(table)
        .join(Occurrence, and_(Occurrence.start >= table.c.start, Occurrence.start < table.c.end))
        .join(Booking, Booking.id == Occurrence.booking_id)
        .where(Occurrence.status == ACTIVE, Booking.status == Status.APPROVED.value)
        .group_by(table.c.label, key)
    )
    if query.group == "resource":
        stmt = stmt.join(
            BookingLine,
            and_(
                BookingLine.booking_id == Booking.id,
                BookingLine.status == LineStatus.APPROVED.value,
            ),
        )
    return list(session.execute(_kept(stmt, query, line_filter=query.group == "resource")))


# --- occupancy -------------------------------------------------------------------------------


def _venue_lines(stmt: Select) -> Select:
    return (
        stmt.join(Booking, Booking.id == Occurrence.booking_id)
        .join(
            BookingLine,
            and_(
                BookingLine.booking_id == Booking.id,
                BookingLine.status == LineStatus.APPROVED.value,
            ),
        )
        .join(Resource, and_(Resource.id == BookingLine.resource_id, Resource.kind == "venue"))
        .where(Occurrence.status == ACTIVE, Booking.status == Status.APPROVED.value)
    )


def booked_seconds(session: Session, query: ReportQuery, periods: Sequence[Period]) -> list[Any]:
    """(venue id, period, seconds): approved venue lines × active occurrences of approved
    bookings, each occurrence clipped to the period."""
    reach = longest_occurrence(session, periods[0].start, periods[-1].end)
    table = _periods(periods, reach)
    period_start = table.c.start_s_at  # the period's own start (``start`` is moved back)
    # clipped as instants (stored text compares in order on SQLite), then one subtraction
    overlap = epoch(least(Occurrence.end, table.c.end)) - epoch(
        greatest(Occurrence.start, period_start)
    )
    stmt = (
        select(BookingLine.resource_id, table.c.label, func.sum(overlap).label("seconds"))
        .select_from(table)
        .join(
            Occurrence,
            and_(
                Occurrence.start >= table.c.start,  # moved back by the longest occurrence
                Occurrence.start < table.c.end,
            ),
        )
        .group_by(BookingLine.resource_id, table.c.label)
    )
    stmt = _venue_lines(stmt).where(Occurrence.end > period_start)
    return list(session.execute(_kept(stmt, query, line_filter=True)))


def busy_hours(
    session: Session,
    query: ReportQuery,
    start: datetime,
    end: datetime,
    spans: Sequence[OffsetSpan],
) -> list[Any]:
    """(hour of the week 0..167 in local time, seconds booked): each active occurrence of
    an approved venue line starting in [start, end), spread over the local hours it covers
    (placed by the offset at its start). The occurrences are first counted by (second of
    the local week they start at, length), so the spreading works on a few groups."""
    offsets = rows_table(
        "offsets",
        [("start", UTCDateTime()), ("end", UTCDateTime()), ("offset", Integer())],
        [(s.start, s.end, s.offset) for s in spans],
    )
    local = epoch(Occurrence.start) + offsets.c.offset - EPOCH_MONDAY
    at, length = local % WEEK_SECONDS, _seconds()  # one expression each: grouped by them
    starts = select(at.label("at"), length.label("length"), func.count().label("times"))
    starts = _venue_lines(
        starts.select_from(Occurrence).join(
            offsets, and_(Occurrence.start >= offsets.c.start, Occurrence.start < offsets.c.end)
        )
    ).where(Occurrence.start >= start, Occurrence.start < end)
    grouped = _kept(starts, query, line_filter=True).group_by(at, length).subquery("starts")
    hours = int(longest_occurrence(session, start, end).total_seconds()) // 3600 + 2
    steps = number_table("steps", min(hours, WEEK_SECONDS // 3600))
    into_hour = grouped.c.at % 3600
    cell_from = steps.c.k * 3600 - into_hour  # the hour's start, after the occurrence's
    seconds = least(grouped.c.length, cell_from + 3600) - greatest(literal(0), cell_from)
    cell = (grouped.c.at // 3600 + steps.c.k) % (WEEK_SECONDS // 3600)
    stmt = (
        select(cell.label("cell"), func.sum(seconds * grouped.c.times).label("seconds"))
        .select_from(grouped)
        .join(steps, steps.c.k * 3600 < into_hour + grouped.c.length)
        .group_by(cell)
    )
    return list(session.execute(stmt))


# --- services --------------------------------------------------------------------------------


def service_hours(session: Session, query: ReportQuery, periods: Sequence[Period]) -> list[Any]:
    """(resource id, period, requested, approved, declined, in-house, supplier, supplier
    cost) in hours, per service or studio line × active occurrence (counted in the period
    of its start). Delivered hours: the line's recorded hours shared over its occurrences
    in proportion to their length, or the booked hours while none are recorded; cost: the
    supplier's hours at its agreement's hourly rate; rate: the lowest hourly rate of the
    suppliers assigned these lines whose agreements are valid on some day of the report."""
    table = _periods(periods)
    length = _seconds()
    inner = aliased(Occurrence)
    total = (  # the line's booked seconds: read only for a line with hours recorded
        select(func.sum(epoch(inner.end) - epoch(inner.start)))
        .where(inner.booking_id == Booking.id, inner.status == ACTIVE)
        .correlate(Booking)
        .scalar_subquery()
    )
    hours = length / 3600.0
    delivered = case(
        (BookingLine.hours_delivered.is_(None), hours),
        else_=BookingLine.hours_delivered * length / func.nullif(total, 0),
    )
    approved = and_(
        BookingLine.status == LineStatus.APPROVED.value, Booking.status == Status.APPROVED.value
    )
    valid = and_(  # an agreement valid on some day of the report
        Supplier.valid_from <= query.last,
        or_(Supplier.valid_to.is_(None), Supplier.valid_to >= query.first),
    )
    staff = and_(approved, BookingLine.assignee_kind == "staff")
    supplier = and_(approved, BookingLine.assignee_kind == "supplier")

    def when(condition: ColumnElement, value: ColumnElement) -> ColumnElement:
        return func.coalesce(func.sum(case((condition, value), else_=null())), 0)

    stmt = (
        select(
            BookingLine.resource_id,
            table.c.label,
            func.sum(hours).label("requested"),
            when(approved, hours).label("approved"),
            when(BookingLine.status == LineStatus.DECLINED.value, hours).label("declined"),
            when(staff, delivered).label("in_house"),
            when(supplier, delivered).label("supplier"),
            when(supplier, delivered * Supplier.hourly_rate).label("supplier_cost"),
            func.min(case((valid, Supplier.hourly_rate), else_=null())).label("rate"),
        )
        .select_from(table)
        .join(Occurrence, and_(Occurrence.start >= table.c.start, Occurrence.start < table.c.end))
        .join(Booking, Booking.id == Occurrence.booking_id)
        .join(BookingLine, BookingLine.booking_id == Booking.id)
        .join(
            Resource, and_(Resource.id == BookingLine.resource_id, Resource.kind.in_(SERVICE_KINDS))
        )
        .outerjoin(Supplier, Supplier.id == BookingLine.supplier_id)
        .where(Occurrence.status == ACTIVE)
        .group_by(BookingLine.resource_id, table.c.label)
    )
    return list(session.execute(_kept(stmt, query, line_filter=True)))


# --- decisions -------------------------------------------------------------------------------

FRACTIONS = {"median": 0.5, "p90": 0.9}


def _decided(query: ReportQuery, start: datetime, end: datetime, key: ColumnElement) -> Select:
    return _kept(
        select(key.label("key"))
        .select_from(BookingLine)
        .join(Booking, Booking.id == BookingLine.booking_id)
        .join(Resource, Resource.id == BookingLine.resource_id)
        .where(
            BookingLine.decided_at >= start,
            BookingLine.decided_at < end,
            BookingLine.status.in_((LineStatus.APPROVED.value, LineStatus.DECLINED.value)),
        ),
        query,
        line_filter=True,
    )


def decision_times(
    session: Session, query: ReportQuery, start: datetime, end: datetime
) -> list[Any]:
    """Per team (id, '' for none): decided, declined, then for the median and the 90th
    percentile the seconds at the lower position and the next (``median_low``, ...):
    lines decided in [start, end), from the request (the booking's creation) to the
    line's decision. Positions come from row_number over each team's ordered durations
    (SQLite has no percentile function)."""
    key = func.coalesce(Resource.team_id, "")
    waited = epoch(BookingLine.decided_at) - epoch(Booking.created_at)
    ranked = (
        _decided(query, start, end, key)
        .add_columns(
            waited.label("waited"),
            BookingLine.status.label("status"),
            func.row_number().over(partition_by=key, order_by=waited).label("rank"),
            func.count().over(partition_by=key).label("n"),
        )
        .subquery("ranked")
    )
    declined = case((ranked.c.status == LineStatus.DECLINED.value, 1), else_=0)
    columns: list[ColumnElement] = [
        ranked.c.key,
        func.count().label("decided"),
        func.sum(declined).label("declined"),
    ]
    for name, fraction in FRACTIONS.items():
        low = floor_int(1 + fraction * (ranked.c.n - 1))
        for suffix, position in (("low", low), ("next", low + 1)):
            value = func.max(case((ranked.c.rank == position, ranked.c.waited), else_=null()))
            columns.append(value.label(f"{name}_{suffix}"))
    return list(session.execute(select(*columns).group_by(ranked.c.key)))


def declined_reasons(
    session: Session, query: ReportQuery, start: datetime, end: datetime, top: int
) -> list[Any]:
    """(reason, lines): the reasons lines were declined for, normalised (trimmed, lower
    case) and grouped, the most frequent first."""
    reason = func.lower(func.trim(BookingLine.reason))
    stmt = (
        _decided(query, start, end, reason)
        .add_columns(func.count().label("lines"))
        .where(BookingLine.status == LineStatus.DECLINED.value, reason != "")
        .group_by(reason)
        .order_by(func.count().desc(), reason)
        .limit(top)
    )
    return list(session.execute(stmt))


# --- the bookings export ---------------------------------------------------------------------


def export_rows(
    session: Session,
    query: ReportQuery,
    start: datetime,
    end: datetime,
    viewer: tuple[str, bool, Sequence[str]],
    language: str,
) -> list[Any]:
    """One row per occurrence starting in [start, end) and line of its booking: the
    booking, the occurrence, category and unit names, the line's resource, status,
    assignee, booked hours, hours delivered (for the whole line, as recorded) and the
    number of participants who opted out of being recorded (and, to those who decide the
    line, who: the photographer's list of whom not to record). A private booking's title is
    left out unless ``viewer`` (user id, infra?, team ids) organised it, is infra or admin,
    or decides on the line's resource as a team member."""
    user_id, infra, teams = viewer
    visible = or_(
        literal(infra),
        Booking.visibility != "private",
        Booking.organiser_id == user_id,
        Resource.team_id.in_(list(teams)) if teams else literal(False),
    )
    category_name = getattr(Category, f"name_{language}")
    unit_name = getattr(Unit, f"name_{language}")
    opt_outs = (
        select(func.count())
        .where(RecordingOptOut.booking_id == Booking.id)
        .correlate(Booking)
        .scalar_subquery()
    )
    # who opted out, by address: for whoever decides the line (infra, its team) alone
    opted_out = (
        select(func.aggregate_strings(RecordingOptOut.email, ", "))
        .where(RecordingOptOut.booking_id == Booking.id)
        .correlate(Booking)
        .scalar_subquery()
    )
    decides = or_(literal(infra), Resource.team_id.in_(list(teams)) if teams else literal(False))
    stmt = (
        select(
            Booking.id.label("booking_id"),
            case((visible, Booking.title), else_=null()).label("title"),
            Booking.status.label("booking_status"),
            Occurrence.n.label("occurrence"),
            Occurrence.start.label("start"),
            Occurrence.end.label("end"),
            Occurrence.status.label("occurrence_status"),
            Booking.category.label("category"),
            category_name.label("category_name"),
            Booking.unit.label("unit"),
            unit_name.label("unit_name"),
            Booking.expected_attendees.label("attendees"),
            Resource.name.label("resource_name"),
            Resource.kind.label("kind"),
            BookingLine.status.label("line_status"),
            BookingLine.assignee_kind.label("assignee_kind"),
            func.coalesce(BookingLine.assignee_email, Supplier.name).label("assignee"),
            (_seconds() / 3600.0).label("hours"),
            BookingLine.hours_delivered.label("hours_delivered"),
            opt_outs.label("opt_outs"),
            case((decides, opted_out), else_=null()).label("opted_out"),
        )
        .select_from(Occurrence)
        .join(Booking, Booking.id == Occurrence.booking_id)
        .outerjoin(BookingLine, BookingLine.booking_id == Booking.id)
        .outerjoin(Resource, Resource.id == BookingLine.resource_id)
        .outerjoin(Supplier, Supplier.id == BookingLine.supplier_id)
        .outerjoin(Category, Category.slug == Booking.category)
        .outerjoin(Unit, Unit.slug == Booking.unit)
        .where(Occurrence.start >= start, Occurrence.start < end)
        .order_by(Occurrence.start, Booking.id, Occurrence.n, Resource.name)
    )
    return list(session.execute(_kept(stmt, query, line_filter=False)))


# --- names and who may see -------------------------------------------------------------------


def names(session: Session, language: str) -> dict[str, dict[str, str]]:
    """The names reports show for slugs and ids: categories, units, resources, teams."""
    name = f"name_{language}"
    return {
        "category": {c.slug: getattr(c, name) for c in session.scalars(select(Category))},
        "unit": {u.slug: getattr(u, name) for u in session.scalars(select(Unit))},
        "resource": {i: n for i, n in session.execute(select(Resource.id, Resource.name))},
        "team": {i: n for i, n in session.execute(select(Team.id, Team.name))},
    }


def venues(session: Session, resource: str | None) -> list[Any]:
    """(id, name, opening hours) of the active venues (or the one asked for)."""
    stmt = select(Resource.id, Resource.name, Resource.opening_hours).where(
        Resource.kind == "venue"
    )
    stmt = stmt.where(Resource.id == resource) if resource else stmt.where(Resource.active)
    return list(session.execute(stmt.order_by(Resource.name)))


def teams_of(session: Session, email: str) -> list[str]:
    """The ids of the teams a person (by address) is a member of."""
    stmt = select(TeamMember.team_id).where(TeamMember.email == email.lower())
    return list(session.scalars(stmt))


def known(session: Session, what: str, key: str) -> bool:
    """Whether a unit or category slug, or a resource id, names one."""
    column = {"unit": Unit.slug, "category": Category.slug, "resource": Resource.id}[what]
    return session.scalar(select(func.count()).where(column == key)) > 0

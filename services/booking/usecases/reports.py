"""The reports the communication office plans from, and the bookings export: each one
read-only unit of work whose figures the database groups (persistence.reports); here they
are named, rounded and totalled. Infra, admins and team members may see them.

Definitions: an *event* is an active occurrence of an approved booking, counted in the
local period its start falls in (a series counts each occurrence; a booking across
midnight counts once). A venue's *booked hours* are its approved lines × those
occurrences, clipped to each period; *open hours* come from its opening hours (always
open without them). A service's *requested* hours are every line of it (any status) ×
active occurrences; *approved* those approved on an approved booking; *declined* those
declined. *Delivered* hours are recorded per line (else as booked); *in-house* are lines
assigned to staff, *supplier* those assigned to a supplier, costed at that supplier's
hourly rate. What the in-house hours *would have cost*: those hours at the *reference
rate* of the service, the lowest hourly rate among the suppliers assigned lines of that
same service in the report (occurrences in its period) whose agreements are valid on
some day of it; none (null) when no supplier did that service then. A *decision
time* runs from the request (the booking's creation) to the line's decision."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from services.booking.commands import ReportQuery
from services.booking.domain import Actor, Forbidden, RuleViolation
from services.booking.domain import reporting as cal
from services.booking.persistence import reports as sql
from services.booking.persistence.unit_of_work import Context
from services.booking.readmodels import Report
from shared.messages import N_, Msg

REPORTS = ("events", "occupancy", "services", "decisions")
GROUPS = {
    "events": ("month", "quarter", "year", "category", "unit", "resource"),
    "occupancy": ("week", "month", "quarter", "year", "hour"),
    "services": ("month", "quarter", "year", "resource"),
    "decisions": ("team", "reason"),
}
TOP_REASONS = 10
UNKNOWN = {
    "unit": N_("report_unknown_unit"),
    "category": N_("report_unknown_category"),
    "resource": N_("report_unknown_resource"),
}


def _hours(seconds: float | None) -> float:
    return round(float(seconds or 0) / 3600, 2)


def _round(value: Any) -> float:
    return round(float(value or 0), 2)


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 3) if whole else None


def may_see_reports(ctx: Context, actor: Actor) -> bool:
    """Infra and admins, and members of a team (organisers who are in none may not)."""
    if actor.is_infra:
        return True
    with ctx.uow(readonly=True) as uow:
        return bool(sql.teams_of(_session(uow), actor.email))


def _session(uow: Any) -> Session:
    return uow.session


def _check(session: Session, query: ReportQuery) -> None:
    cal.check_span(query.first, query.last)
    errors = {
        field: [Msg(UNKNOWN[field], key=key)]
        for field in UNKNOWN
        if (key := getattr(query, field)) and not sql.known(session, field, key)
    }
    if errors:
        raise RuleViolation(errors)


def _run(
    ctx: Context, actor: Actor, query: ReportQuery, build: Callable[[Session], Report]
) -> Report:
    if not may_see_reports(ctx, actor):
        raise Forbidden(Msg("reports_forbidden"))
    with ctx.uow(readonly=True) as uow:
        session = _session(uow)
        _check(session, query)
        return build(session)


def report(ctx: Context, actor: Actor, name: str, query: ReportQuery, language: str) -> Report:
    """One of :data:`REPORTS` for the query, its names in ``language``."""
    build = {
        "events": _events,
        "occupancy": _occupancy,
        "services": _services,
        "decisions": _decisions,
    }[name]
    return _run(ctx, actor, query, lambda session: build(ctx, session, query, language))


def _span(ctx: Context, query: ReportQuery):
    start = cal.midnight(query.first, ctx.zone)
    return start, cal.midnight(query.last + timedelta(days=1), ctx.zone)


# --- events ----------------------------------------------------------------------------------


def _events(ctx: Context, session: Session, query: ReportQuery, language: str) -> Report:
    periods = cal.periods(query.first, query.last, query.group, ctx.zone)
    named = sql.names(session, language)
    by_period = query.group in cal.PERIOD_GROUPS
    key = "category" if by_period else query.group
    rows = []
    for label, slug, count, attendees in sql.events(session, query, periods):
        row = {"period": label} if by_period else {}
        row |= {key: slug, f"{key}_name": named[key].get(slug, slug) if slug else None}
        rows.append(row | {"events": count, "attendees": int(attendees)})
    order = {p.label: i for i, p in enumerate(periods)}
    rows.sort(key=lambda r: (order.get(r.get("period", "all"), 0), -r["events"], r[key] or ""))
    columns = (("period",) if by_period else ()) + (key, f"{key}_name", "events", "attendees")
    totals = {
        "events": sum(r["events"] for r in rows if key != "resource"),
        "attendees": sum(r["attendees"] for r in rows if key != "resource"),
    }
    if key == "resource":  # an event on two resources is one event: count it once
        once = replace(query, group="category")
        counted = sql.events(session, once, cal.periods(query.first, query.last, "all", ctx.zone))
        totals = {
            "events": sum(r[2] for r in counted),
            "attendees": sum(int(r[3]) for r in counted),
        }
    axis = tuple(p.label for p in periods) if by_period else ()
    return Report("events", query.group, columns, rows, totals, axis)


# --- occupancy -------------------------------------------------------------------------------


def _occupancy(ctx: Context, session: Session, query: ReportQuery, language: str) -> Report:
    if query.group == "hour":
        return _busy_hours(ctx, session, query)
    periods = cal.periods(query.first, query.last, query.group, ctx.zone)
    booked = {(r, label): s for r, label, s in sql.booked_seconds(session, query, periods)}
    rows = []
    for venue_id, name, hours in sql.venues(session, query.resource):
        for period in periods:
            open_hours = _hours(cal.opening_seconds(hours, period, ctx.zone))
            booked_hours = _hours(booked.get((venue_id, period.label)))
            rows.append(
                {
                    "resource": venue_id,
                    "resource_name": name,
                    "period": period.label,
                    "booked_hours": booked_hours,
                    "open_hours": open_hours,
                    "share": _share(booked_hours, open_hours),
                }
            )
    booked_total = round(sum(r["booked_hours"] for r in rows), 2)
    open_total = round(sum(r["open_hours"] for r in rows), 2)
    totals = {
        "booked_hours": booked_total,
        "open_hours": open_total,
        "share": _share(booked_total, open_total),
    }
    columns = ("resource", "resource_name", "period", "booked_hours", "open_hours", "share")
    return Report("occupancy", query.group, columns, rows, totals, tuple(p.label for p in periods))


def _busy_hours(ctx: Context, session: Session, query: ReportQuery) -> Report:
    start, end = _span(ctx, query)
    # offsets from a day before: an occurrence's start is looked up among them
    spans = cal.offset_spans(start - timedelta(days=1), end, ctx.zone)
    seconds = dict(sql.busy_hours(session, query, start, end, spans))
    rows = []
    for cell in range(7 * 24):
        weekday, hour = cal.hour_of_week(cell)
        rows.append({"weekday": weekday, "hour": hour, "booked_hours": _hours(seconds.get(cell))})
    totals = {"booked_hours": round(sum(r["booked_hours"] for r in rows), 2)}
    return Report("occupancy", "hour", ("weekday", "hour", "booked_hours"), rows, totals)


# --- services --------------------------------------------------------------------------------

SERVICE_FIGURES = (
    "requested_hours",
    "approved_hours",
    "declined_hours",
    "in_house_hours",
    "supplier_hours",
    "supplier_cost",
    "in_house_cost_at_rates",
)


def _services(ctx: Context, session: Session, query: ReportQuery, language: str) -> Report:
    group = "all" if query.group == "resource" else query.group
    periods = cal.periods(query.first, query.last, group, ctx.zone)
    named = sql.names(session, language)["resource"]
    found = sql.service_hours(session, query, periods)
    rates: dict[str, float] = {}  # per service, the lowest over the report
    for resource, *_, rate in found:
        if rate is not None:
            rates[resource] = min(float(rate), rates.get(resource, float(rate)))
    rows = []
    for resource, label, *figures, _ in found:
        requested, approved, declined, in_house, supplier, cost = (_round(f) for f in figures)
        rate = rates.get(resource)
        rows.append(
            {
                "resource": resource,
                "resource_name": named.get(resource, resource),
                "period": label,
                "requested_hours": requested,
                "approved_hours": approved,
                "declined_hours": declined,
                "in_house_hours": in_house,
                "supplier_hours": supplier,
                "supplier_cost": cost,
                "reference_rate": rate,
                "in_house_cost_at_rates": round(in_house * rate, 2) if rate is not None else None,
            }
        )
    order = {p.label: i for i, p in enumerate(periods)}
    rows.sort(key=lambda r: (order.get(r["period"], 0), r["resource_name"]))
    totals = {f: round(sum(r[f] or 0 for r in rows), 2) for f in SERVICE_FIGURES}
    columns = ("resource", "resource_name", "period", *SERVICE_FIGURES[:6], "reference_rate")
    columns += ("in_house_cost_at_rates",)
    axis = tuple(p.label for p in periods) if group != "all" else ()
    return Report("services", query.group, columns, rows, totals, axis)


# --- decisions -------------------------------------------------------------------------------


def _times(figures: dict[str, Any], count: int) -> dict[str, float | None]:
    """The median and 90th percentile of one group's decision times, in hours, from the
    values at their positions (``median_low``, ``median_next``, ...)."""
    found: dict[str, float | None] = {}
    for name, fraction in sql.FRACTIONS.items():
        low, next_value = figures.get(f"{name}_low"), figures.get(f"{name}_next")
        if low is None:
            found[f"{name}_hours"] = None
            continue
        _, weight = cal.percentile_positions(count, fraction)
        found[f"{name}_hours"] = _hours(cal.interpolate(low, next_value, weight))
    return found


def _decision_figures(decided: int, declined: int, figures: dict[str, Any]) -> dict[str, Any]:
    return {
        "decided": decided,
        "declined": declined,
        "declined_share": _share(declined, decided),
        **_times(figures, decided),
    }


def _overall(found: list[Any]) -> dict[str, Any]:
    """Lines decided and declined over every team (percentiles are per team)."""
    decided = sum(row.decided for row in found)
    declined = sum(int(row.declined) for row in found)
    return {"decided": decided, "declined": declined, "declined_share": _share(declined, decided)}


def _decisions(ctx: Context, session: Session, query: ReportQuery, language: str) -> Report:
    start, end = _span(ctx, query)
    found = sql.decision_times(session, query, start, end)
    totals = _overall(found)
    if query.group == "reason":
        rows = [
            {"reason": reason, "lines": lines}
            for reason, lines in sql.declined_reasons(session, query, start, end, TOP_REASONS)
        ]
        return Report("decisions", "reason", ("reason", "lines"), rows, totals)
    teams = sql.names(session, language)["team"]
    rows = [
        {"team": row.key or None, "team_name": teams.get(row.key)}
        | _decision_figures(row.decided, int(row.declined), dict(row._mapping))
        for row in found
    ]
    rows.sort(key=lambda r: (r["team_name"] is None, r["team_name"] or ""))
    columns = ("team", "team_name", "decided", "declined", "declined_share")
    return Report("decisions", "team", (*columns, "median_hours", "p90_hours"), rows, totals)


# --- the bookings export ---------------------------------------------------------------------

EXPORT_COLUMNS = (
    "booking_id",
    "title",
    "booking_status",
    "occurrence",
    "start",
    "end",
    "occurrence_status",
    "category",
    "category_name",
    "unit",
    "unit_name",
    "attendees",
    "resource_name",
    "kind",
    "line_status",
    "assignee_kind",
    "assignee",
    "hours",
    "hours_delivered",
    "opt_outs",
    "opted_out",
)


def bookings_export(ctx: Context, actor: Actor, query: ReportQuery, language: str) -> Report:
    """One row per occurrence (starting in the period) and line of its booking; times in
    the suite's zone. A private booking's title only for those who may see it."""

    def build(session: Session) -> Report:
        start, end = _span(ctx, query)
        viewer = (actor.user_id, actor.is_infra, sql.teams_of(session, actor.email))
        rows = []
        for found in sql.export_rows(session, query, start, end, viewer, language):
            row = dict(found._mapping)
            row["start"] = row["start"].astimezone(ctx.zone).isoformat()
            row["end"] = row["end"].astimezone(ctx.zone).isoformat()
            row["hours"] = _round(row["hours"])
            delivered = row["hours_delivered"]
            row["hours_delivered"] = None if delivered is None else _round(delivered)
            if row["opted_out"]:  # the addresses in order, whatever the database's
                row["opted_out"] = ", ".join(sorted(row["opted_out"].split(", ")))
            rows.append(row)
        totals = {
            "rows": len(rows),
            "hours": round(sum(r["hours"] for r in rows if r["line_status"]), 2),
        }
        return Report("bookings", "occurrence", EXPORT_COLUMNS, rows, totals)

    return _run(ctx, actor, query, build)


def filter_choices(ctx: Context, language: str) -> dict[str, list[tuple[str, str]]]:
    """What the reports' filters offer: (slug or id, name) of the units, categories and
    resources, by name."""
    with ctx.uow(readonly=True) as uow:
        named = sql.names(_session(uow), language)
    return {
        field: sorted(named[field].items(), key=lambda item: (item[1].lower(), item[0]))
        for field in ("unit", "category", "resource")
    }

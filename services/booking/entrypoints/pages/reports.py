"""The reports pages (infra, admins, team members): a filters form (period, grouping,
unit, category, resource), the figures as charts drawn on the server and as a table, and
links to the same report as CSV and Excel (the API's files)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from marshmallow import ValidationError

from services.booking.domain import WEEKDAYS, RuleViolation
from services.booking.entrypoints.pages import charts
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import actor, ctx, login_required, require, t
from services.booking.entrypoints.pages.forms.errors import Errors, flat, on_form
from services.booking.entrypoints.report_words import GROUPS, HEADINGS, INTROS, NAMES
from services.booking.readmodels import Report
from services.booking.schemas.reports import QUERY_SCHEMAS, report_query
from services.booking.usecases import reports
from shared.formatting import WEEKDAYS_LONG, WEEKDAYS_SHORT
from shared.i18n import current_language

FILTERS = ("from", "to", "group", "unit", "category", "resource")
HIDDEN = {"resource", "team", "category", "unit"}  # ids and slugs: their names are shown


@bp.get("/reports")
@login_required
def reports_page():
    return redirect(url_for("pages.report_page", name="events", **request.args))


@bp.get("/reports/<name>")
@login_required
def report_page(name: str):
    if name not in reports.REPORTS:
        abort(404)
    require(reports.may_see_reports(ctx(), actor()))
    args = {k: v.strip() for k, v in request.args.items() if k in FILTERS and v.strip()}
    found, errors = _report(name, args)
    language = current_language()
    return render_template(
        "booking/reports.html",
        name=name,
        names=reports.REPORTS,
        words={"names": NAMES, "groups": GROUPS, "intros": INTROS},
        groups=reports.GROUPS[name],
        report=found,
        chart=_chart(found) if found else None,
        table=_table(found) if found else None,
        filters=args,
        errors=errors,
        choices=reports.filter_choices(ctx(), language),
        files={kind: _file_link(name, args, kind) for kind in ("csv", "xlsx")},
        export=url_for("reports_api.bookings_export", **_period(args), format="xlsx"),
    ), (422 if errors else 200)


def _report(name: str, args: dict[str, str]) -> tuple[Report | None, Errors]:
    today = ctx().clock().astimezone(ctx().zone).date()
    try:
        query = report_query(QUERY_SCHEMAS[name]().load(args), today, reports.GROUPS[name][0])
        return reports.report(ctx(), actor(), name, query, current_language()), {}
    except ValidationError as exc:
        return None, flat(exc.messages)
    except RuleViolation as exc:
        return None, on_form(exc.errors)


def _period(args: dict[str, str]) -> dict[str, str]:
    return {k: args[k] for k in ("from", "to") if k in args}


def _file_link(name: str, args: dict[str, str], kind: str) -> str:
    return url_for(f"reports_api.{name}_report", **args, format=kind, lang=current_language())


# --- the table -------------------------------------------------------------------------------


def _cell(column: str, value: Any) -> str:
    if value is None:
        return t("no_team") if column == "team_name" else "–"
    if column.endswith("share"):
        return f"{value * 100:.1f} %"
    if column == "weekday":
        return t(WEEKDAYS_LONG[WEEKDAYS.index(value)])
    if isinstance(value, float):
        return f"{value:,.2f}".replace(",", "\u202f")
    return str(value)


def _table(report: Report) -> dict[str, Any]:
    columns = [c for c in report.columns if c not in HIDDEN]
    rows = [[_cell(c, row.get(c)) for c in columns] for row in report.rows]
    if report.group == "hour":
        rows = [r for r, row in zip(rows, report.rows, strict=True) if row["booked_hours"]]
    totals = [(t(HEADINGS[k]), _cell(k, v)) for k, v in report.totals.items()]
    return {
        "headings": [t(HEADINGS[c]) for c in columns],
        "numeric": [c not in ("period", "reason", "weekday") and "name" not in c for c in columns],
        "rows": rows,
        "totals": totals,
    }


# --- the charts ------------------------------------------------------------------------------


def _chart(report: Report) -> dict[str, Any] | None:
    build = {
        "events": _events_chart,
        "occupancy": _occupancy_chart,
        "services": _services_chart,
        "decisions": _decisions_chart,
    }[report.name]
    return build(report) if report.rows else None


def _key_name(report: Report) -> str:
    return next(c for c in report.columns if c.endswith("_name"))


def _events_chart(report: Report) -> dict[str, Any]:
    title = t("chart_events_period") if report.axis else t("chart_events_key")
    if not report.axis:
        key = _key_name(report)
        bars = [(row[key] or "–", [(0, row["events"], str(row["events"]))]) for row in report.rows]
        return {"svg": charts.horizontal_bars("chart-events", title, t("chart_desc_table"), bars)}
    totals: dict[str, float] = {}
    for row in report.rows:
        name = row["category_name"] or "–"
        totals[name] = totals.get(name, 0) + row["events"]
    order = sorted(totals, key=lambda n: -totals[n])
    series = [charts.Series(name, i) for i, name in enumerate(order)]
    index = {s.name: s.index for s in series}
    stacks: dict[str, list[tuple[int, float]]] = {}
    for row in report.rows:
        stacks.setdefault(row["period"], []).append(
            (index[row["category_name"] or "–"], row["events"])
        )
    for parts in stacks.values():
        parts.sort()
    svg = charts.stacked_columns("chart-events", title, t("chart_desc_table"), report.axis, stacks)
    return {"svg": svg, "legend": charts.legend(series)}


def _occupancy_chart(report: Report) -> dict[str, Any]:
    if report.group == "hour":
        days = [t(day) for day in WEEKDAYS_SHORT]
        hours = {(WEEKDAYS.index(r["weekday"]), r["hour"]): r["booked_hours"] for r in report.rows}
        svg = charts.heat_map(
            "chart-hours", t("chart_busy_hours"), t("chart_desc_heat"), days, hours
        )
        return {"svg": svg}
    venues: dict[str, list[float]] = {}
    for row in report.rows:
        booked, opened = venues.setdefault(row["resource_name"], [0.0, 0.0])
        venues[row["resource_name"]] = [booked + row["booked_hours"], opened + row["open_hours"]]
    bars = []
    for venue, (booked, opened) in venues.items():
        share = booked / opened if opened else 0
        label = t("chart_share_of", share=f"{share * 100:.1f}", booked=_h(booked), open=_h(opened))
        bars.append((venue, [(0, share, label)]))
    return {
        "svg": charts.horizontal_bars(
            "chart-venues", t("chart_occupancy"), t("chart_desc_table"), bars
        )
    }


def _h(hours: float) -> str:
    return f"{hours:.0f}" if float(hours).is_integer() else f"{hours:.1f}"


def _summed(report: Report, fields: Sequence[str]) -> dict[str, list[float]]:
    key = _key_name(report)
    found: dict[str, list[float]] = {}
    for row in report.rows:
        sums = found.setdefault(row[key] or "–", [0.0] * len(fields))
        for i, field in enumerate(fields):
            sums[i] += row[field] or 0
    return found


def _services_chart(report: Report) -> dict[str, Any]:
    sums = _summed(report, ("in_house_hours", "supplier_hours"))
    bars = [
        (name, [(i, hours, t("chart_hours", n=_h(hours))) for i, hours in enumerate(values)])
        for name, values in sums.items()
    ]
    legend = [
        charts.Series(t(HEADINGS["in_house_hours"]), 0),
        charts.Series(t(HEADINGS["supplier_hours"]), 1),
    ]
    svg = charts.horizontal_bars("chart-services", t("chart_services"), t("chart_desc_table"), bars)
    return {"svg": svg, "legend": charts.legend(legend)}


def _decisions_chart(report: Report) -> dict[str, Any]:
    if report.group == "reason":
        bars = [(row["reason"], [(0, row["lines"], str(row["lines"]))]) for row in report.rows]
        return {
            "svg": charts.horizontal_bars(
                "chart-reasons", t("chart_reasons"), t("chart_desc_table"), bars
            )
        }
    bars = []
    for row in report.rows:
        times = [
            (i, row[f] or 0, t("chart_hours", n=_h(row[f] or 0)))
            for i, f in enumerate(("median_hours", "p90_hours"))
        ]
        bars.append((row["team_name"] or t("no_team"), times))
    legend = [
        charts.Series(t(HEADINGS["median_hours"]), 0),
        charts.Series(t(HEADINGS["p90_hours"]), 1),
    ]
    svg = charts.horizontal_bars(
        "chart-decisions", t("chart_decisions"), t("chart_desc_table"), bars
    )
    return {"svg": svg, "legend": charts.legend(legend)}

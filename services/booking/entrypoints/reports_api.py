"""The reports and the bookings export in the JSON API (``/api/v1``, in the same OpenAPI
document): ``{"rows": [...], "totals": {...}}``, or a CSV or Excel file with ``format``.
Infra, admins and team members; anyone else signed in gets 403."""

from __future__ import annotations

from flask import Blueprint, jsonify

from services.booking.entrypoints.api import ctx, endpoint
from services.booking.entrypoints.report_files import CSV, XLSX, download
from services.booking.schemas import reports as s
from services.booking.usecases import reports
from shared.auth import current_principal
from shared.problems import api_language
from shared.requests import query_args

bp = Blueprint("reports_api", __name__)
REPORT_OUT = s.ReportOut()
QUERIES = {name: schema() for name, schema in s.QUERY_SCHEMAS.items()}
EXPORT_QUERY = s.ExportQuerySchema()
SUMMARIES = {
    "events": "Events (active occurrences of approved bookings) and attendees per period, "
    "category, unit or resource",
    "occupancy": "Venues' booked hours against opening hours per week (or month, quarter, "
    "year); group=hour: booked hours per local hour of the week",
    "services": "Service and studio hours requested, approved, declined, delivered in-house "
    "and by suppliers, and what they cost at agreement rates, per service and period",
    "decisions": "Median and 90th percentile from request to decision per team, the share "
    "declined; group=reason: the reasons lines were declined for",
}


def _answer(report, query, kind: str | None):
    if kind in ("csv", "xlsx"):
        return download(report, query, kind, api_language())
    return jsonify(rows=report.rows, totals=report.totals)


def _report_view(name: str):
    def view():
        data = query_args(QUERIES[name])
        today = ctx().clock().astimezone(ctx().zone).date()
        query = s.report_query(data, today, reports.GROUPS[name][0])
        found = reports.report(ctx(), current_principal(), name, query, api_language())
        return _answer(found, query, data.get("format"))

    view.__name__ = f"{name}_report"
    return view


for _name in reports.REPORTS:
    endpoint(
        f"/reports/{_name}",
        "GET",
        summary=SUMMARIES[_name],
        query=s.QUERY_SCHEMAS[_name],
        answer=s.ReportOut,
        errors=(403,),
        blueprint=bp,
        files=(CSV, XLSX),
    )(_report_view(_name))


@endpoint(
    "/exports/bookings",
    "GET",
    summary="Bookings of a period: one row per occurrence and line, with category, unit, "
    "assignee, hours and opt-outs (a private booking's title only for those who may see it)",
    query=s.ExportQuerySchema,
    answer=s.ReportOut,
    errors=(403,),
    blueprint=bp,
    files=(CSV, XLSX),
)
def bookings_export():
    data = query_args(EXPORT_QUERY)
    today = ctx().clock().astimezone(ctx().zone).date()
    query = s.report_query(data, today, "occurrence")
    found = reports.bookings_export(ctx(), current_principal(), query, api_language())
    return _answer(found, query, data.get("format"))

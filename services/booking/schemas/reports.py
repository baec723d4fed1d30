"""The reports' query strings and answers: a period of local days (``from``, ``to``, both
included; this year when left out), how rows group, and the unit, category or resource
whose events count; ``format`` json (default), csv or xlsx."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import validates_schema

from services.booking.commands import ReportQuery
from services.booking.usecases.reports import GROUPS
from shared.messages import Msg
from shared.schema import Schema, ValidationError, fields, validate

FORMATS = ("json", "csv", "xlsx")


class _Period(Schema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    unit = fields.String(validate=validate.Length(min=1, max=40))
    category = fields.String(validate=validate.Length(min=1, max=40))
    resource = fields.String(validate=validate.Length(min=1, max=36))
    format = fields.String(validate=validate.OneOf(FORMATS))

    @validates_schema(skip_on_field_errors=True)
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if "from_" in data and "to" in data and data["to"] < data["from_"]:
            raise ValidationError(Msg("end_before_start"), "to")


def _report_schema(name: str) -> type[Schema]:
    groups = GROUPS[name]
    field = fields.String(validate=validate.OneOf(groups))
    return type(f"{name.title()}ReportQuerySchema", (_Period,), {"group": field})


EventsQuerySchema = _report_schema("events")
OccupancyQuerySchema = _report_schema("occupancy")
ServicesQuerySchema = _report_schema("services")
DecisionsQuerySchema = _report_schema("decisions")
QUERY_SCHEMAS = {
    "events": EventsQuerySchema,
    "occupancy": OccupancyQuerySchema,
    "services": ServicesQuerySchema,
    "decisions": DecisionsQuerySchema,
}


class ExportQuerySchema(_Period):
    pass


def report_query(data: dict[str, Any], today: date, group: str) -> ReportQuery:
    """The loaded query as a command: without ``from``, the first of this year (of
    ``to``'s year when only that is given); without ``to``, the last day of ``from``'s
    year."""
    first = data.get("from_")
    last = data.get("to")
    if first is None:
        first = date((last or today).year, 1, 1)
    if last is None:
        last = date(first.year, 12, 31)
    return ReportQuery(
        first=first,
        last=last,
        group=data.get("group") or group,
        unit=data.get("unit"),
        category=data.get("category"),
        resource=data.get("resource"),
    )


class ReportOut(Schema):
    """A report: its rows (the figures of each group) and totals."""

    rows = fields.List(fields.Dict(), required=True)
    totals = fields.Dict(required=True)

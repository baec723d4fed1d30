"""The queue's filters (a query string): a resource, a kind and a range of dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from marshmallow import post_load

from services.booking.entrypoints.pages.forms.errors import Errors, flat
from services.booking.readmodels import BookingView
from shared.events import Kind, OccurrenceStatus
from shared.schema import Schema, ValidationError, fields, validate
from shared.timezones import current_zone


@dataclass(frozen=True)
class QueueFilters:
    resource: str | None = None  # id or short name
    kind: Kind | None = None
    from_: date = date.min
    to: date = date.max

    def matches(self, booking: BookingView) -> bool:
        """Whether a request has the resource, the kind and an active date in the range."""
        if self.resource and not any(self.resource in (r.id, r.slug) for r in booking.resources):
            return False
        if self.kind and not any(r.kind == self.kind for r in booking.resources):
            return False
        zone = current_zone.get()
        return any(
            self.from_ <= o.start.astimezone(zone).date() <= self.to
            for o in booking.occurrences
            if o.status == OccurrenceStatus.ACTIVE
        )


class QueueFilterForm(Schema):
    resource = fields.String(validate=validate.Length(max=80))
    kind = fields.Enum(Kind, by_value=True)
    from_ = fields.Date(data_key="from")
    to = fields.Date()

    @post_load
    def _filters(self, data: dict[str, Any], **_: Any) -> QueueFilters:
        return QueueFilters(**data)


QUEUE_FILTER = QueueFilterForm()


def read_queue_filter(args: dict[str, Any]) -> tuple[QueueFilters, Errors]:
    """The filters asked for; with an error, none (the whole queue) and the error."""
    try:
        return QUEUE_FILTER.load({k: v for k, v in args.items() if v}), {}
    except ValidationError as exc:
        return QueueFilters(), flat(exc.messages)

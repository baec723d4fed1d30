"""The deliveries API at the edge: the query loaded into :class:`ListDeliveries`, the log
dumped from :class:`~services.notify.readmodels.DeliveryView` (marshmallow with message
ids, from ``shared.schema``)."""

from __future__ import annotations

from typing import Any

from marshmallow import post_load

from services.notify.commands import DEFAULT_LIMIT, ListDeliveries
from services.notify.domain import SHOWN_STATUSES, DeliveryStatus
from shared.schema import Schema, fields, validate


class DeliveriesQuery(Schema):
    booking_id = fields.String(validate=validate.Length(min=1, max=64))
    status = fields.String(validate=validate.OneOf([s.value for s in SHOWN_STATUSES]))
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=1000))

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> ListDeliveries:
        status = data.get("status")
        return ListDeliveries(
            booking_id=data.get("booking_id"),
            status=DeliveryStatus(status) if status else None,
            limit=data["limit"],
        )


class DeliveryOut(Schema):
    id = fields.Integer()
    booking_id = fields.String()
    event_id = fields.String()
    recipient = fields.String()
    kind = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    message_id = fields.String()
    subject = fields.String()
    sent_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    next_attempt_at = fields.AwareDateTime(allow_none=True)
    last_error = fields.String(allow_none=True)


class DeliveriesOut(Schema):
    deliveries = fields.List(fields.Nested(DeliveryOut))


DELIVERIES_QUERY = DeliveriesQuery()
DELIVERIES_OUT = DeliveriesOut()

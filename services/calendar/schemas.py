"""marshmallow at calendar's edge: a feed token's request (API and form alike) and the
answer with the new link."""

from __future__ import annotations

from services.calendar.domain import FeedKind
from shared.schema import Schema, StrictSchema, fields, validate

LABEL_MAX = 100
TOKEN_KINDS = (FeedKind.PRIVATE.value, FeedKind.ASSIGNMENTS.value)


class FeedTokenIn(StrictSchema):
    label = fields.String(load_default="", validate=validate.Length(max=LABEL_MAX))
    # the feed the link opens: the owner's bookings, or the jobs they are assigned
    kind = fields.String(load_default=FeedKind.PRIVATE.value, validate=validate.OneOf(TOKEN_KINDS))


class FeedTokenOut(Schema):
    kind = fields.String()
    token = fields.String()
    url = fields.String()
    webcal = fields.String()


FEED_TOKEN_IN = FeedTokenIn()
FEED_TOKEN_OUT = FeedTokenOut()

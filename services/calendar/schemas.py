"""marshmallow at calendar's edge: a feed token's request (API and form alike) and the
answer with the new link."""

from __future__ import annotations

from shared.schema import Schema, StrictSchema, fields, validate

LABEL_MAX = 100


class FeedTokenIn(StrictSchema):
    label = fields.String(load_default="", validate=validate.Length(max=LABEL_MAX))


class FeedTokenOut(Schema):
    token = fields.String()
    url = fields.String()
    webcal = fields.String()


FEED_TOKEN_IN = FeedTokenIn()
FEED_TOKEN_OUT = FeedTokenOut()

"""The people pages' forms over the API's schemas: the list's filter (a query string), a
person's name and role, an invitation, and the password forms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE

from services.booking.commands import PeopleQuery
from services.booking.entrypoints.pages.forms.errors import Errors, flat
from services.booking.schemas import (
    InviteSchema,
    NewPasswordSchema,
    PeopleQuerySchema,
    PersonChangeSchema,
    ResetRequestSchema,
)
from shared.schema import ValidationError

PAGE_SIZE = 200


class _Form:
    class Meta:
        unknown = EXCLUDE  # a post carries the page's token; a query the language


class PeopleFilter(_Form, PeopleQuerySchema):
    pass


class PersonForm(_Form, PersonChangeSchema):
    pass


class InviteForm(_Form, InviteSchema):
    pass


class ResetForm(_Form, ResetRequestSchema):
    pass


class PasswordForm(_Form, NewPasswordSchema):
    pass


FILTER, PERSON, INVITE = PeopleFilter(), PersonForm(), InviteForm()
RESET, PASSWORD = ResetForm(), PasswordForm()


def read_filter(args: Mapping[str, str]) -> tuple[PeopleQuery, Errors]:
    """The list's filter (blank choices are "any"), or every error and no filter."""
    chosen = {k: v for k, v in args.items() if k in ("q", "role", "active") and v.strip()}
    try:
        return FILTER.load({**chosen, "limit": PAGE_SIZE}), {}
    except ValidationError as exc:
        return PeopleQuery(limit=PAGE_SIZE), flat(exc.messages)


def read(schema: Any, form: Mapping[str, Any]) -> tuple[Any, Errors]:
    """A posted form through one of the schemas above: what it loads into, or the errors
    by field."""
    try:
        return schema.load(dict(form)), {}
    except ValidationError as exc:
        return None, flat(exc.messages)

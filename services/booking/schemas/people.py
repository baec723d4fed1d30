"""People and passwords at the edge: finding, changing and inviting people (admins), asking
for a password reset and setting a password with a mailed link (anyone)."""

from __future__ import annotations

from typing import Any

from marshmallow import post_load

from services.booking.commands import ChangePerson, InvitePerson, PeopleQuery
from services.booking.schemas.parts import Stripped, enum_field, text
from shared.events import Language, Role
from shared.schema import Schema, StrictSchema, fields, validate
from shared.timezones import ZonedDateTime

PASSWORD_MIN, PASSWORD_MAX = 8, 512
MAX_PEOPLE = 1000


def _address(**kw: Any) -> fields.Email:
    return fields.Email(validate=validate.Length(max=254), **kw)


class PeopleQuerySchema(StrictSchema):
    q = fields.String(validate=validate.Length(max=200))
    role = enum_field(Role)
    active = fields.Boolean()
    limit = fields.Integer(validate=validate.Range(min=1, max=MAX_PEOPLE))

    @post_load
    def _query(self, data: dict[str, Any], **_: Any) -> PeopleQuery:
        data["q"] = (data.get("q") or "").strip()
        return PeopleQuery(**data)


class PersonChangeSchema(Stripped):
    """A change to a person (``ChangePerson``): any of their name, role and activity."""

    name = text(200, minimum=1)
    role = enum_field(Role)
    active = fields.Boolean()

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> ChangePerson:
        return ChangePerson.of(**data)


class InviteSchema(Stripped):
    """Someone to invite by mail (``InvitePerson``)."""

    email = _address(required=True)
    name = text(200, required=True, minimum=1)
    role = enum_field(Role, load_default=Role.ORGANISER)
    language = enum_field(Language, load_default=Language.SV)

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> InvitePerson:
        return InvitePerson(**{**data, "email": data["email"].lower()})


class ResetRequestSchema(Stripped):
    email = _address(required=True)


class NewPasswordSchema(StrictSchema):
    """A password as typed (not trimmed: spaces may be part of it)."""

    password = fields.String(
        required=True, validate=validate.Length(min=PASSWORD_MIN, max=PASSWORD_MAX)
    )


class UserOut(Schema):
    """A person as admins keep them."""

    id = fields.String()
    email = fields.String()
    name = fields.String()
    role = enum_field(Role)
    active = fields.Boolean()
    teams = fields.List(fields.String(), attribute="team_slugs")
    last_login_at = ZonedDateTime(allow_none=True)
    sso = fields.Boolean()


class ResetRequestedOut(Schema):
    """The one answer to a reset request, whoever asks for which address."""

    detail = fields.String()


class PasswordSetOut(Schema):
    email = fields.String()

"""Booking's typed inputs: what a person asks for, as the API's schemas and the pages' forms
both produce it. Frozen, already valid in shape (times aware, enums, tuples); the use cases
and the domain enforce the business rules on them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, make_dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from shared.events import AssigneeKind, Kind, Language, Person, Role, Status, Visibility

# Per weekday (``mon`` .. ``sun``), the windows it opens in; a window closing at 00:00 ends
# at midnight. ``None`` instead of the mapping: bookable at any hour.
OpeningHours = Mapping[str, tuple[tuple[time, time], ...]]


class _Partial:
    """A change names the fields it sets in ``given`` (a PATCH is partial): a field left out
    keeps its value, which is not the same as a field set to its default."""

    given: frozenset[str]

    def __post_init__(self) -> None:
        unknown = self.given - {f.name for f in fields(self)}  # type: ignore[arg-type]
        if unknown or "given" in self.given:
            raise ValueError(f"not fields of {type(self).__name__}: {sorted(unknown)}")

    def has(self, name: str) -> bool:
        return name in self.given

    def values(self) -> dict[str, Any]:
        """The fields given, with their new values."""
        return {name: getattr(self, name) for name in sorted(self.given)}

    @classmethod
    def of(cls, **values: Any):
        """The change setting exactly these fields."""
        return cls(given=frozenset(values), **values)


def change_of(command: type, name: str, doc: str) -> type[_Partial]:
    """The partial twin of ``command``: the same fields, each optional, named in ``given``
    when set. One list of fields, so a field added to the command can be changed too."""
    optional = [
        (f.name, f.type, field(default=None if f.default is MISSING else f.default))
        for f in fields(command)
    ]
    return make_dataclass(
        name,
        [("given", "frozenset[str]", field(default=frozenset())), *optional],
        bases=(_Partial,),
        frozen=True,
        namespace={"__doc__": doc, "__module__": __name__},
    )


@dataclass(frozen=True)
class TimeRange:
    """From ``start`` to ``end`` (both aware)."""

    start: datetime
    end: datetime


# --- bookings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitBooking:
    """A request for resources at a time, once or as a series (RRULE)."""

    title: str
    start: datetime
    end: datetime
    resource_ids: tuple[str, ...]  # ids or slugs
    description: str = ""
    expected_attendees: int | None = None
    visibility: Visibility = Visibility.INTERNAL
    language: Language = Language.SV
    participants: tuple[Person, ...] = ()
    notes: str = ""
    rrule: str | None = None
    category: str | None = None  # the slug of an active category (what the event is)
    unit: str | None = None  # the slug of an active unit (who organises it)


ChangeBooking = change_of(
    SubmitBooking,
    "ChangeBooking",
    "New values for some of a booking's fields (those named in ``given``).",
)


@dataclass(frozen=True)
class LinkUse:
    """A decision made through a mail's link: the link (used once) and the revision it was
    made for (a request changed since is not decided from an old mail)."""

    link_id: str
    revision: int


@dataclass(frozen=True)
class ApproveBooking:
    """Approve the lines the actor decides; ``resource_ids`` (ids or slugs) narrows them."""

    resource_ids: tuple[str, ...] | None = None
    link: LinkUse | None = None


@dataclass(frozen=True)
class RejectBooking:
    """Decline the lines the actor decides, with a reason the organiser reads."""

    reason: str
    resource_ids: tuple[str, ...] | None = None
    link: LinkUse | None = None


@dataclass(frozen=True)
class CancelBooking:
    reason: str | None = None


@dataclass(frozen=True)
class CancelOccurrence:
    n: int
    reason: str | None = None


# --- resources -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateResource:
    name: str
    kind: Kind
    slug: str | None = None  # made from the name when not given
    description: str = ""
    capacity: int | None = None
    location: str = ""
    features: tuple[str, ...] = ()
    opening_hours: OpeningHours | None = None
    requires_approval: bool = True
    buffer_minutes: int = 0
    min_notice_hours: int = 0
    max_advance_days: int = 365
    max_duration_minutes: int | None = None
    managers: tuple[str, ...] = ()  # email addresses, lower-case
    active: bool = True
    team: str | None = None  # the slug of the team that decides it
    self_approval: bool = False  # may its deciders approve their own requests?


ChangeResource = change_of(
    CreateResource,
    "ChangeResource",
    "New values for some of a resource's fields (those named in ``given``).",
)


@dataclass(frozen=True)
class AddClosure(TimeRange):
    """A resource closed from ``start`` to ``end``, and why. Over approved bookings it is
    refused unless ``cancel_bookings``: then their lines of this resource are declined."""

    reason: str
    cancel_bookings: bool = False


# --- teams ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateTeam:
    """A team that decides its resources' lines: its members, and a shared mailbox its
    alerts go to instead of each member (``""``: none)."""

    name: str
    slug: str | None = None  # made from the name when not given
    email: str = ""  # lower-case
    members: tuple[str, ...] = ()  # email addresses, lower-case


ChangeTeam = change_of(
    CreateTeam,
    "ChangeTeam",
    "New values for some of a team's fields (those named in ``given``).",
)


# --- the lists admins keep, suppliers, who does a line's job ----------------------------------


@dataclass(frozen=True)
class CreateListEntry:
    """A new category or unit: its slug and its name in both languages."""

    slug: str
    name_sv: str
    name_en: str
    position: int = 0
    active: bool = True


ChangeListEntry = change_of(
    CreateListEntry,
    "ChangeListEntry",
    "New names, place or state for a category or unit (those named in ``given``).",
)


@dataclass(frozen=True)
class CreateSupplier:
    """An external supplier on a procured agreement, valid from ``valid_from`` (to
    ``valid_to``, inclusive; ``None``: until further notice)."""

    name: str
    agreement_ref: str
    hourly_rate: Decimal
    valid_from: date
    currency: str = "SEK"
    valid_to: date | None = None
    email: str = ""  # lower-case
    active: bool = True


ChangeSupplier = change_of(
    CreateSupplier,
    "ChangeSupplier",
    "New values for some of a supplier's fields (those named in ``given``).",
)


@dataclass(frozen=True)
class AssigneeChoice:
    """Who is to do a line's job: a staff member (``email``) or a supplier (``supplier_id``)."""

    kind: AssigneeKind
    email: str = ""  # lower-case
    supplier_id: str | None = None


@dataclass(frozen=True)
class AssignLine:
    """Who does an approved service or studio line's job (``None``: nobody yet), and the
    hours delivered (``None``: as booked) when ``hours_given``; else they stay."""

    assignee: AssigneeChoice | None
    hours_delivered: Decimal | None = None
    hours_given: bool = False


# --- questions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BookingQuery:
    status: Status | None = None
    mine: bool = False
    resource_id: str | None = None
    from_: datetime | None = None
    to: datetime | None = None
    limit: int = 500


@dataclass(frozen=True)
class OpenRange:
    """From ``start`` to ``end``; ``None`` leaves that end to the asker's default."""

    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class ResourceQuery:
    kind: Kind | None = None


@dataclass(frozen=True)
class AvailabilityQuery(TimeRange):
    """Resources free for a whole interval, optionally of a kind, size and features."""

    kind: Kind | None = None
    min_capacity: int | None = None
    features: frozenset[str] = field(default_factory=frozenset)  # lower-case


@dataclass(frozen=True)
class CheckRequest:
    """A time (once or a series) to check every resource against, as the request form does
    before sending; ``booking_id`` is the booking being changed (its own slots are free)."""

    start: datetime
    end: datetime
    rrule: str | None = None
    booking_id: str | None = None
    limit: int | None = None  # check only the first dates of a long series


# --- people ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    """Someone the university's provider vouches for, from the verified ID token and
    userinfo: who they are there (issuer, ``sub``), their address (lower-case) and whether
    the provider confirms it, a display name, and the names in the groups claim."""

    issuer: str
    subject: str
    email: str = ""
    email_verified: bool = False
    name: str = ""
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonSettings:
    """What an admin sets of a person: their name, role and whether they may log in."""

    name: str
    role: Role
    active: bool


ChangePerson = change_of(
    PersonSettings,
    "ChangePerson",
    "New values for some of a person's settings (those named in ``given``).",
)


@dataclass(frozen=True)
class InvitePerson:
    """A new user, mailed a link to choose their password (and told they may log in with
    the university account, when single sign-on is set up)."""

    email: str  # lower-case
    name: str
    role: Role = Role.ORGANISER
    language: Language = Language.SV


@dataclass(frozen=True)
class PeopleQuery:
    """People whose name or address holds ``q`` (any case), of a role, active or not."""

    q: str = ""
    role: Role | None = None
    active: bool | None = None
    limit: int = 200

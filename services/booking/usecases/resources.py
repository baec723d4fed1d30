"""Keeping the resources: venues, studios and services, their rules, teams and closures.
Every change to a resource writes ``resource.changed`` with its new revision, so calendar
and notify know it from the moment it exists."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.booking.commands import AddClosure, ChangeResource, CreateResource, ResourceQuery
from services.booking.domain import (
    Actor,
    Block,
    ClosureOverBookings,
    Conflict,
    Interval,
    NotFound,
    RuleViolation,
    may_decide,
    require,
)
from services.booking.persistence.mapping import (
    closure_view,
    hours_text,
    resource_snapshot,
    resource_view,
    rules_of,
)
from services.booking.persistence.models import (
    Closure,
    Resource,
    ResourceManager,
    Team,
    new_id,
)
from services.booking.persistence.repositories import UnitOfWork
from services.booking.persistence.unit_of_work import Context
from services.booking.readmodels import ClosureView, ResourceView
from services.booking.usecases.decisions import decline_lines
from shared.db import utcnow
from shared.events import RESOURCE_CHANGED, LineStatus, Status
from shared.messages import Msg


def slugify(name: str, fallback: str = "resource") -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:80].strip("-") or fallback


def list_resources(ctx: Context, query: ResourceQuery | None = None) -> list[ResourceView]:
    """Every resource (inactive ones too), by kind and name."""
    kind = query.kind if query is not None else None
    with ctx.uow(readonly=True) as uow:
        return [resource_view(r) for r in uow.resources.list(kind)]


def read_resource(ctx: Context, key: str) -> ResourceView:
    """One resource by id or slug."""
    with ctx.uow(readonly=True) as uow:
        return resource_view(uow.resources.get(key))


def publish_resource(uow: UnitOfWork, resource: Resource) -> None:
    """``resource.changed`` with the resource as it now is, into this transaction's outbox."""
    uow.flush()
    uow.publish(RESOURCE_CHANGED, resource_snapshot(resource))


def revise(uow: UnitOfWork, resource: Resource) -> None:
    """A resource changed (itself, or its team): a new revision, and its event."""
    resource.revision += 1
    resource.updated_at = utcnow()
    publish_resource(uow, resource)


def _team(uow: UnitOfWork, slug: str | None) -> Team | None:
    """The team a resource is given, by slug (``None``: no team)."""
    if slug is None:
        return None
    try:
        return uow.teams.get(slug)
    except NotFound:
        raise RuleViolation({"team": [Msg("unknown_team", slug=slug)]}) from None


def _give_team(resource: Resource, team: Team | None) -> None:
    resource.team = team
    resource.team_id = team.id if team is not None else None


def _stored(name: str, value: Any, resource_id: str) -> Any:
    """A command's value as the resource row keeps it."""
    if name == "opening_hours":
        return hours_text(value)
    if name in ("features", "features_en"):
        return list(value)
    if name == "managers":
        return [ResourceManager(resource_id=resource_id, email=e) for e in value]
    return value


@contextmanager
def lost_slug_race(refusal: Callable[[], Exception]) -> Iterator[None]:
    """Two creates (or renames) to one slug at the same moment both pass the check; the
    database's unique index lets one commit. The other is answered as the check would have
    answered it (``refusal``), not with a 500."""
    try:
        yield
    except IntegrityError as exc:
        if "slug" not in str(exc.orig).lower():
            raise
        raise refusal() from exc


def create_resource(ctx: Context, actor: Actor, cmd: CreateResource) -> ResourceView:
    """Add a venue, studio or service (admin), and tell the others it exists."""
    require(actor.is_admin, Msg("only_admins_add_resources"))
    slug = cmd.slug or slugify(cmd.name)

    def taken() -> RuleViolation:
        return RuleViolation({"slug" if cmd.slug else "name": [Msg("slug_taken", slug=slug)]})

    with lost_slug_race(taken), ctx.uow() as uow:
        if uow.resources.slug_taken(slug):
            raise taken()
        team = _team(uow, cmd.team)
        resource_id = new_id()
        values = {
            name: _stored(name, getattr(cmd, name), resource_id)
            for name in cmd.__dataclass_fields__
            if name not in ("slug", "team")
        }
        now = utcnow()
        resource = Resource(
            id=resource_id,
            slug=slug,
            revision=1,
            former_slugs=[],
            created_at=now,
            updated_at=now,
            **values,
        )
        _give_team(resource, team)
        uow.resources.add(resource)
        publish_resource(uow, resource)
        view = resource_view(resource)
        uow.commit()
    return view


def update_resource(ctx: Context, actor: Actor, key: str, cmd: ChangeResource) -> ResourceView:
    """Change a resource (admin). Existing bookings keep their slots; new rules apply to new
    requests and changes. A new slug keeps the old one (its links redirect); a change that
    changes nothing writes nothing."""
    require(actor.is_admin, Msg("only_admins_change_resources"))
    slug = cmd.slug if cmd.has("slug") else None

    def taken() -> RuleViolation:
        return RuleViolation({"slug": [Msg("slug_taken", slug=slug)]})

    with lost_slug_race(taken), ctx.uow() as uow:
        resource = uow.resources.get(key, lock=True)
        before = resource_view(resource)
        renamed = bool(slug) and slug != resource.slug
        if renamed and uow.resources.slug_taken(slug, resource.id):
            raise taken()
        team = _team(uow, cmd.team) if cmd.has("team") else resource.team
        if renamed:
            kept = [s for s in resource.former_slugs or () if s != slug]
            resource.former_slugs = [*kept, resource.slug]
            resource.slug = slug
        _give_team(resource, team)
        for name, value in cmd.values().items():
            if name not in ("slug", "team"):
                setattr(resource, name, _stored(name, value, resource.id))
        if resource_view(resource) == before:
            return before  # leaving without a commit: nothing written
        revise(uow, resource)
        view = resource_view(resource)
        uow.commit()
    return view


# --- closures ----------------------------------------------------------------------------------


def list_closures(ctx: Context, key: str, start: datetime, end: datetime) -> list[ClosureView]:
    """A resource's closures overlapping a time, soonest first."""
    with ctx.uow(readonly=True) as uow:
        resource = uow.resources.get(key)
        closures = uow.resources.closures([resource.id], Interval(start, end))
        return [closure_view(c) for c in closures]


def _held_during(uow: UnitOfWork, resource: Resource, span: Interval) -> list[Conflict]:
    """The approved lines of live bookings that hold the resource during ``span`` (their
    dates, not the buffer after them), one per date. The closer decides on the resource,
    so they may see every one of these bookings and its title."""
    near = uow.slots.near([Block(resource.id, span)], {Status.APPROVED})
    return [
        Conflict(h.booking_id, h.resource_id, h.start, h.end, h.title, h.status)
        for h in near
        if h.resource_id == resource.id and Interval(h.start, h.end).overlaps(span)
    ]


def add_closure(ctx: Context, actor: Actor, key: str, cmd: AddClosure) -> ClosureView:
    """Close a resource for a while (infra, admin, or its deciders). Over approved bookings
    it is refused with them (409), unless the closer chose ``cancel_bookings``: then those
    bookings' lines of this resource are declined with the closure's reason, in the same
    transaction (a booking left with nothing is cancelled; its organiser is told by the
    events, and the slots are not offered on: the resource is closed then)."""
    with ctx.uow() as uow:
        resource = uow.resources.get(key)
        require(may_decide(actor, [rules_of(resource)]), Msg("only_deciders_close"))
        held = _held_during(uow, resource, Interval(cmd.start, cmd.end))
        if held and not cmd.cancel_bookings:
            raise ClosureOverBookings(held)
        closure = Closure(
            id=new_id(),
            resource_id=resource.id,
            start=cmd.start,
            end=cmd.end,
            reason=cmd.reason,
            created_by=actor.email,
            created_at=utcnow(),
        )
        uow.resources.add_closure(closure)
        uow.flush()
        _decline_held(ctx, uow, actor, resource, [c.booking_id for c in held], cmd.reason)
        view = closure_view(closure)
        uow.commit()
    return view


def _decline_held(
    ctx: Context,
    uow: UnitOfWork,
    actor: Actor,
    resource: Resource,
    booking_ids: Sequence[str],
    reason: str,
) -> None:
    """Decline each booking's approved line of the resource (each booking once, locked)."""
    for booking_id in dict.fromkeys(booking_ids):
        booking = uow.bookings.get(booking_id, lock=True)
        if booking.status not in (Status.PENDING, Status.APPROVED):
            continue
        lines = [
            line
            for line in booking.lines
            if line.resource_id == resource.id and line.status == LineStatus.APPROVED
        ]
        if lines:
            decline_lines(ctx, uow, booking, actor, lines, reason)


def remove_closure(ctx: Context, actor: Actor, key: str, closure_id: str) -> None:
    """Open a resource again (whoever may close it): the closure goes."""
    with ctx.uow() as uow:
        resource = uow.resources.get(key)
        require(may_decide(actor, [rules_of(resource)]), Msg("only_deciders_close"))
        uow.resources.remove_closure(uow.resources.closure(resource.id, closure_id))
        uow.commit()

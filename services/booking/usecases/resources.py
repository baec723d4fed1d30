"""Keeping the resources: venues, studios and services, their rules and closures."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from services.booking.commands import AddClosure, ChangeResource, CreateResource, ResourceQuery
from services.booking.domain import Actor, RuleViolation, may_decide, require
from services.booking.persistence.mapping import (
    closure_view,
    hours_text,
    resource_view,
    rules_of,
)
from services.booking.persistence.models import Closure, Resource, ResourceManager, new_id
from services.booking.persistence.unit_of_work import Context
from services.booking.readmodels import ClosureView, ResourceView
from shared.db import utcnow
from shared.messages import Msg


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:80] or "resource"


def list_resources(ctx: Context, query: ResourceQuery | None = None) -> list[ResourceView]:
    """Every resource (inactive ones too), by kind and name."""
    kind = query.kind if query is not None else None
    with ctx.uow(readonly=True) as uow:
        return [resource_view(r) for r in uow.resources.list(kind)]


def read_resource(ctx: Context, key: str) -> ResourceView:
    """One resource by id or slug."""
    with ctx.uow(readonly=True) as uow:
        return resource_view(uow.resources.get(key))


def _stored(name: str, value: Any, resource_id: str) -> Any:
    """A command's value as the resource row keeps it."""
    if name == "opening_hours":
        return hours_text(value)
    if name == "features":
        return list(value)
    if name == "managers":
        return [ResourceManager(resource_id=resource_id, email=e) for e in value]
    return value


def create_resource(ctx: Context, actor: Actor, cmd: CreateResource) -> ResourceView:
    """Add a venue, studio or service (admin)."""
    require(actor.is_admin, Msg("only_admins_add_resources"))
    with ctx.uow() as uow:
        slug = cmd.slug or slugify(cmd.name)
        if uow.resources.slug_taken(slug):
            raise RuleViolation({"slug" if cmd.slug else "name": [Msg("slug_taken", slug=slug)]})
        resource_id = new_id()
        values = {
            name: _stored(name, getattr(cmd, name), resource_id)
            for name in cmd.__dataclass_fields__
            if name != "slug"
        }
        now = utcnow()
        resource = Resource(id=resource_id, slug=slug, created_at=now, updated_at=now, **values)
        uow.resources.add(resource)
        uow.flush()
        view = resource_view(resource)
        uow.commit()
    return view


def update_resource(ctx: Context, actor: Actor, key: str, cmd: ChangeResource) -> ResourceView:
    """Change a resource (admin). Existing bookings keep their slots; new rules apply to new
    requests and changes."""
    require(actor.is_admin, Msg("only_admins_change_resources"))
    with ctx.uow() as uow:
        resource = uow.resources.get(key)
        slug = cmd.slug if cmd.has("slug") else None
        if slug and slug != resource.slug and uow.resources.slug_taken(slug):
            raise RuleViolation({"slug": [Msg("slug_taken", slug=slug)]})
        for name, value in cmd.values().items():
            if name == "slug" and not value:
                continue
            setattr(resource, name, _stored(name, value, resource.id))
        resource.updated_at = utcnow()
        uow.flush()
        view = resource_view(resource)
        uow.commit()
    return view


def add_closure(ctx: Context, actor: Actor, key: str, cmd: AddClosure) -> ClosureView:
    """Close a resource for a while (infra, admin, or its managers)."""
    with ctx.uow() as uow:
        resource = uow.resources.get(key)
        require(may_decide(actor, [rules_of(resource)]), Msg("only_deciders_close"))
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
        view = closure_view(closure)
        uow.commit()
    return view

"""Keeping the resources: venues, studios and services, their rules and closures."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import select

from services.booking.domain import Actor, RuleViolation, may_decide, require
from services.booking.persistence.models import Closure, Resource, ResourceManager
from services.booking.persistence.records import get_resource, rules_of
from services.booking.persistence.unit_of_work import Context

SCALARS = (
    "name",
    "kind",
    "description",
    "capacity",
    "location",
    "features",
    "opening_hours",
    "requires_approval",
    "buffer_minutes",
    "min_notice_hours",
    "max_advance_days",
    "max_duration_minutes",
    "active",
)


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:80] or "resource"


def list_resources(ctx: Context, kind: str | None = None) -> list[Resource]:
    with ctx.db.transaction(readonly=True) as session:
        stmt = select(Resource).order_by(Resource.kind, Resource.name)
        if kind:
            stmt = stmt.where(Resource.kind == kind)
        return list(session.scalars(stmt))


def read_resource(ctx: Context, key: str) -> Resource:
    with ctx.db.transaction(readonly=True) as session:
        return get_resource(session, key)


def create_resource(ctx: Context, actor: Actor, cmd: dict[str, Any]) -> Resource:
    """Add a venue, studio or service (admin)."""
    require(actor.is_admin, "Only an administrator may add resources.")
    with ctx.db.transaction() as session:
        slug = cmd.get("slug") or slugify(cmd["name"])
        if session.scalar(select(Resource.id).where(Resource.slug == slug)):
            raise RuleViolation(
                {
                    "slug" if cmd.get("slug") else "name": [
                        f"a resource with the slug {slug!r} exists"
                    ]
                }
            )
        resource = Resource(slug=slug, **{k: cmd[k] for k in SCALARS if k in cmd})
        resource.features = cmd.get("features", [])
        resource.managers = [ResourceManager(email=e) for e in cmd.get("managers", [])]
        session.add(resource)
        session.flush()
        return resource


def update_resource(ctx: Context, actor: Actor, key: str, cmd: dict[str, Any]) -> Resource:
    """Change a resource (admin). Existing bookings keep their slots; new rules apply to new
    requests and changes."""
    require(actor.is_admin, "Only an administrator may change resources.")
    with ctx.db.transaction() as session:
        resource = get_resource(session, key)
        if (
            "slug" in cmd
            and cmd["slug"] != resource.slug
            and session.scalar(select(Resource.id).where(Resource.slug == cmd["slug"]))
        ):
            raise RuleViolation({"slug": [f"a resource with the slug {cmd['slug']!r} exists"]})
        for name in (*SCALARS, "slug"):
            if name in cmd:
                setattr(resource, name, cmd[name])
        if "managers" in cmd:
            resource.managers = [ResourceManager(email=e) for e in cmd["managers"]]
        session.flush()
        return resource


def add_closure(ctx: Context, actor: Actor, key: str, cmd: dict[str, Any]) -> Closure:
    """Close a resource for a while (infra, admin, or its managers)."""
    with ctx.db.transaction() as session:
        resource = get_resource(session, key)
        require(
            may_decide(actor, [rules_of(resource)]),
            "Only the infrastructure team or the resource's managers may close it.",
        )
        closure = Closure(
            resource_id=resource.id,
            start=cmd["start"],
            end=cmd["end"],
            reason=cmd["reason"],
            created_by=actor.email,
        )
        session.add(closure)
        session.flush()
        return closure

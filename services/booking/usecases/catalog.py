"""The lists admins keep: the categories an event falls into and the units that organise
events (each named in Swedish and English; retired, never deleted, as bookings keep their
slugs), and the suppliers on procured agreements who can be given a line's job."""

from __future__ import annotations

from datetime import date
from typing import Literal

from services.booking.commands import (
    ChangeListEntry,
    ChangeSupplier,
    CreateListEntry,
    CreateSupplier,
)
from services.booking.domain import Actor, AlreadyExists, RuleViolation, require
from services.booking.persistence.mapping import entry_view, supplier_view
from services.booking.persistence.models import Category, Supplier, Unit, new_id
from services.booking.persistence.unit_of_work import Context
from services.booking.readmodels import ListEntryView, SupplierView
from services.booking.usecases.resources import lost_slug_race
from shared.db import utcnow
from shared.messages import Msg

ListKind = Literal["categories", "units"]
MODELS: dict[str, type[Category] | type[Unit]] = {"categories": Category, "units": Unit}


def list_entries(ctx: Context, kind: ListKind, *, retired: bool = True) -> list[ListEntryView]:
    """A list by position and name; without ``retired``, only the entries one may choose."""
    with ctx.uow(readonly=True) as uow:
        rows = uow.catalog.entries(MODELS[kind])
        return [entry_view(row) for row in rows if retired or row.active]


def choices(ctx: Context) -> dict[str, list[ListEntryView]]:
    """Both lists as a request form offers them ("categories", "units"), retired entries
    too (a booking keeps one it has; the form offers it only there)."""
    with ctx.uow(readonly=True) as uow:
        return {kind: [entry_view(r) for r in uow.catalog.entries(m)] for kind, m in MODELS.items()}


def read_entry(ctx: Context, kind: ListKind, slug: str) -> ListEntryView:
    with ctx.uow(readonly=True) as uow:
        return entry_view(uow.catalog.entry(MODELS[kind], slug))


def _taken(slug: str) -> AlreadyExists:
    return AlreadyExists("slug", Msg("list_slug_taken", slug=slug))


def create_entry(ctx: Context, actor: Actor, kind: ListKind, cmd: CreateListEntry) -> ListEntryView:
    """Add a category or unit (admin); 409 when its slug is taken (a retired one's too)."""
    require(actor.is_admin, Msg("only_admins_keep_lists"))
    model = MODELS[kind]
    with lost_slug_race(lambda: _taken(cmd.slug)), ctx.uow() as uow:
        if uow.catalog.has(model, cmd.slug):
            raise _taken(cmd.slug)
        row = model(
            slug=cmd.slug,
            name_sv=cmd.name_sv,
            name_en=cmd.name_en,
            position=cmd.position,
            active=cmd.active,
        )
        uow.catalog.add(row)
        uow.flush()
        view = entry_view(row)
        uow.commit()
    return view


def update_entry(
    ctx: Context, actor: Actor, kind: ListKind, slug: str, cmd: ChangeListEntry
) -> ListEntryView:
    """Rename, move or retire (``active: false``) a category or unit, or bring one back
    (admin). Its slug stays: bookings keep it."""
    require(actor.is_admin, Msg("only_admins_keep_lists"))
    if cmd.has("slug") and cmd.slug != slug:
        raise RuleViolation({"slug": [Msg("list_slug_stays")]})
    with ctx.uow() as uow:
        row = uow.catalog.entry(MODELS[kind], slug, lock=True)
        for name in ("name_sv", "name_en", "position", "active"):
            if cmd.has(name):
                setattr(row, name, getattr(cmd, name))
        uow.flush()
        view = entry_view(row)
        uow.commit()
    return view


# --- suppliers ---------------------------------------------------------------------------------


def list_suppliers(ctx: Context, actor: Actor) -> list[SupplierView]:
    """Every supplier, retired ones too, by name (admin)."""
    require(actor.is_admin, Msg("only_admins_keep_suppliers"))
    with ctx.uow(readonly=True) as uow:
        return [supplier_view(s) for s in uow.catalog.suppliers()]


def read_supplier(ctx: Context, actor: Actor, supplier_id: str) -> SupplierView:
    require(actor.is_admin, Msg("only_admins_keep_suppliers"))
    with ctx.uow(readonly=True) as uow:
        return supplier_view(uow.catalog.supplier(supplier_id))


def _check_dates(valid_from: date, valid_to: date | None) -> None:
    if valid_to is not None and valid_to < valid_from:
        raise RuleViolation({"valid_to": [Msg("valid_to_before_valid_from")]})


def create_supplier(ctx: Context, actor: Actor, cmd: CreateSupplier) -> SupplierView:
    """Add a supplier on an agreement (admin)."""
    require(actor.is_admin, Msg("only_admins_keep_suppliers"))
    _check_dates(cmd.valid_from, cmd.valid_to)
    with ctx.uow() as uow:
        now = utcnow()
        row = Supplier(
            id=new_id(),
            name=cmd.name,
            agreement_ref=cmd.agreement_ref,
            hourly_rate=cmd.hourly_rate,
            currency=cmd.currency,
            valid_from=cmd.valid_from,
            valid_to=cmd.valid_to,
            email=cmd.email,
            active=cmd.active,
            created_at=now,
            updated_at=now,
        )
        uow.catalog.add(row)
        uow.flush()
        view = supplier_view(row)
        uow.commit()
    return view


def update_supplier(
    ctx: Context, actor: Actor, supplier_id: str, cmd: ChangeSupplier
) -> SupplierView:
    """Change a supplier's agreement, rate, dates or contact, or retire it (admin). Lines it
    was given keep it."""
    require(actor.is_admin, Msg("only_admins_keep_suppliers"))
    with ctx.uow() as uow:
        row = uow.catalog.supplier(supplier_id, lock=True)
        changed = cmd.values()
        valid_from = changed.get("valid_from", row.valid_from)
        valid_to = changed["valid_to"] if cmd.has("valid_to") else row.valid_to
        _check_dates(valid_from, valid_to)
        for name, value in changed.items():
            if value is None and name != "valid_to":
                continue  # only the end of an agreement may be cleared
            setattr(row, name, value)
        row.updated_at = utcnow()
        uow.flush()
        view = supplier_view(row)
        uow.commit()
    return view

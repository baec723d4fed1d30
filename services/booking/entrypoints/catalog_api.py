"""The lists admins keep, suppliers and who does a line's job, in the JSON API (``/api/v1``,
in the same OpenAPI document): anyone reads the categories and units, admins keep them and
the suppliers; a line's deciders assign its job."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from services.booking import schemas as s
from services.booking.entrypoints.api import answer_booking, created, creation, ctx, endpoint
from services.booking.entrypoints.idempotency import idempotent
from services.booking.persistence import models
from services.booking.usecases import assignments, catalog
from services.booking.usecases.catalog import ListKind
from shared.auth import current_principal
from shared.requests import json_body

bp = Blueprint("catalog_api", __name__)

ENTRY_IN, ENTRY_OUT, ENTRIES_OUT = (
    s.ListEntryInSchema(),
    s.ListEntryOut(),
    s.ListEntryOut(many=True),
)
SUPPLIER_IN, SUPPLIER_OUT = s.SupplierInSchema(), s.SupplierOut()
SUPPLIERS_OUT, ASSIGNMENT_IN = s.SupplierOut(many=True), s.AssignmentSchema()
SINGULAR = {"categories": "category", "units": "unit"}


def _entries(kind: ListKind):
    return jsonify({kind: ENTRIES_OUT.dump(catalog.list_entries(ctx(), kind))})


def _entry(kind: ListKind, slug: str):
    return jsonify(ENTRY_OUT.dump(catalog.read_entry(ctx(), kind, slug)))


def _entry_created(kind: ListKind, slug: str):
    return created(_entry(kind, slug), f"catalog_api.get_{SINGULAR[kind]}", slug=slug)


def _create_entry(kind: ListKind):
    entry = catalog.create_entry(ctx(), current_principal(), kind, json_body(ENTRY_IN))
    return _entry_created(kind, entry.slug)


def _change_entry(kind: ListKind, slug: str):
    cmd = json_body(ENTRY_IN, partial=True)
    return jsonify(
        ENTRY_OUT.dump(catalog.update_entry(ctx(), current_principal(), kind, slug, cmd))
    )


def lists(kind: ListKind, method: str, summary: str, one: bool = False, **spec: Any):
    """A route of the categories or units (``one``: of one, by slug)."""
    rule = f"/{kind}/<slug>" if one else f"/{kind}"
    if method == "POST":
        return creation(rule, summary, s.ListEntryInSchema, s.ListEntryOut, blueprint=bp, **spec)
    return endpoint(rule, method, summary=summary, answer=s.ListEntryOut, blueprint=bp, **spec)


def _list_routes(kind: ListKind, model: type) -> None:
    """``GET|POST /<kind>`` and ``GET|PATCH /<kind>/<slug>`` for the categories and the
    units: the same routes over two lists (endpoints ``list_categories``,
    ``create_category``, ``get_category``, ``patch_category``, and the units' alike)."""
    what = SINGULAR[kind]

    def listing():
        return _entries(kind)

    def create():
        return _create_entry(kind)

    def one(slug: str):
        return _entry(kind, slug)

    def change(slug: str):
        return _change_entry(kind, slug)

    listing.__name__, create.__name__ = f"list_{kind}", f"create_{what}"
    one.__name__, change.__name__ = f"get_{what}", f"patch_{what}"
    lists(kind, "GET", f"List the {kind} (retired ones too: active false)", listed=kind)(listing)
    retry = idempotent(model, "slug", reread=lambda slug: _entry_created(kind, slug))
    lists(kind, "POST", f"Add to the {kind} (admin)", role="admin", errors=(409,))(retry(create))
    lists(kind, "GET", f"One of the {kind}", one=True)(one)
    lists(
        kind,
        "PATCH",
        f"Rename, move or retire (active false) one of the {kind} (admin)",
        one=True,
        body=s.ListEntryInSchema,
        role="admin",
    )(change)


_list_routes("categories", models.Category)
_list_routes("units", models.Unit)


# --- suppliers -------------------------------------------------------------------------------


def _supplier(supplier_id: str):
    return jsonify(
        SUPPLIER_OUT.dump(catalog.read_supplier(ctx(), current_principal(), supplier_id))
    )


def _supplier_created(supplier_id: str):
    return created(_supplier(supplier_id), "catalog_api.get_supplier", supplier_id=supplier_id)


@endpoint(
    "/suppliers",
    "GET",
    summary="List the suppliers on agreements, retired ones too (admin)",
    answer=s.SupplierOut,
    listed="suppliers",
    role="admin",
    blueprint=bp,
)
def list_suppliers():
    found = catalog.list_suppliers(ctx(), current_principal())
    return jsonify(suppliers=SUPPLIERS_OUT.dump(found))


@creation(
    "/suppliers",
    "Add a supplier on an agreement (admin)",
    s.SupplierInSchema,
    s.SupplierOut,
    role="admin",
    blueprint=bp,
)
@idempotent(models.Supplier, reread=_supplier_created)
def create_supplier():
    supplier = catalog.create_supplier(ctx(), current_principal(), json_body(SUPPLIER_IN))
    return _supplier_created(supplier.id)


@endpoint(
    "/suppliers/<supplier_id>",
    "GET",
    summary="One supplier (admin)",
    answer=s.SupplierOut,
    role="admin",
    blueprint=bp,
)
def get_supplier(supplier_id: str):
    return _supplier(supplier_id)


@endpoint(
    "/suppliers/<supplier_id>",
    "PATCH",
    summary="Change a supplier, or retire it (active false) (admin)",
    body=s.SupplierInSchema,
    answer=s.SupplierOut,
    role="admin",
    blueprint=bp,
)
def patch_supplier(supplier_id: str):
    cmd = json_body(SUPPLIER_IN, partial=True)
    supplier = catalog.update_supplier(ctx(), current_principal(), supplier_id, cmd)
    return jsonify(SUPPLIER_OUT.dump(supplier))


# --- who does a line's job ---------------------------------------------------------------------


@endpoint(
    "/bookings/<booking_id>/lines/<resource_id>/assignment",
    "PUT",
    summary=(
        "Who does an approved service or studio line's job (a team member or a supplier; "
        "null: nobody) and the hours delivered (the line's deciders); booking.assigned"
    ),
    body=s.AssignmentSchema,
    answer=s.BookingOut,
    errors=(409,),
    blueprint=bp,
)
def assign(booking_id: str, resource_id: str):
    cmd = json_body(ASSIGNMENT_IN)
    booking = assignments.assign_line(ctx(), current_principal(), booking_id, resource_id, cmd)
    return answer_booking(booking)

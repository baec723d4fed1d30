"""The lists admins keep (categories and units, on one page) and the suppliers on
agreements: adding, renaming, retiring; each form over the API's schema and use case."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from services.booking.domain import AlreadyExists, RuleViolation
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import (
    actor,
    ctx,
    form_fields,
    login_required,
    require,
    t,
)
from services.booking.entrypoints.pages.forms.catalog import (
    ENTRY_FORM,
    SUPPLIER_FORM,
    entry_values,
    read_form,
    supplier_values,
)
from services.booking.entrypoints.pages.forms.errors import Errors, on_form
from services.booking.usecases import catalog
from shared.i18n import current_language

KINDS = ("categories", "units")


def _admin() -> None:
    require(actor().is_admin)


def _save(save: Callable[[Any], Any], form: Any, *, creating: bool) -> tuple[Any, Errors, int]:
    """The form read and saved: what was saved, or the errors by field and the status (422
    for bad input, 409 for a taken short name)."""
    cmd, errors = read_form(form, form_fields(), creating=creating)
    if cmd is None:
        return None, errors, 422
    try:
        return save(cmd), {}, 200
    except AlreadyExists as exc:
        return None, {exc.field: [exc.message]}, 409
    except RuleViolation as exc:
        return None, on_form(exc.errors), 422


# --- categories and units ------------------------------------------------------------------


@bp.get("/lists")
@login_required
def lists_page():
    _admin()
    found = catalog.choices(ctx())
    return render_template("booking/lists.html", lists=[(kind, found[kind]) for kind in KINDS])


def _kind(kind: str) -> str:
    if kind not in KINDS:
        abort(404)
    return kind


def _entry_form(kind: str, values: MultiDict, errors: Errors, slug: str | None, status=200):
    return render_template(
        "booking/list_entry_form.html", kind=kind, values=values, errors=errors, slug=slug
    ), status


@bp.route("/lists/<kind>/new", methods=["GET", "POST"])
@login_required
def new_list_entry(kind: str):
    _admin()
    kind = _kind(kind)
    if request.method == "GET":
        return _entry_form(kind, MultiDict(), {}, None)
    create = functools.partial(catalog.create_entry, ctx(), actor(), kind)
    saved, errors, status = _save(create, ENTRY_FORM, creating=True)
    if saved is None:
        return _entry_form(kind, request.form, errors, None, status)
    flash(t("list_entry_saved", name=saved.label.name(current_language())), "ok")
    return redirect(url_for("pages.lists_page") + f"#{kind}")


@bp.route("/lists/<kind>/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_list_entry(kind: str, slug: str):
    _admin()
    kind = _kind(kind)
    entry = catalog.read_entry(ctx(), kind, slug)  # type: ignore[arg-type]
    if request.method == "GET":
        return _entry_form(kind, MultiDict(entry_values(entry)), {}, slug)
    change = functools.partial(catalog.update_entry, ctx(), actor(), kind, slug)
    saved, errors, status = _save(change, ENTRY_FORM, creating=False)
    if saved is None:
        return _entry_form(kind, request.form, errors, slug, status)
    flash(t("list_entry_saved", name=saved.label.name(current_language())), "ok")
    return redirect(url_for("pages.lists_page") + f"#{kind}")


# --- suppliers -------------------------------------------------------------------------------


@bp.get("/suppliers")
@login_required
def suppliers_page():
    _admin()
    return render_template(
        "booking/suppliers.html", suppliers=catalog.list_suppliers(ctx(), actor())
    )


def _supplier_form(values: MultiDict, errors: Errors, supplier_id: str | None, status=200):
    return render_template(
        "booking/supplier_form.html", values=values, errors=errors, supplier_id=supplier_id
    ), status


@bp.route("/suppliers/new", methods=["GET", "POST"])
@login_required
def new_supplier():
    _admin()
    if request.method == "GET":
        return _supplier_form(MultiDict({"currency": "SEK"}), {}, None)
    create = functools.partial(catalog.create_supplier, ctx(), actor())
    saved, errors, status = _save(create, SUPPLIER_FORM, creating=True)
    if saved is None:
        return _supplier_form(request.form, errors, None, status)
    flash(t("supplier_saved", name=saved.name), "ok")
    return redirect(url_for("pages.suppliers_page"))


@bp.route("/suppliers/<supplier_id>/edit", methods=["GET", "POST"])
@login_required
def edit_supplier(supplier_id: str):
    _admin()
    supplier = catalog.read_supplier(ctx(), actor(), supplier_id)
    if request.method == "GET":
        return _supplier_form(MultiDict(supplier_values(supplier)), {}, supplier.id)
    change = functools.partial(catalog.update_supplier, ctx(), actor(), supplier.id)
    saved, errors, status = _save(change, SUPPLIER_FORM, creating=False)
    if saved is None:
        return _supplier_form(request.form, errors, supplier.id, status)
    flash(t("supplier_saved", name=saved.name), "ok")
    return redirect(url_for("pages.suppliers_page"))

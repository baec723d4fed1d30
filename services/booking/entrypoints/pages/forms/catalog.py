"""The forms admins keep the lists and suppliers with: the API's schemas over the forms'
fields (a box not ticked is ``false``), loading into the same commands."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, pre_load

from services.booking.entrypoints.pages.forms.errors import Errors, flat, on_form
from services.booking.readmodels import ListEntryView, SupplierView
from services.booking.schemas import ListEntryInSchema, SupplierInSchema
from shared.schema import ValidationError


class ListEntryForm(ListEntryInSchema):
    class Meta:
        unknown = EXCLUDE  # the post carries the page's token

    @pre_load
    def _from_form(self, data: dict[str, Any], *, partial: Any = None, **_: Any):
        data = dict(data)
        if partial:
            data["active"] = data.get("active") == "on"
        else:
            data.pop("active", None)
        if str(data.get("position", "")).strip().isdigit():
            data["position"] = int(data["position"])
        return data


class SupplierForm(SupplierInSchema):
    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _from_form(self, data: dict[str, Any], *, partial: Any = None, **_: Any):
        data = dict(data)
        if partial:
            data["active"] = data.get("active") == "on"
            data.setdefault("valid_to", None)  # a cleared end is cleared
            data.setdefault("email", "")
        else:
            data.pop("active", None)
        if "hourly_rate" in data:
            data["hourly_rate"] = str(data["hourly_rate"]).strip().replace(",", ".")
        return data


ENTRY_FORM, SUPPLIER_FORM = ListEntryForm(), SupplierForm()


def read_form(form: Any, data: dict[str, Any], *, creating: bool) -> tuple[Any, Errors]:
    """A form as the command the API's schema gives (a change names every field the form
    shows: a list entry's slug stays), or every error by form field."""
    try:
        return form.load(data, partial=() if creating else ("slug",)), {}
    except ValidationError as exc:
        return None, on_form(flat(exc.messages))


def entry_values(entry: ListEntryView) -> dict[str, Any]:
    return {
        "slug": entry.slug,
        "name_sv": entry.name_sv,
        "name_en": entry.name_en,
        "position": str(entry.position),
        "active": entry.active,
    }


def supplier_values(supplier: SupplierView) -> dict[str, Any]:
    return {
        "name": supplier.name,
        "agreement_ref": supplier.agreement_ref,
        "hourly_rate": f"{supplier.hourly_rate:.2f}",
        "currency": supplier.currency,
        "valid_from": supplier.valid_from.isoformat(),
        "valid_to": supplier.valid_to.isoformat() if supplier.valid_to else "",
        "email": supplier.email,
        "active": supplier.active,
    }

"""What every booking page shares: the use-case context, the request's language, who is
logged in and what they may open, safe redirects and reading forms."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import abort, current_app, redirect, request, url_for
from werkzeug.datastructures import MultiDict

from services.booking.domain import Managed, may_decide
from services.booking.persistence.unit_of_work import Context
from shared.auth import Principal, current_principal
from shared.i18n import translate
from shared.messages import Msg

NOT_FORM_FIELDS = ("csrf_token", "step")


def ctx() -> Context:
    return current_app.extensions["booking_context"]


def t(message: Msg | str, **values: object) -> str:
    """A message (an id, or a :class:`Msg`) in the request's language, as ``_`` in templates."""
    return translate(message, **values)


def actor() -> Principal:
    principal = current_principal()
    if principal is None:  # the views are wrapped in login_required
        abort(401)
    return principal


def here() -> str:
    """This page's address as the browser sees it, to come back to after logging in."""
    path = request.script_root + request.path
    return f"{path}?{request.query_string.decode()}" if request.query_string else path


def safe_next(value: str | None) -> str | None:
    """A same-site relative path to go to after logging in, or ``None`` for anything that
    could leave the site (``//evil``, ``/\\evil``, ``https://evil``, control characters)."""
    if not value or len(value) > 2000:
        return None
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def login_required(view: Callable) -> Callable:
    """Anonymous visitors go to the login page and come back here afterwards."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        if current_principal() is None:
            target = here() if request.method == "GET" else None
            return redirect(url_for("pages.login_page", next=target))
        return view(*args, **kwargs)

    return wrapper


def decides_on(principal: Principal, chosen: Iterable[Managed]) -> bool:
    """Whether this person may approve, reject and cancel bookings of these resources (the
    domain's rule: infra and admin, or a manager of every one of them)."""
    return may_decide(principal, chosen)


def require(condition: bool) -> None:
    if not condition:
        abort(403)


def form_fields(multi: Iterable[str] = ()) -> dict[str, Any]:
    """The posted form as a dict: ``multi`` names keep every value, empty strings go (so a
    blank optional field is the same as one not sent)."""
    form: MultiDict = request.form
    data: dict[str, Any] = {}
    for key in form:
        if key in NOT_FORM_FIELDS:
            continue
        if key in multi:
            data[key] = [v for v in form.getlist(key) if v.strip()]
        else:
            value = form.get(key, "")
            if value.strip():
                data[key] = value
    return data

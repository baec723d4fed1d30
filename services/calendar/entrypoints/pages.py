"""The subscribe page: every feed with webcal:// and https:// links, and a private link for
a logged-in user (and an assignments feed link for one who has been assigned jobs)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from services.calendar.domain import FeedKind
from services.calendar.entrypoints.wiring import (
    calendar_url,
    new_token,
    private_feed_url,
    unit_of_work,
    webcal,
)
from services.calendar.schemas import FEED_TOKEN_IN
from services.calendar.usecases.subscribe import subscribe_page
from services.calendar.usecases.tokens import create_feed_token
from shared.auth import current_principal, require_role
from shared.i18n import current_language
from shared.schema import ValidationError

pages = Blueprint("calendar_pages", __name__)


@pages.get("/")
def subscribe():
    return _page()


@pages.post("/feed-tokens")
@require_role()
def create_token_form():
    label = request.form.get("label", "")
    kind = request.form.get("kind", FeedKind.PRIVATE.value)
    try:
        loaded = FEED_TOKEN_IN.load({"label": label, "kind": kind})
    except ValidationError as exc:
        return _page(label=label, errors=exc.messages), 422
    kind = FeedKind(loaded["kind"])
    token = create_feed_token(unit_of_work(), new_token(current_principal(), loaded["label"], kind))
    return _page(new_url=_worded(private_feed_url(token, kind)), new_kind=kind)


def _page(
    new_url: str | None = None,
    label: str = "",
    errors: dict | None = None,
    new_kind: FeedKind = FeedKind.PRIVATE,
) -> str:
    principal = current_principal()
    viewer = (principal.user_id, principal.email) if principal else (None, None)
    data = subscribe_page(unit_of_work(), *viewer)
    feeds = [("public", _worded(f"{calendar_url()}/feeds/public.ics"))] + [
        (r.name, _worded(f"{calendar_url()}/feeds/resources/{r.slug}.ics")) for r in data.resources
    ]
    return render_template(
        "calendar/subscribe.html",
        feeds=feeds,
        webcal=webcal,
        principal=principal,
        tokens=data.tokens,
        private_links=data.links(FeedKind.PRIVATE),
        assignments=data.assignments,
        assignment_links=data.links(FeedKind.ASSIGNMENTS),
        new_url=new_url,
        new_kind=new_kind.value,
        label=label,
        errors=errors or {},
    )


def _worded(url: str) -> str:
    """A feed's address that names the calendar in the page's language."""
    return f"{url}?lang={current_language()}"

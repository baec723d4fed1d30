"""The subscribe page: every feed with its address (labelled by its real scheme) in the
page's language and the other, webcal:// links, and for a logged-in user their private
links (and an assignments feed link for one who has been assigned jobs): a new one, and a
revoke button for each live one."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request

from services.calendar.domain import FeedKind
from services.calendar.entrypoints.wiring import (
    calendar_url,
    feed_publisher,
    new_token,
    private_feed_url,
    unit_of_work,
    webcal,
)
from services.calendar.schemas import FEED_TOKEN_IN
from services.calendar.usecases.subscribe import subscribe_page
from services.calendar.usecases.tokens import create_feed_token, revoke_feed_link
from shared.auth import current_principal, require_role
from shared.formatting import DateWords
from shared.i18n import current_language, translate
from shared.messages import LANGUAGES, Msg
from shared.schema import ValidationError
from shared.timezones import current_zone

pages = Blueprint("calendar_pages", __name__)


@dataclass(frozen=True)
class FeedLink:
    """A feed as the page offers it: its name, its address in the page's language and in
    the other one (``other_language``)."""

    name: str
    url: str
    other_url: str
    other_language: str

    @property
    def scheme(self) -> str:
        return scheme_of(self.url)


def scheme_of(url: str) -> str:
    """The scheme an address really has (``http`` on a plain-http site), for its label."""
    return url.split("://", 1)[0] if "://" in url else "https"


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


@pages.post("/feed-tokens/<key>/revoke")
@require_role()
def revoke_token_form(key: str):
    principal = current_principal()
    if not revoke_feed_link(unit_of_work(), key, principal.user_id, principal.is_admin):
        abort(404)
    feed_publisher().files.remove_private(key)  # nginx serves it no more
    flash(translate(Msg("private_feed_revoked")), "ok")
    return redirect(f"{calendar_url()}/", 303)


def _page(
    new_url: str | None = None,
    label: str = "",
    errors: dict | None = None,
    new_kind: FeedKind = FeedKind.PRIVATE,
) -> str:
    principal = current_principal()
    viewer = (principal.user_id, principal.email) if principal else (None, None)
    data = subscribe_page(unit_of_work(), *viewer)
    language = current_language()
    named = [("public", "public")] + [
        (r.localized(language).name, f"resources/{r.slug}") for r in data.resources
    ]
    return render_template(
        "calendar/subscribe.html",
        feeds=[_link(name, f"{calendar_url()}/feeds/{path}.ics") for name, path in named],
        webcal=webcal,
        scheme_of=scheme_of,
        made=lambda moment: DateWords(language, current_zone.get()).datetime(moment),
        principal=principal,
        private_tokens=[t for t in data.tokens if t.kind is FeedKind.PRIVATE],
        assignments=data.assignments,
        assignment_tokens=[t for t in data.tokens if t.kind is FeedKind.ASSIGNMENTS],
        new_url=new_url,
        new_kind=new_kind.value,
        label=label,
        errors=errors or {},
    )


def _link(name: str, url: str) -> FeedLink:
    other = next(language for language in LANGUAGES if language != current_language())
    return FeedLink(name, _worded(url), f"{url}?lang={other}", other)


def _worded(url: str) -> str:
    """A feed's address that names the calendar, and its resources, in the page's
    language (a private link too: its owner's, as they chose the page's)."""
    return f"{url}?lang={current_language()}"

"""The links of the shared layout's navigation on booking's pages, with the number of
requests waiting for the visitor's decision."""

from __future__ import annotations

from typing import Any

from flask import g, request, url_for

from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import ctx, t
from services.booking.usecases import queries
from shared.auth import current_principal

SECTIONS = {
    "pages.new_request": "new",
    "pages.my_requests": "mine",
    "pages.request_page": "mine",
    "pages.edit_request": "mine",
    "pages.queue_page": "queue",
    "pages.resources_page": "resources",
    "pages.new_resource": "resources",
    "pages.edit_resource": "resources",
    "pages.week_page": "resources",
    "pages.teams_page": "teams",
    "pages.new_team": "teams",
    "pages.edit_team": "teams",
    "pages.users_page": "users",
    "pages.user_page": "users",
    "pages.change_user": "users",
    "pages.invite_user": "users",
    "pages.lists_page": "lists",
    "pages.new_list_entry": "lists",
    "pages.edit_list_entry": "lists",
    "pages.suppliers_page": "suppliers",
    "pages.new_supplier": "suppliers",
    "pages.edit_supplier": "suppliers",
}


def queue_size() -> int | None:
    """Requests waiting for this visitor's decision; ``None`` when they decide on nothing."""
    if "queue_size" not in g:
        principal = current_principal()
        g.queue_size = None if principal is None else queries.queue_size(ctx(), principal)
    return g.queue_size


@bp.app_context_processor
def navigation() -> dict[str, Any]:
    principal = current_principal()
    if principal is None or request.blueprint != bp.name:
        return {}
    section = SECTIONS.get(request.endpoint or "")
    links = [
        {"href": url_for("pages.new_request"), "label": t("nav_new_request"), "id": "new"},
        {"href": url_for("pages.my_requests"), "label": t("nav_my_requests"), "id": "mine"},
    ]
    waiting = queue_size()
    if waiting is not None:
        links.append(
            {
                "href": url_for("pages.queue_page"),
                "label": t("nav_queue"),
                "id": "queue",
                "count": waiting,
                "count_label": t("waiting_n", n=waiting),
            }
        )
    links.append(
        {"href": url_for("pages.resources_page"), "label": t("nav_resources"), "id": "resources"}
    )
    if principal.is_admin:
        links.append({"href": url_for("pages.teams_page"), "label": t("nav_teams"), "id": "teams"})
        links.append({"href": url_for("pages.users_page"), "label": t("nav_users"), "id": "users"})
        links.append({"href": url_for("pages.lists_page"), "label": t("nav_lists"), "id": "lists"})
        links.append(
            {
                "href": url_for("pages.suppliers_page"),
                "label": t("nav_suppliers"),
                "id": "suppliers",
            }
        )
    for link in links:
        link["current"] = link["id"] == section
    return {"nav_links": links, "nav_label": t("nav_label")}

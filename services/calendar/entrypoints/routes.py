"""Calendar's HTTP: the feeds (the way calendar clients poll them), the feed-token API and
the subscribe page."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from services.calendar.feeds import FeedCache, FeedQuery, RenderedFeed
from services.calendar.persistence.models import KnownResource
from services.calendar.tokens import create_feed_token, feed_owner, my_tokens, revoke_feed_token
from shared.auth import current_principal, require_role
from shared.problems import problem
from shared.requests import json_body

feeds = Blueprint("feeds", __name__)
api = Blueprint("calendar_api", __name__)
pages = Blueprint("calendar_pages", __name__)


def _cache() -> FeedCache:
    return current_app.extensions["feed_cache"]


def _db():
    return current_app.extensions["evenemang"]["db"]


def _config():
    return current_app.extensions["evenemang"]["config"]


def _answer(feed: RenderedFeed, filename: str) -> Response:
    """200 with the feed, or 304 when the client's copy is current (ETag first, then date)."""
    ttl = _config().feed_ttl_minutes * 60
    headers = {
        "ETag": feed.etag,
        "Last-Modified": feed.last_modified.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "Cache-Control": f"private, max-age={ttl}"
        if filename.startswith("private")
        else f"public, max-age={ttl}",
        "Vary": "Accept-Encoding",
    }
    match = request.if_none_match
    if match and (match.contains(feed.etag.strip('"')) or match.star_tag):
        return Response(status=304, headers=headers)
    since = request.if_modified_since
    if not match and since is not None and feed.last_modified <= since:
        return Response(status=304, headers=headers)
    body = feed.body
    if "gzip" in request.accept_encodings:
        body = feed.gzipped
        headers["Content-Encoding"] = "gzip"
    headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response = Response(
        body, status=200, headers=headers, content_type="text/calendar; charset=utf-8"
    )
    return response


def _calendar_name(suffix: str) -> str:
    return f"Evenemang – {suffix}"


@feeds.get("/feeds/public.ics")
def public_feed():
    query = FeedQuery(
        key="public",
        name=_calendar_name("public events"),
        description="Approved public events",
        public=True,
    )
    return _answer(_cache().get(query), "public.ics")


@feeds.get("/feeds/resources/<slug>.ics")
def resource_feed(slug: str):
    with _db().transaction(readonly=True) as session:
        resource = session.get(KnownResource, slug)
    if resource is None:
        return problem(404, "Not Found", f"No feed for a resource {slug!r}.")
    query = FeedQuery(
        key=f"resource:{slug}",
        name=_calendar_name(resource.name),
        description=f"Approved bookings of {resource.name}",
        slug=slug,
    )
    return _answer(_cache().get(query), f"{slug}.ics")


@feeds.get("/feeds/private/<token>.ics")
def private_feed(token: str):
    owner = feed_owner(_db(), token)
    if owner is None:
        return problem(404, "Not Found", "No such feed (the link may have been revoked).")
    query = FeedQuery(
        key=f"private:{owner.user_id}:{owner.role}",
        name=_calendar_name(f"my bookings ({owner.email})"),
        description="My bookings in every state, and requests I decide on",
        owner_email=owner.email,
        sees_all_pending=owner.is_infra,
        decider_email=owner.email,
    )
    return _answer(_cache().get(query), "private.ics")


class FeedTokenIn(Schema):
    label = fields.String(load_default="", validate=validate.Length(max=100))


def webcal(url: str) -> str:
    """The same address for calendar apps that subscribe on a click."""
    return "webcal://" + url.split("://", 1)[1]


def feed_url(token: str) -> str:
    return f"{_config().base_url.rstrip('/')}/calendar/feeds/private/{token}.ics"


@api.post("/feed-tokens")
@require_role()
def create_token():
    label = json_body(FeedTokenIn())["label"]
    token = create_feed_token(_db(), current_principal(), label)
    url = feed_url(token)
    return jsonify(token=token, url=url, webcal=webcal(url)), 201


@api.delete("/feed-tokens/<token>")
@require_role()
def delete_token(token: str):
    if not revoke_feed_token(_db(), current_principal(), token):
        return problem(404, "Not Found", "No such feed token of yours.")
    return "", 204


@pages.get("/")
def subscribe(new_token: str | None = None):
    with _db().transaction(readonly=True) as session:
        resources = list(
            session.scalars(select(KnownResource).order_by(KnownResource.kind, KnownResource.name))
        )
    principal = current_principal()
    base = _config().base_url.rstrip("/") + "/calendar"
    feeds_list = [("public", f"{base}/feeds/public.ics")] + [
        (r.name, f"{base}/feeds/resources/{r.slug}.ics") for r in resources
    ]
    new_url = feed_url(new_token) if new_token else None
    return render_template(
        "calendar/subscribe.html",
        feeds=feeds_list,
        webcal=webcal,
        principal=principal,
        tokens=my_tokens(_db(), principal) if principal else [],
        new_url=new_url,
    )


@pages.post("/feed-tokens")
@require_role()
def create_token_form():
    label = request.form.get("label", "")[:100]
    return subscribe(new_token=create_feed_token(_db(), current_principal(), label))

"""The feeds, answered the way calendar clients poll them: strong ETag, Last-Modified,
304 for a current copy, gzip on request; a renamed resource's old address redirects."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request, url_for

from services.calendar.commands import FeedRequest
from services.calendar.domain import FeedKind
from services.calendar.entrypoints.wiring import feed_cache
from services.calendar.usecases.feed_cache import RenderedFeed
from services.calendar.usecases.feeds import FeedMoved, serve_feed
from shared.messages import LANGUAGES, Msg
from shared.problems import problem
from shared.web import app_config

feeds = Blueprint("feeds", __name__)


@feeds.get("/feeds/public.ics")
def public_feed():
    return _serve(FeedKind.PUBLIC, "", "public.ics")


@feeds.get("/feeds/resources/<slug>.ics")
def resource_feed(slug: str):
    return _serve(FeedKind.RESOURCE, slug, f"{slug}.ics")


@feeds.get("/feeds/private/<token>.ics")
def private_feed(token: str):
    return _serve(FeedKind.PRIVATE, token, "private.ics")


def _serve(kind: FeedKind, key: str, filename: str) -> Response:
    """A feed's answer; its name is worded in ``?lang=`` (sv or en), English by default (a
    feed is fetched by calendar servers, whose Accept-Language says nothing of the user)."""
    language = request.args.get("lang") if request.query_string else None  # polls have none
    wanted = FeedRequest(kind, key, language if language in LANGUAGES else "en")
    cache = feed_cache()
    feed = serve_feed(cache.unit_of_work(), cache, wanted)
    if feed is None:
        if kind is FeedKind.RESOURCE:
            return problem(404, detail=Msg("no_resource_feed", slug=key))
        return problem(404, detail=Msg("no_such_feed"))
    if isinstance(feed, FeedMoved):
        return _moved(feed)
    return _answer(feed, filename, private=kind is FeedKind.PRIVATE)


def _moved(moved: FeedMoved) -> Response:
    """301 to the resource's feed under its current slug, the query kept. Permanent (clients
    that update a subscription's address on a 301 do so), yet cached only as long as a feed
    is, since an old slug may one day name another resource."""
    location = url_for("feeds.resource_feed", slug=moved.slug)
    if request.query_string:
        location += "?" + request.query_string.decode("latin-1")
    response = redirect(location, 301)
    response.headers["Cache-Control"] = f"public, max-age={app_config().feed_ttl_minutes * 60}"
    return response


def _answer(feed: RenderedFeed, filename: str, private: bool) -> Response:
    """200 with the feed, or 304 when the client's copy is current (ETag first, then date)."""
    ttl = app_config().feed_ttl_minutes * 60
    headers = {
        "ETag": feed.etag,
        "Last-Modified": feed.last_modified.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "Cache-Control": f"{'private' if private else 'public'}, max-age={ttl}",
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
    return Response(body, status=200, headers=headers, content_type="text/calendar; charset=utf-8")

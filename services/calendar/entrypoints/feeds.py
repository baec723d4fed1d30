"""The feeds, answered from the files the publisher writes, with the headers deploy/'s
nginx gives the same files: ETag and Last-Modified of the file (gzip and identity each
their own), 304 for a current copy, gzip on request; a renamed resource's old address
redirects. Behind nginx (it sends ``X-Feed-Files``, its internal location of the feed
directory) a private feed, once its token is checked, is handed to nginx to send."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from flask import Blueprint, Response, redirect, request, url_for

from services.calendar.commands import FeedRequest
from services.calendar.domain import FeedKind
from services.calendar.entrypoints.wiring import feed_publisher, unit_of_work
from services.calendar.persistence.feed_files import GZIP, FeedFile
from services.calendar.usecases.feeds import FeedMoved, serve_feed
from shared.messages import LANGUAGES, Msg
from shared.problems import problem
from shared.web import app_config

feeds = Blueprint("feeds", __name__)
ACCEL_HEADER = "X-Feed-Files"  # set by deploy/nginx.conf: where nginx serves the feed files
CONTENT_TYPE = "text/calendar; charset=utf-8"
CHUNK = 256 * 1024


@feeds.get("/feeds/public.ics")
def public_feed():
    return _serve(FeedKind.PUBLIC, "", "public.ics")


@feeds.get("/feeds/resources/<slug>.ics")
def resource_feed(slug: str):
    return _serve(FeedKind.RESOURCE, slug, f"{slug}.ics")


@feeds.get("/feeds/private/<token>.ics")
def private_feed(token: str):
    return _serve(FeedKind.PRIVATE, token, "private.ics")


@feeds.get("/feeds/assignments/<token>.ics")
def assignments_feed(token: str):
    return _serve(FeedKind.ASSIGNMENTS, token, "assignments.ics")


def _serve(kind: FeedKind, key: str, filename: str) -> Response:
    """A feed's answer; its name is worded in ``?lang=`` (sv or en), English by default (a
    feed is fetched by calendar servers, whose Accept-Language says nothing of the user)."""
    language = request.args.get("lang") if request.query_string else None  # polls have none
    wanted = FeedRequest(kind, key, language if language in LANGUAGES else "en")
    publisher = feed_publisher()
    feed = serve_feed(unit_of_work(), publisher, wanted)
    if feed is None:
        if kind is FeedKind.RESOURCE:
            return problem(404, detail=Msg("no_resource_feed", slug=key))
        return problem(404, detail=Msg("no_such_feed"))
    if isinstance(feed, FeedMoved):
        return _moved(feed)
    private = kind in (FeedKind.PRIVATE, FeedKind.ASSIGNMENTS)
    headers = {
        "Cache-Control": f"{'private' if private else 'public'}, max-age={_ttl()}",
        "Content-Disposition": f'inline; filename="{filename}"',
    }
    accel = request.headers.get(ACCEL_HEADER)
    if private and accel:
        location = accel.rstrip("/") + "/" + publisher.files.relative(feed)
        headers["X-Accel-Redirect"] = location  # nginx keeps the other headers
        return Response(status=200, headers=headers, content_type=CONTENT_TYPE)
    return _answer(feed, headers)


def _ttl() -> int:
    return app_config().feed_ttl_minutes * 60


def _moved(moved: FeedMoved) -> Response:
    """301 to the resource's feed under its current slug, the query kept. Permanent (clients
    that update a subscription's address on a 301 do so), yet cached only as long as a feed
    is, since an old slug may one day name another resource."""
    location = url_for("feeds.resource_feed", slug=moved.slug)
    if request.query_string:
        location += "?" + request.query_string.decode("latin-1")
    response = redirect(location, 301)
    response.headers["Cache-Control"] = f"public, max-age={_ttl()}"
    return response


def _answer(path: Path, headers: dict[str, str]) -> Response:
    """The file as nginx sends it (``gzip_static``, ``etag``): 200, or 304 when the
    client's copy is current (ETag first, then date); the gzip to a client that takes it."""
    zipped = "gzip" in request.accept_encodings
    chosen = path.with_name(path.name + GZIP) if zipped else path
    try:
        fd = os.open(chosen, os.O_RDONLY)  # one file, even as the publisher replaces it
    except FileNotFoundError:  # revoked between the lookup and now
        return problem(404, detail=Msg("no_such_feed"))
    stat = os.fstat(fd)
    file = FeedFile(chosen, stat.st_size, int(stat.st_mtime))
    headers |= {
        "ETag": file.etag,
        "Last-Modified": file.last_modified.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "Vary": "Accept-Encoding",
    }
    match = request.if_none_match
    since = request.if_modified_since
    fresh = (match and (match.contains(file.etag.strip('"')) or match.star_tag)) or (
        not match and since is not None and file.last_modified <= since
    )
    if fresh or request.method == "HEAD":
        os.close(fd)
        if fresh:
            return Response(status=304, headers=headers)
        body: Iterable[bytes] = ()
    else:
        wrapper = request.environ.get("wsgi.file_wrapper")  # gunicorn's: sendfile
        body = wrapper(os.fdopen(fd, "rb"), CHUNK) if wrapper else FileBody(fd)
    if zipped:
        headers["Content-Encoding"] = "gzip"
    response = Response(
        body, status=200, headers=headers, content_type=CONTENT_TYPE, direct_passthrough=True
    )
    response.content_length = file.size
    return response


class FileBody:
    """A file's bytes in chunks, so no process holds a whole feed; closed once sent, when
    the server closes the answer, or when dropped. It holds the bare descriptor: a file
    object dropped with an answer nobody read (a client gone, a test reading headers only)
    may be finalised before this, and would then warn of an unclosed file."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __iter__(self) -> Iterator[bytes]:
        try:
            while self.fd >= 0 and (chunk := os.read(self.fd, CHUNK)):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)

    __del__ = close

"""Feeds served as files: calendar writes each feed and its gzip once per change,
atomically; its thin handler and deploy/'s nginx answer them with the same headers (gzip
and identity each their own ETag, 304s, HEAD); a private feed's file is named by a keyed
hash, never the token, and goes when the token is revoked."""

from __future__ import annotations

import gzip
import http.client
import os
import stat
import threading
from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from services.booking.usecases.users import add_user, create_token
from services.calendar.domain import token_hash
from services.calendar.persistence.feed_files import FeedFile, FeedFiles
from tests.support.calendar import approved, deliver, publish
from tests.support.environment import need
from tests.support.nginx import gunicorn, nginx_binary, nginx_running, wait_up
from tests.support.processes import running
from tests.support.suite import free_port


@pytest.fixture
def calendar(make_app):
    return make_app("calendar")


def feed_dir(app):
    return app.extensions["feed_publisher"].files.root


def every_file(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_each_feed_and_its_gzip_is_written_once_per_change(calendar):
    deliver(calendar, approved(title="Lecture"))
    root = feed_dir(calendar)
    plain, zipped = root / "en" / "public.ics", root / "en" / "public.ics.gz"
    assert b"Lecture" in plain.read_bytes()
    assert gzip.decompress(zipped.read_bytes()) == plain.read_bytes()
    assert b"publika evenemang" in (root / "sv" / "public.ics").read_bytes()
    assert (root / "en" / "resources" / "aula.ics").is_file()
    for path in every_file(root):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path  # the proxy reads them
        assert not path.name.endswith(".tmp"), path
    before = {p: p.stat().st_ino for p in every_file(root)}
    publish(calendar)
    calendar.extensions["feed_publisher"].publish_all()  # nothing changed: nothing written
    assert {p: p.stat().st_ino for p in every_file(root)} == before
    deliver(calendar, approved(title="Another", booking_id="b-2"))
    assert plain.stat().st_ino != before[plain]  # replaced, not rewritten in place
    assert b"Another" in plain.read_bytes()


def test_a_reader_sees_the_old_file_or_the_new_never_a_part(tmp_path):
    files = FeedFiles(tmp_path, "secret")
    path = files.public("en")
    bodies = [b"A" * 300_000, b"B" * 200_000]
    files.write(path, bodies[0], datetime.now(UTC))
    stop = threading.Event()

    def writer():
        n = 0
        while not stop.is_set():
            n += 1
            files.write(path, bodies[n % 2], datetime.now(UTC))

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(300):
            assert path.read_bytes() in bodies
    finally:
        stop.set()
        thread.join()
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_new_bytes_of_the_same_size_get_a_new_etag_within_the_second(tmp_path):
    files = FeedFiles(tmp_path, "secret")
    path = files.public("en")
    now = datetime.now(UTC)
    files.write(path, b"10:00", now)
    first = FeedFile.at(path)
    files.write(path, b"11:00", now)
    assert FeedFile.at(path).etag != first.etag
    files.write(path, b"12:00 and longer", now - timedelta(hours=1))  # the clock stepped back
    assert FeedFile.at(path).mtime >= first.mtime  # Last-Modified never moves back


def test_gzip_and_identity_carry_their_own_etags_and_each_answers_304(calendar):
    deliver(calendar, approved())
    client = calendar.test_client()
    plain = client.get("/feeds/public.ics", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/feeds/public.ics", headers={"Accept-Encoding": "gzip"})
    assert plain.status_code == zipped.status_code == 200
    assert zipped.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    assert (
        "Accept-Encoding" in zipped.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    )
    assert plain.headers["ETag"] != zipped.headers["ETag"]
    assert gzip.decompress(zipped.data) == plain.data
    assert int(zipped.headers["Content-Length"]) == len(zipped.data)
    for encoding, answer in (("identity", plain), ("gzip", zipped)):
        current = {"Accept-Encoding": encoding, "If-None-Match": answer.headers["ETag"]}
        assert client.get("/feeds/public.ics", headers=current).status_code == 304
        dated = {"Accept-Encoding": encoding, "If-Modified-Since": answer.headers["Last-Modified"]}
        assert client.get("/feeds/public.ics", headers=dated).status_code == 304
    other = {"Accept-Encoding": "gzip", "If-None-Match": plain.headers["ETag"]}
    assert client.get("/feeds/public.ics", headers=other).status_code == 200  # not this copy
    head = client.head("/feeds/public.ics", headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == plain.headers["ETag"]
    assert int(head.headers["Content-Length"]) == len(plain.data)


def test_a_feed_with_no_file_yet_is_written_for_its_request(calendar):
    deliver(calendar, approved())
    root = feed_dir(calendar)
    (root / "en" / "resources" / "aula.ics").unlink()
    response = calendar.test_client().get("/feeds/resources/aula.ics")
    assert response.status_code == 200 and (root / "en" / "resources" / "aula.ics").is_file()
    assert calendar.test_client().get("/feeds/resources/nowhere.ics").status_code == 404


@pytest.fixture
def api_token(make_app, config):
    booking = make_app("booking")
    db = booking.extensions["evenemang"]["db"]
    add_user(db, "org@example.org", "org", "organiser")
    return create_token(db, config.secret_key, "org@example.org")


def test_a_private_feed_has_no_token_on_disk_and_revoking_removes_it(calendar, api_token):
    client = calendar.test_client()
    bearer = {"Authorization": f"Bearer {api_token}"}
    token = client.post("/api/v1/feed-tokens", json={"label": "phone"}, headers=bearer).json[
        "token"
    ]
    deliver(calendar, approved(title="Mine"))
    response = client.get(f"/feeds/private/{token}.ics")
    assert response.status_code == 200 and b"Mine" in response.data
    assert response.headers["Cache-Control"].startswith("private")
    root = feed_dir(calendar)
    private = calendar.extensions["feed_publisher"].files.private(token_hash(token), "en")
    assert private.is_file()
    names = [p.relative_to(root).as_posix() for p in every_file(root)]
    assert not [n for n in names if token in n or token_hash(token) in n]
    assert stat.S_IMODE((root / "en" / "private").stat().st_mode) == 0o711  # not listable
    behind = client.get(f"/feeds/private/{token}.ics", headers={"X-Feed-Files": "/_feed_files"})
    assert behind.data == b"" and behind.headers["X-Accel-Redirect"] == (
        f"/_feed_files/en/private/{private.name}"
    )
    assert client.delete(f"/api/v1/feed-tokens/{token}", headers=bearer).status_code == 204
    assert not private.exists() and not private.with_name(private.name + ".gz").exists()
    assert client.get(f"/feeds/private/{token}.ics").status_code == 404


def _request(port, method, path, **headers):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.mark.slow
def test_deploys_nginx_serves_the_feed_files(config, calendar, api_token, tmp_path):
    need(nginx_binary() is not None, "nginx is not installed", "apt-get install nginx")
    deliver(calendar, approved(title="Lecture"))
    token = (
        calendar.test_client()
        .post(
            "/api/v1/feed-tokens",
            json={"label": "phone"},
            headers={"Authorization": f"Bearer {api_token}"},
        )
        .json["token"]
    )
    publish(calendar)
    backend = free_port()
    proxy_dir = tmp_path / "nginx"
    proxy_dir.mkdir()
    web = gunicorn(config, "services.calendar:create_app()", backend, tmp_path / "web.log")
    with running(web):
        wait_up(f"http://127.0.0.1:{backend}/healthz")
        with nginx_running(proxy_dir, backend, feed_dir(calendar)) as port:
            public = "/calendar/feeds/public.ics"
            status, headers, body = _request(port, "GET", public)
            assert status == 200, body
            assert headers["Content-Type"] == "text/calendar; charset=utf-8"
            assert headers["Cache-Control"] == "public, max-age=900"
            assert headers["Content-Disposition"] == 'inline; filename="public.ics"'
            [event] = icalendar.Calendar.from_ical(body).walk("VEVENT")
            assert str(event["SUMMARY"]) == "Lecture"
            assert body == (feed_dir(calendar) / "en" / "public.ics").read_bytes()
            # the thin handler gives the same ETag and Last-Modified as nginx
            direct = calendar.test_client().get("/feeds/public.ics")
            assert direct.headers["ETag"] == headers["ETag"]
            assert direct.headers["Last-Modified"] == headers["Last-Modified"]
            etag = headers["ETag"]
            assert _request(port, "GET", public, **{"If-None-Match": etag})[0] == 304
            dated = {"If-Modified-Since": headers["Last-Modified"]}
            assert _request(port, "GET", public, **dated)[0] == 304
            status, zipped_headers, zipped = _request(
                port, "GET", public, **{"Accept-Encoding": "gzip"}
            )
            assert status == 200 and zipped_headers["Content-Encoding"] == "gzip"
            assert zipped_headers["Vary"] == "Accept-Encoding"
            assert zipped_headers["ETag"] != etag and gzip.decompress(zipped) == body
            again = {"Accept-Encoding": "gzip", "If-None-Match": zipped_headers["ETag"]}
            assert _request(port, "GET", public, **again)[0] == 304
            status, head_headers, nothing = _request(port, "HEAD", public)
            assert status == 200 and nothing == b"" and head_headers["ETag"] == etag
            swedish = _request(port, "GET", public + "?lang=sv")[2]
            assert b"publika evenemang" in swedish
            resource = _request(port, "GET", "/calendar/feeds/resources/aula.ics")
            assert resource[0] == 200 and b"Lecture" in resource[2]
            assert resource[1]["Content-Disposition"] == 'inline; filename="aula.ics"'
            # no file: calendar answers (a 404 problem for an unknown resource)
            missing = _request(port, "GET", "/calendar/feeds/resources/nowhere.ics")
            assert missing[0] == 404 and b"nowhere" in missing[2]
            # a private feed: the token checked by calendar, the file sent by nginx
            private = f"/calendar/feeds/private/{token}.ics"
            status, private_headers, mine = _request(port, "GET", private)
            assert status == 200 and b"Lecture" in mine
            assert private_headers["Cache-Control"].startswith("private, max-age=")
            assert private_headers["Content-Type"] == "text/calendar; charset=utf-8"
            assert "X-Accel-Redirect" not in private_headers
            current = {"If-None-Match": private_headers["ETag"]}
            assert _request(port, "GET", private, **current)[0] == 304
            status, _, zipped_mine = _request(port, "GET", private, **{"Accept-Encoding": "gzip"})
            assert status == 200 and gzip.decompress(zipped_mine) == mine
            assert _request(port, "GET", "/calendar/feeds/private/nope.ics")[0] == 404
            assert _request(port, "GET", "/_feed_files/en/public.ics")[0] == 404  # internal
    access = (proxy_dir / "access.log").read_text()
    assert token not in access and "/calendar/feeds/private/***.ics" in access
    assert (
        os.path.getsize(proxy_dir / "error.log") == 0
        or "[emerg]" not in (proxy_dir / "error.log").read_text()
    )

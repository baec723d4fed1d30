"""Events in, feeds out: every state and change, visibility, tokens, and HTTP the way
calendar clients poll. Each feed is parsed by icalendar and vobject."""

from __future__ import annotations

import gzip
import shutil
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import icalendar
import pytest
import recurring_ical_events

from services.booking.usecases.users import add_user, create_token
from shared.events import (
    BOOKING_CANCELLED,
    BOOKING_CHANGED,
    BOOKING_LINES_DECIDED,
    BOOKING_OCCURRENCE_CANCELLED,
    BOOKING_SLOT_FREED,
    BOOKING_SUBMITTED,
    make_envelope,
)
from shared.messages import text as _
from tests.factories import envelope, line, resource_envelope, resource_ref
from tests.support.calendar import approved, deliver, parse_both, publish
from tests.support.libical import restriction_errors

START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)  # the factory default
URL = "https://evenemang.example/bookings/b-1"  # the booking page, as booking's snapshot has it


@pytest.fixture
def calendar(make_app):
    return make_app("calendar")


def get(app, path, **kwargs):
    return app.test_client().get(path, **kwargs)


def events_of(app, path):
    response = get(app, path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return parse_both(response.data)


def test_an_approved_public_booking_is_in_the_public_feed_field_by_field(calendar):
    env = approved(
        title="Thesis defence: Ada",
        description="Open to all, welcome",
        participants=[{"email": "p@example.org", "name": "P"}],
        url=URL,
    )
    deliver(calendar, env)
    [ical], [vob] = events_of(calendar, "/feeds/public.ics")
    data = env["data"]
    assert str(ical["UID"]) == data["uid"] == vob.uid.value
    assert str(ical["SUMMARY"]) == "Thesis defence: Ada" == vob.summary.value
    assert ical["DTSTART"].dt == START == vob.dtstart.value
    assert ical["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert ical["DTEND"].dt == START + timedelta(hours=2) == vob.dtend.value
    assert int(ical["SEQUENCE"]) == 2 == int(vob.sequence.value)
    assert str(ical["STATUS"]) == "CONFIRMED" == vob.status.value
    assert str(ical["LOCATION"]) == "Aula, Building A" == vob.location.value
    assert str(ical["URL"]) == URL == vob.url.value
    assert "Open to all, welcome" in str(ical["DESCRIPTION"])
    assert [str(c) for c in ical["CATEGORIES"].cats] == ["venue"]
    assert ical["DTSTAMP"].dt == datetime(2030, 1, 1, tzinfo=UTC)
    assert ical["LAST-MODIFIED"].dt == datetime(2030, 1, 1, tzinfo=UTC)
    assert str(ical["ORGANIZER"]) == "mailto:org@example.org"
    assert "ATTENDEE" not in ical  # feeds never list participants


@pytest.mark.parametrize(
    ("status", "visibility"),
    [
        ("pending", "public"),
        ("rejected", "public"),
        ("approved", "internal"),
        ("approved", "private"),
    ],
)
def test_what_the_public_feed_leaves_out(calendar, status, visibility):
    deliver(
        calendar,
        envelope(
            BOOKING_SUBMITTED, status=status, visibility=visibility, title="Secret board meeting"
        ),
    )
    response = get(calendar, "/feeds/public.ics")
    assert b"Secret board meeting" not in response.data
    assert parse_both(response.data) == ([], [])


@pytest.mark.parametrize("visibility", ["internal", "private"])
def test_a_resource_feed_shows_a_non_public_booking_only_as_busy(calendar, visibility):
    deliver(
        calendar,
        approved(
            booking_id="busy-block",  # a random id could hold "b-1", the URL's tell-tale
            visibility=visibility,
            title="Secret board meeting",
            description="salaries",
            language="en",
            participants=[{"email": "ceo@example.org", "name": "CEO"}],
            url=URL,
        ),
    )
    response = get(calendar, "/feeds/resources/aula.ics")
    leaks = (b"Secret", b"salaries", b"ceo@example.org", b"org@example.org", b"Olga", b"b-1")
    for leak in leaks:
        assert leak not in response.data
    [ical], [vob] = parse_both(response.data)
    assert "URL" not in ical  # the booking page would name and reveal it
    assert str(ical["SUMMARY"]) == "Booked" == vob.summary.value
    assert str(ical["CLASS"]) == "PRIVATE"
    assert ical["DTSTART"].dt == START


def test_a_public_booking_shows_in_full_in_its_resource_feed(calendar):
    deliver(calendar, approved(title="Open lecture"))
    [ical], _ = events_of(calendar, "/feeds/resources/aula.ics")
    assert str(ical["SUMMARY"]) == "Open lecture"
    assert get(calendar, "/feeds/resources/nowhere.ics").status_code == 404


def test_changes_keep_the_uid_and_raise_the_sequence_and_cancellation_stays_then_leaves(calendar):
    first = approved(revision=2)
    bid = first["data"]["booking_id"]
    deliver(
        calendar,
        first,
        envelope(
            BOOKING_CHANGED,
            booking_id=bid,
            revision=3,
            status="approved",
            title="Moved",
            start=START + timedelta(days=1),
        ),
    )
    [ical], _ = events_of(calendar, "/feeds/public.ics")
    assert (str(ical["SUMMARY"]), int(ical["SEQUENCE"])) == ("Moved", 3)
    assert ical["DTSTART"].dt == START + timedelta(days=1)
    deliver(
        calendar,
        envelope(
            BOOKING_CANCELLED,
            booking_id=bid,
            revision=4,
            status="cancelled",
            updated_at=datetime.now(UTC).isoformat(),
        ),
    )
    [ical], [vob] = events_of(calendar, "/feeds/public.ics")
    assert str(ical["STATUS"]) == "CANCELLED" == vob.status.value
    assert str(ical["UID"]) == first["data"]["uid"] and int(ical["SEQUENCE"]) == 4
    later = datetime.now(UTC) + timedelta(days=31)
    publish(calendar, clock=lambda: later)
    assert events_of(calendar, "/feeds/public.ics") == ([], [])


def test_stale_and_duplicate_events_change_nothing(calendar):
    newer = approved(revision=5, title="Newest")
    bid = newer["data"]["booking_id"]
    deliver(
        calendar, newer, envelope(BOOKING_SUBMITTED, booking_id=bid, revision=1, title="Old"), newer
    )
    [ical], _ = events_of(calendar, "/feeds/public.ics")
    assert (str(ical["SUMMARY"]), int(ical["SEQUENCE"])) == ("Newest", 5)


def test_a_series_is_one_vevent_whose_occurrences_equal_the_stored_ones(calendar):
    # weekly at 09:00 Stockholm across the 2030-03-31 change to summer time
    starts = [datetime(2030, 3, 11, 8, tzinfo=UTC) + timedelta(weeks=i) for i in range(3)]
    starts += [datetime(2030, 4, 1, 7, tzinfo=UTC) + timedelta(weeks=i) for i in range(3)]
    occurrences = [
        {
            "n": n,
            "start": s.isoformat(),
            "end": (s + timedelta(hours=1)).isoformat(),
            "status": "cancelled" if n == 2 else "active",
        }
        for n, s in enumerate(starts)
    ]
    deliver(
        calendar,
        envelope(
            BOOKING_OCCURRENCE_CANCELLED,
            status="approved",
            revision=3,
            start=starts[0],
            end=starts[0] + timedelta(hours=1),
            rrule="FREQ=WEEKLY;COUNT=6",
            occurrences=occurrences,
            cancelled_occurrence=2,
        ),
    )
    response = get(calendar, "/feeds/public.ics")
    [ical], [vob] = parse_both(response.data)
    assert str(ical["RRULE"].to_ical().decode()) == "FREQ=WEEKLY;COUNT=6"
    import icalendar

    computed = recurring_ical_events.of(icalendar.Calendar.from_ical(response.data)).between(
        datetime(2030, 1, 1), datetime(2031, 1, 1)
    )
    expected = [s for n, s in enumerate(starts) if n != 2]
    assert [o["DTSTART"].dt for o in computed] == expected
    assert [o["DTSTART"].dt.astimezone(UTC) for o in computed] == expected
    assert all(o["DTSTART"].dt.hour == 9 for o in computed)  # wall clock kept
    assert len(list(vob.getrruleset())) == 5


@pytest.mark.parametrize(
    "evil", ["x\r\nBEGIN:VEVENT\r\nSUMMARY:injected", "x\r\nATTENDEE:mailto:evil@example.org"]
)
def test_titles_inject_nothing(calendar, evil):
    deliver(calendar, approved(title=evil, description=evil))
    body = get(calendar, "/feeds/public.ics").data
    [ical], [vob] = parse_both(body)
    assert str(ical["SUMMARY"]) == evil.replace("\r\n", "\n") == vob.summary.value
    assert "ATTENDEE" not in ical
    assert b"\r\nBEGIN:VEVENT\r\nSUMMARY:injected" not in body


def test_feed_text_is_conformant_beyond_what_parsers_check(calendar):
    deliver(
        calendar,
        approved(title="Å" * 120, description="€ " * 200),
        approved(title="Second", rrule="FREQ=DAILY;COUNT=3"),
    )
    body = get(calendar, "/feeds/public.ics").data
    text = body.decode("utf-8")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    unfolded = text.replace("\r\n ", "")
    for block in unfolded.split("BEGIN:VEVENT")[1:]:
        block = block.split("END:VEVENT")[0]
        assert "\r\nUID:" in block and "\r\nDTSTAMP:" in block
    tzids = {
        line.split("TZID=")[1].split(":")[0] for line in unfolded.split("\r\n") if "TZID=" in line
    }
    for tzid in tzids:
        assert f"BEGIN:VTIMEZONE\r\nTZID:{tzid}" in unfolded
    for needed in (
        "VERSION:2.0",
        "PRODID:",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:",
        "X-WR-CALDESC:",
        "REFRESH-INTERVAL;VALUE=DURATION:PT15M",
        "X-PUBLISHED-TTL:PT15M",
    ):
        assert needed in unfolded
    assert "X-WR-TIMEZONE" not in unfolded
    assert restriction_errors(text) == []
    shutil.rmtree(calendar.extensions["feed_publisher"].files.root)
    assert get(calendar, "/feeds/public.ics").data == body  # byte-stable


def test_http_the_way_calendar_clients_poll(calendar):
    # changes happen at times the test sets, so Last-Modified has one right answer
    first_change = datetime.now(UTC) + timedelta(minutes=1, microseconds=400_000)
    clock = [first_change]

    def deliver_at_clock(*envelopes):
        deliver(calendar, *envelopes, clock=lambda: clock[0])

    deliver_at_clock(approved())
    first = get(calendar, "/feeds/public.ics")
    assert first.headers["Content-Type"] == "text/calendar; charset=utf-8"
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert parsedate_to_datetime(modified) == first_change.replace(microsecond=0)
    assert etag.startswith('"') and not etag.startswith("W/")
    assert "max-age=900" in first.headers["Cache-Control"]
    assert 'filename="public.ics"' in first.headers["Content-Disposition"]
    again = get(calendar, "/feeds/public.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    dated = get(calendar, "/feeds/public.ics", headers={"If-Modified-Since": modified})
    assert dated.status_code == 304
    head = calendar.test_client().head("/feeds/public.ics")
    assert head.status_code == 200 and head.headers["ETag"] == etag
    zipped = get(calendar, "/feeds/public.ics", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == first.data
    clock[0] = later = first_change + timedelta(seconds=90)
    deliver_at_clock(approved(title="Another"))
    changed = get(calendar, "/feeds/public.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert parsedate_to_datetime(changed.headers["Last-Modified"]) == later.replace(microsecond=0)
    by_date = get(calendar, "/feeds/public.ics", headers={"If-Modified-Since": modified})
    assert by_date.status_code == 200 and by_date.data == changed.data  # date pollers see it
    clock[0] = first_change - timedelta(hours=1)  # the server's clock steps back
    deliver_at_clock(approved(title="A third"))
    third = get(calendar, "/feeds/public.ics")
    assert b"A third" in third.data
    assert third.headers["Last-Modified"] == changed.headers["Last-Modified"]  # never backwards


@pytest.fixture
def people(make_app, config):
    booking = make_app("booking")
    db = booking.extensions["evenemang"]["db"]
    tokens = {}
    for email, role in (
        ("org@example.org", "organiser"),
        ("infra@example.org", "infra"),
        ("manager@example.org", "organiser"),
        ("other@example.org", "organiser"),
    ):
        add_user(db, email, email.split("@")[0], role)
        tokens[email] = create_token(db, config.secret_key, email)
    return tokens


def _feed_token(calendar, api_token):
    response = calendar.test_client().post(
        "/api/v1/feed-tokens",
        json={"label": "phone"},
        headers={"Authorization": f"Bearer {api_token}"},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["url"].endswith(f"/calendar/feeds/private/{body['token']}.ics")
    assert body["webcal"].startswith("webcal://")
    return body["token"]


def test_private_feeds_show_my_bookings_in_every_state_and_my_decisions(calendar, people):
    resources = [
        {
            "id": "r9",
            "slug": "studio",
            "name": "Studio",
            "kind": "studio",
            "location": "",
            "requires_approval": True,
            "managers": ["manager@example.org"],
        }
    ]
    mine_pending = envelope(BOOKING_SUBMITTED, title="Mine pending", visibility="private")
    mine_rejected = envelope(BOOKING_SUBMITTED, title="Mine rejected", status="rejected")
    studio_pending = envelope(
        BOOKING_SUBMITTED,
        title="Studio request",
        resources=resources,
        organiser={"email": "other@example.org", "name": "Other"},
    )
    deliver(calendar, mine_pending, mine_rejected, studio_pending)
    titles = {}
    for email in (
        "org@example.org",
        "infra@example.org",
        "manager@example.org",
        "other@example.org",
    ):
        token = _feed_token(calendar, people[email])
        icals, _ = events_of(calendar, f"/feeds/private/{token}.ics")
        titles[email] = {str(e["SUMMARY"]): str(e["STATUS"]) for e in icals}
    assert titles["org@example.org"] == {"Mine pending": "TENTATIVE", "Mine rejected": "CANCELLED"}
    assert titles["infra@example.org"] == {
        "Mine pending": "TENTATIVE",
        "Studio request": "TENTATIVE",
    }
    assert titles["manager@example.org"] == {"Studio request": "TENTATIVE"}
    assert titles["other@example.org"] == {"Studio request": "TENTATIVE"}


def test_feed_tokens_are_revocable_and_unknown_ones_get_404(calendar, people):
    token = _feed_token(calendar, people["org@example.org"])
    assert get(calendar, f"/feeds/private/{token}.ics").status_code == 200
    client = calendar.test_client()
    other = {"Authorization": f"Bearer {people['other@example.org']}"}
    assert client.delete(f"/api/v1/feed-tokens/{token}", headers=other).status_code == 404
    mine = {"Authorization": f"Bearer {people['org@example.org']}"}
    assert client.delete(f"/api/v1/feed-tokens/{token}", headers=mine).status_code == 204
    assert get(calendar, f"/feeds/private/{token}.ics").status_code == 404
    assert get(calendar, "/feeds/private/not-a-token.ics").status_code == 404
    assert client.post("/api/v1/feed-tokens", json={}).status_code == 401


@pytest.mark.parametrize(
    ("language", "title", "public"),
    [
        ("en", "Subscribe to calendars", "All public events"),
        ("sv", "Prenumerera på kalendrar", "Alla publika evenemang"),
    ],
)
def test_the_subscribe_page_lists_every_feed_with_webcal_and_https_links(
    calendar, language, title, public
):
    deliver(calendar, approved())
    page = get(calendar, f"/?lang={language}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"<h1>{title}</h1>" in html
    for feed in ("public.ics", "resources/aula.ics"):
        https = f"/calendar/feeds/{feed}?lang={language}"  # the feed named in the page's language
        assert f'value="http://127.0.0.1:8000{https}"' in html
        assert f'href="webcal://127.0.0.1:8000{https}"' in html
    assert "Outlook" in html and "Google Calendar" in html and "Apple Calendar" in html
    assert f">{public}</h3>" in html


@pytest.mark.parametrize("language", ["sv", "en"])
def test_a_private_link_is_made_on_the_subscribe_page(calendar, people, language):
    bearer = {"Authorization": f"Bearer {people['org@example.org']}"}
    client = calendar.test_client()
    made = client.post(f"/feed-tokens?lang={language}", data={"label": "phone"}, headers=bearer)
    html = made.get_data(as_text=True)
    assert made.status_code == 200 and _("new_private_feed", language) in html
    url = html.split('id="new-url" readonly value="')[1].split('"')[0]
    assert url.endswith(f".ics?lang={language}") and "/calendar/feeds/private/" in url
    path = url.split("127.0.0.1:8000/calendar")[1]
    assert get(calendar, path).status_code == 200
    assert _("active_private_feeds", language, count=1) in html
    too_long = client.post(
        f"/feed-tokens?lang={language}", data={"label": "x" * 101}, headers=bearer
    )
    html = too_long.get_data(as_text=True)
    assert too_long.status_code == 422 and 'aria-invalid="true"' in html
    assert _("text_too_long", language, max=100) in html
    assert _("active_private_feeds", language, count=1) in html  # nothing was made


def test_a_request_withdrawn_before_approval_never_reaches_the_shared_feeds(calendar):
    submitted = envelope(BOOKING_SUBMITTED, title="Withdrawn request", visibility="public")
    bid = submitted["data"]["booking_id"]
    withdrawn = envelope(
        BOOKING_CANCELLED, booking_id=bid, revision=2, status="cancelled", title="Withdrawn request"
    )
    deliver(calendar, submitted, withdrawn, approved(title="Approved one"))
    for path in ("/feeds/public.ics", "/feeds/resources/aula.ics"):
        body = get(calendar, path).data
        assert b"Withdrawn request" not in body and b"Approved one" in body


@pytest.mark.parametrize(
    ("query", "name", "description"),
    [
        ("", "Evenemang – public events", "Approved public events"),
        ("?lang=en", "Evenemang – public events", "Approved public events"),
        ("?lang=sv", "Evenemang – publika evenemang", "Godkända publika evenemang"),
        ("?lang=xx", "Evenemang – public events", "Approved public events"),
    ],
)
def test_a_feed_is_named_in_the_language_its_address_asks_for(calendar, query, name, description):
    deliver(calendar, approved())
    body = get(calendar, f"/feeds/public.ics{query}").data
    parsed = icalendar.Calendar.from_ical(body)
    assert (str(parsed["X-WR-CALNAME"]), str(parsed["X-WR-CALDESC"])) == (name, description)


@pytest.mark.parametrize(
    ("language", "title", "resource", "private", "token"),
    [
        (
            "en",
            "Not Found",
            "No feed for a resource 'nowhere'.",
            "No such feed (the link may have been revoked).",
            "No such feed token of yours.",
        ),
        (
            "sv",
            "Hittades inte",
            "Det finns inget flöde för en resurs 'nowhere'.",
            "Flödet finns inte (länken kan ha återkallats).",
            "Du har ingen sådan flödeslänk.",
        ),
    ],
)
def test_what_is_missing_is_said_in_both_languages(
    calendar, people, language, title, resource, private, token
):
    """English by default (no Accept-Language); Swedish when asked by header or ?lang=."""
    asked = {"Accept-Language": "sv"} if language == "sv" else {}
    query = "?lang=sv" if language == "sv" else ""
    bearer = {"Authorization": f"Bearer {people['org@example.org']}"}
    client = calendar.test_client()
    for response, detail, code in (
        (
            get(calendar, "/feeds/resources/nowhere.ics", headers=asked),
            resource,
            "no_resource_feed",
        ),
        (get(calendar, f"/feeds/private/not-a-token.ics{query}"), private, "no_such_feed"),
        (
            client.delete("/api/v1/feed-tokens/nope", headers={**bearer, **asked}),
            token,
            "no_such_feed_token",
        ),
    ):
        assert response.status_code == 404
        problem = response.get_json()
        assert (problem["title"], problem["detail"], problem["code"]) == (title, detail, code)


# -- resources known from the start, renamed, deactivated ------------------------------------


def test_a_resource_feed_exists_from_the_resources_creation_before_any_booking(calendar):
    assert get(calendar, "/feeds/resources/aula.ics").status_code == 404
    deliver(calendar, resource_envelope())
    first = get(calendar, "/feeds/resources/aula.ics")
    assert first.status_code == 200
    assert first.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert parse_both(first.data) == ([], [])
    parsed = icalendar.Calendar.from_ical(first.data)
    assert str(parsed["X-WR-CALNAME"]) == "Evenemang – Aula"
    assert restriction_errors(first.data.decode()) == []
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert (
        get(calendar, "/feeds/resources/aula.ics", headers={"If-None-Match": etag}).status_code
        == 304
    )
    dated = get(calendar, "/feeds/resources/aula.ics", headers={"If-Modified-Since": modified})
    assert dated.status_code == 304
    assert calendar.test_client().head("/feeds/resources/aula.ics").headers["ETag"] == etag
    deliver(calendar, approved(title="First booking"))
    [ical], _ = events_of(calendar, "/feeds/resources/aula.ics")
    assert str(ical["SUMMARY"]) == "First booking"


def test_a_renamed_resources_old_feed_address_redirects_to_the_new_one(calendar):
    deliver(calendar, resource_envelope(), approved(title="Lecture"))
    deliver(
        calendar,
        resource_envelope(revision=2, slug="aula-magna", name="Aula Magna", former_slugs=["aula"]),
    )
    moved = get(calendar, "/feeds/resources/aula.ics?lang=sv")
    assert moved.status_code == 301
    assert moved.headers["Location"] == "/feeds/resources/aula-magna.ics?lang=sv"
    assert "max-age=900" in moved.headers["Cache-Control"]
    assert (
        get(calendar, "/feeds/resources/aula.ics").headers["Location"].endswith("/aula-magna.ics")
    )
    followed = calendar.test_client().get(
        "/feeds/resources/aula.ics?lang=sv", follow_redirects=True
    )
    assert followed.status_code == 200
    [ical], _ = parse_both(followed.data)
    assert str(ical["SUMMARY"]) == "Lecture"
    parsed = icalendar.Calendar.from_ical(followed.data)
    assert str(parsed["X-WR-CALNAME"]) == "Evenemang – Aula Magna"
    html = get(calendar, "/?lang=en").get_data(as_text=True)
    assert ">Aula Magna</h3>" in html and "/calendar/feeds/resources/aula-magna.ics" in html
    assert "/calendar/feeds/resources/aula.ics" not in html and ">Aula</h3>" not in html


def test_a_deactivated_resource_keeps_serving_its_feed_but_is_not_offered(calendar):
    deliver(calendar, resource_envelope(), approved(title="Last lecture"))
    deliver(calendar, resource_envelope(revision=2, active=False))
    [ical], _ = events_of(calendar, "/feeds/resources/aula.ics")
    assert str(ical["SUMMARY"]) == "Last lecture"
    assert "resources/aula.ics" not in get(calendar, "/").get_data(as_text=True)


# -- feeds follow lines ----------------------------------------------------------------------

PHOTO = resource_ref("r-photo", "photographer", "Photographer", kind="service", location="")


def test_an_approved_line_of_a_pending_request_shows_in_its_resource_feed_only(calendar):
    deliver(
        calendar,
        envelope(
            BOOKING_LINES_DECIDED,
            revision=2,
            status="pending",
            title="Defence with a photographer",
            resources=[resource_ref(), PHOTO],
            lines=[line("r1", "approved"), line("r-photo", "pending")],
        ),
    )
    [ical], [vob] = events_of(calendar, "/feeds/resources/aula.ics")
    assert str(ical["SUMMARY"]) == "Defence with a photographer"
    assert str(ical["STATUS"]) == "TENTATIVE" == vob.status.value  # the request still waits
    assert events_of(calendar, "/feeds/resources/photographer.ics") == ([], [])
    assert events_of(calendar, "/feeds/public.ics") == ([], [])


def test_a_declined_line_leaves_its_resource_feed_as_cancelled_then_goes(calendar):
    both = approved(
        title="Defence",
        resources=[resource_ref(), PHOTO],
        lines=[line("r1", "approved"), line("r-photo", "approved")],
    )
    bid, uid = both["data"]["booking_id"], both["data"]["uid"]
    deliver(calendar, both)
    [shown], _ = events_of(calendar, "/feeds/resources/photographer.ics")
    assert str(shown["STATUS"]) == "CONFIRMED"
    deliver(
        calendar,
        envelope(
            BOOKING_LINES_DECIDED,
            booking_id=bid,
            revision=3,
            status="approved",
            title="Defence",
            resources=[resource_ref()],
            lines=[line("r1", "approved"), line("r-photo", "declined")],
            decided=["r-photo"],
            updated_at=datetime.now(UTC).isoformat(),
        ),
    )
    response = get(calendar, "/feeds/resources/photographer.ics")
    [ical], [vob] = parse_both(response.data)
    assert str(ical["STATUS"]) == "CANCELLED" == vob.status.value
    assert (str(ical["UID"]), int(ical["SEQUENCE"])) == (uid, 3)
    assert restriction_errors(response.data.decode()) == []
    for path in ("/feeds/resources/aula.ics", "/feeds/public.ics"):
        [kept], _ = events_of(calendar, path)
        assert (str(kept["STATUS"]), int(kept["SEQUENCE"])) == ("CONFIRMED", 3)
    later = datetime.now(UTC) + timedelta(days=31)
    publish(calendar, clock=lambda: later)
    assert events_of(calendar, "/feeds/resources/photographer.ics") == ([], [])


def test_a_slot_freed_notice_leaves_every_feed_as_it_was(calendar):
    held = envelope(
        BOOKING_LINES_DECIDED,
        revision=4,
        title="Waiting for the photographer",
        resources=[resource_ref(), PHOTO],
        lines=[line("r1", "approved"), line("r-photo", "pending")],
    )
    deliver(calendar, held)
    before = get(calendar, "/feeds/resources/aula.ics")
    notice = {**held["data"], "freed": ["r-photo"]}
    # a notice repeats the booking's revision; even one ahead of calendar's copy is no change
    ahead = {**notice, "revision": 5, "title": "Not a change"}
    deliver(calendar, *(make_envelope(BOOKING_SLOT_FREED, data) for data in (notice, ahead)))
    after = get(calendar, "/feeds/resources/aula.ics")
    assert after.data == before.data and after.headers["ETag"] == before.headers["ETag"]

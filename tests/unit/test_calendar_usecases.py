"""Calendar's use cases driven through the fake unit of work: events in, feeds out, tokens,
the subscribe page. No database; the rendering and the feed files are the real ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from services.calendar.commands import CreateFeedToken, FeedRequest, RevokeFeedToken
from services.calendar.domain import FeedKind
from services.calendar.persistence.fake import FakeUnitOfWork
from services.calendar.persistence.feed_files import FeedFile, FeedFiles
from services.calendar.usecases.events import apply_events
from services.calendar.usecases.feeds import FeedMoved, serve_feed
from services.calendar.usecases.publishing import FeedPublisher, FeedSettings
from services.calendar.usecases.subscribe import subscribe_page
from services.calendar.usecases.tokens import (
    create_feed_token,
    list_feed_tokens,
    revoke_feed_token,
)
from shared.events import (
    BOOKING_APPROVED,
    BOOKING_CANCELLED,
    BOOKING_CHANGED,
    BOOKING_LINES_DECIDED,
    BOOKING_SLOT_FREED,
    BOOKING_SUBMITTED,
    USER_CHANGED,
    Role,
    make_envelope,
    parse_event,
)
from tests.factories import envelope, line, resource_envelope, resource_ref

NOW = datetime(2030, 1, 15, 12, tzinfo=UTC)
STUDIO = {
    "id": "r9",
    "slug": "studio",
    "name": "Studio",
    "kind": "studio",
    "managers": ["manager@example.org"],
}


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def cache(uow, tmp_path) -> FeedPublisher:
    return publisher_at(uow, tmp_path, NOW, FeedSettings("Europe/Stockholm"))


def publisher_at(uow, root, now, settings=None) -> FeedPublisher:
    files = FeedFiles(root / now.isoformat(), "secret")
    return FeedPublisher(lambda: uow, files, settings or FeedSettings("UTC"), clock=lambda: now)


def served(uow, cache, request):
    """The feed's file after the publisher ran (as the worker does after each batch)."""
    cache.changed()
    return serve_feed(uow, cache, request)


STATUS_AFTER = {
    BOOKING_SUBMITTED: "pending",
    BOOKING_APPROVED: "approved",
    BOOKING_CHANGED: "approved",
    BOOKING_CANCELLED: "cancelled",
    BOOKING_LINES_DECIDED: "pending",
    BOOKING_SLOT_FREED: "pending",
}


def event(event_type=BOOKING_APPROVED, **overrides):
    overrides.setdefault("status", STATUS_AFTER[event_type])
    overrides.setdefault("revision", 2)
    return parse_event(envelope(event_type, **overrides))


def apply(uow, *events) -> int:
    return apply_events(uow, list(events), NOW)


def feed(uow, cache, kind=FeedKind.PUBLIC, key="", language="en"):
    """{title: status} of a feed, None when there is no such feed, or where it moved."""
    rendered = served(uow, cache, FeedRequest(kind, key, language))
    if rendered is None or isinstance(rendered, FeedMoved):
        return rendered
    calendar = icalendar.Calendar.from_ical(rendered.read_bytes())
    return {str(e["SUMMARY"]): str(e["STATUS"]) for e in calendar.walk("VEVENT")}


# -- events into feeds -----------------------------------------------------------------------


def test_an_approved_public_booking_is_in_the_public_and_its_resource_feed(uow, cache):
    assert apply(uow, event(title="Open lecture")) == 1
    assert feed(uow, cache) == {"Open lecture": "CONFIRMED"}
    assert feed(uow, cache, FeedKind.RESOURCE, "aula") == {"Open lecture": "CONFIRMED"}
    assert feed(uow, cache, FeedKind.RESOURCE, "nowhere") is None
    assert uow.commits == 1


@pytest.mark.parametrize(("language", "busy"), [("sv", "Bokad"), ("en", "Booked")])
def test_a_non_public_booking_is_only_busy_in_its_resource_feed_in_its_language(
    uow, cache, language, busy
):
    apply(uow, event(title="Board meeting", visibility="internal", language=language))
    assert feed(uow, cache) == {}
    rendered = served(uow, cache, FeedRequest(FeedKind.RESOURCE, "aula")).read_bytes()
    assert b"Board meeting" not in rendered and b"org@example.org" not in rendered
    assert feed(uow, cache, FeedKind.RESOURCE, "aula") == {busy: "CONFIRMED"}


def test_a_request_withdrawn_before_approval_never_reaches_the_shared_feeds(uow, cache):
    withdrawn, approved = "b-withdrawn", "b-approved"
    apply(uow, event(BOOKING_SUBMITTED, booking_id=withdrawn, title="Withdrawn", revision=1))
    apply(uow, event(BOOKING_APPROVED, booking_id=approved, title="Called off"))
    apply(
        uow,
        event(BOOKING_CANCELLED, booking_id=withdrawn, title="Withdrawn", revision=2),
        event(BOOKING_CANCELLED, booking_id=approved, title="Called off", revision=3),
    )
    assert feed(uow, cache) == {"Called off": "CANCELLED"}
    assert feed(uow, cache, FeedKind.RESOURCE, "aula") == {"Called off": "CANCELLED"}


def test_stale_and_repeated_revisions_change_nothing(uow, cache):
    newest = event(BOOKING_CHANGED, booking_id="b-1", revision=5, title="Newest")
    assert apply(uow, newest) == 1
    generation = uow.feed_state.current().generation
    older = event(BOOKING_CHANGED, booking_id="b-1", revision=4, title="Older")
    assert apply(uow, older, newest) == 0
    assert uow.feed_state.current().generation == generation  # the feeds did not move
    assert feed(uow, cache) == {"Newest": "CONFIRMED"}


def test_in_a_batch_the_newest_revision_wins_and_the_feed_follows(uow, cache):
    apply(uow, event(title="First", booking_id="b-1"))
    assert feed(uow, cache) == {"First": "CONFIRMED"}
    apply(
        uow,
        event(BOOKING_CHANGED, booking_id="b-1", revision=4, title="Fourth"),
        event(BOOKING_CHANGED, booking_id="b-1", revision=3, title="Third"),
        event(title="Other", booking_id="b-2"),
    )
    assert feed(uow, cache) == {"Fourth": "CONFIRMED", "Other": "CONFIRMED"}


def test_a_cancellation_leaves_the_feeds_after_30_days(uow, tmp_path):
    apply(uow, event(booking_id="b-1"))
    apply(uow, event(BOOKING_CANCELLED, booking_id="b-1", revision=3, updated_at=NOW.isoformat()))
    for days, expected in ((29, {"Thesis defence": "CANCELLED"}), (31, {})):
        cache = publisher_at(uow, tmp_path, NOW + timedelta(days=days))
        assert feed(uow, cache) == expected


def test_a_feed_is_written_once_per_change_and_named_in_the_asked_language(uow, cache):
    apply(uow, event(title="Lecture"))
    path = served(uow, cache, FeedRequest(FeedKind.PUBLIC))
    first = FeedFile.at(path)
    assert cache.changed() == 0 and cache.publish_all() == 0  # nothing new: nothing written
    assert served(uow, cache, FeedRequest(FeedKind.PUBLIC)) == path and FeedFile.at(path) == first
    swedish = served(uow, cache, FeedRequest(FeedKind.PUBLIC, language="sv")).read_bytes()
    assert b"X-WR-CALNAME:Evenemang \xe2\x80\x93 publika evenemang" in swedish
    assert b"X-WR-CALNAME:Evenemang \xe2\x80\x93 public events" in path.read_bytes()
    apply(uow, event(title="Another", booking_id="b-2"))
    again = served(uow, cache, FeedRequest(FeedKind.PUBLIC))
    assert FeedFile.at(again).etag != first.etag and b"Another" in again.read_bytes()


# -- private feeds and their tokens ----------------------------------------------------------


def new_token(uow, email="org@example.org", role=Role.ORGANISER, user_id=None, label=""):
    command = CreateFeedToken(user_id or email, email, role, label)
    return create_feed_token(uow, command)


def user_changed(user_id, email, role="organiser", active=True, revision=2):
    data = dict(user_id=user_id, email=email, role=role, active=active, revision=revision)
    return parse_event(make_envelope(USER_CHANGED, data))


def test_a_private_feed_shows_my_bookings_and_for_infra_the_queue(uow, cache):
    apply(
        uow,
        event(BOOKING_SUBMITTED, booking_id="b-1", title="Mine pending", revision=1),
        event(BOOKING_CANCELLED, booking_id="b-2", title="Mine cancelled", revision=3),
        event(
            BOOKING_SUBMITTED,
            booking_id="b-3",
            title="Studio request",
            revision=1,
            resources=[STUDIO],
            organiser={"email": "other@example.org", "name": "Other"},
        ),
    )
    mine = new_token(uow)
    assert feed(uow, cache, FeedKind.PRIVATE, mine) == {
        "Mine pending": "TENTATIVE",
        "Mine cancelled": "CANCELLED",
    }
    manager = new_token(uow, "manager@example.org")
    assert feed(uow, cache, FeedKind.PRIVATE, manager) == {"Studio request": "TENTATIVE"}
    infra = new_token(uow, "infra@example.org", Role.INFRA)
    assert feed(uow, cache, FeedKind.PRIVATE, infra) == {
        "Mine pending": "TENTATIVE",
        "Studio request": "TENTATIVE",
    }


def test_a_token_follows_its_users_role_and_dies_with_deactivation(uow, cache):
    apply(uow, event(BOOKING_SUBMITTED, title="Queued", revision=1, organiser={"email": "x@y.org"}))
    token = new_token(uow, "olga@example.org", user_id="u-olga")
    assert feed(uow, cache, FeedKind.PRIVATE, token) == {}
    apply(uow, user_changed("u-olga", "olga@example.org", role="infra"))
    assert feed(uow, cache, FeedKind.PRIVATE, token) == {"Queued": "TENTATIVE"}
    apply(uow, user_changed("u-olga", "olga@example.org", active=False, revision=3))
    assert feed(uow, cache, FeedKind.PRIVATE, token) is None
    assert feed(uow, cache, FeedKind.PRIVATE, "x" * 101) is None


def test_tokens_are_listed_for_their_owner_and_revoked_by_them_or_an_admin(uow, cache):
    first = new_token(uow, user_id="u-1", label="phone")
    second = new_token(uow, user_id="u-1", label="laptop")
    assert [t.label for t in list_feed_tokens(uow, "u-1")] == ["phone", "laptop"]
    assert not revoke_feed_token(uow, RevokeFeedToken(first, "u-2"))
    assert revoke_feed_token(uow, RevokeFeedToken(first, "u-1"))
    assert not revoke_feed_token(uow, RevokeFeedToken(first, "u-1"))  # once
    assert revoke_feed_token(uow, RevokeFeedToken(second, "u-admin", is_admin=True))
    assert list_feed_tokens(uow, "u-1") == []
    assert feed(uow, cache, FeedKind.PRIVATE, first) is None
    assert all(first not in stored for stored in uow.tokens.tokens)  # only hashes are kept


def test_the_subscribe_page_lists_resources_by_kind_and_name_and_my_live_links(uow):
    apply(
        uow,
        event(booking_id="b-1", resources=[STUDIO]),
        event(booking_id="b-2"),
        event(
            booking_id="b-3",
            resources=[{"id": "r2", "slug": "hall-b", "name": "Hall B", "kind": "venue"}],
        ),
    )
    new_token(uow, user_id="u-1", label="phone")
    new_token(uow, user_id="u-2", label="not mine")
    page = subscribe_page(uow, "u-1")
    assert [(r.kind.value, r.name) for r in page.resources] == [
        ("studio", "Studio"),
        ("venue", "Aula"),
        ("venue", "Hall B"),
    ]
    assert [t.label for t in page.tokens] == ["phone"]
    assert subscribe_page(uow, None).tokens == ()


# -- resources known from their own events ---------------------------------------------------


def resource_changed(**overrides):
    return parse_event(resource_envelope(**overrides))


def feed_name(uow, cache, slug, language="en") -> str:
    rendered = served(uow, cache, FeedRequest(FeedKind.RESOURCE, slug, language))
    return str(icalendar.Calendar.from_ical(rendered.read_bytes())["X-WR-CALNAME"])


def test_a_resource_has_its_feed_from_its_first_event_before_any_booking(uow, cache):
    assert feed(uow, cache, FeedKind.RESOURCE, "aula") is None
    assert apply(uow, resource_changed()) == 0  # no booking changed
    assert feed(uow, cache, FeedKind.RESOURCE, "aula") == {}
    assert feed_name(uow, cache, "aula") == "Evenemang – Aula"
    assert [r.slug for r in subscribe_page(uow, None).resources] == ["aula"]


def test_a_renamed_resource_keeps_its_bookings_and_its_old_slug_moves_to_the_new(uow, cache):
    apply(uow, resource_changed(), event(title="Lecture"))
    generation = uow.feed_state.current().generation
    renamed = dict(revision=2, slug="aula-magna", name="Aula Magna", former_slugs=["aula"])
    apply(uow, resource_changed(**renamed))
    assert uow.feed_state.current().generation == generation + 1  # cached feeds re-render
    assert feed(uow, cache, FeedKind.RESOURCE, "aula") == FeedMoved("aula-magna")
    assert feed(uow, cache, FeedKind.RESOURCE, "aula-magna") == {"Lecture": "CONFIRMED"}
    assert feed_name(uow, cache, "aula-magna") == "Evenemang – Aula Magna"
    page = subscribe_page(uow, None)
    assert [(r.slug, r.name) for r in page.resources] == [("aula-magna", "Aula Magna")]


def test_resource_events_are_gated_by_revision_and_outrank_older_booking_snapshots(uow, cache):
    apply(uow, resource_changed(revision=3, slug="aula-magna", name="Aula Magna"))
    apply(uow, resource_changed(revision=2, slug="aula-2", name="Second name"))  # stale
    apply(uow, event(title="Booked before the rename"))  # names the resource as "aula"
    assert feed(uow, cache, FeedKind.RESOURCE, "aula") is None
    assert feed(uow, cache, FeedKind.RESOURCE, "aula-magna") == {
        "Booked before the rename": "CONFIRMED"
    }
    assert [r.name for r in subscribe_page(uow, None).resources] == ["Aula Magna"]


def test_while_two_renames_are_on_their_way_the_resource_changed_last_holds_the_slug(uow, cache):
    # Hall B took the slug "aula" after Aula left it; Aula's rename arrives last
    earlier = datetime(2030, 1, 10, tzinfo=UTC)
    hall = resource_envelope(resource_id="r2", revision=2, slug="aula", name="Hall B")
    hall["occurred_at"] = (earlier + timedelta(minutes=1)).isoformat()
    aula = resource_envelope(revision=2, slug="aula-magna", name="Aula Magna")
    aula["occurred_at"] = earlier.isoformat()
    apply(uow, resource_changed())  # Aula as "aula"
    apply(uow, parse_event(hall))
    assert feed_name(uow, cache, "aula") == "Evenemang – Hall B"
    apply(uow, parse_event(aula))
    assert feed_name(uow, cache, "aula") == "Evenemang – Hall B"
    assert feed_name(uow, cache, "aula-magna") == "Evenemang – Aula Magna"


def test_a_deactivated_resource_keeps_its_feed_but_is_no_longer_offered(uow, cache):
    apply(uow, resource_changed(), event(title="Last lecture"))
    apply(uow, resource_changed(revision=2, active=False))
    assert feed(uow, cache, FeedKind.RESOURCE, "aula") == {"Last lecture": "CONFIRMED"}
    assert subscribe_page(uow, None).resources == ()


# -- feeds follow lines ----------------------------------------------------------------------

PHOTO = resource_ref("r-photo", "photographer", "Photographer", kind="service")
BOTH = [resource_ref(), PHOTO]


def test_an_approved_line_shows_in_its_resource_feed_while_the_request_is_pending(uow, cache):
    apply(
        uow,
        event(
            BOOKING_LINES_DECIDED,
            title="Defence",
            resources=BOTH,
            lines=[line("r1", "approved"), line("r-photo", "pending")],
        ),
    )
    assert feed(uow, cache, FeedKind.RESOURCE, "aula") == {"Defence": "TENTATIVE"}
    assert feed(uow, cache, FeedKind.RESOURCE, "photographer") == {}
    assert feed(uow, cache) == {}  # the public feed: approved bookings only


def test_a_line_declined_after_its_approval_is_cancelled_in_its_feed_only(uow, cache, tmp_path):
    both_approved = [line("r1", "approved"), line("r-photo", "approved")]
    apply(uow, event(booking_id="b-1", title="Defence", resources=BOTH, lines=both_approved))
    assert feed(uow, cache, FeedKind.RESOURCE, "photographer") == {"Defence": "CONFIRMED"}
    apply(
        uow,
        event(
            BOOKING_LINES_DECIDED,
            booking_id="b-1",
            revision=3,
            status="approved",
            title="Defence",
            resources=[resource_ref()],
            lines=[line("r1", "approved"), line("r-photo", "declined")],
            updated_at=NOW.isoformat(),
        ),
    )
    assert feed(uow, cache, FeedKind.RESOURCE, "photographer") == {"Defence": "CANCELLED"}
    assert feed(uow, cache, FeedKind.RESOURCE, "aula") == {"Defence": "CONFIRMED"}
    assert feed(uow, cache) == {"Defence": "CONFIRMED"}
    later = NOW + timedelta(days=31)
    cache = publisher_at(uow, tmp_path, later)
    assert feed(uow, cache, FeedKind.RESOURCE, "photographer") == {}


def test_a_slot_freed_notice_changes_nothing(uow, cache):
    apply(uow, event(BOOKING_SUBMITTED, booking_id="b-1", title="Waiting", revision=3))
    generation = uow.feed_state.current().generation
    notice = event(BOOKING_SLOT_FREED, booking_id="b-1", title="Waiting", revision=3, freed=["r1"])
    assert apply(uow, notice) == 0
    assert uow.feed_state.current().generation == generation
    # even one that arrives before the change it follows is no change of calendar's
    ahead = event(BOOKING_SLOT_FREED, booking_id="b-2", title="Ahead", revision=4, freed=["r1"])
    assert apply(uow, ahead) == 0 and "b-2" not in uow.bookings.snapshots

"""Calendar's rules on their own: which booking goes into which feed and how, how long a
cancelled one stays, what feeds are called, whose a token is. No I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.calendar.domain import (
    PUBLIC_FEED,
    EntryFacts,
    FeedOwner,
    FeedToken,
    RenderedEntry,
    ResourceFeed,
    Retention,
    UserStanding,
    entry_facts,
    feed_vevents,
    feed_wording,
    may_revoke,
    offered,
    owner_of,
    private_feed,
    resource_feed,
)
from shared.events import Kind, Role, Status, Visibility, load_snapshot
from shared.messages import text
from tests.factories import line, resource_ref, snapshot

NOW = datetime(2030, 3, 1, 12, tzinfo=UTC)
ORGANISER = "org@example.org"


def entry(
    booking_id: str = "b-1",
    status: Status = Status.APPROVED,
    visibility: Visibility = Visibility.PUBLIC,
    *,
    organiser: str = ORGANISER,
    listed: tuple[str, ...] | None = None,
    withdrawn: tuple[tuple[str, datetime], ...] = (),
    deciders: tuple[str, ...] = (),
    last_end: datetime = NOW + timedelta(days=3),
    cancelled_at: datetime | None = None,
    published: bool | None = None,
) -> RenderedEntry:
    """An entry whose VEVENTs say which they are; by default an approved booking of Aula."""
    if published is None:
        published = status is Status.APPROVED
    if listed is None:
        listed = ("aula",) if status is Status.APPROVED else ()
    return RenderedEntry(
        booking_id=booking_id,
        status=status,
        visibility=visibility,
        organiser_email=organiser,
        deciders=frozenset(deciders),
        last_end=last_end,
        cancelled_at=cancelled_at,
        published=published,
        listed=frozenset(listed),
        withdrawn=withdrawn,
        revision=1,
        full=f"full:{booking_id}",
        busy=f"busy:{booking_id}",
        withdrawn_full=f"called-off:{booking_id}",
        withdrawn_busy=f"called-off-busy:{booking_id}",
    )


DEFAULT_RETENTION = Retention()  # 90 days back, a cancellation for 30 days


def shown(scope, *entries, now=NOW, retention=DEFAULT_RETENTION):
    return feed_vevents(scope, entries, now, retention)


def owner(role: Role = Role.ORGANISER, email: str = ORGANISER) -> FeedOwner:
    return FeedOwner("u-1", email, role)


# -- the public feed ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "visibility", "published", "expected"),
    [
        (Status.APPROVED, Visibility.PUBLIC, True, ["full:b-1"]),
        (Status.CANCELLED, Visibility.PUBLIC, True, ["full:b-1"]),  # cancelled once approved
        (Status.CANCELLED, Visibility.PUBLIC, False, []),  # withdrawn before approval
        (Status.PENDING, Visibility.PUBLIC, False, []),
        (Status.REJECTED, Visibility.PUBLIC, False, []),
        (Status.APPROVED, Visibility.INTERNAL, True, []),
        (Status.APPROVED, Visibility.PRIVATE, True, []),
    ],
)
def test_the_public_feed_holds_published_public_bookings_only(
    status, visibility, published, expected
):
    assert shown(PUBLIC_FEED, entry(status=status, visibility=visibility, published=published)) == (
        expected
    )


# -- resource feeds --------------------------------------------------------------------------


def test_a_resource_feed_shows_public_bookings_in_full_and_others_only_as_busy():
    aula = resource_feed("aula", "Aula")
    called_off = (("aula", NOW - timedelta(days=1)),)
    entries = [
        entry("b-1", visibility=Visibility.PUBLIC),
        entry("b-2", visibility=Visibility.INTERNAL),
        entry("b-3", visibility=Visibility.PRIVATE),
        entry("b-4", listed=("studio",)),
        entry("b-5", Status.PENDING),
        entry("b-6", Status.CANCELLED, Visibility.INTERNAL, withdrawn=called_off, published=True),
        entry("b-7", Status.CANCELLED, published=False),
    ]
    assert shown(aula, *entries) == ["full:b-1", "busy:b-2", "busy:b-3", "busy:b-6"]


# -- private feeds ---------------------------------------------------------------------------


def test_a_private_feed_holds_my_bookings_in_every_state():
    mine = [
        entry("b-1", Status.PENDING, Visibility.PRIVATE),
        entry("b-2", Status.APPROVED),
        entry("b-3", Status.REJECTED, cancelled_at=NOW),
        entry("b-4", Status.CANCELLED, cancelled_at=NOW),
    ]
    others = [entry("b-5", Status.APPROVED, organiser="other@example.org")]
    assert shown(private_feed(owner()), *mine, *others) == [
        "full:b-1",
        "full:b-2",
        "full:b-3",
        "full:b-4",
    ]


def test_infra_and_admin_also_see_every_pending_request_and_managers_those_they_decide():
    pending_studio = entry("b-1", Status.PENDING, organiser="x@example.org", deciders=("m@x.org",))
    pending_aula = entry("b-2", Status.PENDING, organiser="x@example.org")
    approved_studio = entry("b-3", organiser="x@example.org", deciders=("m@x.org",))
    everything = (pending_studio, pending_aula, approved_studio)
    for role in (Role.INFRA, Role.ADMIN):
        infra = private_feed(owner(role, "infra@example.org"))
        assert shown(infra, *everything) == ["full:b-1", "full:b-2"]
    manager = private_feed(owner(email="M@x.org"))
    assert shown(manager, *everything) == ["full:b-1"]
    assert shown(private_feed(owner(email="nobody@example.org")), *everything) == []


def test_a_private_feed_is_cached_per_owner_and_role():
    assert private_feed(owner()).key != private_feed(owner(Role.INFRA)).key
    assert private_feed(owner()).key == private_feed(owner()).key
    assert resource_feed("aula", "Aula").key != PUBLIC_FEED.key


# -- how long feeds keep a booking -----------------------------------------------------------


@pytest.mark.parametrize(
    ("ended_days_ago", "cancelled_days_ago", "kept"),
    [
        (-3, None, True),
        (89, None, True),
        (91, None, False),  # out of the 90-day window
        (-3, 29, True),  # cancelled: shows as CANCELLED for 30 days
        (-3, 30, False),
        (-3, 31, False),
    ],
)
def test_feeds_keep_90_days_back_and_a_cancellation_for_30_days(
    ended_days_ago, cancelled_days_ago, kept
):
    cancelled_at = None
    if cancelled_days_ago is not None:
        cancelled_at = NOW - timedelta(days=cancelled_days_ago)
    held = entry(
        status=Status.CANCELLED if cancelled_at else Status.APPROVED,
        published=True,
        last_end=NOW - timedelta(days=ended_days_ago),
        cancelled_at=cancelled_at,
    )
    assert shown(PUBLIC_FEED, held) == (["full:b-1"] if kept else [])
    assert shown(PUBLIC_FEED, held, retention=Retention(past_days=365, cancelled_days=365)) == [
        "full:b-1"
    ]


# -- an entry's facts from a snapshot --------------------------------------------------------


def facts_after(previous: EntryFacts | None, **overrides) -> EntryFacts:
    return entry_facts(load_snapshot(snapshot(booking_id="b-1", **overrides)), previous)


@pytest.mark.parametrize(
    ("before", "now", "published"),
    [
        (None, Status.APPROVED, True),
        (None, Status.PENDING, False),
        (None, Status.CANCELLED, False),  # never seen approved: no one was shown it
        (Status.PENDING, Status.CANCELLED, False),  # a request withdrawn
        (Status.APPROVED, Status.CANCELLED, True),  # subscribers must see it go
        (Status.APPROVED, Status.PENDING, False),  # moved: waits for a new decision
        (Status.PENDING, Status.REJECTED, False),
        (Status.APPROVED, Status.REJECTED, True),  # its last approved line declined
    ],
)
def test_a_booking_is_published_when_approved_and_stays_so_when_cancelled(before, now, published):
    previous = facts_after(None, status=before.value) if before else None
    assert facts_after(previous, status=now.value).published is published


def test_a_cancellation_is_dated_once_and_an_entry_knows_its_people_and_end():
    first = datetime(2030, 2, 1, tzinfo=UTC)
    cancelled = facts_after(
        facts_after(None, status="approved"), status="cancelled", updated_at=first.isoformat()
    )
    assert cancelled.cancelled_at == first
    later = (first + timedelta(days=9)).isoformat()
    again = facts_after(cancelled, status="cancelled", updated_at=later)
    assert again.cancelled_at == first and again.published
    start = datetime(2030, 3, 4, 9, tzinfo=UTC)
    series = [
        {
            "n": n,
            "start": (start + timedelta(weeks=n)).isoformat(),
            "end": (start + timedelta(weeks=n, hours=1)).isoformat(),
            "status": "active",
        }
        for n in range(3)
    ]
    facts = facts_after(
        None,
        organiser={"email": "Olga@Example.org", "name": "Olga"},
        resources=[
            {
                "id": "r",
                "slug": "studio",
                "name": "Studio",
                "kind": "studio",
                "managers": ["M@x.org"],
            }
        ],
        occurrences=series,
        start=start,
        end=start + timedelta(hours=1),
    )
    assert facts.organiser_email == "olga@example.org"
    assert facts.deciders == {"m@x.org"} and facts.listed == set()  # pending: held nowhere
    assert facts.last_end == start + timedelta(weeks=2, hours=1)
    assert facts.cancelled_at is None


# -- lines: which resource feeds hold a booking ----------------------------------------------

AULA = resource_ref("aula", "aula", "Aula")
PHOTO = resource_ref("photo", "photographer", "Photographer", kind="service")
DECIDED = datetime(2030, 2, 10, 12, tzinfo=UTC)


def with_lines(previous: EntryFacts | None, status: str, *lines, **overrides) -> EntryFacts:
    """The facts of a venue + photographer request whose lines stand as given (a declined
    line's resource is no longer among the booking's resources)."""
    live = {each["resource_id"] for each in lines if each["status"] != "declined"}
    overrides.setdefault("updated_at", DECIDED.isoformat())
    resources = [r for r in (AULA, PHOTO) if r["id"] in live]
    return facts_after(previous, status=status, resources=resources, lines=list(lines), **overrides)


def in_feeds(facts: EntryFacts, now: datetime = NOW) -> dict[str, list[str]]:
    """What the public feed and each resource feed show of the booking."""
    rendered = RenderedEntry.of(
        facts, revision=1, full="full", busy="busy", withdrawn_full="called-off"
    )
    scopes = {"public": PUBLIC_FEED, "aula": resource_feed("aula", "Aula")}
    scopes["photo"] = resource_feed("photo", "Photographer")
    return {name: shown(scope, rendered, now=now) for name, scope in scopes.items()}


def test_an_approved_line_is_in_its_resources_feed_while_another_still_waits():
    facts = with_lines(None, "pending", line("aula", "approved"), line("photo", "pending"))
    assert facts.listed == {"aula"} and not facts.published
    assert in_feeds(facts) == {"public": [], "aula": ["full"], "photo": []}
    approved = with_lines(facts, "approved", line("aula", "approved"), line("photo", "approved"))
    assert in_feeds(approved) == {"public": ["full"], "aula": ["full"], "photo": ["full"]}


def test_a_line_declined_after_its_approval_is_called_off_in_its_feed_for_30_days():
    approved = with_lines(None, "approved", line("aula", "approved"), line("photo", "approved"))
    declined = with_lines(approved, "approved", line("aula", "approved"), line("photo", "declined"))
    assert declined.listed == {"aula"}
    assert declined.withdrawn == (("photo", DECIDED),)
    assert in_feeds(declined) == {"public": ["full"], "aula": ["full"], "photo": ["called-off"]}
    later = in_feeds(declined, now=DECIDED + timedelta(days=31))
    assert later == {"public": ["full"], "aula": ["full"], "photo": []}
    # a later change keeps the date it was called off
    moved_on = with_lines(
        declined, "approved", line("aula", "approved"), line("photo", "declined"),
        updated_at=(DECIDED + timedelta(days=5)).isoformat(),
    )  # fmt: skip
    assert moved_on.withdrawn == (("photo", DECIDED),)


def test_a_line_never_shown_leaves_nothing_behind_and_one_approved_again_is_listed_again():
    pending = with_lines(None, "pending", line("aula", "pending"), line("photo", "pending"))
    declined = with_lines(pending, "pending", line("aula", "pending"), line("photo", "declined"))
    assert declined.listed == set() and declined.withdrawn == ()
    assert in_feeds(declined) == {"public": [], "aula": [], "photo": []}
    shown_once = with_lines(None, "approved", line("aula", "approved"))
    removed = with_lines(shown_once, "approved", line("photo", "approved"))  # aula taken out
    assert removed.withdrawn == (("aula", DECIDED),)
    back = with_lines(removed, "approved", line("aula", "approved"), line("photo", "approved"))
    assert back.listed == {"aula", "photo"} and back.withdrawn == ()


def test_a_moved_booking_leaves_its_resource_feeds_quietly_until_approved_again():
    approved = with_lines(None, "approved", line("aula", "approved"), line("photo", "approved"))
    moved = with_lines(approved, "pending", line("aula", "pending"), line("photo", "approved"))
    assert moved.listed == {"photo"} and moved.withdrawn == ()
    assert in_feeds(moved) == {"public": [], "aula": [], "photo": ["full"]}


def test_a_cancelled_booking_is_called_off_where_it_was_listed():
    held = with_lines(None, "pending", line("aula", "approved"), line("photo", "pending"))
    cancelled = with_lines(held, "cancelled", line("aula", "approved"), line("photo", "pending"))
    assert cancelled.withdrawn == (("aula", DECIDED),) and cancelled.cancelled_at == DECIDED
    # the booking's own VEVENT says CANCELLED now
    assert in_feeds(cancelled) == {"public": [], "aula": ["full"], "photo": []}


def test_a_snapshot_from_before_lines_is_held_by_all_its_resources_once_approved():
    assert facts_after(None, status="approved").listed == {"r1"}
    assert facts_after(None, status="pending").listed == set()
    cancelled = facts_after(facts_after(None, status="approved"), status="cancelled")
    assert [rid for rid, _ in cancelled.withdrawn] == ["r1"]


def test_the_deciders_of_a_request_are_those_of_its_waiting_lines():
    facts = with_lines(
        None,
        "pending",
        line("aula", "pending", deciders=["Infra-Team@x.org", "m@x.org"]),
        line("photo", "approved", deciders=["photo@x.org"]),
    )
    assert facts.deciders == {"infra-team@x.org", "m@x.org"}


def test_deactivated_resources_keep_their_feed_but_are_not_offered_anew():
    active = ResourceFeed("r1", "aula", "Aula", Kind.VENUE)
    retired = ResourceFeed("r2", "old-hall", "Old hall", Kind.VENUE, active=False)
    assert offered([active, retired]) == [active]
    assert resource_feed("r1", "Aula").key == resource_feed("r1", "Aula Magna").key  # by id


# -- names of feeds, in both languages -------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "sv", "en"),
    [
        (
            PUBLIC_FEED,
            ("Evenemang – publika evenemang", "Godkända publika evenemang"),
            ("Evenemang – public events", "Approved public events"),
        ),
        (
            resource_feed("aula", "Aula"),
            ("Evenemang – Aula", "Godkända bokningar av Aula"),
            ("Evenemang – Aula", "Approved bookings of Aula"),
        ),
        (
            private_feed(owner()),
            (
                "Evenemang – mina bokningar (org@example.org)",
                "Mina bokningar i alla lägen, och förfrågningar som jag beslutar om",
            ),
            (
                "Evenemang – my bookings (org@example.org)",
                "My bookings in every state, and requests I decide on",
            ),
        ),
    ],
)
def test_feeds_are_named_in_both_languages(scope, sv, en):
    assert tuple(text(m, "sv") for m in feed_wording(scope)) == sv
    assert tuple(text(m, "en") for m in feed_wording(scope)) == en


# -- tokens ----------------------------------------------------------------------------------


def token(**overrides) -> FeedToken:
    values = dict(
        token_hash="h",
        user_id="u-1",
        email=ORGANISER,
        role=Role.ORGANISER,
        label="",
        created_at=NOW,
    )
    return FeedToken(**{**values, **overrides})


def test_a_token_opens_its_owners_feed_with_their_current_role():
    assert owner_of(token(), None) == FeedOwner("u-1", ORGANISER, Role.ORGANISER)
    assert owner_of(token(), UserStanding("u-1", Role.INFRA, True)).role is Role.INFRA
    assert owner_of(token(), UserStanding("u-1", Role.INFRA, False)) is None  # deactivated
    assert owner_of(token(revoked_at=NOW), None) is None
    assert owner_of(None, None) is None


def test_a_token_is_revoked_by_its_owner_or_an_admin_once():
    assert may_revoke(token(), "u-1", is_admin=False)
    assert may_revoke(token(), "u-2", is_admin=True)
    assert not may_revoke(token(), "u-2", is_admin=False)
    assert not may_revoke(token(revoked_at=NOW), "u-1", is_admin=False)
    assert not may_revoke(None, "u-1", is_admin=True)

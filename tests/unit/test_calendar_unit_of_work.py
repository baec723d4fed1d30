"""Calendar's SQLAlchemy unit of work on a real SQLite file: nothing is kept unless the use
case commits, an error rolls back and propagates, and one object serves one transaction
after another; and its resource repository answers as the fake one does."""

from datetime import UTC, datetime, timedelta

import pytest

from services.calendar.domain import FeedToken, ResourceFeed
from services.calendar.persistence.fake import FakeUnitOfWork
from services.calendar.persistence.models import Base
from services.calendar.persistence.unit_of_work import SqlAlchemyUnitOfWork
from shared.db import Database
from shared.events import Event, Kind, ResourceRef, Role, parse_event
from tests.factories import resource_envelope


@pytest.fixture
def uow(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'calendar.db'}")
    db.create_all(Base)
    yield SqlAlchemyUnitOfWork(db)
    db.dispose()


def token(name: str) -> FeedToken:
    created = datetime(2030, 1, 1, tzinfo=UTC)
    return FeedToken(name, "u-1", "org@example.org", Role.ORGANISER, name, created)


def stored(uow) -> list[str]:
    with uow.reading():
        return [t.token_hash for t in uow.tokens.live_of("u-1")]


def test_only_what_is_committed_is_kept(uow):
    with uow:
        uow.tokens.add(token("dropped"))
    with uow:
        uow.tokens.add(token("kept"))
        uow.commit()
    assert stored(uow) == ["kept"]


def test_an_error_rolls_back_and_is_raised(uow):
    with pytest.raises(RuntimeError), uow:
        uow.tokens.add(token("half-done"))
        uow.session.flush()
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError), uow.reading():
        raise RuntimeError("boom while reading")
    assert stored(uow) == []
    with uow:  # the object is usable again
        uow.tokens.add(token("after"))
        uow.commit()
    assert stored(uow) == ["after"]


# -- the resource repository: SQLite and the fake answer alike --------------------------------


@pytest.fixture(params=["sql", "fake"])
def either(request, tmp_path):
    if request.param == "fake":
        yield FakeUnitOfWork()
        return
    db = Database(f"sqlite:///{tmp_path / 'calendar.db'}")
    db.create_all(Base)
    yield SqlAlchemyUnitOfWork(db)
    db.dispose()


def changed(minutes: int = 0, **overrides) -> Event:
    event = resource_envelope(**overrides)
    event["occurred_at"] = (
        datetime(2030, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    ).isoformat()
    return parse_event(event)


def resources(uow, *slugs) -> dict[str, tuple[str, str] | None]:
    """{asked slug: (current slug, name)} as the repository finds them."""
    with uow.reading():
        found = {slug: uow.resources.get(slug) for slug in slugs}
    return {slug: (r.slug, r.name) if r else None for slug, r in found.items()}


def test_resource_events_have_the_last_word_over_what_bookings_say(either):
    aula = ResourceRef("r1", "aula", "Aula", Kind.VENUE)
    with either:
        either.resources.remember([aula])
        either.commit()
    assert resources(either, "aula") == {"aula": ("aula", "Aula")}
    renamed = changed(revision=2, slug="aula-magna", name="Aula Magna", former_slugs=["aula"])
    with either:
        assert either.resources.store_newest([renamed, changed(revision=1)]) == ["r1"]
        assert either.resources.store_newest([changed(revision=2, name="Repeated")]) == []
        either.resources.remember([aula])  # a booking's snapshot from before the rename
        either.commit()
    assert resources(either, "aula", "aula-magna", "nowhere") == {
        "aula": ("aula-magna", "Aula Magna"),  # found by its former slug
        "aula-magna": ("aula-magna", "Aula Magna"),
        "nowhere": None,
    }
    with either.reading():
        [listed] = either.resources.listed()
    assert listed == ResourceFeed("r1", "aula-magna", "Aula Magna", Kind.VENUE, "Building A")


def test_the_resource_changed_last_holds_a_slug_two_claim(either):
    hall = changed(minutes=5, resource_id="r2", revision=2, slug="aula", name="Hall B")
    with either:
        either.resources.store_newest([changed(name="Aula")])
        either.resources.store_newest([hall])  # took "aula" after Aula left it
        either.commit()
    assert resources(either, "aula") == {"aula": ("aula", "Hall B")}
    with either:  # Aula's own rename, on its way all along, arrives
        either.resources.store_newest([changed(minutes=1, revision=2, slug="aula-magna")])
        either.commit()
    assert resources(either, "aula", "aula-magna") == {
        "aula": ("aula", "Hall B"),
        "aula-magna": ("aula-magna", "Aula"),
    }

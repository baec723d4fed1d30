"""Calendar's SQLAlchemy unit of work on a real SQLite file: nothing is kept unless the use
case commits, an error rolls back and propagates, and one object serves one transaction
after another."""

from datetime import UTC, datetime

import pytest

from services.calendar.domain import FeedToken
from services.calendar.persistence.models import Base
from services.calendar.persistence.unit_of_work import SqlAlchemyUnitOfWork
from shared.db import Database
from shared.events import Role


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

"""What calendar's entry points share: a unit of work per request, the feed publisher, the
command a logged-in user's request makes, and the addresses of feeds."""

from __future__ import annotations

from flask import current_app

from services.calendar.commands import CreateFeedToken
from services.calendar.domain import FeedKind
from services.calendar.persistence.unit_of_work import SqlAlchemyUnitOfWork, UnitOfWork
from services.calendar.usecases.publishing import FeedPublisher
from shared.auth import Principal
from shared.events import Role
from shared.web import app_config, app_db


def unit_of_work() -> UnitOfWork:
    return SqlAlchemyUnitOfWork(app_db())


def feed_publisher() -> FeedPublisher:
    return current_app.extensions["feed_publisher"]


def new_token(
    principal: Principal, label: str, kind: FeedKind = FeedKind.PRIVATE
) -> CreateFeedToken:
    return CreateFeedToken(principal.user_id, principal.email, Role(principal.role), label, kind)


def calendar_url() -> str:
    return app_config().base_url.rstrip("/") + "/calendar"


def private_feed_url(token: str, kind: FeedKind = FeedKind.PRIVATE) -> str:
    """A personal feed's address: ``/feeds/private/`` or ``/feeds/assignments/``."""
    return f"{calendar_url()}/feeds/{kind.value}/{token}.ics"


def webcal(url: str) -> str:
    """The same address for calendar apps that subscribe on a click."""
    return "webcal://" + url.split("://", 1)[1]

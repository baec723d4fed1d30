"""The subscribe page's data, read in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from services.calendar.domain import ResourceFeed, offered
from services.calendar.persistence.unit_of_work import UnitOfWork
from services.calendar.usecases.tokens import FeedTokenView


@dataclass(frozen=True, slots=True)
class SubscribePage:
    """Every resource feed offered, and the viewer's live private feed links."""

    resources: tuple[ResourceFeed, ...]
    tokens: tuple[FeedTokenView, ...]


def subscribe_page(uow: UnitOfWork, viewer_id: str | None) -> SubscribePage:
    """The feeds to offer: the active resources under their current names (by kind, then
    name), and for a logged-in viewer their live private links."""
    with uow.reading():
        resources = tuple(offered(uow.resources.listed()))
        live = uow.tokens.live_of(viewer_id) if viewer_id else []
        return SubscribePage(resources, tuple(FeedTokenView.of(token) for token in live))

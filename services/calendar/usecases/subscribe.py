"""The subscribe page's data, read in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from services.calendar.domain import FeedKind, ResourceFeed, offered
from services.calendar.persistence.unit_of_work import UnitOfWork
from services.calendar.usecases.tokens import FeedTokenView


@dataclass(frozen=True, slots=True)
class SubscribePage:
    """Every resource feed offered, the viewer's live private feed links, and whether to
    offer them an assignments feed (they have assignments, or a link to theirs)."""

    resources: tuple[ResourceFeed, ...]
    tokens: tuple[FeedTokenView, ...]
    assignments: bool = False

    def links(self, kind: FeedKind) -> int:
        """How many live links of this kind the viewer has."""
        return sum(1 for token in self.tokens if token.kind is kind)


def subscribe_page(
    uow: UnitOfWork, viewer_id: str | None, viewer_email: str | None = None
) -> SubscribePage:
    """The feeds to offer: the active resources under their current names (by kind, then
    name), and for a logged-in viewer their live links, and an assignments feed when
    someone has assigned them a job (or they have a link to theirs already)."""
    with uow.reading():
        resources = tuple(offered(uow.resources.listed()))
        live = uow.tokens.live_of(viewer_id) if viewer_id else []
        tokens = tuple(FeedTokenView.of(token) for token in live)
        assigned = any(t.kind is FeedKind.ASSIGNMENTS for t in tokens) or bool(
            viewer_email and uow.entries.has_assignments(viewer_email)
        )
        return SubscribePage(resources, tokens, assigned)

"""Private feed tokens: made for their owner, shown once, kept as a hash, revocable; each
opens one feed of its owner's, their private feed or their assignments feed."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from services.calendar.commands import CreateFeedToken, RevokeFeedToken
from services.calendar.domain import FeedKind, FeedToken, may_revoke, token_hash
from services.calendar.persistence.unit_of_work import UnitOfWork
from shared.db import utcnow


@dataclass(frozen=True, slots=True)
class FeedTokenView:
    """A live token as its owner may see it again: never the token itself."""

    label: str
    created_at: datetime
    key: str = ""  # its hash: what its owner's page names it by to revoke it
    kind: FeedKind = FeedKind.PRIVATE

    @classmethod
    def of(cls, token: FeedToken) -> FeedTokenView:
        return cls(token.label, token.created_at, token.token_hash, token.kind)


def create_feed_token(uow: UnitOfWork, command: CreateFeedToken) -> str:
    """A new unguessable token for the command's user; only its hash is stored, so this
    is the one time it is seen."""
    token = secrets.token_urlsafe(32)
    with uow:
        uow.tokens.add(
            FeedToken(
                token_hash=token_hash(token),
                user_id=command.user_id,
                email=command.email.lower(),
                role=command.role,
                label=command.label,
                created_at=utcnow(),
                kind=command.kind,
            )
        )
        uow.commit()
    return token


def revoke_feed_token(uow: UnitOfWork, command: RevokeFeedToken) -> bool:
    """Revoke a live token of the user's (or anyone's, for an admin); False when there is
    no such token for them, so whether a token exists is not told to others."""
    return revoke_feed_link(uow, token_hash(command.token), command.user_id, command.is_admin)


def revoke_feed_link(uow: UnitOfWork, hashed: str, user_id: str, is_admin: bool = False) -> bool:
    """Revoke a live token by its hash (the subscribe page's revoke button, which never
    holds the token itself); False when there is no such token for the user."""
    with uow:
        if not may_revoke(uow.tokens.get(hashed), user_id, is_admin):
            return False
        uow.tokens.revoke(hashed, utcnow())
        uow.commit()
    return True


def list_feed_tokens(uow: UnitOfWork, user_id: str) -> list[FeedTokenView]:
    """A user's live tokens, oldest first."""
    with uow.reading():
        return [FeedTokenView.of(token) for token in uow.tokens.live_of(user_id)]

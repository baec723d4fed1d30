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
    kind: FeedKind = FeedKind.PRIVATE

    @classmethod
    def of(cls, token: FeedToken) -> FeedTokenView:
        return cls(token.label, token.created_at, token.kind)


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
    hashed = token_hash(command.token)
    with uow:
        if not may_revoke(uow.tokens.get(hashed), command.user_id, command.is_admin):
            return False
        uow.tokens.revoke(hashed, utcnow())
        uow.commit()
    return True


def list_feed_tokens(uow: UnitOfWork, user_id: str) -> list[FeedTokenView]:
    """A user's live tokens, oldest first."""
    with uow.reading():
        return [FeedTokenView.of(token) for token in uow.tokens.live_of(user_id)]

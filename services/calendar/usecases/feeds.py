"""Serving a feed to a calendar client: which feed the address names, then its file (written
by the publisher; one still missing is written for the request)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.calendar.commands import FeedRequest
from services.calendar.domain import (
    MAX_TOKEN_LENGTH,
    PUBLIC_FEED,
    FeedKind,
    FeedOwner,
    FeedScope,
    owner_of,
    resource_feed,
    token_feed,
    token_hash,
)
from services.calendar.persistence.unit_of_work import UnitOfWork
from services.calendar.usecases.publishing import FeedPublisher


@dataclass(frozen=True, slots=True)
class FeedMoved:
    """The feed lives at another address now: the resource's current slug (it was renamed)."""

    slug: str


def serve_feed(
    uow: UnitOfWork, publisher: FeedPublisher, request: FeedRequest
) -> Path | FeedMoved | None:
    """The file of the feed a client asked for; where it moved (a resource's former slug);
    or None when there is no such feed (an unknown resource; a token unknown, revoked, of
    a deactivated user, or one that opens the other kind of personal feed). A public or
    resource feed's file is served without a lookup."""
    files, language = publisher.files, request.language
    if request.kind is FeedKind.PUBLIC:
        path = files.public(language)
    elif request.kind is FeedKind.RESOURCE:
        path = files.resource(request.key, language)
    else:  # a private or an assignments feed: its token's file
        path = files.private(token_hash(request.key), language)
    if request.kind in (FeedKind.PUBLIC, FeedKind.RESOURCE) and path.exists():
        return path
    scope = feed_scope(uow, request)
    if scope is None or isinstance(scope, FeedMoved):
        return scope
    if not path.exists():
        publisher.publish_one(scope, path, language)
    return path


def feed_scope(uow: UnitOfWork, request: FeedRequest) -> FeedScope | FeedMoved | None:
    """Which bookings the requested feed shows (the public feed needs no lookup). A
    resource's feed exists from the moment calendar knows the resource, bookings or not,
    and stays while it is deactivated (its subscribers keep their link)."""
    if request.kind is FeedKind.PUBLIC:
        return PUBLIC_FEED
    if request.kind is FeedKind.RESOURCE:
        with uow.reading():
            resource = uow.resources.get(request.key)
        if resource is None:
            return None
        if resource.slug != request.key:
            return FeedMoved(resource.slug)
        return resource_feed(resource.resource_id, resource.label)
    owner = feed_owner(uow, request.key, request.kind)
    return token_feed(request.kind, owner) if owner else None


def feed_owner(uow: UnitOfWork, token: str, kind: FeedKind = FeedKind.PRIVATE) -> FeedOwner | None:
    """Whose feed of ``kind`` a token opens, with their current role; None when it opens
    none (a private feed's token opens no assignments feed, and the other way round)."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    with uow.reading():
        held = uow.tokens.get(token_hash(token))
        if held is not None and held.kind is not kind:
            return None
        user = uow.users.standing(held.user_id) if held else None
        return owner_of(held, user)

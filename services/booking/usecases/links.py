"""Deciding from a mail's link (``/decide/{token}``): who a link acts as, what it is about
(its confirmation page reads and never writes: mail scanners follow links), and the
decision itself, made without a password while the link is valid.

A link names an address: an active user with that address acts as themselves; the
infrastructure team's address (``EVENEMANG_INFRA_TEAM_EMAIL``, alerted of lines no one else
decides) acts as infra; a team's shared mailbox acts for the team
(:class:`~services.booking.domain.TeamMailbox`) and decides that team's lines only. The
decision goes through the same use cases as the pages and the API, bound to the link
(used once, only for the revision it was sent for)."""

from __future__ import annotations

from collections.abc import Collection
from email.utils import getaddresses

from services.booking.commands import ApproveBooking, LinkUse, RejectBooking
from services.booking.domain import (
    Actor,
    Forbidden,
    TeamMailbox,
    may_decide_line,
)
from services.booking.persistence.mapping import booking_view, rules_of
from services.booking.persistence.models import Booking
from services.booking.persistence.repositories import UnitOfWork
from services.booking.persistence.unit_of_work import Context
from services.booking.readmodels import BookingView, LinkState, LinkView
from services.booking.usecases.common import changed_since
from services.booking.usecases.decisions import approve_booking, reject_booking
from shared.auth import Principal
from shared.config import Config
from shared.decision_links import Action, DecisionLink
from shared.messages import Msg


def infra_addresses(config: Config) -> frozenset[str]:
    """The infrastructure team's addresses (``a@x, Name <b@y>``), lower-case."""
    pairs = getaddresses([config.infra_team_email.replace(";", ",")])
    return frozenset(address.lower() for _, address in pairs if address)


def link_actor(uow: UnitOfWork, address: str, infra: Collection[str] = ()) -> Actor:
    """Who a link sent to ``address`` acts as: the active user with that address, else the
    infrastructure team when it is one of ``infra``'s addresses, else the team(s) whose
    shared mailbox it is. :class:`Forbidden` when none (a deactivated user, a mailbox no
    team has any longer)."""
    address = address.strip().lower()
    user = uow.user_by_email(address)
    if user is not None and user.active:
        return Principal(user.id, user.email, user.name, user.role)
    if address in infra:
        return TeamMailbox(address, infra=True)
    teams = uow.teams.with_mailbox(address)
    if teams:
        return TeamMailbox(address, ", ".join(team.name for team in teams))
    raise Forbidden(Msg("link_decider_gone"))


def _lines_of_link(booking: Booking, actor: Actor, link: DecisionLink) -> list[str]:
    """The resources of the link's lines its decider still decides (in any state: a line
    decided through this very link is still theirs). :class:`Forbidden` when none is."""
    mine = [
        line.resource_id
        for line in booking.lines
        if line.resource_id in link.resource_ids
        and may_decide_line(actor, rules_of(line.resource), booking.organiser_id)
    ]
    if not mine:
        raise Forbidden(Msg("link_not_a_decider"))
    return mine


def open_link(ctx: Context, link: DecisionLink) -> LinkView:
    """What a link is about, for whom, and whether it can still be used. Reads only."""
    with ctx.uow(readonly=True) as uow:
        booking = uow.bookings.get(link.booking_id)
        actor = link_actor(uow, link.decider, infra_addresses(ctx.config))
        mine = _lines_of_link(booking, actor, link)
        if uow.bookings.link_used(link.link_id):
            state = LinkState.USED
        elif changed_since(uow, booking, link.revision):
            state = LinkState.CHANGED
        else:
            state = LinkState.READY
        view = booking_view(booking)
        return LinkView(
            booking=view,
            action=link.action.value,
            decider=link.decider,
            team=actor.name if isinstance(actor, TeamMailbox) else "",
            infra=isinstance(actor, TeamMailbox) and actor.infra,
            lines=tuple(line for line in view.lines if line.resource_id in mine),
            state=state,
        )


def decide_by_link(ctx: Context, link: DecisionLink, reason: str | None = None) -> BookingView:
    """Approve or reject (with ``reason``) the link's lines as its decider, once, and only
    while the request is as the link found it (``InvalidTransition`` saying ``link_used``
    or ``request_changed_since``; ``Forbidden`` when the decider decides none of them)."""
    with ctx.uow(readonly=True) as uow:
        actor = link_actor(uow, link.decider, infra_addresses(ctx.config))
    use = LinkUse(link.link_id, link.revision)
    if link.action is Action.APPROVE:
        cmd = ApproveBooking(resource_ids=link.resource_ids, link=use)
        return approve_booking(ctx, actor, link.booking_id, cmd).booking
    return reject_booking(
        ctx, actor, link.booking_id, RejectBooking(reason or "", link.resource_ids, link=use)
    )


__all__ = ["decide_by_link", "infra_addresses", "link_actor", "open_link"]

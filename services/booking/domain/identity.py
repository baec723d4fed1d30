"""Who a person the university's provider vouches for is here, and what role and teams
their groups give them: pure rules over values the use case reads (no provider, no
database)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import Enum

from services.booking.domain.model import DomainError
from shared.events import Role
from shared.messages import Msg


class SignInRefused(DomainError):
    """The provider vouched for someone we will not log in (deactivated, an address that
    is not confirmed, an account linked to another identity): a page saying why."""


@dataclass(frozen=True)
class GroupRules:
    """Which of the provider's groups make someone admin or infra, and which put them in a
    team (team slug → groups). With no role groups, roles are kept in Evenemang; teams not
    named here are kept on their pages."""

    infra: frozenset[str] = frozenset()
    admin: frozenset[str] = frozenset()
    teams: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def configured(self) -> bool:
        return bool(self.infra or self.admin)

    def teams_for(self, groups: Collection[str]) -> dict[str, bool]:
        """For each team that follows groups, whether someone in ``groups`` belongs to it."""
        held = set(groups)
        return {slug: bool(held & wanted) for slug, wanted in self.teams.items()}

    def role_for(self, groups: Collection[str]) -> Role:
        """admin if in an admin group, else infra if in an infra group, else organiser."""
        held = set(groups)
        if held & self.admin:
            return Role.ADMIN
        if held & self.infra:
            return Role.INFRA
        return Role.ORGANISER


def role_at_sign_in(current: Role | None, groups: Collection[str], rules: GroupRules) -> Role:
    """The role a person has after logging in: their groups' role at every login when group
    roles are configured (no groups claim counts as no groups, so losing a group always
    takes the role away); else the role they have (a new person: organiser)."""
    if rules.configured:
        return rules.role_for(groups)
    return current or Role.ORGANISER


class Match(Enum):
    """How a sign-in finds its user."""

    SUBJECT = "subject"  # the provider's (issuer, sub) is already this user's
    LINK = "link"  # an existing user with the same confirmed address, linked now, once
    CREATE = "create"  # a new user


@dataclass(frozen=True)
class KnownUser:
    """A user as the matching rule sees them."""

    email: str
    active: bool
    linked: bool  # already linked to an identity at the provider


def match_sign_in(
    email: str,
    email_verified: bool,
    by_subject: KnownUser | None,
    by_email: KnownUser | None,
) -> Match:
    """Matched by the issuer's ``sub``; else linked once to the user with the same address
    when the provider confirms it (``email_verified``); else a new user, also only for a
    confirmed address (teams and managers are named by address, so an unconfirmed one could
    take someone else's place). Raises :class:`SignInRefused` saying why not."""
    if by_subject is not None:
        if not by_subject.active:
            raise SignInRefused(Msg("user_deactivated", email=by_subject.email))
        return Match.SUBJECT
    if not email:
        raise SignInRefused(Msg("sso_no_email"))
    if not email.isascii():  # mail cannot reach it (shared.schema's addresses are ASCII)
        raise SignInRefused(Msg("sso_email_not_ascii", email=email))
    if not email_verified:
        raise SignInRefused(Msg("sso_email_unverified", email=email))
    if by_email is None:
        return Match.CREATE
    if by_email.linked:
        raise SignInRefused(Msg("sso_linked_elsewhere", email=email))
    if not by_email.active:
        raise SignInRefused(Msg("user_deactivated", email=email))
    return Match.LINK

"""Who keeps the people (admins), and the one rule that keeps Evenemang administrable: the
last active admin stays an active admin. Pure rules over values the use cases read."""

from __future__ import annotations

from dataclasses import dataclass

from services.booking.domain.model import DomainError
from shared.events import Role
from shared.messages import Msg


class PersonConflict(DomainError):
    """What a person's state does not allow (the last active admin demoted, a second
    invitation to someone with a password): 409 naming the field."""

    def __init__(self, field_name: str, message: Msg) -> None:
        super().__init__(message)
        self.field = field_name


class LastAdmin(PersonConflict):
    """The change would leave no active admin."""


@dataclass(frozen=True)
class Standing:
    """A person's role and whether they may log in."""

    role: Role
    active: bool

    @property
    def keeps_people(self) -> bool:
        return self.active and self.role is Role.ADMIN


def check_admins_left(before: Standing, after: Standing, other_active_admins: int) -> None:
    """Refuse to demote or deactivate the last active admin (whoever asks: an admin about
    themself, or the command line), naming the field that would do it."""
    if not before.keeps_people or after.keeps_people or other_active_admins > 0:
        return
    field_name = "active" if not after.active else "role"
    raise LastAdmin(field_name, Msg("last_active_admin"))


class PasswordLinkRefused(DomainError):
    """A set-password link that does not work, and why: ``invalid`` (not one we signed),
    ``expired``, ``used`` (a password was set since it was made: by this link or
    otherwise) or ``inactive`` (its person is deactivated)."""

    MESSAGES = {
        "invalid": Msg("password_link_invalid"),
        "expired": Msg("password_link_expired"),
        "used": Msg("password_link_used"),
        "inactive": Msg("password_link_inactive"),
    }

    def __init__(self, reason: str) -> None:
        super().__init__(self.MESSAGES[reason])
        self.reason = reason

"""Who does a line's job: which lines take an assignee (an approved service or studio
line), who may be one (a member of the line's team or one of its managers; a supplier
whose agreement holds on the booking's dates), and the hours delivered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from services.booking.domain.model import InvalidTransition, Managed, RuleViolation
from shared.events import Kind, LineStatus
from shared.messages import Msg

ASSIGNABLE_KINDS = (Kind.SERVICE, Kind.STUDIO)
# The most hours a line may be said to have delivered: a long series of long days.
MAX_HOURS_DELIVERED = Decimal(10_000)


@dataclass(frozen=True)
class Agreement:
    """A supplier as an assignment sees it: whether it is kept, and the dates its agreement
    holds (``valid_to`` inclusive; ``None``: until further notice)."""

    name: str
    active: bool
    valid_from: date
    valid_to: date | None

    def covers(self, first: date, last: date) -> bool:
        return self.valid_from <= first and (self.valid_to is None or last <= self.valid_to)


def check_assignable(kind: str, status: str, name: str) -> None:
    """A service or studio line (422 for a venue), once approved (409 before)."""
    if Kind(kind) not in ASSIGNABLE_KINDS:
        raise RuleViolation({"resource_id": [Msg("assign_only_services", name=name)]})
    if LineStatus(status) is not LineStatus.APPROVED:
        raise InvalidTransition(Msg("assign_when_approved", name=name))


def check_staff(email: str, rules: Managed, name: str) -> None:
    """A staff assignee is a member of the line's team or one of its managers."""
    if email not in rules.team_members and email not in rules.managers:
        raise RuleViolation({"assignee.email": [Msg("assignee_not_in_team", name=name)]})


def check_supplier(agreement: Agreement | None, dates: Sequence[date]) -> None:
    """A supplier assignee is kept (active) and its agreement holds on every date of the
    booking (its first and last, in the booking's zone)."""
    if agreement is None:
        raise RuleViolation({"assignee.supplier_id": [Msg("no_such_supplier")]})
    if not agreement.active:
        raise RuleViolation(
            {"assignee.supplier_id": [Msg("supplier_retired", name=agreement.name)]}
        )
    if dates and not agreement.covers(min(dates), max(dates)):
        raise RuleViolation(
            {"assignee.supplier_id": [Msg("supplier_agreement_not_valid", name=agreement.name)]}
        )

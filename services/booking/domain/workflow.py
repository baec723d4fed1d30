"""The state machine of a booking, and who may do what with it."""

from __future__ import annotations

from collections.abc import Iterable

from services.booking.domain.model import Actor, Forbidden, InvalidTransition, Managed
from shared.events import Status
from shared.messages import N_, Msg

PENDING, APPROVED, REJECTED, CANCELLED = Status
TRANSITIONS: dict[str, dict[Status, Status]] = {
    "approve": {PENDING: APPROVED},
    "reject": {PENDING: REJECTED},
    "cancel": {PENDING: CANCELLED, APPROVED: CANCELLED},
    "change": {PENDING: PENDING, APPROVED: APPROVED},
}
# How a refusal names the state and the action (N_: the ids are chosen here at run time).
STATE_WORDS = {
    PENDING: N_("state_pending"),
    APPROVED: N_("state_approved"),
    REJECTED: N_("state_rejected"),
    CANCELLED: N_("state_cancelled"),
}
ACTION_WORDS = {
    "approve": N_("cannot_be_approved"),
    "reject": N_("cannot_be_rejected"),
    "cancel": N_("cannot_be_cancelled"),
    "change": N_("cannot_be_changed"),
}


def next_status(status: str, action: str) -> Status:
    """The status after ``action``, or :class:`InvalidTransition` saying why not."""
    try:
        return TRANSITIONS[action][Status(status)]
    except KeyError:
        raise InvalidTransition(
            Msg(
                "cannot_in_state",
                status=Msg(STATE_WORDS[Status(status)]),
                action=Msg(ACTION_WORDS[action]),
            )
        ) from None


def status_after_change(status: str, moved: bool, needs_approval: bool) -> Status:
    """A change of time or resources sends an approved booking back to pending, unless none
    of its resources needs approval; other changes keep the approval."""
    status = next_status(status, "change")
    if status == APPROVED and moved and needs_approval:
        return PENDING
    return status


# --- who may do what ----------------------------------------------------------------------


def may_decide(actor: Actor, resources: Iterable[Managed]) -> bool:
    """Infra and admin decide on everything; a manager only on bookings whose every resource
    they manage (approvers are scoped to their own rooms)."""
    if actor.is_infra:
        return True
    email = actor.email.lower()
    resources = list(resources)
    return bool(resources) and all(email in rules.managers for rules in resources)


def manages_any(actor: Actor, resources: Iterable[Managed]) -> bool:
    """Whether the actor manages any of these resources."""
    email = actor.email.lower()
    return any(email in rules.managers for rules in resources)


def may_see(actor: Actor, organiser_id: str, resources: Iterable[Managed]) -> bool:
    """The organiser, infra and admin, and a manager of any of its resources."""
    resources = list(resources)
    return actor.user_id == organiser_id or actor.is_infra or manages_any(actor, resources)


def require(condition: bool, reason: Msg) -> None:
    """:class:`Forbidden` with ``reason`` unless ``condition`` holds."""
    if not condition:
        raise Forbidden(reason)

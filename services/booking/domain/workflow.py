"""The state machine of a booking, and who may do what with it."""

from __future__ import annotations

from collections.abc import Iterable

from services.booking.domain.model import Actor, Forbidden, InvalidTransition, Managed
from shared.events import LineStatus, Status
from shared.messages import N_, Msg

PENDING, APPROVED, REJECTED, CANCELLED = Status
TRANSITIONS: dict[str, dict[Status, Status]] = {
    # Deciding acts on lines and the booking's status then follows them; an approved line
    # may still be declined (its approval withdrawn), so "reject" applies to both.
    "approve": {PENDING: APPROVED},
    "reject": {PENDING: REJECTED, APPROVED: APPROVED},
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


# --- who may do what ----------------------------------------------------------------------


def decides(actor: Actor, rules: Managed) -> bool:
    """Whether the actor is one of a resource's own deciders: a manager, a member of its
    team, or the team itself through its shared mailbox (infra and admin decide every
    resource besides)."""
    email = actor.email.strip().lower()
    if not email:
        return False
    return email in rules.managers or email in rules.team_members or email == rules.team_mailbox


def may_decide_line(actor: Actor, rules: Managed, organiser_id: str) -> bool:
    """Whether the actor may decide one line of a booking: infra and admin, the resource's
    team and managers; never the booking's own organiser unless the resource allows
    self-approval (a manager who requests their own room needs another decider)."""
    if actor.user_id == organiser_id and not rules.self_approval:
        return False
    return actor.is_infra or decides(actor, rules)


def line_deciders(rules: Managed, organiser_email: str) -> tuple[str, ...]:
    """The people (besides infra and admin) who may decide a line, as listed with it."""
    people = set(rules.managers) | set(rules.team_members)
    if not rules.self_approval:
        people.discard(organiser_email.lower())
    return tuple(sorted(people))


def may_decide(actor: Actor, resources: Iterable[Managed]) -> bool:
    """Whether the actor decides on a booking as a whole (to cancel it, say): infra and
    admin, or a decider of every one of its resources."""
    if actor.is_infra:
        return True
    resources = list(resources)
    return bool(resources) and all(decides(actor, rules) for rules in resources)


def manages_any(actor: Actor, resources: Iterable[Managed]) -> bool:
    """Whether the actor decides any of these resources (a manager or team member)."""
    return any(decides(actor, rules) for rules in resources)


def may_see(actor: Actor, organiser_id: str, resources: Iterable[Managed]) -> bool:
    """The organiser, infra and admin, and a decider of any of its resources."""
    resources = list(resources)
    return actor.user_id == organiser_id or actor.is_infra or manages_any(actor, resources)


def may_see_opt_outs(
    actor: Actor,
    organiser_id: str,
    lines: Iterable[Managed],
    assignees: Iterable[str] = (),
) -> bool:
    """Who may read the participants who opted out of being recorded (private: they are for
    those who do the recording): infra and admin, a decider of one of the booking's
    ``lines`` (by its resource's rules), and a line's assignee; not the organiser as such,
    nor anyone else."""
    if actor.is_infra:
        return True
    email = actor.email.strip().lower()
    if email and email in {a.strip().lower() for a in assignees}:
        return True
    return any(may_decide_line(actor, rules, organiser_id) for rules in lines)


def may_edit(actor: Actor, organiser_id: str) -> bool:
    """Changing what a booking says is for its organiser, infra and admin: deciders decide,
    they do not edit (nor send invitations in the organiser's name)."""
    return actor.user_id == organiser_id or actor.is_infra


def status_of_lines(lines: Iterable[LineStatus]) -> Status:
    """A live booking's status from its lines: ``rejected`` when every line is declined,
    ``approved`` when every remaining one is approved, else ``pending``."""
    live = [status for status in lines if status is not LineStatus.DECLINED]
    if not live:
        return REJECTED
    if all(status is LineStatus.APPROVED for status in live):
        return APPROVED
    return PENDING


def require(condition: bool, reason: Msg) -> None:
    """:class:`Forbidden` with ``reason`` unless ``condition`` holds."""
    if not condition:
        raise Forbidden(reason)

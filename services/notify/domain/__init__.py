"""Who gets which mail about a booking, and when: pure rules over typed booking snapshots
(no I/O, no Flask, no SQLAlchemy).

| event | organiser | participants | deciders |
|---|---|---|---|
| submitted (pending) | receipt | — | one alert each |
| approved | confirmation | invitation (REQUEST) | — |
| rejected | the reason | CANCEL if invited before | — |
| changed | what changed | REQUEST if time or place changed | if it needs a new decision |
| cancelled (all or one) | with the reason | CANCEL (all, or that occurrence) | — |
| reminder | yes | yes | — |

``mail``: kinds, a mail and the organiser's; ``deciders``: who is asked to act;
``participants``: what each calendar is sent; ``reminders``: the reminders ahead;
``delivery``: a delivery's states and retries. Every name is importable from here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.notify.domain.deciders import (
    decider_mails,
    deciders,
    needs_new_decision,
)
from services.notify.domain.delivery import (
    DROPPED_MOVED,
    DROPPED_SUPERSEDED,
    SHOWN_STATUSES,
    DeliveryStatus,
    Outcome,
    Retry,
)
from services.notify.domain.mail import (
    ENDED,
    IMIP_METHOD,
    ORGANISER_KINDS,
    Mail,
    MailKind,
    address_key,
    organiser_mail,
    people,
    reply_to,
)
from services.notify.domain.participants import Invited, fingerprint, participant_mails
from services.notify.domain.reminders import (
    REMINDER_NAMESPACE,
    occurrence_of,
    reminder_id,
    reminder_mails,
    reminder_times,
    reschedule,
)
from shared.events import Event


@dataclass(frozen=True)
class MailPlan:
    """The mail a batch of one booking's events calls for, and what each participant's
    calendar will then have been sent (keyed by address)."""

    mails: tuple[Mail, ...]
    invited: Mapping[str, Invited]


def plan_mail(
    events: Sequence[Event], invited: Mapping[str, Invited], infra_team: Sequence[str]
) -> MailPlan:
    """The mail of one booking's fresh events (oldest first): the organiser hears of each
    event; deciders and participants follow the newest state."""
    newest = events[-1]
    mails = [mail for event in events if (mail := organiser_mail(event)) is not None]
    mails += decider_mails(newest, infra_team)
    participants, invited_after = participant_mails(newest, invited)
    return MailPlan(tuple(mails + participants), invited_after)


__all__ = [
    "DROPPED_MOVED",
    "DROPPED_SUPERSEDED",
    "ENDED",
    "IMIP_METHOD",
    "ORGANISER_KINDS",
    "REMINDER_NAMESPACE",
    "SHOWN_STATUSES",
    "DeliveryStatus",
    "Invited",
    "Mail",
    "MailKind",
    "MailPlan",
    "Outcome",
    "Retry",
    "address_key",
    "decider_mails",
    "deciders",
    "fingerprint",
    "needs_new_decision",
    "occurrence_of",
    "organiser_mail",
    "participant_mails",
    "people",
    "plan_mail",
    "reminder_id",
    "reminder_mails",
    "reminder_times",
    "reply_to",
    "reschedule",
]

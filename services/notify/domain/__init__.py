"""Who gets which mail about a booking, and when: pure rules over typed booking snapshots
(no I/O, no Flask, no SQLAlchemy).

| event | organiser | participants | deciders |
|---|---|---|---|
| submitted (pending) | receipt | — | each line's deciders, once |
| lines decided | which lines, declined ones with the reason | — | — |
| approved | confirmation (declined lines named) | invitation (REQUEST) | — |
| rejected | the reasons | CANCEL if invited before | — |
| changed | what changed | REQUEST if time or place changed | lines newly waiting |
| cancelled (all or one) | with the reason | CANCEL (all, or that occurrence) | — |
| slot freed (a notice) | the time is free again | — | the freed lines can be approved |
| reminder | yes | yes | — |
| a line waiting 48 hours | — | — | reminded once |
| 07:00 daily | — | — | the digest, to those who chose it |

Assignees of a line's job (``assignees``) get an invitation when assigned, an update
when its time, place or status changes, and a CANCEL when taken off it or it is called
off, each in their own language.

Mail about an account (``account.invited``, ``account.password_reset``) goes to the
account's own address alone (``accounts``).

Deciders are asked only about the lines they can decide, one mail per recipient per event
(or a digest item, for those who chose the daily digest).

``mail``: kinds, a mail and the organiser's; ``accounts``: invitations and resets;
``deciders``: who is asked to act; ``waiting``: the 48-hour reminder and the daily digest;
``participants``: what each calendar is sent; ``assignees``: what each assignee's calendar
is sent; ``reminders``: the reminders ahead;
``delivery``: a delivery's states and retries. Every name is importable from here."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from services.notify.domain.accounts import ACCOUNT_KINDS, AccountMail, account_mail
from services.notify.domain.assignees import assignee_mails, jobs_of
from services.notify.domain.deciders import (
    Asked,
    DigestItem,
    decider_mails,
    freed_mails,
    line_recipients,
    lines_of,
    needs_new_decision,
    newly_waiting,
    waiting_lines,
)
from services.notify.domain.delivery import (
    DROPPED_DECIDED,
    DROPPED_MOVED,
    DROPPED_SUPERSEDED,
    RELEASED,
    SHOWN_STATUSES,
    DeliveryStatus,
    Outcome,
    Retry,
)
from services.notify.domain.mail import (
    ASSIGNMENT_KINDS,
    ENDED,
    IMIP_METHOD,
    INVITATION_KINDS,
    ORGANISER_KINDS,
    Mail,
    MailKind,
    Waiting,
    address_key,
    in_its_language,
    organiser_mail,
    people,
    renamed,
    reply_to,
    with_names,
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
from services.notify.domain.waiting import (
    WAITED,
    digest_cutoff,
    digest_id,
    digest_mail,
    first_start,
    reschedule_waiting,
    waiting_id,
    waiting_reminder_mails,
    waiting_times,
)
from shared.events import BookingSnapshot, Event


@dataclass(frozen=True)
class MailPlan:
    """The mail a batch of one booking's events calls for, and what each participant's
    calendar will then have been sent (keyed by address)."""

    mails: tuple[Mail, ...]
    invited: Mapping[str, Invited]
    digest: tuple[DigestItem, ...] = ()


def plan_mail(
    events: Sequence[Event],
    previous: BookingSnapshot | None,
    invited: Mapping[str, Invited],
    infra_team: Sequence[str],
    daily: Collection[str] = (),
) -> MailPlan:
    """The mail of one booking's fresh events (oldest first), ``previous`` the snapshot
    held before them: the organiser hears of each event; deciders of the lines the newest
    state leaves newly waiting (those in ``daily`` through their digest); participants
    follow the newest state, and so do assignees (against ``previous``)."""
    newest = events[-1]
    mails = [mail for event in events if (mail := organiser_mail(event)) is not None]
    to_decide, digest = decider_mails(newest, previous, infra_team, daily)
    participants, invited_after = participant_mails(newest, invited)
    assignees = assignee_mails(newest, previous)
    everyone = tuple(mails + to_decide + participants + assignees)
    return MailPlan(everyone, invited_after, tuple(digest))


__all__ = [
    "ACCOUNT_KINDS",
    "ASSIGNMENT_KINDS",
    "INVITATION_KINDS",
    "DROPPED_DECIDED",
    "DROPPED_MOVED",
    "DROPPED_SUPERSEDED",
    "RELEASED",
    "ENDED",
    "IMIP_METHOD",
    "ORGANISER_KINDS",
    "REMINDER_NAMESPACE",
    "SHOWN_STATUSES",
    "WAITED",
    "AccountMail",
    "Asked",
    "DeliveryStatus",
    "DigestItem",
    "Invited",
    "Mail",
    "MailKind",
    "MailPlan",
    "Outcome",
    "Retry",
    "Waiting",
    "account_mail",
    "assignee_mails",
    "jobs_of",
    "address_key",
    "decider_mails",
    "digest_cutoff",
    "digest_id",
    "digest_mail",
    "fingerprint",
    "first_start",
    "freed_mails",
    "line_recipients",
    "lines_of",
    "needs_new_decision",
    "newly_waiting",
    "occurrence_of",
    "organiser_mail",
    "participant_mails",
    "people",
    "plan_mail",
    "reminder_id",
    "reminder_mails",
    "reminder_times",
    "in_its_language",
    "renamed",
    "reply_to",
    "reschedule",
    "reschedule_waiting",
    "waiting_id",
    "waiting_lines",
    "waiting_reminder_mails",
    "waiting_times",
    "with_names",
]

"""What a mail says of a booking's lines: to a decider, their own lines, each with its
Approve and Reject links (and both for all of them when there are several); to the
organiser, which lines were approved and which declined, and why."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from services.notify.domain import Mail, MailKind, lines_of
from services.notify.mail.addresses import one_line
from services.notify.mail.links import decision_urls
from services.notify.mail.wording import (
    MAX_REASON,
    MAX_VALUE,
    Wording,
    first_occurrence,
    organiser_of,
)
from services.notify.settings import MailSettings
from shared.decision_links import Action
from shared.events import BookingSnapshot, Line, LineStatus
from shared.messages import N_

LINK = {Action.APPROVE: N_("approve"), Action.REJECT: N_("reject")}
ALL = {
    Action.APPROVE: N_("mail_link_approve_all"),
    Action.REJECT: N_("mail_link_reject_all"),
}


def resource_text(mail: Mail, snapshot: BookingSnapshot, resource_id: str) -> str:
    """A line's resource as running text: ``Aula, Building A`` (its name as known now)."""
    ref = snapshot.resource(resource_id) or mail.known.get(resource_id)
    if ref is None:
        return resource_id
    return one_line(f"{ref.name}, {ref.location}" if ref.location else ref.name, MAX_VALUE)


def decisions(
    mail: Mail, settings: MailSettings, wording: Wording, created: datetime
) -> list[dict[str, Any]]:
    """A decider's lines, booking by booking (a digest names each booking), with links."""
    groups = []
    for waiting in mail.waiting:
        snapshot, ids = waiting.snapshot, waiting.lines
        sign = partial(decision_urls, settings, snapshot, mail.recipient, issued_at=created)
        if mail.kind is MailKind.DIGEST:
            heading = _booking_heading(snapshot, wording)
        else:
            heading = wording._("mail_lines_to_decide")
        lines = [
            {"text": resource_text(mail, snapshot, r), "links": _worded(sign([r]), LINK, wording)}
            for r in ids
        ]
        every = _worded(sign(ids), ALL, wording) if len(ids) > 1 else []
        groups.append({"heading": heading, "lines": lines, "all": every})
    return groups


def _worded(urls: dict[Action, str], labels: dict[Action, str], wording: Wording):
    return [(wording._(labels[action]), url) for action, url in urls.items()]


def _booking_heading(snapshot: BookingSnapshot, wording: Wording) -> str:
    first = first_occurrence(snapshot)
    organiser = organiser_of(snapshot)
    return wording._(
        "mail_digest_booking",
        title=one_line(snapshot.title, MAX_VALUE),
        when=wording.span(first.start, first.end),
        organiser=one_line(organiser.name or organiser.email, MAX_VALUE),
    )


def outcomes(mail: Mail, wording: Wording) -> list[tuple[str, list[str]]]:
    """To the organiser: the lines this event approved and those declined (lines decided),
    or every declined line (approved, rejected); the freed lines (slot freed)."""
    snapshot = mail.snapshot
    if mail.kind is MailKind.SLOT_FREED:
        return _section(wording, N_("mail_lines_freed"), mail, mail.lines)
    if mail.kind is MailKind.LINES_DECIDED:
        decided = [line for line in lines_of(snapshot) if line.resource_id in snapshot.decided]
    elif mail.kind in (MailKind.APPROVED, MailKind.REJECTED):
        decided = [line for line in snapshot.lines if line.status is LineStatus.DECLINED]
    else:
        return []
    approved = [x.resource_id for x in decided if x.status is LineStatus.APPROVED]
    declined = [x for x in decided if x.status is LineStatus.DECLINED]
    sections = _section(wording, N_("mail_lines_approved"), mail, approved)
    if declined:
        sections.append(
            (wording._("mail_lines_declined"), [_declined(mail, line) for line in declined])
        )
    return sections


def _section(
    wording: Wording, heading: str, mail: Mail, resource_ids: Sequence[str]
) -> list[tuple[str, list[str]]]:
    if not resource_ids:
        return []
    return [(wording._(heading), [resource_text(mail, mail.snapshot, r) for r in resource_ids])]


def _declined(mail: Mail, line: Line) -> str:
    text = resource_text(mail, mail.snapshot, line.resource_id)
    return f"{text}: {one_line(line.reason, MAX_REASON)}" if line.reason else text


def reasons_listed(mail: Mail) -> set[str]:
    """The reasons the declined lines already give (the booking's reason is not repeated)."""
    return {one_line(x.reason, MAX_REASON) for x in mail.snapshot.lines if x.reason}

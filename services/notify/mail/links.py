"""The Approve and Reject links in a decider's mail: signed for that recipient (a person or
a team's mailbox), the booking's revision and the lines they decide
(``shared.decision_links``), pointing at booking's ``/decide/{token}``; and a participant's
own link to opt out of being recorded (``shared.optout_links``, ``/optout/{token}``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.notify.settings import MailSettings
from shared import decision_links, optout_links
from shared.decision_links import Action, DecisionLink
from shared.events import BookingSnapshot
from shared.optout_links import OptOutLink


def opt_out_url(settings: MailSettings, snapshot: BookingSnapshot, recipient: str) -> str:
    """The recipient's own link to opt out of being recorded at this booking's event, in
    the mail's language ("" without a secret key to sign it with)."""
    if not settings.secret_key:
        return ""
    link = OptOutLink(snapshot.booking_id, recipient, snapshot.language.value)
    return optout_links.url(settings.base_url, optout_links.sign(settings.secret_key, link))


def decision_urls(
    settings: MailSettings,
    snapshot: BookingSnapshot,
    recipient: str,
    resource_ids: Sequence[str],
    issued_at: datetime,
) -> dict[Action, str]:
    """The Approve and Reject link of these lines for this recipient (none without a secret
    key to sign them with)."""
    if not settings.secret_key or not resource_ids:
        return {}
    return {
        action: decision_links.url(
            settings.base_url,
            decision_links.sign(
                settings.secret_key,
                DecisionLink(
                    booking_id=snapshot.booking_id,
                    revision=snapshot.revision,
                    decider=recipient,
                    action=action,
                    resource_ids=tuple(resource_ids),
                    issued_at=issued_at,
                ),
            ),
        )
        for action in Action
    }

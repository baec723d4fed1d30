"""Mail about an account rather than a booking: the invitation to a new user and the
password reset link, one mail per event to the account's own address."""

from __future__ import annotations

from dataclasses import dataclass

from services.notify.domain.mail import MailKind, address_key
from shared.events import AccountMailSnapshot, Event, EventType, Person

ACCOUNT_KINDS = {
    EventType.ACCOUNT_INVITED: MailKind.ACCOUNT_INVITED,
    EventType.ACCOUNT_PASSWORD_RESET: MailKind.PASSWORD_RESET,
}


@dataclass(frozen=True)
class AccountMail:
    """One account mail to plan: its kind, the event it is for and what it says."""

    kind: MailKind
    event_id: str
    account: AccountMailSnapshot

    booking_id = ""  # about no booking

    @property
    def to(self) -> Person:
        return Person(self.account.email, self.account.name)

    @property
    def recipient(self) -> str:
        return address_key(self.account.email)


def account_mail(event: Event) -> AccountMail:
    """The mail an ``account.*`` event asks for (to the account holder alone)."""
    return AccountMail(ACCOUNT_KINDS[event.type], event.id, event.data)  # type: ignore[arg-type]

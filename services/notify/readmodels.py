"""The plain read models notify's use cases return, built inside their transaction: a
delivery as the log shows it, a mail claimed for sending, a planned delivery row, and the
outbox's entries and messages."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from services.notify.domain import DeliveryStatus


@dataclass(frozen=True)
class DeliveryView:
    """One row of the delivery log as the API shows it (a claim in progress is queued)."""

    id: int
    booking_id: str
    event_id: str
    recipient: str
    kind: str
    status: DeliveryStatus
    attempts: int
    message_id: str
    subject: str
    created_at: datetime
    sent_at: datetime | None = None
    next_attempt_at: datetime | None = None  # only while it waits for an attempt
    last_error: str | None = None

    @classmethod
    def of(cls, row: Any) -> DeliveryView:
        """From a delivery log row (the table's, or the fake log's: the same names)."""
        status = DeliveryStatus(row.status).shown
        waiting = status is DeliveryStatus.QUEUED
        return cls(
            **{name: getattr(row, name) for name in ROW_FIELDS},
            status=status,
            next_attempt_at=row.next_attempt_at if waiting else None,
        )


ROW_FIELDS = tuple(
    f.name for f in fields(DeliveryView) if f.name not in ("status", "next_attempt_at")
)


@dataclass(frozen=True)
class NewDelivery:
    """A composed mail about to enter the delivery log as ``queued``."""

    booking_id: str
    event_id: str
    recipient: str
    kind: str
    message_id: str
    subject: str
    message: bytes


@dataclass(frozen=True)
class Claimed:
    """A delivery one sender holds under its lease: what to send, to whom."""

    id: int
    recipient: str
    data: bytes
    attempts: int
    booking_id: str = ""  # what the mail is about, for the log
    event_id: str = ""


@dataclass(frozen=True)
class OutboxEntry:
    """One message in the mail sink, as the outbox lists it."""

    name: str
    subject: str
    to: str
    date: str


@dataclass(frozen=True)
class SinkMessage:
    """One message of the sink as its page shows it: main headers (label id, value), the
    text part, whether it has HTML, its calendar parts (method, text) and attachments."""

    name: str
    subject: str
    headers: tuple[tuple[str, str], ...]
    text: str
    has_html: bool
    calendars: tuple[tuple[str, str], ...]
    attachments: tuple[tuple[str, str], ...]

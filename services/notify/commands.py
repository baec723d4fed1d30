"""Typed inputs of notify's use cases, as its API produces them (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass

from services.notify.domain import DeliveryStatus

DEFAULT_LIMIT = 200


@dataclass(frozen=True)
class ListDeliveries:
    """Which part of the delivery log to show, newest first."""

    booking_id: str | None = None
    status: DeliveryStatus | None = None
    limit: int = DEFAULT_LIMIT

"""The delivery log as infra and admins read it."""

from __future__ import annotations

from services.notify.commands import ListDeliveries
from services.notify.persistence.unit_of_work import UnitOfWork
from services.notify.readmodels import DeliveryView


def list_deliveries(uow: UnitOfWork, query: ListDeliveries) -> list[DeliveryView]:
    """The log, newest first, of one booking or all, of one state or all (``queued``
    includes the mail a sender holds right now)."""
    with uow.reading() as reader:
        return reader.deliveries.list(query)

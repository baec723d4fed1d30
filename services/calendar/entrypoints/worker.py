"""Calendar's background work: its bus consumer."""

from __future__ import annotations

from services.calendar.entrypoints.consumer import make_handler
from shared.config import Config
from shared.consumer_worker import consumer_loop


def loops(config: Config, only: str | None = None) -> list:
    return [consumer_loop(config, "calendar", make_handler)]

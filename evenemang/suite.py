"""The whole suite as one WSGI app: booking at ``/``, calendar at ``/calendar``, notify at
``/notify`` (what ``evenemang up`` serves)."""

from __future__ import annotations

from werkzeug.middleware.dispatcher import DispatcherMiddleware

from services.booking import create_app as booking_app
from services.calendar import create_app as calendar_app
from services.notify import create_app as notify_app
from shared.config import Config

PREFIXES = {"calendar": "/calendar", "notify": "/notify"}


def create_suite(config: Config | None = None) -> DispatcherMiddleware:
    return DispatcherMiddleware(
        booking_app(config),
        {PREFIXES["calendar"]: calendar_app(config), PREFIXES["notify"]: notify_app(config)},
    )

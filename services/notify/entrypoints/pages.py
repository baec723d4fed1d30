"""Notify's pages: the mail sink's outbox for admins (``/outbox``), one message, its HTML
alone (for a sandboxed frame) and the raw ``.eml``."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from functools import wraps
from typing import TypeVar
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, redirect, render_template, request

from services.notify.settings import sink_directory
from services.notify.usecases.outbox import outbox_entries, sink_html, sink_message, sink_raw
from shared.auth import current_principal
from shared.formatting import DateWords
from shared.i18n import current_language
from shared.mail import MailSink
from shared.messages import N_
from shared.timezones import current_zone
from shared.web import app_config

pages = Blueprint("notify_pages", __name__)
T = TypeVar("T")
HTML_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
)


def _sink() -> MailSink:
    return MailSink(sink_directory(app_config()))


def _error(status: int, message: str) -> tuple[str, int]:
    return render_template("notify/error.html", status=status, message=message), status


def admins_only(view):
    """Anonymous visitors log in first; others than admins get a 403 page."""

    @wraps(view)
    def guarded(*args, **kwargs):
        principal = current_principal()
        if principal is None:
            base_path = current_app.jinja_env.globals.get("base_path", "")
            target = request.script_root + request.path
            return redirect(f"{base_path}/login?{urlencode({'next': target})}")
        if not principal.is_admin:
            return _error(403, N_("forbidden"))
        return view(*args, **kwargs)

    return guarded


@pages.get("/")
def index():
    return redirect(request.script_root + "/outbox")


def sent_at(header: str) -> str:
    """A mail's Date header in the configured zone, with the zone (the sink keeps the
    header as written, in UTC): ``Mon 4 Mar 2030, 10:00 CET``; unreadable: as it is."""
    try:
        moment = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return header
    if moment.tzinfo is None:
        return header
    return DateWords(current_language(), current_zone.get()).zoned(moment)


pages.add_app_template_global(sent_at, "sent_at")


@pages.get("/outbox")
@admins_only
def outbox():
    smtp = bool(app_config().smtp_url)
    return render_template("notify/outbox.html", entries=outbox_entries(_sink()), smtp=smtp)


@pages.get("/outbox/<name>")
@admins_only
def message(name: str):
    return render_template("notify/message.html", message=_found(sink_message(_sink(), name)))


@pages.get("/outbox/<name>/raw")
@admins_only
def raw_message(name: str):
    return Response(
        _found(sink_raw(_sink(), name)),
        content_type="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@pages.get("/outbox/<name>/html")
@admins_only
def message_html(name: str):
    """No scripts, nothing fetched from anywhere: for the message page's sandboxed frame."""
    response = Response(_found(sink_html(_sink(), name)), content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = HTML_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


class NoSuchMessage(Exception):
    """The sink has no message of that name."""


def _found(value: T | None) -> T:
    if value is None:
        raise NoSuchMessage
    return value


@pages.errorhandler(NoSuchMessage)
def _no_such_message(_: NoSuchMessage) -> tuple[str, int]:
    return _error(404, N_("not_found"))

"""Notify's HTTP: the delivery log for infra and admins (``/api/v1/deliveries``) and the
mail sink's outbox pages for admins (``/outbox``)."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from services.notify.persistence.models import SENDING, Delivery
from services.notify.settings import sink_directory
from shared.auth import current_principal, require_role
from shared.mail import MailSink
from shared.openapi import ApiDoc
from shared.requests import query_args
from shared.web import app_config, app_db

api = Blueprint("notify_api", __name__)
pages = Blueprint("notify_pages", __name__)
doc = ApiDoc(title="Evenemang notify API")
doc.blueprint_route(api, "/api/v1")

STATUSES = ("queued", "sent", "failed", "dead", "dropped")
HTML_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
)


class DeliveriesQuery(Schema):
    booking_id = fields.String(validate=validate.Length(min=1, max=64))
    status = fields.String(validate=validate.OneOf(STATUSES))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class DeliveryOut(Schema):
    id = fields.Integer()
    booking_id = fields.String()
    event_id = fields.String()
    recipient = fields.String()
    kind = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    message_id = fields.String()
    subject = fields.String()
    sent_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    next_attempt_at = fields.AwareDateTime(allow_none=True)
    last_error = fields.String(allow_none=True)


class DeliveriesOut(Schema):
    deliveries = fields.List(fields.Nested(DeliveryOut))


DELIVERIES_OUT = DeliveriesOut()


def delivery_view(row: Delivery) -> dict:
    """A row as the API shows it: a claim in progress is still ``queued`` to the reader."""
    status = "queued" if row.status == SENDING else row.status
    waiting = status == "queued"
    return {
        **{c: getattr(row, c) for c in ("id", "booking_id", "event_id", "recipient", "kind")},
        "status": status,
        "attempts": row.attempts,
        "message_id": row.message_id,
        "subject": row.subject,
        "sent_at": row.sent_at,
        "created_at": row.created_at,
        "next_attempt_at": row.next_attempt_at if waiting else None,
        "last_error": row.last_error,
    }


@doc.route(
    api,
    "/deliveries",
    "GET",
    summary="The delivery log (newest first), of one booking or all",
    query=DeliveriesQuery,
    answer=DeliveriesOut,
)
@require_role("infra")
def deliveries():
    query = query_args(DeliveriesQuery())
    statement = select(Delivery).order_by(Delivery.id.desc()).limit(query["limit"])
    if "booking_id" in query:
        statement = statement.where(Delivery.booking_id == query["booking_id"])
    if "status" in query:
        wanted = [query["status"], SENDING] if query["status"] == "queued" else [query["status"]]
        statement = statement.where(Delivery.status.in_(wanted))
    with app_db().transaction(readonly=True) as session:
        rows = [delivery_view(row) for row in session.scalars(statement)]
    return jsonify(DELIVERIES_OUT.dump({"deliveries": rows}))


# --- the outbox (admin pages) ----------------------------------------------------------------


def _sink() -> MailSink:
    return MailSink(sink_directory(app_config()))


def _admin_only() -> Response | tuple[str, int] | None:
    """Anonymous visitors log in first; others than admins get a 403 page."""
    principal = current_principal()
    if principal is None:
        base_path = current_app.jinja_env.globals.get("base_path", "")
        target = request.script_root + request.path
        return redirect(f"{base_path}/login?{urlencode({'next': target})}")
    if not principal.is_admin:
        return render_template("notify/error.html", status=403, message="forbidden"), 403
    return None


def _not_found() -> tuple[str, int]:
    return render_template("notify/error.html", status=404, message="not_found"), 404


@pages.get("/")
def index():
    return redirect(request.script_root + "/outbox")


@pages.get("/outbox")
def outbox():
    refused = _admin_only()
    if refused is not None:
        return refused
    return render_template(
        "notify/outbox.html", entries=_sink().entries(), smtp=bool(app_config().smtp_url)
    )


@pages.get("/outbox/<name>")
def message(name: str):
    refused = _admin_only()
    if refused is not None:
        return refused
    parsed = _sink().read(name)
    if parsed is None:
        return _not_found()
    return render_template("notify/message.html", name=name, **_message_view(parsed))


@pages.get("/outbox/<name>/raw")
def raw_message(name: str):
    refused = _admin_only()
    if refused is not None:
        return refused
    data = _sink().raw(name)
    if data is None:
        return _not_found()
    return Response(
        data,
        content_type="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@pages.get("/outbox/<name>/html")
def message_html(name: str):
    """The HTML part alone, for the message page's sandboxed frame: no scripts, nothing
    fetched from anywhere."""
    refused = _admin_only()
    if refused is not None:
        return refused
    parsed = _sink().read(name)
    part = parsed.get_body(("html",)) if parsed is not None else None
    if part is None:
        return _not_found()
    response = Response(part.get_content(), content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = HTML_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _message_view(parsed: EmailMessage) -> dict:
    headers = [
        (label, str(parsed[name]))
        for label, name in (
            ("from", "From"),
            ("to", "To"),
            ("reply_to", "Reply-To"),
            ("date", "Date"),
            ("message_id", "Message-ID"),
        )
        if parsed[name]
    ]
    text = parsed.get_body(("plain",))
    calendars = []
    attachments = []
    for part in parsed.walk():
        if part.get_content_type() == "text/calendar" and not part.is_attachment():
            calendars.append((part.get_param("method") or "", part.get_content()))
        elif part.is_attachment():
            attachments.append((part.get_filename() or "", part.get_content_type()))
    return {
        "subject": str(parsed["Subject"] or ""),
        "headers": headers,
        "text": text.get_content() if text is not None else "",
        "has_html": parsed.get_body(("html",)) is not None,
        "calendars": calendars,
        "attachments": attachments,
    }

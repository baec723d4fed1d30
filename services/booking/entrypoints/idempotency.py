"""``Idempotency-Key`` on the POSTs that create (bookings, resources, closures, teams): a
retry with the same key by the same person answers what the first request answered (status,
body, Location) instead of creating a second record; the same key with another request is a
422 saying so. The key is written in the same transaction as what it creates
(persistence.idempotency) and the answer right after; keys are kept 24 hours."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, make_response, request
from werkzeug.exceptions import BadRequest

from services.booking.persistence.idempotency import KEEP, Claim, claim_in_progress
from services.booking.persistence.models import IdempotencyKey
from shared.auth import current_principal
from shared.messages import Msg
from shared.problems import problem, word

HEADER = "Idempotency-Key"
VALID_KEY = re.compile(r"[\x21-\x7e]{1,200}")  # visible ASCII, as clients make them (UUIDs)
WAIT_FOR_ANSWER = 5.0  # seconds a retry waits for the first request's answer


class InvalidKey(BadRequest):
    def __init__(self) -> None:
        super().__init__(Msg("idempotency_key_invalid"))
        self.field_errors = {HEADER: [Msg("idempotency_key_invalid")]}


def idempotent(model: type, ident: str = "id", reread: Callable[[str], Any] | None = None):
    """Make a creating view retryable with ``Idempotency-Key``; ``model`` and ``ident``
    name what it creates, ``reread`` answers with it should its first answer be lost."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def retryable(*args: Any, **kwargs: Any):
            key = request.headers.get(HEADER)
            if key is None:
                return view(*args, **kwargs)
            if not VALID_KEY.fullmatch(key):
                raise InvalidKey()
            ctx = current_app.extensions["booking_context"]
            who = current_principal().user_id
            claim = Claim(who, key, _fingerprint(), model, ident, ctx.clock())
            answered = _answered_before(ctx, claim, reread)
            if answered is not None:
                return answered
            token = claim_in_progress.set(claim)
            try:
                response = make_response(view(*args, **kwargs))
            except Exception:
                answered = _answered_before(ctx, claim, reread)  # a concurrent first one won
                if answered is not None:
                    return answered
                raise
            finally:
                claim_in_progress.reset(token)
            if claim.written:
                _keep_answer(ctx, claim, response)
            return response

        return retryable

    return decorate


def _fingerprint() -> str:
    """The request the key stands for: method, path and body (JSON as its content)."""
    data = request.get_json(silent=True)
    body = json.dumps(data, sort_keys=True) if data is not None else request.get_data().hex()
    return hashlib.sha256(f"{request.method} {request.path} {body}".encode()).hexdigest()


def _answered_before(ctx, claim: Claim, reread) -> Response | None:
    """The first answer to this key, a 422 when the key came with another request, or
    None when the key is new (or older than a day)."""
    deadline = time.monotonic() + WAIT_FOR_ANSWER
    while True:
        with ctx.db.transaction(readonly=True) as session:
            row = session.get(IdempotencyKey, (claim.principal_id, claim.key))
        if row is None or row.created_at < claim.now - KEEP:
            return None
        if row.fingerprint != claim.fingerprint:
            return problem(
                422,
                detail=Msg("idempotency_key_reused"),
                errors={HEADER: [word(Msg("idempotency_key_reused"))]},
                codes={HEADER: ["idempotency_key_reused"]},
            )
        if row.status is not None:
            response = Response(row.body, status=row.status, mimetype="application/json")
            if row.location:
                response.headers["Location"] = row.location
            return response
        if time.monotonic() > deadline:  # the first request died between commit and answer
            if reread is None or row.created_id is None:
                return problem(409, detail=Msg("idempotency_key_unanswered"))
            return make_response(reread(row.created_id))
        time.sleep(0.05)


def _keep_answer(ctx, claim: Claim, response: Response) -> None:
    with ctx.db.transaction() as session:
        row = session.get(IdempotencyKey, (claim.principal_id, claim.key))
        row.status = response.status_code
        row.body = response.get_data(as_text=True)
        row.location = response.headers.get("Location")

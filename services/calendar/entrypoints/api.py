"""Calendar's JSON API: private feed tokens."""

from __future__ import annotations

from flask import Blueprint, jsonify

from services.calendar.commands import RevokeFeedToken
from services.calendar.entrypoints.wiring import new_token, private_feed_url, unit_of_work, webcal
from services.calendar.schemas import FEED_TOKEN_IN, FEED_TOKEN_OUT
from services.calendar.usecases.tokens import create_feed_token, revoke_feed_token
from shared.auth import current_principal, require_role
from shared.messages import Msg
from shared.problems import problem
from shared.requests import json_body

api = Blueprint("calendar_api", __name__)


@api.post("/feed-tokens")
@require_role()
def create_token():
    label = json_body(FEED_TOKEN_IN)["label"]
    token = create_feed_token(unit_of_work(), new_token(current_principal(), label))
    url = private_feed_url(token)
    return jsonify(FEED_TOKEN_OUT.dump({"token": token, "url": url, "webcal": webcal(url)})), 201


@api.delete("/feed-tokens/<token>")
@require_role()
def delete_token(token: str):
    principal = current_principal()
    command = RevokeFeedToken(token, principal.user_id, principal.is_admin)
    if not revoke_feed_token(unit_of_work(), command):
        return problem(404, detail=Msg("no_such_feed_token"))
    return "", 204

"""Calendar's JSON API: private feed tokens, and its OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, jsonify

from services.calendar.commands import RevokeFeedToken
from services.calendar.domain import FeedKind, token_hash
from services.calendar.entrypoints.wiring import (
    feed_publisher,
    new_token,
    private_feed_url,
    unit_of_work,
    webcal,
)
from services.calendar.schemas import FEED_TOKEN_IN, FEED_TOKEN_OUT, FeedTokenIn, FeedTokenOut
from services.calendar.usecases.tokens import create_feed_token, revoke_feed_token
from shared.auth import current_principal, require_role
from shared.messages import Msg
from shared.openapi import ApiDoc
from shared.problems import problem
from shared.requests import json_body

api = Blueprint("calendar_api", __name__)
doc = ApiDoc(title="Evenemang calendar API")
doc.blueprint_route(api, "/api/v1")


@doc.route(
    api,
    "/feed-tokens",
    "POST",
    summary="A personal feed link of mine (its URL and webcal:// address): kind "
    '"private" (my bookings, the default) or "assignments" (the jobs I am assigned)',
    body=FeedTokenIn,
    answer=FeedTokenOut,
    status=201,
)
@require_role()
def create_token():
    body = json_body(FEED_TOKEN_IN)
    kind = FeedKind(body["kind"])
    token = create_feed_token(unit_of_work(), new_token(current_principal(), body["label"], kind))
    url = private_feed_url(token, kind)
    answer = {"kind": kind.value, "token": token, "url": url, "webcal": webcal(url)}
    return jsonify(FEED_TOKEN_OUT.dump(answer)), 201


@doc.route(
    api,
    "/feed-tokens/<token>",
    "DELETE",
    summary="Revoke a personal feed link (mine; an admin's: anyone's)",
    status=204,
    errors=(404,),
)
@require_role()
def delete_token(token: str):
    principal = current_principal()
    command = RevokeFeedToken(token, principal.user_id, principal.is_admin)
    if not revoke_feed_token(unit_of_work(), command):
        return problem(404, detail=Msg("no_such_feed_token"))
    feed_publisher().files.remove_private(token_hash(token))  # nginx serves it no more
    return "", 204

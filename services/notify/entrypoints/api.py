"""Notify's API: the delivery log for infra and admins (``/api/v1/deliveries``)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from services.notify.persistence.unit_of_work import SqlAlchemyUnitOfWork
from services.notify.schemas import DELIVERIES_OUT, DELIVERIES_QUERY, DeliveriesOut, DeliveriesQuery
from services.notify.usecases.deliveries import list_deliveries
from shared.auth import require_role
from shared.openapi import ApiDoc
from shared.requests import query_args
from shared.web import app_db

api = Blueprint("notify_api", __name__)
doc = ApiDoc(title="Evenemang notify API")
doc.blueprint_route(api, "/api/v1")


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
    rows = list_deliveries(SqlAlchemyUnitOfWork(app_db()), query_args(DELIVERIES_QUERY))
    return jsonify(DELIVERIES_OUT.dump({"deliveries": rows}))

"""The OpenAPI document is valid OpenAPI 3 and names every operation (what each answers is
checked by tests/integration/test_openapi_conformance.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import schemathesis

from services.booking.usecases.users import add_user, create_token


@pytest.fixture
def admin_app(make_app, config):
    app = make_app("booking")
    app.extensions["booking_context"].clock = lambda: datetime(2030, 1, 7, tzinfo=UTC)
    db = app.extensions["evenemang"]["db"]
    add_user(db, "admin@example.org", "Admin", "admin")
    app.config["TEST_TOKEN"] = create_token(db, config.secret_key, "admin@example.org")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {app.config['TEST_TOKEN']}"}
    venue = client.post(
        "/api/v1/resources",
        headers=headers,
        json={"name": "Hall", "kind": "venue", "capacity": 50, "requires_approval": False},
    )
    assert venue.status_code == 201
    app.config["TEST_VENUE"] = venue.get_json()["id"]
    return app


def test_openapi_document_is_valid_openapi_3(admin_app):
    from schemathesis.specs.openapi.schemas import OpenApiSchema  # noqa: F401 - installed

    document = admin_app.test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    loaded = schemathesis.openapi.from_dict(document)
    operations = {(op.ok().method.upper(), op.ok().path) for op in loaded.get_all_operations()}
    for expected in [
        ("GET", "/api/v1/resources"),
        ("POST", "/api/v1/resources"),
        ("GET", "/api/v1/resources/{resource_id}"),
        ("PATCH", "/api/v1/resources/{resource_id}"),
        ("POST", "/api/v1/resources/{resource_id}/closures"),
        ("GET", "/api/v1/availability"),
        ("POST", "/api/v1/bookings"),
        ("GET", "/api/v1/bookings"),
        ("GET", "/api/v1/bookings/{booking_id}"),
        ("PATCH", "/api/v1/bookings/{booking_id}"),
        ("POST", "/api/v1/bookings/{booking_id}/approve"),
        ("POST", "/api/v1/bookings/{booking_id}/reject"),
        ("POST", "/api/v1/bookings/{booking_id}/cancel"),
        ("POST", "/api/v1/bookings/{booking_id}/occurrences/{n}/cancel"),
        ("GET", "/api/v1/bookings/{booking_id}/history"),
        ("GET", "/api/v1/reports/events"),
        ("GET", "/api/v1/reports/occupancy"),
        ("GET", "/api/v1/reports/services"),
        ("GET", "/api/v1/reports/decisions"),
        ("GET", "/api/v1/exports/bookings"),
    ]:
        assert expected in operations

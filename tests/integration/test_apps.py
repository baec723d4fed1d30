"""Each service's application factory and its health endpoint."""

from __future__ import annotations

import pytest

SERVICES = ("booking", "calendar", "notify")


@pytest.mark.parametrize("service", SERVICES)
def test_factory_builds_an_app_from_config(service, config, make_app):
    app = make_app(service)
    assert app.config["SECRET_KEY"] == config.secret_key
    assert app.extensions["evenemang"]["service"] == service


@pytest.mark.parametrize("service", SERVICES)
def test_healthz_is_ok_when_database_and_broker_answer(service, make_app):
    response = make_app(service).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.mark.parametrize("service", SERVICES)
def test_healthz_names_what_is_unreachable(service, config, make_app):
    broken = config.replace(
        broker_url="amqp://guest:guest@127.0.0.1:1//",
        **{f"{service}_database_url": "postgresql+psycopg://nobody@127.0.0.1:1/x"},
    )
    client = make_app(service, broken).test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert set(body["unreachable"]) == {"database"}  # the broker is readiness's (test_health)
    assert "database" in client.get("/readyz").get_json()["unreachable"]


def test_unknown_paths_answer_problem_details(make_app):
    response = make_app("booking").test_client().get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404


def test_config_from_environment_when_none_given(config, monkeypatch):
    from services.calendar import create_app

    for key, value in config.to_env().items():
        monkeypatch.setenv(key, value)
    app = create_app()
    try:
        assert app.extensions["evenemang"]["config"] == config
    finally:
        app.extensions["evenemang"]["db"].dispose()

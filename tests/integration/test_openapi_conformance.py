"""The three services' OpenAPI documents say what their APIs answer: schemathesis runs every
operation of each document with all its checks (no server error, status codes, content
types, headers and bodies as documented, schema-invalid input refused, schema-valid input
accepted, ...), positive and negative examples, and none may fail.

One check is read the way the document words it: a schema-valid request may still break a
rule that JSON Schema cannot state (the end after the start; a name that exists already;
a year beyond what a calendar holds), and then the answer is a 422 naming that rule. Every
such rule is listed below with why the schema cannot hold it; a 422 for anything else, or
a 400, fails the run."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from services.booking.usecases.users import add_user, create_token
from shared.auth import Principal, issue_token
from tests.support.identity import teach

ADMIN = Principal("u-admin", "ada@example.org", "Ada Admin", "admin")

RULES_BEYOND_THE_SCHEMA = {
    "end_before_start": "two fields compared: the end must come after the start",
    "recording_notice_required": "two fields compared: photo or film needs the notice",
    "year_between": "a date-time's format cannot bound its year (1970 to 2200 here)",
    "slug_taken": "depends on what exists: a short name already in use",
    "team_slug_taken": "depends on what exists: a short name already in use",
    "user_exists": "depends on what exists: an address that has an account",
    "unknown_resource": "depends on what exists: a resource id that names none",
    "unknown_team": "depends on what exists: a team's short name that names none",
    "closes_before_opens": "two items compared: a window of opening hours closes after it opens",
    "windows_overlap": "items compared: a day's windows of opening hours do not overlap",
    "report_period_too_long": "two dates compared: a report covers at most five years",
    "report_unknown_unit": "depends on what exists: a unit's short name that names none",
    "report_unknown_category": "depends on what exists: a category's short name that names none",
    "report_unknown_resource": "depends on what exists: a resource id that names none",
    "unknown_category": "depends on what exists: a category's slug that names no active one",
    "unknown_unit": "depends on what exists: a unit's slug that names no active one",
    "list_slug_taken": "depends on what exists: a category's or unit's slug already in use",
    "list_slug_stays": "the path compared with the body: a list entry's slug stays",
    "valid_to_before_valid_from": "two fields compared: an agreement ends after it starts",
    "no_such_supplier": "depends on what exists: a supplier id that names none",
    "assign_only_services": "depends on what exists: the line's resource is a venue",
    "assignee_not_in_team": "depends on what exists: the person is not in the line's team",
    "assignee_one_of": "two fields compared: an email or a supplier, as the kind says",
    "supplier_retired": "depends on what exists: a supplier retired",
    "supplier_agreement_not_valid": "depends on what exists: an agreement and the dates",
    "idempotency_key_reused": "depends on what was sent before: the key with another request",
}
ACCEPTED = ("2", "3")  # a schema-valid request gets 2xx/3xx, or one of these answers:
ACCEPTED_REFUSALS = {401, 403, 404, 409, 429}


def _booking(make_app, config):
    app = make_app("booking")
    app.extensions["booking_context"].clock = lambda: datetime(2030, 1, 7, tzinfo=UTC)
    db = app.extensions["evenemang"]["db"]
    add_user(db, ADMIN.email, ADMIN.name, "admin")
    token = create_token(db, config.secret_key, ADMIN.email)
    headers = {"Authorization": f"Bearer {token}"}
    venue = app.test_client().post(
        "/api/v1/resources",
        headers=headers,
        json={"name": "Hall", "kind": "venue", "capacity": 50, "requires_approval": False},
    )
    assert venue.status_code == 201
    return app, headers


def _replica(service: str):
    def build(make_app, config):
        app = make_app(service)
        teach(app, ADMIN)
        token = issue_token(config.secret_key, ADMIN, "t-admin")
        return app, {"Authorization": f"Bearer {token}"}

    return build


SERVICES = {"booking": _booking, "calendar": _replica("calendar"), "notify": _replica("notify")}


def _problem_codes(response) -> set[str]:
    try:
        codes = response.json().get("codes") or {}
    except ValueError:
        return set()
    return {code for field_codes in codes.values() for code in field_codes}


def _check_acceptance(case, response) -> None:
    """schemathesis' positive_data_acceptance, with the rules the schema cannot state."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    status = response.status_code
    if str(status)[0] in ACCEPTED or status in ACCEPTED_REFUSALS:
        return
    codes = _problem_codes(response)
    assert status == 422 and codes and codes <= RULES_BEYOND_THE_SCHEMA.keys(), (
        "a schema-valid request was refused",
        case.method,
        case.formatted_path,
        case.body,
        case.query,
        status,
        response.text[:500],
    )


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_operation_answers_as_its_document_says(service, make_app, config):
    app, headers = SERVICES[service](make_app, config)
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert operations
    failures = {}
    for operation in operations:

        @settings(
            max_examples=12,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case):
            response = case.call(headers=headers)
            case.validate_response(
                response, headers=headers, excluded_checks=[positive_data_acceptance]
            )
            _check_acceptance(case, response)

        try:
            check()
        except Exception as failure:  # every operation's, reported together
            inner = getattr(failure, "exceptions", ())  # Hypothesis' groups: what failed
            failures[operation.label] = "\n".join(map(str, [failure, *inner]))[:3000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())

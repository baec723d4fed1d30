"""The envelope's fast path gives what the schema gives, and leaves to the schema whatever
it is not sure of (so malformed input still gets the schema's errors)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
from marshmallow import ValidationError

from shared import fastload
from shared.events import (
    ACCOUNT_INVITED,
    BOOKING_APPROVED,
    BOOKING_CHANGED,
    ENVELOPE,
    Event,
    load_with_schema,
    make_envelope,
    parse_event,
)
from tests import factories


def slow(body: dict) -> Event:
    return load_with_schema(copy.deepcopy(body))  # the schema's path, on a copy


def envelopes() -> list[dict]:
    return [
        factories.envelope(),
        factories.envelope(BOOKING_APPROVED, status="approved", decided_by="infra@example.org"),
        factories.envelope(
            BOOKING_CHANGED,
            revision=3,
            rrule="FREQ=WEEKLY;COUNT=2",
            participants=[{"email": "p@example.org", "name": None}],
            description=None,
            changes=[{"field": "title", "from": "A", "to": {"x": [1]}}],
            lines=[factories.line(), factories.line("r2", "declined")],
            resources=[
                factories.resource_ref(
                    team=factories.team("av", "AV", "av@example.org", ("a@example.org",))
                ),
                factories.resource("r2", "studio", "Studio", kind="studio", location=None),
            ],
            decided=["r1"],
            freed=["r2"],
            extra_field="ignored",
        ),
        factories.envelope(
            "booking.assigned",
            category={"slug": "seminar", "name_sv": "Seminarium", "name_en": "Seminar"},
            unit={"slug": "econ", "name_sv": "Ekonomi", "name_en": ""},
            recording={"photo": True, "film": False, "notice": "N", "opt_outs": ["p@x.org"]},
            lines=[
                dict(
                    factories.line(),
                    assignee={"kind": "staff", "email": "f@example.org", "name": "F"},
                    hours_delivered=2.5,
                ),
                dict(
                    factories.line("r2"),
                    assignee={"kind": "supplier", "supplier_id": "s1", "name": "Foto AB"},
                    hours_delivered=3,
                ),
            ],
        ),
        factories.resource_envelope(former_slugs=["old"], managers=["m@example.org"]),
        factories.resource_envelope(
            name_sv="Aulan", name_en="The Hall", location_sv="Hus A", location_en="Building A"
        ),
        factories.envelope(
            resources=[
                factories.resource_ref(name_sv="Aulan", name_en="Hall", location_en="House A")
            ]
        ),
        factories.user_changed("u@example.org", revoked_tokens=["t"], ended_sessions=["s"]),
        make_envelope(
            ACCOUNT_INVITED,
            {
                "user_id": "u1",
                "email": "u@example.org",
                "name": "U",
                "language": "en",
                "url": "https://x/set",
                "expires_at": datetime(2030, 1, 1, tzinfo=UTC).isoformat(),
                "mail_id": "m1",
            },
        ),
    ]


@pytest.mark.parametrize("index", range(9))
def test_the_fast_path_gives_what_the_schema_gives(index):
    body = envelopes()[index]
    fast = fastload.load_event(body)
    assert fast is not None, "the factories' events take the fast path"
    assert fast == slow(body)
    assert repr(fast) == repr(slow(body))
    assert parse_event(json.dumps(body)) == fast


def broken(change) -> dict:
    body = factories.envelope()
    change(body)
    return body


MALFORMED = {
    "id not a uuid": lambda b: b.update(id="nope"),
    "unknown type": lambda b: b.update(type="booking.exploded"),
    "unknown version": lambda b: b.update(version=99),
    "naive time": lambda b: b.update(occurred_at="2030-01-01T00:00:00"),
    "no data": lambda b: b.pop("data"),
    "revision 0": lambda b: b["data"].update(revision=0),
    "revision as text": lambda b: b["data"].update(revision="x"),
    "bad email": lambda b: b["data"]["organiser"].update(email="not-an-email"),
    "unknown status": lambda b: b["data"].update(status="maybe"),
    "no title": lambda b: b["data"].pop("title"),
    "title None": lambda b: b["data"].update(title=None),
    "occurrences not a list": lambda b: b["data"].update(occurrences="x"),
    "negative occurrence": lambda b: b["data"]["occurrences"][0].update(n=-1),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_input_gets_the_schemas_errors(name):
    body = broken(MALFORMED[name])
    assert fastload.load_event(body) is None
    with pytest.raises(ValidationError) as fast_path:
        parse_event(body)
    with pytest.raises(ValidationError) as schema:
        ENVELOPE.load(copy.deepcopy(body))
    assert fast_path.value.messages == schema.value.messages


def test_what_the_schema_accepts_beyond_the_fast_path_still_loads():
    body = factories.envelope()
    body["id"] = body["id"].upper()  # a UUID the schema normalises
    body["data"]["revision"] = "2"  # a number as text: the schema's lenient Integer
    event = parse_event(body)
    assert fastload.load_event(body) is None
    assert event.id == body["id"].lower() and event.revision == 2


def test_resources_named_in_both_languages_and_events_from_before_load_alike():
    bilingual = parse_event(
        factories.envelope(resources=[factories.resource_ref(name_sv="Aulan", name_en="Hall")])
    )
    ref = bilingual.data.resources[0]
    assert (ref.named("sv"), ref.named("en"), ref.located("en")) == ("Aulan", "Hall", "Building A")
    assert ref.localized("en").name == "Hall"
    old = factories.envelope()  # an event from before: no name_sv, name_en, location_*
    for key in ("name_sv", "name_en", "location_sv", "location_en"):
        old["data"]["resources"][0].pop(key, None)
    assert fastload.load_event(old) == slow(old)
    ref = parse_event(old).data.resources[0]
    assert ref.name_en == "" and ref.named("en") == ref.named("sv") == "Aula"
    old_resource = factories.resource_envelope()
    for key in ("name_sv", "name_en", "location_sv", "location_en"):
        old_resource["data"].pop(key, None)
    assert fastload.load_event(old_resource) == slow(old_resource)
    resource = parse_event(old_resource).data
    assert resource.named("en") == "Aula" and resource.located("sv") == "Building A"

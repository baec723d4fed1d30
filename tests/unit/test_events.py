import json
from datetime import UTC, datetime

import pytest
from marshmallow import ValidationError

from shared.bus.topology import build_topology
from shared.events import (
    ACCOUNT_INVITED,
    ACCOUNT_PASSWORD_RESET,
    BOOKING_APPROVED,
    AccountMailSnapshot,
    EventType,
    Kind,
    Language,
    Person,
    Status,
    make_envelope,
    parse_event,
)
from shared.outbox import aggregate_of
from tests.factories import envelope


def test_envelope_round_trips_through_json():
    env = envelope(BOOKING_APPROVED, status="approved", revision=3)
    event = parse_event(json.dumps(env).encode())
    assert event.id == env["id"]
    assert event.type == BOOKING_APPROVED
    assert event.revision == 3
    assert event.data.start.tzinfo is not None
    assert event.data.status is Status.APPROVED
    assert event.snapshot_json["status"] == "approved"


def test_a_typed_snapshot_dumped_by_a_producer_loads_back_equal():
    event = parse_event(envelope(BOOKING_APPROVED, status="approved", revision=2))
    again = parse_event(make_envelope(BOOKING_APPROVED, event.data))
    assert again.data == event.data
    assert isinstance(again.data.organiser, Person)
    assert all(isinstance(r.kind, Kind) for r in again.data.resources)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda e: e.update(version=99), "version"),
        (lambda e: e.pop("id"), "id"),
        (lambda e: e.update(type="booking.exploded"), "type"),
        (lambda e: e["data"].pop("revision"), "data"),
        (lambda e: e["data"].update(start="2030-01-01T10:00:00"), "data"),  # no offset
        (lambda e: e["data"].update(status="maybe"), "data"),
    ],
)
def test_invalid_envelopes_are_refused_with_the_field(mutate, field):
    env = envelope()
    mutate(env)
    with pytest.raises(ValidationError) as info:
        parse_event(env)
    assert field in info.value.messages


def test_unknown_version_says_so():
    env = envelope()
    env["version"] = 2
    with pytest.raises(ValidationError) as info:
        parse_event(env)
    assert "unsupported schema version 2" in str(info.value.messages["version"])


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", '"text"'])
def test_malformed_bodies_are_validation_errors(body):
    with pytest.raises(ValidationError):
        parse_event(body)


def test_unknown_payload_fields_are_ignored_for_forward_compatibility():
    env = envelope()
    env["data"]["shiny_new_field"] = 1
    assert not hasattr(parse_event(env).data, "shiny_new_field")


ISSUED = datetime(2030, 3, 1, 11, 0, tzinfo=UTC)


def test_account_mail_travels_as_the_contract_says():
    snapshot = AccountMailSnapshot(
        user_id="user-1",
        email="nina@example.org",
        name="Nina",
        language=Language.EN,
        url="https://x.example/password/reset/abc",
        expires_at=ISSUED,
        mail_id="mail-1",
        sso=True,
    )
    for event_type in (ACCOUNT_INVITED, ACCOUNT_PASSWORD_RESET):
        envelope = make_envelope(event_type, snapshot)
        event = parse_event(envelope)
        assert event.data == snapshot and event.is_account and not event.is_user
        assert event.aggregate_id == "user-1" == aggregate_of(envelope["data"])
        assert event.type.aggregate == "account"
    bare = parse_event(
        make_envelope(
            EventType.ACCOUNT_INVITED,
            {"user_id": "u", "email": "a@example.org", "mail_id": "m", "url": None},
        )
    )
    assert (bare.data.url, bare.data.expires_at, bare.data.sso, bare.data.language) == (
        "",
        None,
        False,
        Language.SV,
    )


def test_account_mail_is_routed_to_notify_alone():
    topology = build_topology()

    def keys(service: str) -> set[str]:
        return {b.routing_key for b in topology.queue(service).bindings}

    assert "account.#" in keys("notify")
    assert not any(key.startswith("account") for key in keys("calendar"))

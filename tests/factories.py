"""Factory fixtures: valid events and snapshots with overrides."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.events import BOOKING_SUBMITTED, RESOURCE_CHANGED, make_envelope


def snapshot(**overrides: Any) -> dict[str, Any]:
    booking_id = overrides.pop("booking_id", str(uuid.uuid4()))
    start = overrides.pop("start", datetime(2030, 3, 4, 9, 0, tzinfo=UTC))
    end = overrides.pop("end", start + timedelta(hours=2))
    data = {
        "booking_id": booking_id,
        "uid": f"booking-{booking_id}@evenemang",
        "revision": 1,
        "title": "Thesis defence",
        "description": "Public defence in the lecture hall",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "timezone": "Europe/Stockholm",
        "rrule": None,
        "occurrences": [
            {"n": 0, "start": start.isoformat(), "end": end.isoformat(), "status": "active"}
        ],
        "status": "pending",
        "visibility": "public",
        "language": "sv",
        "expected_attendees": 40,
        "resources": [
            {
                "id": "r1",
                "slug": "aula",
                "name": "Aula",
                "kind": "venue",
                "location": "Building A",
                "requires_approval": True,
                "managers": [],
            }
        ],
        "organiser": {"email": "org@example.org", "name": "Olga Organiser"},
        "participants": [],
        "reason": None,
        "decided_by": None,
        "changes": [],
        "created_at": datetime(2030, 1, 1, tzinfo=UTC).isoformat(),
        "updated_at": datetime(2030, 1, 1, tzinfo=UTC).isoformat(),
    }
    data.update(overrides)
    return data


def envelope(event_type: str = BOOKING_SUBMITTED, **snapshot_overrides: Any) -> dict[str, Any]:
    return make_envelope(event_type, snapshot(**snapshot_overrides))


# --- lines and resources (decisions per resource, resource.changed) ------------------------


def resource_ref(
    resource_id: str = "r1", slug: str = "aula", name: str = "Aula", **overrides: Any
) -> dict[str, Any]:
    """A resource as a booking snapshot names it (the default is the snapshot's own)."""
    data = {
        "id": resource_id,
        "slug": slug,
        "name": name,
        "kind": "venue",
        "location": "Building A",
        "requires_approval": True,
        "managers": [],
    }
    data.update(overrides)
    return data


def line(resource_id: str = "r1", status: str = "pending", **overrides: Any) -> dict[str, Any]:
    """One resource's line of a request; a decided one says by whom and when."""
    data: dict[str, Any] = {"resource_id": resource_id, "status": status, "deciders": []}
    if status != "pending":
        data["decided_by"] = "infra@example.org"
        data["decided_at"] = datetime(2030, 1, 2, tzinfo=UTC).isoformat()
    if status == "declined":
        data["reason"] = "Not available"
    data.update(overrides)
    return data


def resource_snapshot(**overrides: Any) -> dict[str, Any]:
    """A resource as ``resource.changed`` describes it (the default: the snapshot's Aula)."""
    data = {
        "resource_id": "r1",
        "slug": "aula",
        "name": "Aula",
        "kind": "venue",
        "active": True,
        "revision": 1,
        "location": "Building A",
        "former_slugs": [],
        "requires_approval": True,
        "self_approval": False,
        "managers": [],
        "team": None,
    }
    data.update(overrides)
    return data


def resource_envelope(**overrides: Any) -> dict[str, Any]:
    return make_envelope(RESOURCE_CHANGED, resource_snapshot(**overrides))

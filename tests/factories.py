"""Factory fixtures: valid events and snapshots with overrides."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.events import BOOKING_SUBMITTED, RESOURCE_CHANGED, USER_CHANGED, make_envelope

WAITING_SINCE = datetime(2030, 1, 1, tzinfo=UTC)


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


def line(resource_id: str, status: str = "pending", **overrides: Any) -> dict[str, Any]:
    """One line of a booking: pending ones wait since ``WAITING_SINCE`` unless told."""
    since = overrides.pop("waiting_since", WAITING_SINCE if status == "pending" else None)
    decided = status != "pending"
    return {
        "resource_id": resource_id,
        "status": status,
        "decided_by": overrides.pop("decided_by", "infra@example.org" if decided else None),
        "decided_at": overrides.pop("decided_at", WAITING_SINCE.isoformat() if decided else None),
        "reason": None,
        "deciders": [],
        "waiting_since": since.isoformat() if isinstance(since, datetime) else since,
        **overrides,
    }


def team(slug: str, name: str, email: str = "", members: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"slug": slug, "name": name, "email": email, "members": list(members)}


def resource(resource_id: str, slug: str, name: str, **overrides: Any) -> dict[str, Any]:
    """A resource as a booking snapshot names it (a venue needing approval unless told)."""
    return {
        "id": resource_id,
        "slug": slug,
        "name": name,
        "kind": "venue",
        "location": "",
        "requires_approval": True,
        "managers": [],
        "team": None,
        "self_approval": False,
        **overrides,
    }


def resource_changed(resource_id: str, slug: str, name: str, **overrides: Any) -> dict[str, Any]:
    """A ``resource.changed`` envelope (revision 1 unless told)."""
    data = {
        "resource_id": resource_id,
        "slug": slug,
        "name": name,
        "kind": "venue",
        "active": True,
        "revision": 1,
        **overrides,
    }
    return make_envelope(RESOURCE_CHANGED, data)


def user_changed(email: str, alerts: str = "each", **overrides: Any) -> dict[str, Any]:
    """A ``user.changed`` envelope for an organiser (revision 1 unless told)."""
    data = {
        "user_id": overrides.pop("user_id", f"u-{email}"),
        "email": email,
        "role": "organiser",
        "active": True,
        "revision": 1,
        "alerts": alerts,
        **overrides,
    }
    return make_envelope(USER_CHANGED, data)

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


# --- lines and resources (decisions per resource, resource.changed) ------------------------


def line(resource_id: str = "r1", status: str = "pending", **overrides: Any) -> dict[str, Any]:
    """One resource's line of a request: a pending one waits since ``WAITING_SINCE``, a
    decided one says by whom and when, a declined one why (unless told)."""
    since = overrides.pop("waiting_since", WAITING_SINCE if status == "pending" else None)
    decided = status != "pending"
    data: dict[str, Any] = {
        "resource_id": resource_id,
        "status": status,
        "decided_by": "infra@example.org" if decided else None,
        "decided_at": WAITING_SINCE.isoformat() if decided else None,
        "reason": "Not available" if status == "declined" else None,
        "deciders": [],
        "waiting_since": since.isoformat() if isinstance(since, datetime) else since,
    }
    data.update(overrides)
    return data


def label(slug: str = "seminar", name_sv: str = "Seminarium", name_en: str = "Seminar"):
    """A category or unit as a booking event carries it (``category``, ``unit``)."""
    return {"slug": slug, "name_sv": name_sv, "name_en": name_en}


def assignee(kind: str = "staff", **overrides: Any) -> dict[str, Any]:
    """Who does a line's job, as a line of a booking event carries it (``assignee``): a
    staff member by default, or a supplier (``kind="supplier"``)."""
    data: dict[str, Any] = (
        {"kind": kind, "email": "fia.foto@example.org", "name": "Fia Foto", "supplier_id": None}
        if kind == "staff"
        else {
            "kind": kind,
            "email": "bokning@bildbyran.example",
            "name": "Bildbyrån AB",
            "supplier_id": "s1",
        }
    )
    data.update(overrides)
    return data


def team(slug: str, name: str, email: str = "", members: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"slug": slug, "name": name, "email": email, "members": list(members)}


def resource_ref(
    resource_id: str = "r1", slug: str = "aula", name: str = "Aula", **overrides: Any
) -> dict[str, Any]:
    """A resource as a booking snapshot names it (the default is the snapshot's own: a venue
    needing approval)."""
    data = {
        "id": resource_id,
        "slug": slug,
        "name": name,
        "kind": "venue",
        "location": "Building A",
        "requires_approval": True,
        "managers": [],
        "team": None,
        "self_approval": False,
    }
    data.update(overrides)
    return data


def resource(resource_id: str, slug: str, name: str, **overrides: Any) -> dict[str, Any]:
    """A resource as a booking snapshot names it, with no location unless told."""
    return resource_ref(resource_id, slug, name, **{"location": "", **overrides})


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


def resource_changed(resource_id: str, slug: str, name: str, **overrides: Any) -> dict[str, Any]:
    """A ``resource.changed`` envelope (revision 1 unless told)."""
    overrides = {"location": "", **overrides}
    return resource_envelope(resource_id=resource_id, slug=slug, name=name, **overrides)


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

"""An assignment made in booking (``PUT .../lines/{resource_id}/assignment``) reaches the
assignee twice: their assignments feed (calendar) and an invitation by mail (notify, to a
real SMTP server on loopback), from the very events booking's outbox holds."""

from __future__ import annotations

import json

from sqlalchemy import select

from services.booking.persistence.models import OutboxMessage
from tests.support.booking import BookingApi
from tests.support.calendar import deliver, parse_both
from tests.support.smtp import calendar_of

MEMBER = "fia.foto@example.org"


def _outbox(api: BookingApi) -> list[dict]:
    """Every event booking wrote, oldest first, as it would travel."""
    with api.db.transaction(readonly=True) as session:
        payloads = session.scalars(select(OutboxMessage.payload).order_by(OutboxMessage.id))
        return [json.loads(payload) for payload in payloads]


def test_an_assignment_in_booking_reaches_the_assignees_feed_and_mailbox(make_app, notify, smtp):
    api = BookingApi(make_app("booking"))
    team = {"name": "Kommunikation", "slug": "komm", "members": [MEMBER]}
    assert api.post("/api/v1/teams", api.admin, team).status_code == 201
    photo = api.make_resource(name="Photographer", kind="service", team="komm")
    fia = api.user("organiser", MEMBER, "Fia Foto")
    booking = api.approved(api.booking(api.organiser, api.make_resource(), photo))
    path = f"/api/v1/bookings/{booking['id']}/lines/{photo['id']}/assignment"
    body = {"assignee": {"kind": "staff", "email": MEMBER}}
    assert api.put(path, fia, body).status_code == 200
    envelopes = _outbox(api)
    assert envelopes[-1]["type"] == "booking.assigned"

    calendar = make_app("calendar")
    deliver(calendar, *envelopes)
    client = calendar.test_client()
    made = client.post("/api/v1/feed-tokens", json={"kind": "assignments"}, headers=fia.headers)
    assert made.status_code == 201
    response = client.get(f"/feeds/assignments/{made.get_json()['token']}.ics")
    [vevent], _ = parse_both(response.data)
    assert str(vevent["SUMMARY"]) == booking["title"]
    assert "Photographer (Fia Foto)" in str(vevent["DESCRIPTION"])

    notify.deliver(*envelopes)
    notify.send_all()
    # she decides the team's lines too (asked when it was requested); one mail invites her
    [mail] = [m for m in smtp.messages_to(MEMBER) if m.get_body(("calendar",)) is not None]
    _, invitation, method = calendar_of(mail)
    [sent] = invitation.walk("VEVENT")
    assert method == "REQUEST" and str(sent["ATTENDEE"]) == f"mailto:{MEMBER}"
    assert str(sent["UID"]) == str(vevent["UID"])  # the same event as in her feed
    assert int(sent["SEQUENCE"]) == int(vevent["SEQUENCE"]) == booking["revision"] + 1

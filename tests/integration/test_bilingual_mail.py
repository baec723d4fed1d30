"""Mail names resources in the language it is written in (the booking's): an English mail
says the English name and place, a Swedish one the Swedish, also where notify knows the
resource only from ``resource.changed``; an event from before names both alike."""

from __future__ import annotations

import pytest

from shared.events import BOOKING_APPROVED, BOOKING_SUBMITTED, RESOURCE_CHANGED, make_envelope
from tests.factories import resource_snapshot, snapshot

HALL = {
    "id": "r1",
    "slug": "aula",
    "name": "Aulan",
    "name_sv": "Aulan",
    "name_en": "The Great Hall",
    "kind": "venue",
    "location": "Hus A",
    "location_sv": "Hus A",
    "location_en": "Building A",
    "requires_approval": True,
    "managers": ["manager@example.org"],
}


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


@pytest.mark.parametrize(
    "language, name, place, other",
    [("en", "The Great Hall", "Building A", "Aulan"), ("sv", "Aulan", "Hus A", "Great Hall")],
)
def test_a_mail_names_the_resource_in_its_language(notify, smtp, language, name, place, other):
    data = snapshot(resources=[HALL], language=language, participants=[])
    notify.deliver(make_envelope(BOOKING_SUBMITTED, data))
    notify.send_all()
    receipt = _text(smtp.messages_to(data["organiser"]["email"])[0])
    alert = _text(smtp.messages_to("manager@example.org")[0])
    for said in (receipt, alert):
        assert name in said and place in said and other not in said


def test_a_rename_in_english_reaches_mail_and_old_events_still_apply(notify, smtp):
    old = dict(HALL)
    for key in ("name_sv", "name_en", "location_sv", "location_en"):
        old.pop(key)  # a booking event from before resources had two languages
    data = snapshot(resources=[old], language="en", participants=[])
    renamed = resource_snapshot(
        resource_id="r1",
        slug="aula",
        name="Aulan",
        name_sv="Aulan",
        name_en="Main Hall",
        location="Hus A",
        location_en="Building A",
        revision=2,
    )
    notify.deliver(make_envelope(RESOURCE_CHANGED, renamed))
    approved = dict(data, status="approved", decided_by="infra@example.org", revision=2)
    notify.deliver(make_envelope(BOOKING_APPROVED, approved))
    notify.send_all()
    said = _text(smtp.messages_to(data["organiser"]["email"])[0])
    assert "Main Hall" in said and "Building A" in said

"""Feeds and the subscribe page name resources in the language chosen: a feed's address
asks it with ``?lang=`` (English without), the subscribe page offers each feed in both;
events from before resources had two names still apply. And the page's private links:
labelled by their real scheme, counted in the right plural, each with a revoke button."""

from __future__ import annotations

import icalendar
import pytest

from shared.messages import text as _
from tests.factories import resource_envelope, resource_ref
from tests.integration.test_calendar_feeds import people  # noqa: F401 - a fixture
from tests.support.calendar import approved, deliver, parse_both

HALL = resource_ref(
    name="Aulan",
    name_sv="Aulan",
    name_en="The Great Hall",
    location="Hus A",
    location_sv="Hus A",
    location_en="Building A",
)


@pytest.fixture
def calendar(make_app):
    return make_app("calendar")


def get(app, path, **kwargs):
    return app.test_client().get(path, **kwargs)


@pytest.mark.parametrize(
    "query, location",
    [("?lang=sv", "Aulan, Hus A"), ("?lang=en", "The Great Hall, Building A"),
     ("", "The Great Hall, Building A")],
)  # fmt: skip
def test_a_feed_names_resources_in_the_language_its_address_asks(calendar, query, location):
    deliver(calendar, approved(resources=[HALL]))
    for feed in ("public.ics", "resources/aula.ics"):
        [ical], _vob = parse_both(get(calendar, f"/feeds/{feed}{query}").data)
        assert str(ical["LOCATION"]) == location


@pytest.mark.parametrize(
    "query, name", [("?lang=sv", "Evenemang – Aulan"), ("?lang=en", "Evenemang – Main Hall")]
)
def test_a_resource_feed_is_named_in_its_language(calendar, query, name):
    deliver(calendar, resource_envelope(name="Aulan", name_sv="Aulan", name_en="Main Hall"))
    feed = icalendar.Calendar.from_ical(get(calendar, f"/feeds/resources/aula.ics{query}").data)
    assert str(feed["X-WR-CALNAME"]) == name


def test_events_from_before_still_apply_alike_in_both_languages(calendar):
    old = approved()
    for ref in old["data"]["resources"]:
        for key in ("name_sv", "name_en", "location_sv", "location_en"):
            ref.pop(key, None)
    deliver(calendar, old)
    for query in ("?lang=sv", "?lang=en"):
        [ical], _vob = parse_both(get(calendar, f"/feeds/public.ics{query}").data)
        assert str(ical["LOCATION"]) == "Aula, Building A"


@pytest.mark.parametrize("language, other", [("sv", "en"), ("en", "sv")])
def test_the_subscribe_page_offers_each_feed_in_both_languages(calendar, language, other):
    deliver(
        calendar,
        resource_envelope(name="Aulan", name_sv="Aulan", name_en="Main Hall"),
        approved(resources=[HALL]),
    )
    html = get(calendar, f"/?lang={language}").get_data(as_text=True)
    name = {"sv": "Aulan", "en": "Main Hall"}[language]
    assert f">{name}</h3>" in html
    for feed in ("public.ics", "resources/aula.ics"):
        assert f'value="http://127.0.0.1:8000/calendar/feeds/{feed}?lang={language}"' in html
        assert f'href="webcal://127.0.0.1:8000/calendar/feeds/{feed}?lang={other}"' in html
    assert _(f"feed_also_in_{other}", language) in html
    # the addresses are http here (EVENEMANG_BASE_URL), and so is their label
    assert ">http</label>" in html and ">https</label>" not in html


@pytest.mark.parametrize(
    "language, one, two",
    [
        ("sv", "1 aktiv personlig länk", "2 aktiva personliga länkar"),
        ("en", "1 active personal link.", "2 active personal links"),
    ],
)
def test_private_links_are_counted_and_each_can_be_revoked(calendar, people, language, one, two):  # noqa: F811
    bearer = {"Authorization": f"Bearer {people['org@example.org']}"}
    client = calendar.test_client()
    made = client.post(f"/feed-tokens?lang={language}", data={"label": "phone"}, headers=bearer)
    html = made.get_data(as_text=True)
    assert one in html
    url = html.split('id="new-url" readonly value="')[1].split('"')[0]
    feed = url.split("127.0.0.1:8000/calendar")[1]
    assert get(calendar, feed).status_code == 200
    html = client.post(f"/feed-tokens?lang={language}", data={}, headers=bearer).get_data(
        as_text=True
    )
    assert two in html
    forms = html.split('action="feed-tokens/')[1:]
    assert len(forms) == 2 and all('name="csrf_token"' in f.split("</form>")[0] for f in forms)
    first = forms[0].split("/revoke")[0]
    revoked = client.post(f"/feed-tokens/{first}/revoke?lang={language}", headers=bearer)
    assert revoked.status_code == 303
    page = client.get(f"/?lang={language}", headers=bearer).get_data(as_text=True)
    assert _("private_feed_revoked", language) in page and one in page
    assert get(calendar, feed).status_code == 404  # the phone's link, the first made
    again = client.post(f"/feed-tokens/{first}/revoke", headers=bearer)
    assert again.status_code == 404
    other = {"Authorization": f"Bearer {people['other@example.org']}"}
    second = page.split('action="feed-tokens/')[1].split("/revoke")[0]
    assert client.post(f"/feed-tokens/{second}/revoke", headers=other).status_code == 404


def test_a_revoke_riding_on_the_cookie_needs_the_form_token(calendar):
    client = calendar.test_client()
    client.set_cookie(calendar.config["SESSION_COOKIE_NAME"], "anything")
    assert client.post("/feed-tokens/abc/revoke").status_code == 400

"""The short request form through the Flask test client: filled from a link (``start``,
``end``, ``resource_ids``/``resource``), a taken time answering with free times and other
resources each one button from the filled-in form, a time that cannot be booked showing
nothing free, the repeat as a sentence after "Show free…", and where each role lands."""

from __future__ import annotations

import re

import pytest

from tests.integration.test_web_pages import DAY, Site, request_form
from tests.integration.test_web_pages import site as site  # noqa: F401 - the fixture
from tests.support.pages import field_error, post, text


def value_of(page: str, name: str) -> str:
    found = re.search(rf'<input id="{name}" name="{name}" type="\w+" value="([^"]*)"', page)
    assert found, name
    return found.group(1)


def checked(page: str, resource_id: str) -> bool:
    return bool(re.search(rf'id="r-{resource_id}" name="resource_ids" value="[^"]+" checked', page))


def test_a_link_fills_in_the_time_and_resources(site: Site):
    client = site.client(site.organiser)
    link = (
        f"/bookings/new?start={DAY}T13:00&end={DAY}T15:30"
        f"&resource_ids={site.hall.id},{site.room.slug}&resource={site.studio.slug}"
    )
    page = text(client.get(link))
    assert (value_of(page, "date"), value_of(page, "start_time")) == (DAY, "13:00")
    assert value_of(page, "end_time") == "15:30"
    assert all(checked(page, r.id) for r in (site.hall, site.room, site.studio))
    assert 'id="free-result"' in page  # what is free then, at once
    broken = text(client.get("/bookings/new?start=0001-01-01T10:00&end=soon&resource=x"))
    assert value_of(broken, "date") == ""


def test_a_taken_time_offers_free_times_one_button_from_the_form(site: Site):
    site.approve(site.booking(site.other, site.hall, title="Secret board meeting"))
    client = site.client(site.organiser)
    response = post(client, "/bookings/new", request_form(site), page="/bookings/new")
    assert response.status_code == 409
    page = text(response)
    assert "Secret board meeting" not in page  # another organiser's: busy only
    times = re.findall(r'name="use_time" value="([^"]+)"', page)
    assert len(times) == 5 and times[0].startswith(f"{DAY}T12:00")
    assert checked(page, site.hall.id)  # taken, but still chosen: the suggestions keep it
    resources = re.findall(r'name="use_resources" value="([^"]+)"', page)
    assert site.room.id in resources

    form = {**request_form(site), "use_time": times[0]}
    filled = post(client, "/bookings/new", form, page="/bookings/new")
    assert filled.status_code == 200
    page = text(filled)
    assert (value_of(page, "start_time"), value_of(page, "end_time")) == ("12:00", "14:00")
    assert value_of(page, "title") == "Thesis defence" and checked(page, site.hall.id)
    sent = post(client, "/bookings/new", {**request_form(site), "start_time": "12:00",
                                          "end_time": "14:00"}, page="/bookings/new")  # fmt: skip
    assert sent.status_code == 302

    instead = post(client, "/bookings/new", {**request_form(site), "use_resources": site.room.id})
    assert checked(text(instead), site.room.id) and not checked(text(instead), site.hall.id)


def test_show_free_finds_the_chosen_resource_taken_and_suggests(site: Site):
    site.approve(site.booking(site.other, site.hall))
    client = site.client(site.organiser)
    response = post(client, "/bookings/new", request_form(site, step="check"))
    assert response.status_code == 200
    assert 'id="taken"' in text(response) and 'name="use_time"' in text(response)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"start_time": "12:00", "end_time": "10:00"}, "end_time"),
        ({"date": "2030-02-01"}, "start_time"),
    ],
)
def test_an_impossible_time_shows_nothing_free(site: Site, overrides, field):
    client = site.client(site.organiser)
    response = post(client, "/bookings/new", request_form(site, step="check", **overrides))
    assert response.status_code == 422
    assert field_error(response, field)
    assert "badge-ok" not in text(response)


def test_the_repeat_reads_as_a_sentence_after_show_free(site: Site):
    client = site.client(site.organiser, lang="sv")
    form = request_form(
        site, step="check", repeat="weekly", weekdays=["mon"], repeat_end="count", repeat_count="4"
    )
    page = text(post(client, "/bookings/new", form))
    assert "varje måndag, 4 gånger, till 25 mars" in page


@pytest.mark.parametrize(
    ("who", "lands"), [("organiser", "/bookings"), ("infra", "/queue"), ("admin", "/queue")]
)
def test_each_role_lands_where_its_work_is(site: Site, who, lands):
    client = site.client(getattr(site, who))
    assert client.get("/").location == lands
    if who == "admin":
        queue = text(client.get("/queue"))
        assert 'href="/users"' in queue and 'href="/resources"' in queue


def test_a_manager_lands_on_the_queue(site: Site):
    assert site.client(site.manager).get("/").location == "/queue"

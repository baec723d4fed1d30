"""Helpers for tests of booking's pages through the Flask test client: logging in and
posting forms the way a browser does (with the CSRF token of a page it just loaded), and
reading what a page says."""

from __future__ import annotations

import html
import re
from typing import Any

from flask.testing import FlaskClient

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path)
    found = TOKEN.search(page.get_data(as_text=True))
    assert found, (path, page.status_code)
    return found.group(1)


def browser(app, email: str | None = None, password: str = "", lang: str = "en") -> FlaskClient:
    """A browser reading in ``lang``, logged in as ``email`` when given."""
    client = app.test_client()
    client.set_cookie("evenemang_lang", lang)
    if email is not None:
        assert login(client, email, password).status_code == 302
    return client


def login(client: FlaskClient, email: str, password: str, next_: str | None = None):
    data = {"csrf_token": token(client), "email": email, "password": password}
    if next_ is not None:
        data["next"] = next_
    return client.post("/login", data=data)


def post(client: FlaskClient, path: str, data: dict[str, Any], page: str | None = None):
    """A form post the way a browser sends it: with the token of a page it just loaded."""
    return client.post(path, data={"csrf_token": token(client, page or path), **data})


def text(response) -> str:
    return response.get_data(as_text=True)


def say(lang: str, en: str, sv: str) -> str:
    """What a page says in the visitor's language."""
    return {"en": en, "sv": sv}[lang]


def field_error(response, name: str) -> str:
    """The message shown beside one field."""
    found = re.search(rf'<p class="field-error" id="{name}-error">(.*?)</p>', text(response), re.S)
    assert found, f"no error beside {name}"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()

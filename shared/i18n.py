"""Swedish and English for every page and mail: one table of phrases per service, the
language chosen per request (cookie, then the browser's Accept-Language; Swedish by
default)."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, g, request

LANGUAGES = ("sv", "en")
COOKIE = "evenemang_lang"

COMMON: dict[str, tuple[str, str]] = {
    "app_name": ("Evenemang", "Evenemang"),
    "nav_calendar": ("Kalendrar", "Calendars"),
    "nav_login": ("Logga in", "Log in"),
    "nav_logout": ("Logga ut", "Log out"),
    "switch_language": ("In English", "På svenska"),
    "skip_to_content": ("Hoppa till innehållet", "Skip to content"),
    "copy": ("Kopiera", "Copy"),
    "copied": ("Kopierad", "Copied"),
    "nav_label": ("Huvudmeny", "Main menu"),
    "nav_new_request": ("Ny förfrågan", "New request"),
    "nav_my_requests": ("Mina förfrågningar", "My requests"),
    "nav_queue": ("Att besluta", "Queue"),
    "nav_resources": ("Lokaler och tjänster", "Venues and services"),
}


def current_language() -> str:
    lang = g.get("language")
    if lang:
        return lang
    chosen = request.args.get("lang") or request.cookies.get(COOKIE)
    if chosen not in LANGUAGES:
        chosen = request.accept_languages.best_match(LANGUAGES) or "sv"
    g.language = chosen
    return chosen


def init_i18n(app: Flask, phrases: Mapping[str, tuple[str, str]]) -> None:
    """Templates get ``_("key")`` in the request's language and ``lang``."""
    table = {**COMMON, **phrases}

    def translate(key: str, **values: object) -> str:
        pair = table.get(key)
        if pair is None:
            return key
        text = pair[LANGUAGES.index(current_language())]
        return text.format(**values) if values else text

    app.jinja_env.globals["_"] = translate
    app.jinja_env.globals["current_language"] = current_language
    app.extensions["evenemang_i18n"] = translate

    @app.after_request
    def _remember(response):
        chosen = request.args.get("lang")
        if chosen in LANGUAGES and request.cookies.get(COOKIE) != chosen:
            response.set_cookie(
                COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True, path="/"
            )
        return response

"""Swedish and English on every page: Flask-Babel serves the one catalogue
(``shared.messages``) in the request's language (the ``lang`` query or cookie, then the
browser's Accept-Language; Swedish by default). Templates get ``_("id", **params)``, which
also words a :class:`~shared.messages.Msg`, and ``current_language()``."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, request
from flask_babel import Babel

from shared.messages import LANGUAGES, TRANSLATIONS, Msg, text

COOKIE = "evenemang_lang"


def current_language() -> str:
    lang = g.get("language")
    if lang:
        return lang
    chosen = request.args.get("lang") or request.cookies.get(COOKIE)
    if chosen not in LANGUAGES:
        chosen = request.accept_languages.best_match(LANGUAGES) or "sv"
    g.language = chosen
    return chosen


def translate(message: Msg | str, **params: Any) -> str:
    """A message id (or :class:`Msg`) in the request's language."""
    return text(message, current_language(), **params)


def init_i18n(app: Flask) -> None:
    """Flask-Babel over the shared catalogue, and ``_`` for templates and views."""
    Babel(
        app,
        locale_selector=current_language,
        default_translation_directories=str(TRANSLATIONS),
        default_timezone=app.config.get("EVENEMANG_TIMEZONE", "Europe/Stockholm"),
    )
    app.jinja_env.globals["_"] = translate
    app.jinja_env.globals["current_language"] = current_language
    app.extensions["evenemang_i18n"] = translate

    @app.after_request
    def _remember(response: Response) -> Response:
        chosen = request.args.get("lang")
        if chosen in LANGUAGES and request.cookies.get(COOKIE) != chosen:
            response.set_cookie(
                COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True, path="/"
            )
        return response

"""Swedish and English on every page: Flask-Babel serves the one catalogue
(``shared.messages``) in the request's language (the ``lang`` query or cookie, then the
browser's Accept-Language; Swedish by default). Templates get ``_("id", **params)``, which
also words a :class:`~shared.messages.Msg`, and ``current_language()``."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Flask, Response, before_render_template, g, request
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


def reader_language() -> str:
    """The language an API answer speaks (names of resources): ``?lang=``, else the
    request's Accept-Language, else the signed-in user's own language, else Swedish."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(LANGUAGES)
    if best:
        return best
    principal = g.get("principal")
    own = getattr(principal, "language", "")
    return own if own in LANGUAGES else "sv"


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
    localize_pages(app)

    @app.after_request
    def _remember(response: Response) -> Response:
        chosen = request.args.get("lang")
        if chosen in LANGUAGES and request.cookies.get(COOKIE) != chosen:
            response.set_cookie(
                COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True, path="/"
            )
        return response


def localized(value: Any, language: str) -> Any:
    """``value`` with every resource in it (anything with ``localized``: a ``ResourceRef``,
    a resource's view) named in ``language``, through dataclasses, lists, tuples and dicts;
    what holds none comes back as it is (the same object)."""
    if hasattr(value, "localized") and dataclasses.is_dataclass(value):
        return value.localized(language)
    if isinstance(value, (str, bytes, int, float, bool)) or value is None:
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for item in dataclasses.fields(value):
            if not item.init:
                continue
            old = getattr(value, item.name)
            new = localized(old, language)
            if new is not old:
                changes[item.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, (list, tuple)):
        items = [localized(item, language) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return type(value)(items) if isinstance(value, list) or type(value) is tuple else value
    if isinstance(value, dict):
        found = {key: localized(item, language) for key, item in value.items()}
        if all(found[key] is item for key, item in value.items()):
            return value
        return found
    return value


def localize_pages(app: Flask) -> None:
    """Every page names resources in its reader's language: the context of each template
    is :func:`localized` before it renders (views keep both languages until then)."""

    def _localize(sender: Flask, template: Any, context: dict[str, Any], **_: Any) -> None:
        language = current_language()
        for key, value in list(context.items()):
            if key not in ("g", "request", "session", "config"):
                context[key] = localized(value, language)

    before_render_template.connect(_localize, app, weak=False)

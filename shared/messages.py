"""Messages as ids with parameters, and the one catalogue that words them.

The domain, the schemas and the use cases never write prose: they raise
``Msg("too_many_resources", limit=10)``. The edge (a page, a problem detail, a mail) turns
a message into text in the reader's language with :func:`text`, from the gettext catalogue
under ``shared/translations`` (``<lang>/LC_MESSAGES/messages.po``, compiled to ``.mo``),
the same catalogue Flask-Babel serves the pages from. ``make messages`` extracts the ids
from code and templates and compiles the catalogue; a test fails when an id lacks a
translation in either language, or a catalogue holds an id no code uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"
LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"


class Msg(str):
    """A message id with its parameters; a parameter may itself be a :class:`Msg`.

    A ``str`` (the id) so that marshmallow carries it like any error message: a validator
    formats it with ``error.format(min=..., max=...)``, which fills in the parameters."""

    params: Mapping[str, Any]

    def __new__(cls, code: str, /, **params: Any) -> Msg:
        message = super().__new__(cls, code)
        message.params = params
        return message

    @property
    def code(self) -> str:
        return str.__str__(self)

    def format(self, *_: Any, **values: Any) -> Msg:  # type: ignore[override]
        """The values join the parameters (a validator's raw ``input`` is left out: it may
        be anything, and a message never repeats what was typed)."""
        values.pop("input", None)
        return Msg(self.code, **{**values, **self.params})

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Msg):
            return self.code == other.code and dict(self.params) == dict(other.params)
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = str.__hash__

    def __repr__(self) -> str:
        params = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"Msg({self.code!r}{params})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.code, dict(self.params)))


def _rebuild(code: str, params: dict[str, Any]) -> Msg:
    return Msg(code, **params)


def N_(code: str) -> str:  # noqa: N802 - the gettext convention for "mark, don't translate"
    """Mark an id for extraction where it is built or chosen at run time."""
    return code


@cache
def catalogue(language: str) -> NullTranslations:
    """The compiled catalogue of one language (read once per process, on first use)."""
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    return Translations.load(str(TRANSLATIONS), [language], DOMAIN)


class Named(str):
    """A name kept in Swedish (the string itself) and English (``en``; blank: the same),
    such as a resource's: as a message's parameter it is worded in the reader's language."""

    en: str

    def __new__(cls, sv: str, en: str = "") -> Named:
        named = super().__new__(cls, sv)
        named.en = en or sv
        return named

    def in_language(self, language: str) -> str:
        return self.en if language == "en" else str(self)


def _worded(value: Any, language: str) -> Any:
    if isinstance(value, Msg):
        return text(value, language)
    if isinstance(value, Named):
        return value.in_language(language)
    return value


def text(message: Msg | str, language: str, **params: Any) -> str:
    """A message (or a bare id with ``params``) in ``language``; parameters that are
    messages are worded too. An id with plural forms in the catalogue is worded in the
    form for its ``count`` parameter. An id missing from the catalogue comes back as it."""
    if isinstance(message, Msg):
        code, values = message.code, {**message.params, **params}
    else:
        code, values = message, params
    found = catalogue(language)
    count = values.get("count")
    if isinstance(count, int) and not isinstance(count, bool):
        wording = found.ngettext(code, code, count)  # a plural entry's form for the count
        if wording == code:
            wording = found.gettext(code)
    else:
        wording = found.gettext(code)
    if not values:
        return wording
    words = {k: _worded(v, language) for k, v in values.items()}
    try:
        return wording % words
    except (KeyError, TypeError, ValueError):
        return wording


def has_text(code: str, language: str) -> bool:
    """True when the catalogue of ``language`` words ``code``."""
    return catalogue(language).gettext(code) != code

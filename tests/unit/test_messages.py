"""The one message catalogue: every id the code and templates use is worded in Swedish and
English, the catalogue holds no id nothing uses, and the compiled files are current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from shared.messages import LANGUAGES, TRANSLATIONS, Msg, text

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "N_": None, "Msg": None, "t": None, "gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _catalogue(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


def used_ids() -> set[str]:
    """Every message id in code and templates, as ``pybabel extract -F babel.cfg`` finds them."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    ids: set[str] = set()
    for _filename, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return {i for i in ids if i}


@pytest.fixture(scope="module")
def used() -> set[str]:
    return used_ids()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_used_id_is_worded(used, language):
    catalogue = _catalogue(language)
    missing = sorted(i for i in used if not (catalogue.get(i) and catalogue.get(i).string))
    assert missing == [], f"ids without a {language} wording: {missing}"


def test_the_catalogue_holds_no_id_nothing_uses(used):
    for language in LANGUAGES:
        unused = sorted(_id(m) for m in _catalogue(language) if m.id and _id(m) not in used)
        assert unused == [], f"{language} ids no code or template uses: {unused}"


def test_both_languages_have_the_same_ids_and_placeholders():
    sv, en = (_catalogue(language) for language in ("sv", "en"))
    assert {_id(m) for m in sv} == {_id(m) for m in en}
    for message in sv:
        if message.id:
            other = en.get(_id(message))
            assert message.pluralizable == other.pluralizable, message.id
            assert set(PLACEHOLDER.findall(_forms(message.string))) == set(
                PLACEHOLDER.findall(_forms(other.string))
            ), message.id


def _id(message) -> str:
    """A message's id (a plural entry's is its singular's)."""
    return message.id if isinstance(message.id, str) else message.id[0]


def _text(message) -> str | tuple[str, ...]:
    return message.string if isinstance(message.string, str) else tuple(message.string)


def _forms(wording: str | tuple[str, ...]) -> str:
    """A wording, or a plural entry's forms together."""
    return wording if isinstance(wording, str) else " ".join(wording)


@pytest.mark.parametrize(
    "count, sv, en",
    [
        (1, "Du har 1 aktiv personlig länk.", "You have 1 active personal link."),
        (2, "Du har 2 aktiva personliga länkar.", "You have 2 active personal links."),
        (0, "Du har 0 aktiva personliga länkar.", "You have 0 active personal links."),
    ],
)
def test_a_plural_entry_is_worded_in_the_form_for_its_count(count, sv, en):
    message = Msg("active_private_feeds", count=count)
    assert (text(message, "sv"), text(message, "en")) == (sv, en)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_is_current(language):
    """`make messages` was run after the last edit of the .po file."""
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo", "rb") as mo:
        compiled = read_mo(mo)
    source = _catalogue(language)
    assert {_id(m): _text(m) for m in compiled if m.id} == {
        _id(m): _text(m) for m in source if m.id
    }, "run `make messages`"


def test_a_message_is_worded_in_each_language_with_its_parameters():
    message = Msg("logout_confirm", name="Ada")
    assert text(message, "sv") == "Vill du logga ut, Ada?"
    assert text(message, "en") == "Log out, Ada?"
    assert message.code == "logout_confirm" and message == Msg("logout_confirm", name="Ada")


def test_an_unknown_id_comes_back_as_itself_so_a_test_can_see_it():
    assert text("no_such_id_anywhere", "sv") == "no_such_id_anywhere"


def test_marshmallow_validators_fill_in_a_message_s_parameters():
    from shared.schema import StrictSchema, ValidationError, fields, validate

    class Named(StrictSchema):
        name = fields.String(required=True, validate=validate.Length(min=1, max=3))

    with pytest.raises(ValidationError) as info:
        Named().load({"name": "abcd", "extra": 1})
    [message] = info.value.messages["name"]
    assert message.code == "text_required_max" and message.params["max"] == 3
    assert text(message, "sv") == "Fyll i fältet, högst 3 tecken."
    assert text(message, "en") == "Fill in this field, at most 3 characters."
    assert info.value.messages["extra"] == [Msg("unknown_field")]

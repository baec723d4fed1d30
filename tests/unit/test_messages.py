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
        unused = sorted(m.id for m in _catalogue(language) if m.id and m.id not in used)
        assert unused == [], f"{language} ids no code or template uses: {unused}"


def test_both_languages_have_the_same_ids_and_placeholders():
    sv, en = (_catalogue(language) for language in ("sv", "en"))
    assert {m.id for m in sv} == {m.id for m in en}
    for message in sv:
        if message.id:
            other = en.get(message.id)
            assert set(PLACEHOLDER.findall(message.string)) == set(
                PLACEHOLDER.findall(other.string)
            ), message.id


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_is_current(language):
    """`make messages` was run after the last edit of the .po file."""
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo", "rb") as mo:
        compiled = read_mo(mo)
    source = _catalogue(language)
    assert {m.id: m.string for m in compiled if m.id} == {m.id: m.string for m in source if m.id}, (
        "run `make messages`"
    )


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

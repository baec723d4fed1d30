"""Keep the one message catalogue (shared/translations/<lang>/LC_MESSAGES/messages.po).

    python tools/catalogue.py add ID --sv "Svensk text" --en "English text"
    python tools/catalogue.py add ID --sv "%(count)s sak" --en "%(count)s thing" \
        --sv-other "%(count)s saker" --en-other "%(count)s things"   # plural forms by count
    python tools/catalogue.py compile      # sort both .po files and write the .mo files
    python tools/catalogue.py unused       # ids in the catalogue that no code uses
    python tools/catalogue.py missing      # ids code uses that lack a wording

Parameters are written ``%(name)s``; both languages must name the same ones.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.messages import LANGUAGES, TRANSLATIONS  # noqa: E402

PLACEHOLDER = re.compile(r"%\(\w+\)s")


def po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def load(language: str) -> Catalog:
    with open(po_path(language), "rb") as po:
        return read_po(po, locale=language)


def save(language: str, catalogue: Catalog) -> None:
    with open(po_path(language), "wb") as po:
        write_po(po, catalogue, width=100, sort_output=True, omit_header=False)
    with open(po_path(language).with_suffix(".mo"), "wb") as mo:
        write_mo(mo, catalogue)


def add(code: str, wordings: dict[str, str], others: dict[str, str] | None = None) -> None:
    """Word ``code`` in each language; with ``others`` (the plural, for a ``count`` other
    than 1) it is a plural entry: ``wordings`` is then the form for one."""
    for language in LANGUAGES:
        catalogue = load(language)
        wording = wordings[language]
        flags = ("python-format",) if PLACEHOLDER.search(wording) else ()
        catalogue.delete(code)
        if others:
            catalogue.add((code, code), (wording, others[language]), flags=flags)
        else:
            catalogue.add(code, wording, flags=flags)
        save(language, catalogue)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    adding = sub.add_parser("add")
    adding.add_argument("code")
    adding.add_argument("--sv", required=True)
    adding.add_argument("--en", required=True)
    adding.add_argument("--sv-other", help="plural: the Swedish for a count other than 1")
    adding.add_argument("--en-other", help="plural: the English for a count other than 1")
    sub.add_parser("compile")
    sub.add_parser("unused")
    sub.add_parser("missing")
    args = parser.parse_args(argv)
    if args.command == "add":
        plural = {"sv": args.sv_other, "en": args.en_other}
        add(args.code, {"sv": args.sv, "en": args.en}, plural if all(plural.values()) else None)
    elif args.command == "compile":
        for language in LANGUAGES:
            save(language, load(language))
    else:
        from tests.unit.test_messages import used_ids

        used = used_ids()
        for language in LANGUAGES:
            catalogue = load(language)
            known = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue if m.string}
            known.discard("")
            found = known - used if args.command == "unused" else used - known
            for code in sorted(found):
                print(f"{language}\t{code}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

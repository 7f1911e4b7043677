"""Bring every translation catalog up to date with the source: new texts added untranslated, gone ones removed.

    python scripts/update_catalogs.py

A translation already made anywhere in a language is reused for the same text elsewhere. Then fill in
the empty `msgstr ""` entries of locales/es and locales/de (tests/test_translations.py fails while any
is empty, missing or stale).
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from babel.messages.catalog import Catalog  # noqa: E402
from babel.messages.pofile import write_po  # noqa: E402

from tests.harness.translations import TRANSLATED, all_messages, catalog_path, read_catalog  # noqa: E402

FIXED_DATE = datetime(2026, 12, 6)  # not today: a rewrite that changes no text leaves the file as it was


def known_translations(language: str) -> dict:
    """Every translated text of `language`, from all of its catalogs."""
    known: dict = {}
    for path in sorted(catalog_path(language, "x").parent.glob("*.po")):
        for entry in read_catalog(path):
            if entry.id and entry.string and (not isinstance(entry.string, tuple) or all(entry.string)):
                # a plural is known by its singular, as update() looks it up
                known.setdefault(entry.id if isinstance(entry.id, str) else entry.id[0], entry.string)
    return known


def update(language: str) -> list[str]:
    """Rewrite `language`'s catalogs from the source; the names of the files changed or removed."""
    known, wanted, changed = known_translations(language), all_messages(), []
    for name, texts in wanted.items():
        catalog = Catalog(locale=language, project="Digit Lab", version="1", fuzzy=False, creation_date=FIXED_DATE,
                          revision_date=FIXED_DATE, header_comment=f"# Digit Lab: the texts of {name} in {language}.")
        for text, lineno in texts:
            key = text if isinstance(text, str) else tuple(text)
            catalog.add(key, known.get(key if isinstance(key, str) else key[0], ""), locations=[(name, lineno)])
        path = catalog_path(language, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            write_po(file, catalog, width=120, omit_header=False, no_location=True, sort_output=False)
        changed.append(path.name)
    for old in catalog_path(language, "x").parent.glob("*.po"):
        if old.stem not in wanted:
            old.unlink()
            changed.append(f"{old.name} (removed)")
    return changed


if __name__ == "__main__":
    for code in TRANSLATED:
        files = update(code)
        print(f"{code}: {len(files)} catalogs written")

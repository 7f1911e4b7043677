"""Where the app's translatable text is, and its catalogs: shared by tests/test_translations.py and
scripts/update_catalogs.py.

Each source module with marked text (core.i18n's `N_`, `message`, ui.i18n's `_`, `ngettext`) has its own
catalog per language, locales/<language>/LC_MESSAGES/<module>.po (e.g. pages.train.po): people translating
different pages never edit the same file. A text used by two modules is in both catalogs, translated alike.
Lesson files (lessons/*.toml) are sources too, through core.lessons' `lesson_texts` when it exists.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from core.i18n import EXTRACTION_KEYWORDS, LANGUAGES, LOCALE_DIR, ROOT

SOURCE_DIRS = ("pages", "ui", "core")
TRANSLATED = tuple(code for code in LANGUAGES if code != "en")


def source_files() -> Iterator[Path]:
    yield ROOT / "app.py"
    for folder in SOURCE_DIRS:
        yield from sorted((ROOT / folder).rglob("*.py"))


def module_name(path: Path) -> str:
    """pages/train.py -> 'pages.train'; app.py -> 'app'."""
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def messages_of(path: Path) -> list[tuple[str | tuple[str, str], int]]:
    """The marked texts of one Python file, with their lines (a plural is a (singular, plural) pair)."""
    found = []
    for lineno, message, _comments, _context in extract_from_file("python", str(path), keywords=EXTRACTION_KEYWORDS):
        found.append((message, lineno))
    return found


def lesson_messages() -> dict[str, list[tuple[str, int]]]:
    """The lessons' texts by catalog name ('lessons.01-first-network'), if core.lessons can list them."""
    try:
        lessons = importlib.import_module("core.lessons.content")
    except ImportError:
        return {}
    texts_of = getattr(lessons, "lesson_texts", None)
    return dict(texts_of()) if texts_of is not None else {}


def all_messages() -> dict[str, list[tuple[str | tuple[str, str], int]]]:
    """Every catalog name with its texts, in source order."""
    out: dict[str, list] = {}
    for path in source_files():
        if found := messages_of(path):
            out[module_name(path)] = found
    out.update(lesson_messages())
    return out


def catalog_path(language: str, name: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{name}.po"


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def english_words(language: str) -> set[str]:
    """Words of the English texts that never appear in `language`'s translations ("the", "epochs", not "MNIST")."""
    import re

    english, translated = set(), set()
    for name, texts in all_messages().items():
        for text, _lineno in texts:
            for part in ([text] if isinstance(text, str) else list(text)):
                english.update(w.lower() for w in re.findall(r"[A-Za-z]{3,}", part))
        path = catalog_path(language, name)
        if path.exists():
            for entry in read_catalog(path):
                for part in ([entry.string] if isinstance(entry.string, str) else list(entry.string or ())):
                    translated.update(w.lower() for w in re.findall(r"[A-Za-z]{3,}", part or ""))
    return english - translated


def english_left(texts: list[str], language: str, at_least: int = 2) -> list[str]:
    """The texts shown in `language` that still hold `at_least` English-only words: text someone forgot to mark."""
    import re

    words = english_words(language)
    visible = {t: re.sub(r"<[^>]*>", " ", t) for t in texts}  # markup's tag and style names are not words
    return [t for t, v in visible.items()
            if sum(w.lower() in words for w in re.findall(r"[A-Za-z]{3,}", v)) >= at_least]

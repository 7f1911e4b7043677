"""Languages: translatable text in core, messages that keep their template, one catalog per language.

Core never knows who reads: it writes English, marks text for translation, and the page translates
it with the visitor's language (`ui.i18n`). Three ways to mark text (Babel extracts all three,
tests/test_translations.py):
- `N_("Passes through the data")`: a fixed text, e.g. in a table (core.words); translated where shown.
- `message("Epoch {epoch} of {epochs}", epoch=3, epochs=40)`: a `Message`, a str (its English text,
  so everything that reads it as text still works) that also keeps its template and values, so the
  page translates the template first and fills in the values after. Values wrapped in `Percent` or
  `Number` are written the language's way ("96.1%", "96,1 %").
- `_()` in ui and pages (ui.i18n): text written there.
Catalogs are the `.po` files under locales/<language>/LC_MESSAGES/ (any number per language, e.g.
one per page, so that people translating different pages never edit the same file); they are
compiled in memory when a language is first used and shared read-only by every session. Nothing
here installs a process-wide `_`: one visitor's language never reaches another's page.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.core import Locale
from babel.messages import mofile, pofile
from babel.numbers import format_decimal, format_percent, parse_pattern

ROOT = Path(__file__).resolve().parents[1]
LOCALE_DIR = ROOT / "locales"
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español", "de": "Deutsch"}  # each in its own words
DEFAULT_LANGUAGE = "en"
EXTRACTION_KEYWORDS = {"_": None, "N_": None, "message": (1,), "ngettext": (1, 2)}  # for Babel's extract


def N_(text: str) -> str:
    """Mark `text` for translation where it is written; it is translated where it is shown."""
    return text


class Percent(float):
    """A share 0..1 that a message writes as a percentage, the language's way."""


class Percent1(Percent):
    """A share 0..1 written with exactly one decimal ("97.0%"), so that 97.0% and 98.6% read as figures alike."""


class Number(float):
    """A count or measure that a message writes with the language's separators."""


class Message(str):
    """English text that keeps its template and values, so a page can translate it before filling it in."""

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, **values: Any) -> Message:
        english = {k: format_value(v, DEFAULT_LANGUAGE) for k, v in values.items()}
        text = super().__new__(cls, template.format(**english))
        text.template, text.values = template, values
        return text


def message(template: str, **values: Any) -> Message:
    """A translatable message with values: `message("Epoch {epoch} of {epochs}", epoch=3, epochs=40)`."""
    return Message(template, **values)


def term(text: str) -> Message:
    """A name given as a value that may have a translation (a class such as "Sneaker", marked with N_ where it is
    defined); as it is when none. Never for visitors' text (run or student names): those are passed as they are."""
    return Message(text.replace("{", "{{").replace("}", "}}"))


def terms(texts: Sequence[str]) -> Message:
    """Names as one list, "1, 4, 7", each translated where it has a translation."""
    return Message(", ".join(f"{{t{i}}}" for i in range(len(texts))), **{f"t{i}": term(t) for i, t in enumerate(texts)})


def message_of(error: BaseException) -> str:
    """An error's text for a page to translate: its Message when it was raised with one (str(error) is only English)."""
    first = error.args[0] if len(error.args) == 1 else None
    return first if isinstance(first, Message) else str(error)


def pick_language(asked: str | None, browser_locale: str | None) -> str:
    """The language of a visit: the one asked for (?lang=) if we have it, else the browser's, else English.

    `asked` and `browser_locale` are anyone's text: only a known code is ever returned.
    """
    for candidate in (asked, browser_locale):
        code = (candidate or "").strip().lower().replace("_", "-").split("-")[0][:8]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def read_catalog(path: Path) -> gettext.GNUTranslations:
    """One .po file compiled in memory (fuzzy entries left out, as msgfmt does)."""
    with path.open("rb") as file:
        catalog = pofile.read_po(file)
    compiled = io.BytesIO()
    mofile.write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> gettext.NullTranslations:
    """Every catalog of `language`, chained: the first that knows a text translates it; English knows all."""
    chain: gettext.NullTranslations = gettext.NullTranslations()
    for path in sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po")) if language != DEFAULT_LANGUAGE else ():
        catalog = read_catalog(path)
        catalog.add_fallback(chain)
        chain = catalog
    return chain


def format_value(value: Any, language: str) -> str:
    """A message's value as the language writes it: Percent and Number with its separators, a Message translated."""
    if isinstance(value, Percent1):
        pattern = parse_pattern(Locale.parse(language).percent_formats[None].pattern)
        pattern.frac_prec = (1, 1)  # the language's way (its sign, its space), one decimal always
        return pattern.apply(float(value), Locale.parse(language))
    if isinstance(value, Percent):
        return format_percent(round(float(value), 3), locale=language, decimal_quantization=False)
    if isinstance(value, Number):
        return format_decimal(float(value), locale=language)
    if isinstance(value, Message):
        return translate(language, value)
    return str(value)


def translate(language: str, text: str) -> str:
    """`text` in `language`: a Message's template translated, then its values filled in; other text looked up."""
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    if isinstance(text, Message):
        template = translations(language).gettext(text.template) if text.template else text.template
        return template.format(**{k: format_value(v, language) for k, v in text.values.items()})
    return translations(language).gettext(text) if text else text


def translate_plural(language: str, singular: str, plural: str, count: int) -> str:
    """The form of `singular`/`plural` for `count` in `language` (its own plural rules)."""
    return translations(language if language in LANGUAGES else DEFAULT_LANGUAGE).ngettext(singular, plural, count)


def format_percent_in(language: str, value: float) -> str:
    """0.9612 -> '96.1%' in English, '96,1 %' in Spanish and German."""
    return format_value(Percent(value), language)

"""Languages: every marked text is in every catalog (none missing, none stale, none empty), no visible
text in the pages is left unmarked, and two sessions with different languages never see each other's.
"""

from __future__ import annotations

import ast

import pytest
from streamlit.testing.v1 import AppTest

from core.i18n import LANGUAGES, ROOT, Message, Percent, message, pick_language, translate, translations
from tests.harness.translations import TRANSLATED, all_messages, catalog_path, read_catalog, source_files

# Streamlit calls whose first argument (or label/help/caption/text/placeholder keyword) people read.
TEXT_CALLS = {
    "title", "header", "subheader", "caption", "markdown", "write", "text", "info", "warning", "error", "success",
    "toast", "button", "download_button", "link_button", "page_link", "checkbox", "toggle", "radio", "selectbox",
    "multiselect", "select_slider", "slider", "number_input", "text_input", "text_area", "file_uploader",
    "camera_input", "segmented_control", "pills", "expander", "popover", "spinner", "status", "metric",
    "form_submit_button", "tabs", "progress", "lazy_expander",
}
TEXT_KEYWORDS = {"label", "help", "caption", "text", "placeholder", "alt"}


def test_every_catalog_holds_exactly_its_modules_texts_all_translated():
    wanted = all_messages()
    for language in TRANSLATED:
        for name, texts in wanted.items():
            path = catalog_path(language, name)
            assert path.exists(), f"{path.name} is missing for {language}: run scripts/update_catalogs.py"
            entries = {e.id: e.string for e in read_catalog(path) if e.id}
            ids = {t if isinstance(t, str) else tuple(t) for t, _ in texts}
            plain_ids = {i if isinstance(i, str) else i[0] for i in ids}
            missing = plain_ids - set(entries if all(isinstance(k, str) for k in entries) else
                                      {k if isinstance(k, str) else k[0] for k in entries})
            stale = {k if isinstance(k, str) else k[0] for k in entries} - plain_ids
            empty = [k for k, v in entries.items() if not v or (isinstance(v, tuple) and not all(v))]
            assert not missing, f"{path}: not in the catalog: {sorted(missing)[:5]}"
            assert not stale, f"{path}: no longer in the source: {sorted(stale)[:5]}"
            assert not empty, f"{path}: not translated yet: {empty[:5]}"
        files = {p.stem for p in catalog_path(language, "x").parent.glob("*.po")}
        assert files <= set(wanted), f"catalogs of modules with no texts: {sorted(files - set(wanted))}"


def test_a_text_used_by_two_modules_is_translated_alike():
    for language in TRANSLATED:
        seen: dict = {}
        for path in sorted(catalog_path(language, "x").parent.glob("*.po")):
            for entry in read_catalog(path):
                if entry.id and seen.setdefault(entry.id, (entry.string, path.name))[0] != entry.string:
                    pytest.fail(f"{entry.id!r}: {path.name} and {seen[entry.id][1]} translate it differently")


def unmarked_texts(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of string literals passed straight to a Streamlit text call instead of through _()."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in TEXT_CALLS):
            continue
        args = list(node.args[:1]) + [k.value for k in node.keywords if k.arg in TEXT_KEYWORDS]
        for arg in args:
            items = arg.elts if isinstance(arg, ast.List) else [arg]
            for item in items:
                if isinstance(item, ast.JoinedStr) or (
                        isinstance(item, ast.Constant) and isinstance(item.value, str)
                        and any(c.isalpha() for c in item.value) and not item.value.lstrip().startswith("<")):
                    found.append((node.lineno, ast.unparse(item)[:60]))
    return found


def test_no_visible_text_in_the_pages_is_left_unmarked():
    problems = []
    for path in source_files():
        if path.relative_to(ROOT).parts[0] == "core":  # core marks with N_ and message(); it draws nothing
            continue
        for line, text in unmarked_texts(ast.parse(path.read_text(), str(path))):
            problems.append(f"{path.name}:{line}: {text}")
    assert not problems, "visible text not marked with _():\n" + "\n".join(problems[:40])


def test_the_unmarked_check_finds_a_bare_label_and_an_f_string_but_not_a_marked_one():
    tree = ast.parse('st.button("Start")\nst.caption(f"{n} runs")\nst.title(_("Train"))\nst.markdown("<br>")\n')
    assert [line for line, _ in unmarked_texts(tree)] == [1, 2]


def test_a_message_is_english_text_that_translates_its_template_then_its_values():
    text = message("Language: {share}", share=Percent(0.9612))
    assert isinstance(text, Message) and text == "Language: 96.1%"
    assert translate("de", "Language") == "Sprache" and translate("xx", "Language") == "Language"
    assert translate("es", message("{share}", share=Percent(0.5))) == "50\xa0%"  # Spanish: a no-break space
    assert translations("es") is translations("es")  # compiled once, shared read-only


@pytest.mark.parametrize(("asked", "browser", "expected"), [
    ("de", "es-ES", "de"), (None, "es-ES", "es"), ("<script>", "fr", "en"), ("ES", None, "es"),
    ("x" * 10_000, None, "en"),
])
def test_the_language_comes_from_the_link_else_the_browser_else_english(asked, browser, expected):
    assert pick_language(asked, browser) == expected


def language_script() -> None:
    import streamlit as st

    from ui.i18n import _, choose_language

    choose_language()
    st.write(_("Language"))


def test_two_sessions_with_different_languages_never_see_each_others():
    german, spanish, plain = (AppTest.from_function(language_script) for _ in range(3))
    german.query_params["lang"] = "de"
    spanish.query_params["lang"] = "es"
    for at in (german, spanish, plain, german):
        at.run(timeout=30)
    assert german.markdown[0].value == "Sprache"
    assert spanish.markdown[0].value == "Idioma"
    assert plain.markdown[0].value == "Language"
    assert set(LANGUAGES) == {"en", "es", "de"}


def test_every_translation_keeps_its_templates_placeholders():
    import re

    for language in TRANSLATED:
        for path in sorted(catalog_path(language, "x").parent.glob("*.po")):
            for entry in read_catalog(path):
                if entry.id and isinstance(entry.id, str) and isinstance(entry.string, str) and entry.string:
                    wanted, found = (sorted(set(re.findall(r"\{[^{}]*\}", t))) for t in (entry.id, entry.string))
                    assert wanted == found, f"{path.name}: {entry.id!r} -> {entry.string!r}"

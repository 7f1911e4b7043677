"""The lessons in Spanish and German: the Learn page, the step panel beside the work, its checks' and answers'
messages, with no English left (other than names); the lessons' own text comes from their catalogs."""

import pytest
from streamlit.testing.v1 import AppTest

from core.i18n import LOCALE_DIR, translate
from core.lessons.content import load_lessons
from core.words import GLOSSARY
from tests.harness.translations import english_left

TIMEOUT = 60
BOOK = load_lessons()
LANGUAGES = ("es", "de")


def visible_texts(at: AppTest, where=None) -> list[str]:
    """What a person reads: markdown, captions, titles, headers, messages and the widgets' labels."""
    root = at if where is None else where
    texts = [e.value for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning",
                                  "success", "error") for e in getattr(root, kind)]
    for kind in ("button", "radio", "number_input", "selectbox", "text_input"):
        texts += [w.label for w in getattr(root, kind)]
    texts += [o for r in root.radio for o in r.options]
    return [t for t in texts if t]


def keyed_block(node, key: str):
    """The container made with `key=` (its proto's id ends with it), searched depth first; None if absent."""
    for child in getattr(node, "children", {}).values():
        if str(getattr(getattr(child, "proto", None), "id", "")).endswith(f"-{key}"):
            return child
        if (found := keyed_block(child, key)) is not None:
            return found
    return None


def open_learn(language: str) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.query_params["lang"] = language
    at.run()
    at.switch_page("pages/learn.py").run()
    assert not at.exception, at.exception
    return at


def glossary_line(text: str, language: str = "en") -> bool:
    """A glossary line ("**epoch**: ..."), its meaning in English or in `language` (core.words' catalog)."""
    return any(text.endswith(meaning) or text.endswith(translate(language, meaning)) for meaning in GLOSSARY.values())


@pytest.mark.parametrize("language", LANGUAGES)
def test_learn_in_another_language_has_no_english_left(language):
    at = open_learn(language)
    texts = [t for t in visible_texts(at, at.main) if not glossary_line(t, language)]  # the sidebar is the layout's
    assert len(texts) > 3 * len(BOOK.lessons)
    assert english_left(texts, language) == []
    assert not any(s.value.startswith("Lesson ") for s in at.subheader)  # the lessons' titles too


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_glossary_in_another_language_has_no_english_left(language):
    if not (LOCALE_DIR / language / "LC_MESSAGES" / "core.words.po").exists():
        pytest.skip("core.words' catalogs come with its own branch (i18n-words)")
    at = open_learn(language)
    texts = [t for t in visible_texts(at, at.main) if glossary_line(t, language)]
    assert texts and english_left(texts, language) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_step_panel_its_check_and_its_answer_speak_the_language(language):
    at = open_learn(language)
    at.button(key="start_lesson_1").click().run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    panel = [t for t in visible_texts(at, keyed_block(at.sidebar, "lesson_panel")) if not glossary_line(t)]
    assert english_left(panel, language) == [], panel
    first = BOOK.lessons[0].steps[0]
    assert not any(first.title in t for t in panel)  # the step's own text is translated
    at.number_input(key="lesson_answer_01-first-network_0").set_value(60).run()
    at.button(key="lesson_answer_button_01-first-network_0").click().run()
    verdict = [w.value for w in keyed_block(at.sidebar, "lesson_panel").warning]
    assert verdict and english_left(verdict, language) == [] and "64" in verdict[0]
    at.number_input(key="lesson_answer_01-first-network_0").set_value(64).run()
    at.button(key="lesson_answer_button_01-first-network_0").click().run()
    at.button(key="lesson_next").click().run()
    checks = [w.value for w in keyed_block(at.sidebar, "lesson_panel").info]  # the next check: no run yet
    assert checks and english_left(checks, language) == [], checks

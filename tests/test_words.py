"""Every widget of Train (each mode), Evaluate, Draw and My digits reads its label and help from core.words.

The test walks the widgets a page draws (AppTest's element tree, the main area: the sidebar's "Your
lab" is the layout's) and fails on a label or help text that is not a `Words` of `core.words.WORDS`.
Options (a select box's choices) and visitors' own names (runs, files) are not labels and are not checked.
"""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from core.data.handwriting import keep_drawing
from core.storage.engine import database_url
from core.storage.store import open_store
from core.words import WORDS
from tests.conftest import open_page as open_train_with_runs_page
from tests.conftest import open_tab
from tests.harness.drawings import make_drawings, render_drawing

TIMEOUT = 60
# AppTest's element lists of widgets that carry a label and a help text.
WIDGET_KINDS = ("button", "checkbox", "multiselect", "number_input", "radio", "selectbox", "select_slider",
                "slider", "text_area", "text_input", "toggle", "download_button", "file_uploader", "button_group",
                "color_picker", "date_input", "time_input")
LABELS = {w.label for w in WORDS.values()}
HELPS = {w.help for w in WORDS.values()}


def as_pattern(text: str) -> re.Pattern:
    """A label with "{...}" filled in on the page ("Page (of {pages})") as a pattern: each field any text."""
    return re.compile("".join(".+" if part.startswith("{") else re.escape(part)
                              for part in re.split(r"(\{[^}]*\})", text)))


LABEL_TEMPLATES = [as_pattern(text) for text in LABELS if "{" in text]
HELP_TEMPLATES = [as_pattern(text) for text in HELPS if "{" in text]


def widgets(at: AppTest) -> list:
    """Every widget of the main area, whatever its kind."""
    found = []
    for kind in WIDGET_KINDS:
        found += list(at.main.get(kind))
    return found


def label_and_help(widget) -> tuple[str, str]:
    """A widget's label and help text (an unknown element kind keeps them in its proto)."""
    proto = getattr(widget, "proto", None)
    label = getattr(widget, "label", None) or getattr(proto, "label", "")
    help_text = getattr(widget, "help", None) or getattr(proto, "help", "")
    return label, help_text


def missing_words(at: AppTest) -> list[str]:
    """'label' (or 'help of label') of each widget whose words are not in core.words.WORDS."""
    missing = []
    for widget in widgets(at):
        label, help_text = label_and_help(widget)
        if label not in LABELS and not any(t.fullmatch(label) for t in LABEL_TEMPLATES):
            missing.append(f"label {label!r}")
        if help_text and help_text not in HELPS and not any(t.fullmatch(help_text) for t in HELP_TEMPLATES):
            missing.append(f"help of {label!r}: {help_text!r}")
    return missing


def open_train_with_runs(runs: list) -> AppTest:
    """The Train page of a session that holds `runs` (conftest's open_page)."""
    return open_train_with_runs_page("train", runs)


def open_page(page: str) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT).run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception
    return at


def test_every_widget_of_train_in_every_mode_has_its_words():
    at = open_page("train")
    seen, missing = 0, []
    for mode in ("fine_tune", "train", "compare"):
        at.radio(key="train_mode").set_value(mode).run()
        assert not at.exception
        missing += [f"{mode}: {m}" for m in missing_words(at)]
        seen += len(widgets(at))
    # Compare: each kind of values widget (a multiselect, a text box), and a CNN's own settings.
    for setting in ("hidden", "kind"):
        at.selectbox(key="sweep_setting").set_value(setting).run()
        missing += [f"compare {setting}: {m}" for m in missing_words(at)]
    at.radio(key="train_mode").set_value("train").run()
    at.radio(key="kind").set_value("cnn").run()
    at.selectbox(key="preset").select("mnist_cnn").run()  # Undo shows
    missing += [f"train, CNN: {m}" for m in missing_words(at)]
    assert seen > 20  # the walk saw the widgets (not an empty page)
    assert not missing, "\n".join(missing)


def test_every_widget_of_train_with_a_run_has_its_words(digits_run):
    at = open_train_with_runs([digits_run])
    for tab in ("Compare runs", "Learning history of the current model", "The code"):
        open_tab(at, "runs_view", tab)
    assert not at.exception
    missing = missing_words(at)
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("page", [
    "digits",
    "evaluate",
    "draw",
])
def test_every_widget_of_the_page_has_its_words(page):
    at = open_page(page)
    assert widgets(at), f"the walk found no widget on {page}"
    missing = missing_words(at)
    assert not missing, "\n".join(missing)


def test_every_widget_of_my_digits_with_digits_has_its_words():
    store = open_store(database_url())
    key = store.create_lab()
    drawings = make_drawings(seed=0)[:30]  # three of each digit
    store.add_digits(store.open_lab(key), [label for label, _ in drawings],
                     [keep_drawing(render_drawing(strokes)) for _, strokes in drawings])
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.query_params["lab"] = key
    at.run()
    at.switch_page("pages/digits.py").run()
    assert not at.exception
    at.checkbox[0].check().run()  # a ticked digit: the delete button is on
    kinds = {type(w).__name__ for w in widgets(at)}
    assert {"Checkbox", "Toggle"} <= kinds, kinds
    missing = missing_words(at)
    assert not missing, "\n".join(missing)

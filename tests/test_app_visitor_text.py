"""AppTests: a visitor's text (a run's name, an uploaded model's name) is shown as typed on every page and chart.

A run named like a link and bold text must read as those characters, never become a link: in markdown
(ui/text.plain) and in plotly's names and hover texts (core/figures/text.plain_label).
"""

import dataclasses
import json

import pytest
from streamlit.testing.v1 import AppTest

from core.model.files import write_model_file
from core.storage import sink as persistence
from core.storage.store import open_store
from tests.conftest import ROOT, open_page, open_tab
from ui.text import plain

EVIL = '<a href="https://evil.example">click</a> **bold**'
TIMEOUT = 60
TEXT_ELEMENTS = ("title", "header", "subheader", "markdown", "caption", "success", "info", "warning", "error")


@pytest.fixture
def evil_run(digits_run):
    return dataclasses.replace(digits_run, name=EVIL)


def texts_on(at: AppTest) -> list[str]:
    """Every markdown text the page shows (titles, captions, alerts...) and every widget's help."""
    texts = [e.value for kind in TEXT_ELEMENTS for e in getattr(at, kind)]
    return texts + [w.help for w in at.button if w.help]


def chart_strings(at: AppTest) -> list[str]:
    """Every string in the page's plotly figures."""
    def walk(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)

    return [s for chart in at.get("plotly_chart") for s in walk(json.loads(chart.proto.spec))]


def assert_shown_as_typed(at: AppTest, name: str = EVIL, charts: int = 0) -> None:
    assert not at.exception
    texts = texts_on(at)
    assert not [t for t in texts if name in t], "a visitor's text reached markdown unescaped"
    assert any(plain(name) in t for t in texts)
    strings = chart_strings(at)
    assert len(at.get("plotly_chart")) >= charts
    assert not [s for s in strings if "<a" in s or "</a>" in s], "a visitor's text reached a chart as markup"
    if charts:
        assert any(s.startswith('&lt;a href="https://evil.example"&gt;click&lt;/a&gt;') for s in strings)


def test_the_home_page_shows_a_run_name_as_typed(evil_run):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["runs"] = [evil_run]
    at.session_state["current_run_id"] = evil_run.run_id
    at.session_state["run_counter"] = evil_run.run_id
    at.run()
    assert_shown_as_typed(at)
    assert at.button(key=f"home_evaluate_{evil_run.run_id}").help == f"Evaluate {plain(EVIL)}"


def test_the_train_page_and_its_comparison_show_a_run_name_as_typed(evil_run):
    at = open_page("train", [evil_run])
    open_tab(at, "runs_view", "Compare runs")
    assert_shown_as_typed(at, charts=2)


def test_a_shared_run_shows_its_name_as_typed_in_title_and_charts(evil_run):
    store = open_store()
    lab_id = store.open_lab(store.create_lab())
    run_id = store.save_run(lab_id, persistence.record_of(evil_run),
                            {persistence.MODEL_BLOB: persistence.model_bytes(evil_run)})
    token = store.share_run(lab_id, run_id)
    store.close()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["run"] = token
    at.run()
    at.switch_page("pages/shared.py").run()
    assert at.title[0].value == plain(EVIL)
    assert_shown_as_typed(at, charts=2)


def test_an_uploaded_model_named_in_its_file_is_shown_as_typed(digits_run):
    data = write_model_file(digits_run.model, {"dataset": "digits", "name": EVIL})
    at = open_page("evaluate", [digits_run])
    at.file_uploader(key="evaluate_upload").upload("model.keras", data).run()
    assert at.selectbox(key="evaluate_model_select").value != digits_run.run_id  # the upload is the choice
    assert_shown_as_typed(at, name=f"Uploaded · {EVIL}")


def test_a_run_whose_model_cannot_be_loaded_is_named_as_typed_in_the_error(evil_run):
    at = open_page("evaluate", [dataclasses.replace(evil_run, model=None)])
    assert any(e.value.startswith(plain(f"{EVIL} has no model to load.")) for e in at.error)
    assert_shown_as_typed(at)


def test_an_uploaded_models_layer_names_are_shown_as_typed_inside_the_network(digits_run):
    # Layer names come from the file; TensorFlow runs only names of A-Z a-z 0-9 _ . - > \ (and these are markdown).
    import keras

    from core.model.run import Run
    from ui.explanations import EVALUATE_TABS, INSIDE_TAB

    layer_name = "__bold__-->x"
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, name=layer_name)(inputs)
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x))
    run = Run(run_id=2, name="uploaded", dataset="digits", model=keras.Model(inputs, outputs), source="uploaded")
    at = open_page("evaluate", [run])
    at.session_state[EVALUATE_TABS] = INSIDE_TAB
    at.run()
    assert not at.exception
    texts = [m.value for m in at.markdown]
    assert any(plain(layer_name) in t for t in texts) and not any(layer_name in t for t in texts)

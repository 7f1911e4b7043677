"""The Train and My digits pages in Spanish and German: no English left in what people read; images and charts
carry their alt text; training progress is text too."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from core.i18n import ROOT
from tests.harness.translations import english_left

TIMEOUT = 60
LABELLED = ("button", "selectbox", "radio", "number_input", "text_input", "slider", "select_slider", "checkbox",
            "toggle", "multiselect", "expander", "tabs", "segmented_control", "download_button", "metric")
SHOWN = ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success")


def visible_texts(at: AppTest) -> list[str]:
    """Every text a person reads on the page: titles, texts, boxes, and each control's label and help."""
    texts = [e.value for kind in SHOWN for e in at.get(kind)]
    for kind in LABELLED:
        for element in at.get(kind):
            texts += [getattr(element, "label", "") or "", getattr(element, "help", "") or ""]
            texts += [str(o) for o in getattr(element, "options", []) or []]
    return [t for t in texts if isinstance(t, str) and t.strip()]


def english_of_ours(at: AppTest, language: str) -> list[str]:
    """The texts still in English on the page (visitors' names and the app's own names aside)."""
    return english_left(visible_texts(at), language)


def open_in(page: str, language: str, **params: str) -> AppTest:
    """The page opened by a link in `language` (with `params`, e.g. the Train page's mode)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["lang"] = language
    at.run()
    for name, value in params.items():
        at.query_params[name] = value
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception
    return at


@pytest.mark.parametrize("language", ["es", "de"])
def test_train_page_has_no_english_left(language):
    at = open_in("train", language)
    assert english_of_ours(at, language) == []
    assert any(b.label not in ("Start training",) for b in at.button)


@pytest.mark.parametrize("language", ["es", "de"])
def test_train_compare_and_fine_tune_modes_have_no_english_left(language):
    # By the link's mode: AppTest formats a radio's options outside the session, in English.
    for mode in ("compare", "fine_tune"):
        at = open_in("train", language, mode=mode)
        # the mode's own control: the link did pick the mode
        assert (at.selectbox(key="sweep_setting") if mode == "compare" else at.button(key="fine_tune")) is not None
        assert english_of_ours(at, language) == [], mode


@pytest.mark.parametrize("language", ["es", "de"])
def test_my_digits_page_has_no_english_left(language):
    at = open_in("digits", language)
    assert english_of_ours(at, language) == []


def test_the_data_samples_and_the_pixel_histogram_carry_alt_text_in_the_language():
    at = open_in("train", "es")
    at.session_state["look_at_data"] = True  # as a click on "Look at the data" does
    at.run()
    assert not at.exception
    images = [image for element in at.get("image") for image in element.proto.imgs]
    assert len(images) == 10 and all(image.alt.startswith("Una imagen de ejemplo de la clase ") for image in images)
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("pixel_histogram"))
    assert "píxeles" in chart.proto.alt or "pixels" in chart.proto.alt  # the histogram's sentence (core's words)
    # ...and the same sentence under it, for everyone (escaped there: it may hold a run's name, anyone's text)
    assert any(chart.proto.alt == re.sub(r"\\(.)", r"\1", c.value) for c in at.caption)


def test_training_progress_is_text_too_epoch_accuracy_and_time_in_the_language():
    at = open_in("train", "de")
    at.number_input(key="epochs").set_value(2)
    at.run()
    start = next(b for b in at.button if b.proto.type == "primary")
    start.click().run()
    job = at.session_state["training_job"]
    job.join(120)  # AppTest does not simulate the fragment's run_every: wait for the thread, then rerun
    assert job.done, job.snapshot()
    at.run()
    assert not at.exception
    [bar] = [b for b in at.get("progress")]
    assert bar.proto.text.startswith("Durchgang (Epoche) 2 von 2 · ") and " · Treffer " in bar.proto.text
    assert any(c.value == bar.proto.text for c in at.caption)  # the bar's words as a plain line too
    charts = [c for c in at.get("plotly_chart") if c.proto.id.endswith(("live_loss", "live_accuracy"))]
    assert len(charts) == 2 and all(c.proto.alt for c in charts)

"""Evaluate, Draw and a shared run's page in Spanish and German: no English left in what people read, and
every image and chart on them has its alt text (what a screen reader says).

The pages also show text written in core (core.words labels, core.figures.described sentences, the explanations'
sentences) and in other modules (the sidebar, My digits): those pass when their own modules are translated.
"""

import pytest
from streamlit.testing.v1 import AppTest

from core.storage import sink as persistence
from core.storage.store import open_store
from tests.conftest import open_page, open_tab
from tests.harness.drawings import make_drawings, render_drawing
from tests.harness.translations import english_left
from tests.test_app_draw import draw
from ui.explanations import EVALUATE_TABS
from ui.text import plain

TIMEOUT = 90
TEXT_ELEMENTS = ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success")
LABELLED = ("button", "selectbox", "radio", "number_input", "toggle", "metric", "tabs", "expander", "text_input")


def open_in(language: str, page: str, runs=(), **params) -> AppTest:
    """An AppTest of `pages/<page>.py` opened with ?lang=<language> (and `params`), `runs` in the session."""
    at = open_page(page, runs, TIMEOUT, lang=language, **params)
    assert not at.exception
    return at


def visible_texts(at: AppTest) -> list[str]:
    """What people read on the page now: texts, captions, labels, help, image captions and alts, chart alts."""
    texts = [e.value for kind in TEXT_ELEMENTS for e in getattr(at, kind)]
    for kind in LABELLED:
        for element in getattr(at, kind):
            texts += [element.label, getattr(element, "help", "") or ""]
    for images in at.image:
        texts += [i.caption for i in images.proto.imgs] + [i.alt for i in images.proto.imgs]
    texts += [chart.proto.alt for chart in at.get("plotly_chart")]
    return [t for t in texts if t]


def without_names(texts: list[str], *runs) -> list[str]:
    """The texts less the runs' names: a visitor's text (or made of settings' names), never translated."""
    for run in runs:
        texts = [t.replace(plain(run.name), "") for t in texts]
    return texts


def image_alts(at: AppTest) -> list[str]:
    return [i.alt for images in at.image for i in images.proto.imgs]


@pytest.mark.parametrize("language", ["es", "de"])
def test_evaluate_speaks_the_visitors_language_on_every_tab(digits_run, language):
    at = open_in(language, "evaluate", [digits_run])
    texts = visible_texts(at)
    opened = [t.label for t in at.tabs]
    for label in opened[1:4]:  # All mistakes, Correct examples, Per class
        open_tab(at, EVALUATE_TABS, label)
        texts += visible_texts(at)
    open_tab(at, EVALUATE_TABS, opened[4])  # Inside the network
    texts += visible_texts(at)
    left = english_left(without_names(texts, digits_run), language)
    assert not left, left[:10]
    assert "Confusion matrix" not in opened and "Inside the network" not in opened


def test_evaluate_gallery_images_and_charts_have_alt_text(digits_run):
    at = open_in("en", "evaluate", [digits_run])
    charts = at.get("plotly_chart")
    assert charts and all(c.proto.alt for c in charts)  # the matrix, the chosen image's chances
    gallery = at.image[0].proto.imgs
    assert len(gallery) > 1 and all(" read as " in i.alt or "read right" in i.alt for i in gallery)


def test_draws_inside_the_network_opens_evaluates_tab_in_the_visitors_language(digits_run):
    at = open_in("es", "evaluate", [digits_run])
    at.session_state[EVALUATE_TABS] = "Inside the network"  # what Draw's "See inside the network" sets
    at.run()
    assert not at.exception
    assert any("primera capa" in m.value for m in [*at.markdown, *at.caption])  # the tab's own text, in Spanish


@pytest.mark.parametrize("language", ["es", "de"])
def test_draw_speaks_the_visitors_language(language):
    at = open_in(language, "draw")
    texts = visible_texts(at)
    draw(at, render_drawing(make_drawings(seed=3)[5][1]))
    assert not at.exception and at.metric
    texts += visible_texts(at)
    at.session_state["draw_source"] = "test"  # set_value would format the options outside the page (English)
    at.run()
    texts += visible_texts(at)
    left = english_left(texts, language)
    assert not left, left[:10]


def test_draws_pictures_and_chart_have_alt_text():
    at = open_in("en", "draw")
    draw(at, render_drawing(make_drawings(seed=3)[15][1]))
    alts = image_alts(at)
    assert any("as the network reads it" in a for a in alts)  # what the model sees
    assert any("(orange)" in a and "(blue)" in a for a in alts)  # the "Why 5?" map, its colours in words
    assert all(c.proto.alt.startswith("Read as ") for c in at.get("plotly_chart"))


@pytest.mark.parametrize("language", ["es", "de"])
def test_a_shared_run_speaks_the_visitors_language(digits_run, language):
    store = open_store()
    try:
        lab_id = store.open_lab(store.create_lab())
        run_id = store.save_run(lab_id, persistence.record_of(digits_run),
                                {persistence.MODEL_BLOB: persistence.model_bytes(digits_run)})
        at = open_in(language, "shared", run=store.share_run(lab_id, run_id))
        texts = visible_texts(at)
        assert len(at.get("plotly_chart")) == 2 and all(c.proto.alt for c in at.get("plotly_chart"))
        gone = open_in(language, "shared", run="y" * 32)
        texts += visible_texts(gone)
        assert gone.error
    finally:
        store.close()
    left = english_left(without_names(texts, digits_run), language)
    assert not left, left[:10]

"""AppTest of the home page (app.py): the drawing box, the cards, a visitor's runs, the warm-up."""

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.i18n import translate
from core.server import warmup
from tests.conftest import ROOT
from tests.harness.drawings import make_drawings, render_drawing
from tests.harness.translations import english_left
from tests.test_app_draw import as_data_url
from ui.classes import JOIN_HINT

TIMEOUT = 60  # TensorFlow makes first runs slow; AppTest's default 3 s is far too short
WARM_TIMEOUT = 600  # the warm-up's training on a busy 2-core machine
LESSONS_LINK = "New here? Follow a lesson: it shows you what to try, step by step"
HOME_LINKS = [LESSONS_LINK, "More on the Draw page", "Learn", "Train", "Evaluate", "Draw", "My digits"]
SIDEBAR = ["Home", "Learn", "Train", "Evaluate", "Draw", "My digits"]


def open_home(runs=()) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if runs:
        at.session_state["runs"] = list(runs)
        at.session_state["current_run_id"] = runs[-1].run_id
        at.session_state["run_counter"] = max(r.run_id for r in runs)
    return at.run()


def draw_home(at, rgba):
    key = f"home_canvas_{at.session_state['home_clears']}"
    at.session_state[key] = {"drawing": {"raw": {"objects": []}, "data": as_data_url(rgba)}}
    return at.run()


def subheaders(at) -> list[str]:
    return [s.value for s in at.subheader]


def drawing_of(digit: int):
    return next(strokes for label, strokes in make_drawings(seed=0) if label == digit)


def test_home_without_runs_opens_with_the_drawing_box_and_the_cards():
    at = open_home()
    assert not at.exception
    assert at.title[0].value == "Digit Lab"
    assert "You have not trained a model yet" in at.info[0].value
    assert subheaders(at) == ["Draw a digit", "What you can do here"]
    assert any("Draw a digit in the black box" in i.value for i in at.info)
    assert not at.metric  # no reading before a stroke
    links = [link.label for link in at.get("page_link")]
    assert links == HOME_LINKS + SIDEBAR  # the Draw page for more, a card per page, the navigation
    sentences = [m.value for m in at.markdown]
    for words in ("watch it learn", "which digits it confuses", "what the network reads"):
        assert any(words in s for s in sentences), words


def test_a_drawing_on_the_home_page_is_read_by_the_bundled_model():
    at = open_home()
    for digit in (3, 7):
        next(b for b in at.button if b.label == "Clear").click().run()
        draw_home(at, render_drawing(drawing_of(digit)))
        assert not at.exception
        assert next(m for m in at.metric if m.label == "Prediction").value == str(digit)
        assert at.get("plotly_chart")  # the probabilities, as on Draw
    assert "Why this answer" not in subheaders(at)  # that is the Draw page's, one link away
    assert warmup.MODEL.ready


def test_home_and_draw_read_through_the_same_drawing_box(monkeypatch):
    import ui.drawing_box

    calls = []
    real = ui.drawing_box.show_reading
    monkeypatch.setattr(ui.drawing_box, "show_reading", lambda *args: calls.append(args[-1]) or real(*args))
    at = open_home()
    draw_home(at, render_drawing(drawing_of(2)))
    at.switch_page("pages/draw.py").run()
    at.session_state["draw_canvas_0"] = {"drawing": {"raw": {"objects": []}, "data": as_data_url(
        render_drawing(drawing_of(2)))}}
    at.run()
    assert not at.exception
    assert calls == ["home", "draw"]
    assert next(m for m in at.metric if m.label == "Prediction").value == "2"


def test_a_visitor_with_runs_sees_them_first_and_can_evaluate_one(digits_run):
    import dataclasses

    older = dataclasses.replace(digits_run, run_id=2, name="Run 2 · an older one", model=digits_run.model,
                                metrics={"val_accuracy": 0.5})
    newer = dataclasses.replace(digits_run, run_id=3, name="Run 3 · the newest", metrics={"val_accuracy": 0.875})
    at = open_home([older, newer])
    assert not at.exception
    assert subheaders(at)[:2] == ["Continue where you left off", "Draw a digit"]
    assert not any("You have not trained" in i.value for i in at.info)
    assert "Current model: **Run 3 · the newest** — validation accuracy 87.5%" in at.success[0].value
    runs = [m.value for m in at.markdown if m.value.startswith("**Run")]
    assert runs == ["**Run 3 · the newest**  \nvalidation accuracy 87.5%",
                    "**Run 2 · an older one**  \nvalidation accuracy 50%"]  # newest first (ui.i18n.percent)
    at.button(key="home_evaluate_2").click().run()
    assert not at.exception
    assert at.title[0].value == "Evaluate"
    assert any("Run 2 · an older one" in c.value for c in at.caption)  # the run clicked, not the current one


def test_a_training_in_progress_shows_its_progress_bar(monkeypatch):
    from ui import state

    snapshot = types.SimpleNamespace(state="training", fraction=0.25, epoch=3, epochs=10, message="")
    job = types.SimpleNamespace(done=False, settled=False, collected=False,
                                name="Run 4 · Digits · 128 relu · Adam 0.001", spec=None, snapshot=lambda: snapshot)
    monkeypatch.setattr(state, "get_job", lambda: job)
    at = open_home()
    assert not at.exception
    assert subheaders(at)[0] == "Continue where you left off"
    bars = at.get("progress")
    assert len(bars) == 1 and bars[0].proto.value == 25
    assert "epoch 3 of 10" in bars[0].proto.text
    assert "Watch it on Train" in [link.label for link in at.get("page_link")]


def test_the_cards_show_pictures_from_a_real_training_once_the_server_is_warm():
    warmup.start()
    assert warmup.PICTURES.wait(WARM_TIMEOUT), "the warm-up did not make the pictures"
    assert warmup.PICTURES.error is None, warmup.PICTURES.error
    showcase = warmup.PICTURES.result
    assert showcase.test_accuracy > 0.9 and len(showcase.history["val_accuracy"]) == showcase.spec.epochs
    at = open_home()
    assert not at.exception
    captions = [c for image in at.image for c in image.captions]
    assert any("trained on this server" in c for c in captions)  # Train: the learning curve
    assert any(f"{showcase.test_size} test images" in c for c in captions)  # Evaluate: the matrix
    assert any("mistakes" in c for c in captions) == (showcase.mistakes > 0)  # Evaluate: the gallery
    assert any(c.startswith("Why ") for c in captions)  # Draw: why this answer
    assert not any("Drawing this picture" in c.value for c in at.caption)  # no placeholder left


def run_home_in_a_fresh_interpreter(code: str, warm_up: bool) -> dict:
    """Run `code` (which runs app.py through AppTest and prints JSON) in a new Python; its JSON."""
    env = dict(os.environ, DIGITLAB_WARMUP="1" if warm_up else "0")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=WARM_TIMEOUT,
                         cwd=Path(__file__).resolve().parents[1], env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_home_page_script_run_imports_no_tensorflow():
    # With the background warm-up switched off, whatever the home page imports, directly or not,
    # must not pull in TensorFlow (seconds on a cold server). This fails if app.py imports it.
    code = ("import json, sys; from streamlit.testing.v1 import AppTest; "
            "at = AppTest.from_file('app.py', default_timeout=60).run(); "
            "print(json.dumps([bool(at.exception), 'tensorflow' in sys.modules, 'keras' in sys.modules]))")
    assert run_home_in_a_fresh_interpreter(code, warm_up=False) == [False, False, False]


WARM_CODE = """
import json, sys, threading
importers = []

class Spy:  # notes which thread first imports TensorFlow
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" and not importers:
            importers.append(threading.current_thread().name)
        return None

sys.meta_path.insert(0, Spy())
from streamlit.testing.v1 import AppTest
from core.server import warmup
at = AppTest.from_file("app.py", default_timeout=60).run()
drawn = {"exception": bool(at.exception), "model_ready": warmup.MODEL.ready, "started": warmup.MODEL.started}
warmup.MODEL.wait(600)
warmup.EXPLANATIONS.wait(600)  # TensorFlow's next task: an interpreter leaving in the middle of it aborts
print(json.dumps({**drawn, "importers": importers, "error": repr(warmup.MODEL.error),
                  "model": type(warmup.MODEL.result).__name__, "explained": repr(warmup.EXPLANATIONS.error)}))
"""


def test_the_warm_up_loads_the_model_after_the_page_is_drawn_in_its_own_thread():
    result = run_home_in_a_fresh_interpreter(WARM_CODE, warm_up=True)
    assert result["exception"] is False
    assert result["started"] is True  # the home page started it, at its end...
    assert result["model_ready"] is False  # ...so the page was drawn before TensorFlow had even loaded
    assert result["importers"] == [warmup.THREAD_NAME]  # the script run never imported TensorFlow itself
    assert result["error"] == "None" and result["model"] == "Functional"
    assert result["explained"] == "None"  # then its explanations' gradients, traced


def test_after_training_home_reads_with_the_model_draw_uses_and_says_which(digits_run):
    """One truth for "the model": the home page's box reads with the current run, as Draw does, and names it."""
    from core.data.datasets import get_info
    from core.data.drawing import predict_drawing, preprocess_drawing
    from ui.text import plain

    at = open_home([digits_run])
    assert not at.exception
    assert not any("Read by the bundled model" in c.value for c in at.caption)
    assert any(c.value.startswith(f"Read by **{plain(digits_run.name)}**") for c in at.caption)
    rgba = render_drawing(drawing_of(3))
    draw_home(at, rgba)
    assert not at.exception
    expected = int(predict_drawing(digits_run.model, preprocess_drawing(rgba, get_info("digits").image_shape)).argmax())
    assert next(m for m in at.metric if m.label == "Prediction").value == str(expected)
    # Draw, a page away, reads with the same model.
    at.switch_page("pages/draw.py").run()
    assert at.selectbox(key="draw_model_select").value == digits_run.run_id


# Languages and text alternatives (issue 26 items 1 and 3)

TEXT_KINDS = ("title", "header", "subheader", "markdown", "caption", "success", "info", "warning", "error")


def visible_texts(at) -> list[str]:
    """What a visitor reads or hears: texts, alerts, labels and helps of buttons, links and expanders, image
    captions and alt texts."""
    texts = [e.value for kind in TEXT_KINDS for e in getattr(at, kind)]
    texts += [b.label for b in at.button] + [b.help for b in at.button if b.help]
    texts += [link.proto.label for link in at.get("page_link")] + [e.label for e in at.expander]
    for kind in ("selectbox", "multiselect", "radio", "text_input", "number_input", "toggle", "checkbox", "tabs",
                 "metric"):
        texts += [w.label for w in getattr(at, kind)]
    texts += [bar.proto.text for bar in at.get("progress")]
    return texts + [text for images in at.image for image in images.proto.imgs
                    for text in (image.caption, image.alt)]


def fake_showcase():
    """What the warm-up's pictures hold (core.server.showcase.Showcase), with tiny pictures."""
    from core.server.showcase import PRESET, encode_png

    picture = np.zeros((8, 8, 3), np.uint8)
    return types.SimpleNamespace(
        preset=PRESET, seconds=12.0, history={"val_accuracy": [0.62, 0.9, 0.96]}, test_accuracy=0.953,
        test_size=360, mistakes=17, cell=(8, 1, 3), why_class="3",
        png={name: encode_png(picture) for name in ("curve", "confusion", "gallery", "why")}, gallery=picture)


@pytest.fixture
def pictures_ready(monkeypatch):
    """The home page's pictures made (without the warm-up's training)."""
    ready = types.SimpleNamespace(ready=True, started=True, result=fake_showcase(), error=None)
    monkeypatch.setattr(warmup, "PICTURES", ready)
    return ready.result


@pytest.mark.parametrize("language", ["es", "de"])
def test_home_in_spanish_and_german_leaves_no_english_of_its_own(language, pictures_ready, digits_run):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["lang"] = language
    at.session_state["runs"] = [digits_run]
    at.session_state["current_run_id"] = digits_run.run_id
    at.session_state["run_counter"] = digits_run.run_id
    at.session_state["class_box"] = True  # the sidebar's "Your class" and Home's class box, opened
    at.session_state["home_class"] = True
    at.run()
    assert not at.exception
    texts = visible_texts(at)
    assert texts.count(translate(language, JOIN_HINT)) == 2  # the class forms are there, sidebar and Home
    assert len(texts) > 20 and any("Digit Lab" in t for t in texts)
    left = english_left(texts, language)
    assert not left, f"English left on Home in {language}: {left}"
    assert any("95,3\xa0%" in t for t in texts)  # the card's percentage, written the language's way


def test_the_home_cards_images_each_have_a_text_alternative(pictures_ready):
    at = open_home()
    assert not at.exception
    images = [image for images in at.image for image in images.proto.imgs]
    assert len(images) == 4  # the curve, the confusion matrix, the mistakes, why 3
    alts = [image.alt for image in images]
    assert all(alts) and len(set(alts)) == 4
    assert "from 62% to 96%" in alts[0]  # what the curve shows, not only that it is one
    assert "95.3% right" in alts[1] and "8 read as 1" in alts[1]
    assert "counted for 3" in alts[3]

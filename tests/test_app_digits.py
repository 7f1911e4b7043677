"""AppTest of My digits (pages/digits.py) and of ui/my_digits.py's calls, each on a tiny page of its own.

The tiny pages are written to a temporary folder as its `app.py`, beside a link to the real
`pages/`, so their page links (the navigation, "My digits") resolve as in the app.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.data.datasets import get_info
from core.data.handwriting import export_npz, keep_drawing, to_dataset_images
from core.model.run import Run
from core.storage.engine import database_url
from core.storage.store import open_store
from tests.conftest import ROOT, open_page
from tests.harness.drawings import make_drawings, render_drawing
from tests.harness.polling import poll_until

TIMEOUT = 60  # TensorFlow makes first runs slow; AppTest's default 3 s is far too short

DRAW_PAGE = """
import streamlit as st
from ui.layout import start_page
from ui.my_digits import show_add_to_my_digits
start_page("Test")
show_add_to_my_digits(st.session_state.get("rgba"), st.session_state.get("predicted"), key="t")
"""

EVALUATE_PAGE = """
import streamlit as st
from core.data.datasets import get_info
from core.model.run import Run
from ui.layout import start_page
from ui.my_digits import on_my_digits, pick_evaluation_data
start_page("Test")
run = st.session_state.setdefault("test_run", Run(run_id=-5, name="A model", dataset="digits", model=None))
x, y, label = pick_evaluation_data(run, get_info(run.dataset))
st.session_state["out"] = (x, y, on_my_digits())
st.caption(label)
"""

TRAIN_PAGE = """
import streamlit as st
from ui import state
from ui.layout import start_page
from ui.my_digits import show_fine_tune
start_page("Test")
show_fine_tune(state.current_run())
"""


@pytest.fixture(scope="module")
def store():
    """The database the app's pages use in these tests (conftest's DIGITLAB_HOME)."""
    return open_store(database_url())


@pytest.fixture(scope="module")
def kept_digits():
    """Ten drawings of each digit (tests/harness/drawings.py), kept as the Draw page keeps them: (labels, kept)."""
    drawings = make_drawings(seed=0)
    labels = np.array([label for label, _ in drawings], np.uint8)
    kept = np.stack([keep_drawing(render_drawing(strokes)) for _, strokes in drawings])
    return labels, kept


def tiny_app(tmp_path, source: str) -> AppTest:
    (tmp_path / "app.py").write_text(source)
    (tmp_path / "pages").symlink_to(ROOT / "pages")
    return AppTest.from_file(str(tmp_path / "app.py"), default_timeout=TIMEOUT)


def new_lab(store, labels=(), kept=()) -> tuple[str, int]:
    """A lab of its own for a test, holding these digits: (its key, its id)."""
    key = store.create_lab()
    lab_id = store.open_lab(key)
    if len(labels):
        store.add_digits(lab_id, list(labels), list(kept))
    return key, lab_id


def lab_of(at) -> int:
    return at.session_state["lab"].lab_id


def texts(elements) -> str:
    return " | ".join(e.value for e in elements)


def pickle_npz() -> bytes:
    """An .npz whose x is an object array (a pickle): never to be loaded."""
    buffer = io.BytesIO()
    np.savez(buffer, x=np.array([object()] * 3, dtype=object), y=np.array([1, 2, 3]))
    return buffer.getvalue()


# -- My digits -----------------------------------------------------------------------------------

def test_my_digits_without_digits_says_how_to_add_some():
    at = open_page("digits", timeout=TIMEOUT)
    assert not at.exception
    assert at.title[0].value == "My digits"
    assert "You have no digits yet" in at.info[0].value
    assert "My digits" in [link.label for link in at.get("page_link")]
    assert at.file_uploader(key="digits_upload")


def test_upload_shows_counts_delete_one_delete_all_and_download_round_trips(store, kept_digits):
    labels, kept = kept_digits
    at = open_page("digits", timeout=TIMEOUT)
    three = np.array([10 * digit + variant for digit in range(10) for variant in range(3)])  # three of each
    data = export_npz(labels[three], kept[three])
    at.file_uploader(key="digits_upload").upload("mine.npz", data).run()
    assert not at.exception
    assert "Added 30 digits from mine" in texts(at.success)
    assert at.metric[0].value == "30"
    ids, saved, _, _ = store.list_digits(lab_of(at))
    assert np.bincount(saved, minlength=10).tolist() == [3] * 10
    assert at.get("download_button")[0].label == "Download as .npz"
    # What a download of them holds is what was uploaded: the same labels, nearly the same images (each
    # 28x28 image was enlarged to be kept like a drawing, and is made again from that).
    with np.load(io.BytesIO(export_npz(saved, store.list_digits(lab_of(at))[2]))) as again, \
            np.load(io.BytesIO(data)) as first:
        assert again["y"].tolist() == first["y"].tolist()
        assert np.abs(again["x"].astype(float) - first["x"]).mean() / 255 < 0.06

    at.run()  # a rerun does not add the same file again
    assert len(store.list_digits(lab_of(at))[0]) == 30

    shown = at.button_group[0].value  # the first digit's grid, newest first
    assert shown == 0
    boxes = [box for box in at.checkbox if box.key.startswith("digit_pick_")]
    assert len(boxes) == 3
    boxes[0].check().run()
    at.button(key="delete_ticked").click().run()
    assert not at.exception
    assert "Deleted 1 digit." in texts(at.success)
    left = store.list_digits(lab_of(at))[0]
    assert len(left) == 29 and int(boxes[0].key.removeprefix("digit_pick_")) not in left
    assert at.metric[0].value == "29"

    at.button(key="delete_all_digits").click().run()
    assert not at.exception
    assert "All your digits were deleted." in texts(at.success)
    assert len(store.list_digits(lab_of(at))[0]) == 0
    assert "You have no digits yet" in at.info[0].value


@pytest.mark.parametrize(("name", "data", "message"), [
    ("evil.npz", None, "holds Python objects"),
    ("notes.npz", b"just some text", "This is not an .npz file"),
])
def test_a_hostile_or_wrong_file_is_refused_and_nothing_is_added(store, kept_digits, name, data, message):
    labels, kept = kept_digits
    key, lab_id = new_lab(store, labels[:5], kept[:5])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["lab"] = key
    at.run()
    at.switch_page("pages/digits.py").run()
    at.file_uploader(key="digits_upload").upload(name, pickle_npz() if data is None else data).run()
    assert not at.exception
    assert message in texts(at.error).replace("\\", "")
    assert len(store.list_digits(lab_id)[0]) == 5
    assert at.metric[0].value == "5"


def test_a_file_past_the_labs_limit_adds_nothing(store, kept_digits, monkeypatch):
    import core.storage.store

    labels, kept = kept_digits
    key, lab_id = new_lab(store, labels[:5], kept[:5])
    monkeypatch.setattr(core.storage.store, "MAX_DIGITS", 8)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["lab"] = key
    at.run()
    at.switch_page("pages/digits.py").run()
    at.file_uploader(key="digits_upload").upload("four.npz", export_npz(labels[:4], kept[:4])).run()
    assert "delete some to add more" in texts(at.error).replace("\\", "")
    assert len(store.list_digits(lab_id)[0]) == 5


# -- Draw: Add to my digits ----------------------------------------------------------------------

def test_add_a_drawing_with_the_reading_then_a_corrected_one(tmp_path, store):
    drawings = make_drawings(seed=0)
    at = tiny_app(tmp_path, DRAW_PAGE)
    at.run()
    assert not at.exception
    assert at.button(key="t_button").disabled
    assert "Draw a digit first" in texts(at.caption)

    seven = next(strokes for label, strokes in drawings if label == 7)
    at.session_state["rgba"], at.session_state["predicted"] = render_drawing(seven), 7
    at.run()
    assert at.radio(key="t_label").value == 7  # preset to the reading
    assert "The network read a 7" in texts(at.caption)
    at.button(key="t_button").click().run()
    assert not at.exception
    assert "Added a 7 · you have 1 digit" in texts(at.success)
    assert at.button(key="t_button").disabled  # the same drawing cannot be added twice
    assert [link.label for link in at.get("page_link")][-1] == "My digits"
    assert store.list_digits(lab_of(at))[1].tolist() == [7]

    one = next(strokes for label, strokes in drawings if label == 1)
    at.session_state["rgba"], at.session_state["predicted"] = render_drawing(one), 8  # read wrong
    at.run()
    assert at.radio(key="t_label").value == 8 and not at.success
    at.radio(key="t_label").set_value(1).run()
    at.button(key="t_button").click().run()
    assert "Added a 1 · you have 2 digits" in texts(at.success)
    assert store.list_digits(lab_of(at))[1].tolist() == [7, 1]


def test_without_a_store_it_says_why_digits_cannot_be_kept(tmp_path, monkeypatch):
    from core.storage.engine import StoreError
    from ui import lab

    def broken():
        raise StoreError("The disk is full.")

    monkeypatch.setattr(lab, "shared_store", broken)
    at = tiny_app(tmp_path, DRAW_PAGE)
    at.session_state["rgba"], at.session_state["predicted"] = render_drawing(make_drawings()[0][1]), 0
    at.run()
    assert not at.exception
    assert "Your digits cannot be kept right now: The disk is full." in texts(at.caption)
    assert not at.button


# -- Evaluate: test on my digits ---------------------------------------------------------------

def test_evaluate_offers_my_digits_from_ten_and_returns_them_like_a_test_set(tmp_path, store, kept_digits):
    labels, kept = kept_digits
    key, lab_id = new_lab(store, labels[:9:3], kept[:9:3])
    at = tiny_app(tmp_path, EVALUATE_PAGE)
    at.query_params["lab"] = key
    at.run()
    assert not at.exception
    assert not at.radio  # 3 digits: not yet
    assert "Add at least 10 digits" in texts(at.sidebar.caption)
    x, y, mine = at.session_state["out"]
    assert x.shape[1:] == (8, 8) and len(y) > 100 and not mine
    assert "test set, which the model never saw" in texts(at.caption)

    store.add_digits(lab_id, list(labels[40:52]), list(kept[40:52]))
    at.session_state["evaluation_cache"] = {(id(None), "digits"): "results of the test set"}
    at.session_state["inside_index"] = 300
    at.run()
    assert at.radio(key="evaluate_data").options == ["The Digits (8x8) test set", "My digits (15)"]
    at.radio(key="evaluate_data").set_value("mine").run()
    assert not at.exception
    x, y, mine = at.session_state["out"]
    assert mine and x.dtype == np.uint8 and x.shape == (15, 8, 8) and 0 < x.max() <= 16
    assert y.tolist() == labels[:9:3].tolist() + labels[40:52].tolist()
    assert np.array_equal(x, to_dataset_images(np.concatenate([kept[:9:3], kept[40:52]]), get_info("digits")))
    assert "your 15 digits" in texts(at.caption)
    # Evaluate's results and image numbers were of the test set: gone.
    assert "inside_index" not in at.session_state and at.session_state["evaluation_cache"] == {}

    at.run()  # the same digits: converted once
    assert at.session_state["out"][0] is x


# -- Train: fine-tune on my digits -------------------------------------------------------------

def fine_tuned_run(test_before: float, test_after: float) -> Run:
    return Run(run_id=-2, name="Run 1 fine-tuned on my 40 digits", dataset="mnist", model=None,
               source="fine-tuned", metrics={"held_out_accuracy_before": 0.5, "held_out_accuracy": 0.875,
                                             "test_accuracy_before": test_before, "test_accuracy": test_after})


@pytest.mark.parametrize(("after", "red"), [(0.97, False), (0.955, True)])
def test_before_and_after_shows_the_forgetting_in_red_past_two_points(tmp_path, after, red):
    at = tiny_app(tmp_path, TRAIN_PAGE)
    at.session_state["runs"] = [fine_tuned_run(0.98, after)]
    at.session_state["current_run_id"] = -2
    at.run()
    assert not at.exception
    values = {m.label: (m.value, m.delta) for m in at.metric}
    assert values["Your held-out digits"] == ("88%", "+38 points (before: 50%)")
    assert values["MNIST test set"][1].startswith(f"{(after - 0.98) * 100:+.1f} points")
    assert bool(at.error) is red
    if red:
        assert "fell 2.5 points" in at.error[0].value
    assert at.button(key="fine_tune").disabled  # no digits yet
    assert "Add at least 10 digits" in texts(at.caption)


def test_a_model_fine_tuning_cannot_take_is_not_offered(tmp_path):
    at = tiny_app(tmp_path, TRAIN_PAGE)
    at.session_state["runs"] = [fine_tuned_run(0.98, 0.97), Run(run_id=-3, name="Run 2", dataset="digits", model=None)]
    at.session_state["current_run_id"] = -3
    at.run()
    assert not at.exception
    picker = at.selectbox(key="fine_tune_model_default_1")
    assert picker.options == ["Run 1 fine-tuned on my 40 digits", "Default MNIST CNN (bundled)"]
    assert picker.value == "default"  # the current model reads 8x8 images
    assert "reads Digits (8x8) images; fine-tuning needs a model of 28x28 digits" in texts(at.caption)
    assert "Default MNIST CNN \\(bundled\\)" in texts(at.caption)
    assert not at.metric  # the bundled model has no before and after
    picker.set_value(-2).run()
    assert {m.label for m in at.metric} == {"Your held-out digits", "MNIST test set"}


def test_fine_tune_the_bundled_model_and_see_before_and_after_after_a_reload(tmp_path, store, kept_digits,
                                                                             mnist_sample):
    from core.server.board import JOBS

    labels, kept = kept_digits
    key, lab_id = new_lab(store, labels[::2], kept[::2])  # 50 digits, five of each
    at = tiny_app(tmp_path, TRAIN_PAGE)
    at.query_params["lab"] = key
    at.run()
    assert not at.exception
    assert "Default MNIST CNN" in texts(at.caption)  # no runs: the bundled model
    at.button(key="fine_tune").click().run()
    assert not at.exception
    job = JOBS.get(f"lab:{lab_id}")
    assert job is not None and job.name == "Default MNIST CNN (bundled) fine-tuned on my 50 digits"
    assert at.button(key="fine_tune").disabled and "A training is running" in texts(at.caption)
    poll_until(lambda: job.done, 240, "the fine-tuning to end", 1.0)
    assert job.state == "finished", job.message
    at.run()  # the page collects the run: it is the lab's current model, from the store
    assert not at.exception
    run = at.session_state["runs"][-1]
    assert run.source == "fine-tuned" and run.spec is None and at.session_state["current_run_id"] == run.run_id
    assert "Replayed and test images: MNIST: the sample that ships with the app" in run.status  # offline
    assert {"held_out_accuracy", "test_accuracy_before"} <= set(run.metrics)
    assert "Your held-out digits" in [m.label for m in at.metric]

    (tmp_path / "again").mkdir()
    again = tiny_app(tmp_path / "again", TRAIN_PAGE)
    again.query_params["lab"] = key  # another tab (or a reload): the figures come from the store
    again.run()
    assert not again.exception
    assert {m.label for m in again.metric} == {"Your held-out digits", "MNIST test set"}
    record = store.get_run(run.run_id, lab_id)
    assert record.source == "fine-tuned" and record.spec is None


def test_pickle_npz_is_a_real_zip():
    """The hostile file of these tests is what numpy writes for an object array (so it is refused for that)."""
    with zipfile.ZipFile(io.BytesIO(pickle_npz())) as archive:
        assert sorted(archive.namelist()) == ["x.npy", "y.npy"]

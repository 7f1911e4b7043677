"""AppTest of the Evaluate page."""

import io
import json
import os
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from core.analysis.evaluation import rank_mistakes
from core.analysis.history import EpochRecord, rank_changed_mind, rank_learned_last, select_cell_at
from core.data.datasets import get_info, load_dataset, load_test_set, to_model_input
from core.figures.epochs import caption_changes
from core.figures.images import caption_prediction
from core.i18n import format_percent_in
from core.model.files import write_model_file
from core.words import METRIC_WORDS
from tests.conftest import open_page, open_tab
from ui.explanations import EVALUATE_TABS
from ui.text import plain


def gallery_title(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Truth "))


def test_metrics_and_matrix_of_the_current_model(digits_run):
    at = open_page("evaluate", [digits_run])
    assert not at.exception
    x, y = load_test_set("digits")
    probs = digits_run.model.predict(to_model_input(x, get_info("digits")), verbose=0)
    expected = float(np.mean(np.argmax(probs, 1) == y))
    metric = next(m for m in at.metric if m.label == METRIC_WORDS["test_accuracy"].label)
    assert metric.value == format_percent_in("en", expected)  # 0.1 points, written the language's way
    assert any(" read right, " in m.value for m in at.markdown)
    assert len(at.get("plotly_chart")) >= 1
    assert at.selectbox(key="evaluate_model_select").value == digits_run.run_id


def test_choosing_a_cell_fills_the_gallery_with_exactly_its_images(digits_run):
    at = open_page("evaluate", [digits_run])
    cm = at.session_state["evaluation_cache"][(id(digits_run.model), "digits")].cm
    off = cm.copy()
    np.fill_diagonal(off, 0)
    truth, pred = np.unravel_index(np.argmax(off), off.shape)
    at.selectbox(key="cell_truth").select(int(truth)).run()
    at.selectbox(key="cell_pred").select(int(pred)).run()
    assert gallery_title(at) == f"**Truth {truth}, predicted {pred}** — {cm[truth, pred]} images"
    # The gallery is one grid of the cell's images (at most a page of them).
    assert any(len(grid.captions) == min(int(cm[truth, pred]), 24) for grid in at.image)


def test_a_click_on_the_matrix_selects_its_cell(digits_run):
    at = open_page("evaluate", [digits_run])
    # What st.plotly_chart(on_select="rerun") hands the page after a click on a cell.
    at.session_state["confusion_matrix"] = {"selection": {"points": [{"customdata": [3, 8]}],
                                                          "point_indices": [38], "box": [], "lasso": []}}
    at.run()
    assert not at.exception
    assert at.selectbox(key="cell_truth").value == 3 and at.selectbox(key="cell_pred").value == 8
    assert gallery_title(at).startswith("**Truth 3, predicted 8**")


def test_the_mistakes_tab_shows_the_mistakes_most_confident_first(digits_run):
    at = open_page("evaluate", [digits_run])
    result = at.session_state["evaluation_cache"][(id(digits_run.model), "digits")]
    tab = open_tab(at, EVALUATE_TABS, "All mistakes")
    title = next(m.value for m in tab.markdown if m.value.startswith("**Misclassified"))
    assert title.endswith(f"— {result.n_wrong:,} images")
    shown = rank_mistakes(result)[:24]  # the first page
    expected = [caption_prediction(str(result.y_pred[i]), float(result.confidence[i]), str(result.y_true[i]))
                for i in shown]
    assert tab.image[0].captions == expected  # the grid (the next image is the one looked at closer)
    assert all(result.y_pred[i] != result.y_true[i] for i in shown)


NAMES = [str(c) for c in range(10)]


def with_history(run, epochs: int = 4):
    """The run with a made-up learning history of its validation split: more right each epoch."""
    spec = run.spec
    y = load_dataset(spec.dataset, spec.validation_fraction, spec.train_limit, spec.seed).y_val
    rng = np.random.default_rng(0)
    preds = np.stack([np.where(rng.random(len(y)) < 0.4 + 0.15 * e, y, rng.integers(0, 10, len(y)))
                      for e in range(epochs)])
    return replace(run, run_id=run.run_id + 1, name="With history", epoch_predictions=EpochRecord(preds, y))


def test_the_learning_history_tab(digits_run):
    run = with_history(digits_run)
    record, prefix = run.epoch_predictions, f"eval_history_{run.run_id}"
    at = open_page("evaluate", [run])
    assert not at.exception
    assert not at.get("plotly_chart") or all(f"{prefix}_matrix" not in c.proto.id for c in at.get("plotly_chart"))
    tab = open_tab(at, EVALUATE_TABS, "Learning history")  # made only once opened
    chart = next(c for c in tab.get("plotly_chart") if f"{prefix}_matrix" in c.proto.id)
    assert [f["name"] for f in json.loads(chart.proto.spec)["frames"]] == ["1", "2", "3", "4"]
    titles = [m.value for m in tab.markdown]
    assert f"**Most changes first** — {len(rank_changed_mind(record.preds, record.y)):,} validation images" in titles
    late = rank_learned_last(record.preds, record.y)
    assert any(t.startswith("**Learned latest first") and t.endswith(f"— {len(late):,} validation images")
               for t in titles)
    assert len(tab.image) >= 3  # the galleries: of the chosen cell, changed most often, learned last

    at.session_state[f"{prefix}_matrix"] = {"selection": {"points": [{"customdata": [3, 8, 2]}],
                                                          "point_indices": [0], "box": [], "lasso": []}}
    at.run()
    assert not at.exception
    expected = select_cell_at(record.preds, record.y, 2, 3, 8)
    tab = next(t for t in at.tabs if t.label == "Learning history")
    assert any(m.value == f"**Truth 3, predicted 8 after epoch 2** — {len(expected):,} validation image"
               + ("" if len(expected) == 1 else "s") for m in tab.markdown)
    # The title names the cell: each caption says only what differs, the image's answers over the epochs.
    grid = next(g for g in tab.image if g.captions and g.captions[0].startswith("Over the epochs: "))
    assert grid.captions == [f"Over the epochs: {caption_changes(record.preds[:, i], NAMES)}" for i in expected[:24]]


def test_a_run_without_history_says_so(digits_run):
    at = open_page("evaluate", [digits_run])
    tab = open_tab(at, EVALUATE_TABS, "Learning history")
    assert [i.value for i in tab.info] == [
        "This run has no learning history (uploaded models and the bundled model carry none)."]


def test_a_bad_upload_is_refused_and_the_model_stays(digits_run):
    at = open_page("evaluate", [digits_run])
    at.file_uploader(key="evaluate_upload").upload("junk.keras", b"\x00\x01 not a model").run()
    assert not at.exception
    assert any(plain("Could not use junk.keras") in e.value for e in at.error)  # shown as plain text
    assert at.selectbox(key="evaluate_model_select").value == digits_run.run_id
    assert any(m.label == METRIC_WORDS["test_accuracy"].label for m in at.metric)


def test_a_downloaded_run_uploads_again_with_its_dataset(digits_run):
    data = write_model_file(digits_run.model, digits_run.metadata())
    assert "digitlab.json" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    at = open_page("evaluate", [digits_run])
    at.file_uploader(key="evaluate_upload").upload("run.keras", data).run()
    assert not at.exception and not at.error
    picked = at.session_state["picked_model"]
    uploaded = next(r for r in at.session_state["runs"] if r.run_id == picked)
    assert uploaded.source == "uploaded" and uploaded.dataset == "digits"
    assert uploaded.name == f"Uploaded · {digits_run.name}"


def test_the_bundled_model_offline_is_evaluated_on_the_whole_test_set_of_the_shipped_sample(mnist_sample):
    # A fresh machine: no internet (the download fails), no DIGITLAB_DATA_DIR, an empty Keras cache.
    assert not (Path(os.environ["KERAS_HOME"]) / "datasets" / "mnist.npz").exists()
    at = open_page("evaluate", timeout=120)
    assert not at.exception and not at.error
    captions = [c.value for c in at.caption]
    assert any("the 10,000 images of the MNIST test set" in c for c in captions), captions
    written = [m.value for m in at.markdown]  # the source sentence is full-colour text (it may hold a link)
    assert any("the sample that ships with the app, 10,000 test images" in c and "could not be downloaded" in c
               for c in written), written
    accuracy = float(next(m for m in at.metric if m.label == METRIC_WORDS["test_accuracy"].label).value.rstrip("%"))
    assert accuracy >= 99.0
    correct, wrong = (int(n.replace(",", "")) for n in re.findall(r"\*\*([\d,]+)\*\*", next(
        m.value for m in at.markdown if " read right, " in m.value)))
    assert correct + wrong == 10_000


def hostile_files(tmp_path) -> dict[str, bytes]:
    """Uploads a public app must refuse: each with a clear message."""
    import h5py

    from tests.core.model.test_files import build_lambda_model, build_tiny_model, save_to_bytes, zip_bytes

    good = save_to_bytes(build_tiny_model(), tmp_path, "good.keras")
    with h5py.File(tmp_path / "model.h5", "w") as f:
        f.create_dataset("weights", data=np.zeros(3))
    return {
        "empty.keras": b"",
        "random.keras": np.random.default_rng(0).bytes(5000),
        "model.h5.keras": (tmp_path / "model.h5").read_bytes(),
        "truncated.keras": good[: len(good) // 2],
        "junk-zip.keras": zip_bytes({"readme.txt": b"hello", "data.bin": b"\x00" * 100}),
        "lambda.keras": save_to_bytes(build_lambda_model(), tmp_path, "lambda.keras"),
        "wrong-shape.keras": save_to_bytes(build_tiny_model(16, 16), tmp_path, "wrong.keras"),
        "logits.keras": save_to_bytes(build_tiny_model(activation=None), tmp_path, "logits.keras"),
        "huge.keras": b"PK\x03\x04" + b"\x00" * (21 * 1024 * 1024),
    }


def test_hostile_uploads_are_refused_and_nothing_is_lost(digits_run, tmp_path, monkeypatch):
    marker = tmp_path / "code_ran.marker"
    files = hostile_files(tmp_path)
    monkeypatch.setenv("DIGITLAB_TEST_MARKER", str(marker))  # the Lambda would write it
    at = open_page("evaluate", [digits_run])
    for name, data in files.items():
        at.file_uploader(key="evaluate_upload").upload(name, data).run()
        assert not at.exception, name
        errors = [e.value for e in at.error]
        assert any(e.startswith(plain(f"Could not use {name}: ")) for e in errors), (name, errors)
        assert at.selectbox(key="evaluate_model_select").value == digits_run.run_id, name
        assert any(m.label == METRIC_WORDS["test_accuracy"].label for m in at.metric), name
    assert not marker.exists()  # no code from any file ever ran
    assert [r.run_id for r in at.session_state["runs"]] == [digits_run.run_id]


def test_evaluate_says_its_metrics_in_words_and_opens_with_the_biggest_mix_ups(digits_run):
    """Issue 22 item 6: each metric's meaning in a line; the most confused pairs on top, each opening its cell."""
    from core.analysis.evaluation import most_confused_pairs, summarize_predictions
    from core.words import EVALUATE_WORDS

    at = open_page("evaluate", [digits_run])
    assert not at.exception
    x, y = load_test_set("digits")
    result = summarize_predictions(y, digits_run.model.predict(to_model_input(x, get_info("digits")), verbose=0))
    captions = [c.value for c in at.caption]
    for key in ("test_accuracy", "test_loss"):
        assert any(m.label == METRIC_WORDS[key].label and m.help == METRIC_WORDS[key].help for m in at.metric)
        assert METRIC_WORDS[key].help in captions  # seen without hovering
    pairs = most_confused_pairs(result.cm, 3)
    (truth, predicted, count), (t2, p2, c2) = pairs[0], pairs[1]
    times = "once" if count == 1 else f"{count} times"
    assert any(m.value.startswith(f"**It mixes up {truth} and {predicted} most:** it read a {truth} as {predicted} "
                                  f"{times}.") for m in at.markdown)
    assert any(f"Counts of the {len(y):,} test images" in c for c in captions)
    # The second pair's button opens its cell: the chosen boxes and the gallery follow.
    next(b for b in at.button if b.label == f"{t2} read as {p2} ({c2}×)").click().run()
    assert not at.exception
    assert (at.selectbox(key="cell_truth").value, at.selectbox(key="cell_pred").value) == (t2, p2)
    assert at.selectbox(key="cell_truth").label == EVALUATE_WORDS["truth"].label
    assert any(m.value.startswith(f"**Truth {t2}, predicted {p2}** — {c2} image") for m in at.markdown)


def test_a_cells_images_are_captioned_by_how_sure_it_was_not_by_the_same_words_each(digits_run):
    """Issue 22, item 8: the cell's title says truth and answer once; each image says only its confidence."""
    from core.analysis.evaluation import select_cell, summarize_predictions

    at = open_page("evaluate", [digits_run])
    x, y = load_test_set("digits")
    result = summarize_predictions(y, digits_run.model.predict(to_model_input(x, get_info("digits")), verbose=0))
    truth, pred = at.selectbox(key="cell_truth").value, at.selectbox(key="cell_pred").value
    shown = select_cell(result, truth, pred)[:24]
    tab = next(t for t in at.tabs if t.label == "Confusion matrix")
    assert tab.image[0].captions == [f"{result.confidence[i]:.0%} sure" for i in shown]

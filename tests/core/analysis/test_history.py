"""Tests for core.analysis.history (the per-epoch validation record), its recorder and its figures."""

import json
import threading

import keras
import numpy as np
import plotly.graph_objects as go
import pytest

from core.analysis.history import (
    NEVER_LEARNED,
    EpochRecord,
    confusion_per_epoch,
    count_changes,
    learned_after,
    pack_epoch_record,
    pack_record,
    rank_changed_mind,
    rank_learned_last,
    select_cell_at,
    unpack_epoch_record,
    unpack_record,
)
from core.data.datasets import load_dataset, to_model_input
from core.figures.confusion import CELLS_TRACE, CORRECT_TRACE, ERRORS_TRACE, confusion_cells, plot_confusion_matrix
from core.figures.epochs import (
    caption_changes,
    caption_prediction_strip,
    draw_prediction_strip,
    hex_to_rgb,
    plot_confusion_over_epochs,
    read_selected_cell_at,
)
from core.figures.images import add_strip
from core.figures.style import DIAGONAL_COLOR, HIGHLIGHT_COLOR, SEQUENTIAL_SCALE
from core.model.network import build_model
from core.model.spec import NetworkSpec, TrainSpec
from core.training.callbacks import ValidationRecorder

# --- A hand-made record: 4 epochs, 6 images, every answer known --------------------------------

Y = np.array([1, 2, 0, 3, 1, 2])
PREDS = np.array([
    # img: 0  1  2  3  4  5
    [1, 0, 0, 2, 3, 2],  # epoch 1
    [1, 2, 1, 2, 1, 0],  # epoch 2
    [1, 2, 0, 3, 3, 2],  # epoch 3
    [1, 2, 0, 3, 1, 1],  # epoch 4
], dtype=np.uint8)
# changes:       0  1  2  1  3  3
# learned_after: 0  1  2  2  3 -1


def test_count_changes():
    assert count_changes(PREDS).tolist() == [0, 1, 2, 1, 3, 3]
    assert count_changes(PREDS[:1]).tolist() == [0] * 6  # one epoch: nothing can change


def test_learned_after():
    assert learned_after(PREDS, Y).tolist() == [0, 1, 2, 2, 3, NEVER_LEARNED]
    assert learned_after(PREDS[:1], Y).tolist() == [0, NEVER_LEARNED, 0, NEVER_LEARNED, NEVER_LEARNED, 0]
    assert learned_after(PREDS[:0], Y).tolist() == [NEVER_LEARNED] * 6  # no epoch yet


def test_rank_changed_mind_most_changes_first_ties_by_index():
    assert rank_changed_mind(PREDS, Y).tolist() == [4, 5, 2, 1, 3]  # image 0 never changed: left out


def test_rank_learned_last_latest_first_ties_by_index():
    # 4 (after 3), then 2 and 3 (after 2, index order), then 1; 0 (right from the start) and 5 (never) left out
    assert rank_learned_last(PREDS, Y).tolist() == [4, 2, 3, 1]


def test_analysis_refuses_mismatched_shapes():
    with pytest.raises(ValueError):
        learned_after(PREDS, Y[:5])
    with pytest.raises(ValueError):
        count_changes(PREDS[0])
    with pytest.raises(ValueError):
        confusion_per_epoch(PREDS, Y, num_classes=3)  # class 3 exists


def test_confusion_per_epoch():
    cms = confusion_per_epoch(PREDS, Y, num_classes=4)
    assert cms.shape == (4, 4, 4)
    assert (cms.sum(axis=(1, 2)) == 6).all()  # every image once per epoch
    assert (cms.sum(axis=2) == np.bincount(Y, minlength=4)).all()  # rows = truth
    for e in range(4):
        assert (cms[e].sum(axis=0) == np.bincount(PREDS[e], minlength=4)).all()  # cols = predicted
        assert np.trace(cms[e]) == np.count_nonzero(PREDS[e] == Y)
    assert cms[0, 2, 0] == 1 and cms[0, 1, 3] == 1  # epoch 1: image 1 (2 -> 0), image 4 (1 -> 3)


def test_select_cell_at_is_the_cell_of_that_epoch():
    cms = confusion_per_epoch(PREDS, Y, num_classes=4)
    assert select_cell_at(PREDS, Y, 1, truth=2, predicted=2).tolist() == [5]
    assert select_cell_at(PREDS, Y, 2, truth=2, predicted=0).tolist() == [5]
    assert select_cell_at(PREDS, Y, 4, truth=1, predicted=1).tolist() == [0, 4]
    for e in range(1, 5):
        for t in range(4):
            for p in range(4):
                assert len(select_cell_at(PREDS, Y, e, t, p)) == cms[e - 1, t, p]
    with pytest.raises(ValueError):
        select_cell_at(PREDS, Y, 0, 1, 1)  # epochs are 1-based
    with pytest.raises(ValueError):
        select_cell_at(PREDS, Y, 5, 1, 1)


def test_pack_unpack_round_trip():
    record = np.random.default_rng(0).integers(0, 10, size=(7, 500)).astype(np.uint8)
    back = unpack_record(pack_record(record))
    assert back.dtype == np.uint8 and (back == record).all()
    assert unpack_record(pack_record(PREDS[:0])).shape == (0, 6)


def test_unpack_refuses_garbage():
    import io

    good = pack_record(PREDS)
    npy = io.BytesIO()
    np.save(npy, PREDS)
    other_name = io.BytesIO()
    np.savez(other_name, something=PREDS)
    wrong_dtype = io.BytesIO()
    np.savez(wrong_dtype, preds=PREDS.astype(np.int64))
    for garbage in (b"", b"not a record", good[: len(good) // 2], good[:40] + bytes(30) + good[70:],
                    npy.getvalue(), other_name.getvalue(), wrong_dtype.getvalue()):
        with pytest.raises(ValueError):
            unpack_record(garbage)


def test_a_runs_record_keeps_its_labels():
    record = EpochRecord(PREDS, Y)
    assert record.epochs == 4 and record.preds.dtype == np.uint8 and record.y.dtype == np.int64
    back = unpack_epoch_record(pack_epoch_record(record))
    assert (back.preds == PREDS).all() and (back.y == Y).all()
    assert (unpack_record(pack_epoch_record(record)) == PREDS).all()
    with pytest.raises(ValueError, match="no labels"):
        unpack_epoch_record(pack_record(PREDS))
    import io

    wrong_length = io.BytesIO()
    np.savez(wrong_length, preds=PREDS, y=Y[:3].astype(np.uint8))
    with pytest.raises(ValueError):
        unpack_epoch_record(wrong_length.getvalue())
    with pytest.raises(ValueError):
        EpochRecord(PREDS, Y[:3])


def test_pack_refuses_what_uint8_cannot_hold():
    with pytest.raises(ValueError):
        pack_record(np.array([[0, 300]]))


# --- The recorder inside a real fit -----------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    """Digits as model input: (x_train, y_train, x_val, y_val)."""
    data = load_dataset("digits", validation_fraction=0.2, seed=0)
    return (to_model_input(data.x_train, data.info), data.y_train,
            to_model_input(data.x_val, data.info), data.y_val)


def small_model(l2: float = 0.0, dropout: float = 0.0, seed: int = 0) -> keras.Model:
    spec = TrainSpec(dataset="digits", network=NetworkSpec(hidden_layers=(24,), l2=l2, dropout=dropout),
                     optimizer="adam", learning_rate=0.01, batch_size=64, seed=seed)
    return build_model(spec)


class Checker(keras.callbacks.Callback):
    """Placed after the recorder: what Keras itself says at each epoch end, and the logs it sees."""

    def __init__(self, x_val, y_val):
        super().__init__()
        self.x_val, self.y_val = x_val, y_val
        self.predicted, self.evaluated, self.logs, self.weights = [], [], [], []

    def on_epoch_end(self, epoch, logs=None):
        self.predicted.append(self.model.predict(self.x_val, verbose=0).argmax(axis=1))
        self.evaluated.append(self.model.evaluate(self.x_val, self.y_val, verbose=0, return_dict=True))
        self.logs.append(dict(logs))
        self.weights.append(self.model.get_weights())


@pytest.mark.parametrize("l2, dropout", [(0.0, 0.0), (1e-3, 0.3)])
def test_recorder_matches_predict_and_evaluate(digits, l2, dropout):
    x_train, y_train, x_val, y_val = digits
    model = small_model(l2, dropout)
    recorder = ValidationRecorder(x_val, y_val, batch_size=100)  # 360 images: a short last chunk
    checker = Checker(x_val, y_val)
    fit = model.fit(x_train, y_train, epochs=3, batch_size=64, verbose=0, callbacks=[recorder, checker])

    record = recorder.read()
    assert record.shape == (3, len(y_val)) and record.dtype == np.uint8
    for e in range(3):
        assert (record[e] == checker.predicted[e]).all()
        logs, keras_says = checker.logs[e], checker.evaluated[e]
        assert logs["val_loss"] == pytest.approx(keras_says["loss"], rel=1e-5, abs=1e-6)
        assert logs["val_accuracy"] == pytest.approx(keras_says["accuracy"], abs=1e-6)
    if l2:  # the regularization term is really in there, and not small
        assert sum(float(w) for w in model.losses) > 0.01
    assert fit.history["val_loss"] == [logs["val_loss"] for logs in checker.logs]
    assert fit.history["val_accuracy"] == [logs["val_accuracy"] for logs in checker.logs]


def test_recorder_loss_equals_fit_with_validation_data(digits):
    x_train, y_train, x_val, y_val = digits
    theirs = small_model(l2=1e-3).fit(x_train, y_train, epochs=2, batch_size=64, verbose=0, shuffle=False,
                                      validation_data=(x_val, y_val)).history
    ours = small_model(l2=1e-3).fit(x_train, y_train, epochs=2, batch_size=64, verbose=0, shuffle=False,
                                    callbacks=[ValidationRecorder(x_val, y_val)]).history
    assert ours["val_loss"] == pytest.approx(theirs["val_loss"], rel=1e-4)
    assert ours["val_accuracy"] == pytest.approx(theirs["val_accuracy"], abs=1e-6)


def test_early_stopping_restores_best_weights_on_recorder_val_loss(digits):
    x_train, y_train, x_val, y_val = digits
    model = small_model()
    recorder, checker = ValidationRecorder(x_val, y_val), Checker(x_val, y_val)
    # min_delta so large that no epoch after the first counts as better: stops after epoch 2, restores 1.
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=100.0,
                                            restore_best_weights=True)
    fit = model.fit(x_train, y_train, epochs=10, batch_size=64, verbose=0,
                    callbacks=[recorder, checker, stopper])
    assert len(fit.history["val_loss"]) == 2 and stopper.stopped_epoch == 1
    assert stopper.best == fit.history["val_loss"][0]
    for restored, best in zip(model.get_weights(), checker.weights[0]):
        assert np.array_equal(restored, best)
    record = recorder.read()
    assert record.shape[0] == 2
    assert (model.predict(x_val, verbose=0).argmax(axis=1) == record[0]).all()  # the restored epoch's row


def test_early_stopping_before_the_recorder_sees_no_val_loss(digits):
    """The ordering requirement: after the recorder, or EarlyStopping never sees val_loss."""
    x_train, y_train, x_val, y_val = digits
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=0, min_delta=100.0)
    with pytest.warns(UserWarning, match="val_loss"):
        small_model().fit(x_train[:128], y_train[:128], epochs=3, verbose=0,
                          callbacks=[stopper, ValidationRecorder(x_val, y_val)])
    assert stopper.stopped_epoch == 0  # never stopped


def test_read_is_a_copy_safe_from_another_thread(digits):
    x_train, y_train, x_val, y_val = digits
    recorder = ValidationRecorder(x_val, y_val)
    assert recorder.read().shape == (0, len(y_val))
    seen, done = [], threading.Event()

    def poll():  # a reader racing the training; it ends when the fit does (the finally below sets `done`)
        while not done.wait(0.001):
            seen.append(recorder.read().shape[0])

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        small_model().fit(x_train, y_train, epochs=3, verbose=0, callbacks=[recorder])
    finally:
        done.set()
        poller.join()
    assert seen == sorted(seen) and set(seen) <= {0, 1, 2, 3}
    first = recorder.read()
    first[:] = 99
    assert (recorder.read() != 99).any()


def test_recorder_drives_with_scripted_logs():
    """Hooks called by hand, as Keras would: logs get the val_ keys, the record a row per call."""
    model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).random((5, 2, 2, 1), dtype=np.float32)
    y = np.array([0, 1, 2, 1, 0])
    recorder = ValidationRecorder(x, y, batch_size=2)
    recorder.set_model(model)
    recorder.on_train_begin()
    logs = {"loss": 1.0, "accuracy": 0.5}
    recorder.on_epoch_end(0, logs)
    probs = model.predict(x, verbose=0)
    assert recorder.read().tolist() == [probs.argmax(axis=1).tolist()]
    assert logs["val_accuracy"] == pytest.approx(np.mean(probs.argmax(axis=1) == y))
    assert logs["val_loss"] == pytest.approx(-np.log(probs[np.arange(5), y]).mean(), rel=1e-5)
    recorder.on_epoch_end(1, None)  # no logs: still recorded
    assert recorder.read().shape == (2, 5)


def test_recorder_refuses_an_empty_validation_set():
    with pytest.raises(ValueError):
        ValidationRecorder(np.zeros((0, 8, 8, 1), np.float32), np.zeros(0))
    with pytest.raises(ValueError):
        ValidationRecorder(np.zeros((3, 8, 8, 1), np.float32), np.zeros(2))


# --- Figures ----------------------------------------------------------------------------------

NAMES4 = ["zero", "one", "two", "three"]


def checked_frames(fig):
    """The figure's frames, validated by plotly (the figure keeps them as unvalidated dicts)."""
    return go.Figure(json.loads(fig.to_json())).frames


def test_confusion_over_epochs_has_a_frame_and_a_slider_step_per_epoch():

    cms = confusion_per_epoch(PREDS, Y, num_classes=4)
    fig = plot_confusion_over_epochs(cms, NAMES4)
    assert [f.name for f in checked_frames(fig)] == ["1", "2", "3", "4"]
    (slider,) = fig.layout.sliders
    assert [s.label for s in slider.steps] == ["1", "2", "3", "4"]
    assert all(s.method == "animate" and list(s.args[0]) == [s.label] for s in slider.steps)
    assert slider.active == 3  # opens at the last epoch
    (menu,) = fig.layout.updatemenus
    play, pause = menu.buttons
    assert play.method == "animate" and play.args[0] is None  # all frames, from epoch 1
    assert play.args[1]["frame"]["duration"] > 0 and not play.args[1]["fromcurrent"]
    assert pause.method == "animate" and list(pause.args[0]) == [None]


def test_every_frame_carries_its_epoch_counts_and_clickable_cells():

    cms = confusion_per_epoch(PREDS, Y, num_classes=4)
    fig = plot_confusion_over_epochs(cms, NAMES4)
    names = [t.name for t in fig.data]
    frames = checked_frames(fig)
    for e, frame in enumerate(frames, start=1):
        assert list(frame.traces) == [0, 1, 2]
        traces = dict(zip(names, frame.data))
        customdata = [list(c) for c in traces[CELLS_TRACE].customdata]
        assert customdata == [[t, p, e] for t in range(4) for p in range(4)]
        assert all(text.startswith(f"Epoch {e}<br>") for text in traces[CELLS_TRACE].hovertext)
        # The same cells as the Evaluate matrix of that epoch's counts.
        evaluate = {t.name: t for t in plot_confusion_matrix(cms[e - 1], NAMES4, normalize=False).data}
        for name in (ERRORS_TRACE, CORRECT_TRACE):
            assert [list(r) for r in traces[name].z] == [list(r) for r in evaluate[name].z]
            assert [list(r) for r in traces[name].text] == [list(r) for r in evaluate[name].text]
        assert [h.removeprefix(f"Epoch {e}<br>") for h in traces[CELLS_TRACE].hovertext] == \
            list(evaluate[CELLS_TRACE].hovertext)
    # The figure's own data is the frame it opens at (the last), customdata included.
    shown = {t.name: t for t in fig.data}
    assert [list(c) for c in shown[CELLS_TRACE].customdata] == [list(c) for c in frames[-1].data[2].customdata]
    # Plain JSON lists, not typed arrays: a click must read back [truth, predicted, epoch].
    frame_json = json.loads(fig.to_json())["frames"][1]["data"][2]["customdata"]
    assert frame_json[:2] == [[0, 0, 2], [0, 1, 2]]


def test_confusion_cells_serve_both_matrices():
    cm = confusion_per_epoch(PREDS, Y, num_classes=4)[1]
    plain, at_epoch = confusion_cells(cm, NAMES4), confusion_cells(cm, NAMES4, epoch=2)
    assert plain[CELLS_TRACE]["customdata"][:2] == [[0, 0], [0, 1]]
    assert at_epoch[CELLS_TRACE]["customdata"][:2] == [[0, 0, 2], [0, 1, 2]]
    hover = [h.removeprefix("Epoch 2<br>") for h in at_epoch[CELLS_TRACE]["hovertext"]]
    assert hover == plain[CELLS_TRACE]["hovertext"]
    evaluate = {t.name: t for t in plot_confusion_matrix(cm, NAMES4, normalize=True).data}
    rates = confusion_cells(cm, NAMES4, normalize=True)
    for name in (ERRORS_TRACE, CORRECT_TRACE):
        assert [list(r) for r in evaluate[name].text] == rates[name]["text"]
    assert plain[CORRECT_TRACE]["z"][1][1] == cm[1, 1] and plain[ERRORS_TRACE]["z"][1][1] is None


def test_confusion_over_epochs_look_and_colour_scale():

    cms = confusion_per_epoch(PREDS, Y, num_classes=4)
    fig = plot_confusion_over_epochs(cms, NAMES4)
    errors = next(t for t in fig.data if t.name == ERRORS_TRACE)
    off_diagonal = cms * (1 - np.eye(4, dtype=int))
    assert errors.zmax == off_diagonal.max()  # one scale for all epochs
    assert [list(c) for c in errors.colorscale] == [list(c) for c in SEQUENTIAL_SCALE]
    perfect = plot_confusion_over_epochs(np.stack([np.eye(3, dtype=int) * 5] * 2), ["a", "b", "c"])
    assert next(t for t in perfect.data if t.name == ERRORS_TRACE).zmax == 1.0


def test_selected_outlines_the_cell_and_opens_at_its_epoch():

    cms = confusion_per_epoch(PREDS, Y, num_classes=4)
    fig = plot_confusion_over_epochs(cms, NAMES4, selected=(2, 0, 2))
    assert fig.layout.sliders[0].active == 1
    assert fig.data[2].customdata[0][2] == 2
    (outline,) = fig.layout.shapes
    assert (outline.x0, outline.x1, outline.y0, outline.y1) == (-0.5, 0.5, 1.5, 2.5)
    assert plot_confusion_over_epochs(cms, NAMES4, selected=(2, 0), epoch=9).layout.sliders[0].active == 3
    with pytest.raises(ValueError):
        plot_confusion_over_epochs(cms[:0], NAMES4)


def test_read_selected_cell_at():

    def event(*points):
        return {"selection": {"points": list(points), "point_indices": [], "box": [], "lasso": []}}

    assert read_selected_cell_at(event({"customdata": [3, 5, 7]})) == (3, 5, 7)
    assert read_selected_cell_at(event({"customdata": {"0": 3, "1": 5, "2": 7}})) == (3, 5, 7)
    assert read_selected_cell_at(event({"customdata": [3, 5]})) is None  # the Evaluate matrix's cells
    assert read_selected_cell_at(event({"customdata": ["a", 5, 1]}, {"customdata": [1, 2, 3]})) == (1, 2, 3)
    assert read_selected_cell_at(event()) is None
    assert read_selected_cell_at(None) is None and read_selected_cell_at({"selection": None}) is None


def test_prediction_strip():

    answers = PREDS[:, 5]  # truth 2: 2 0 2 1
    assert caption_prediction_strip(answers, NAMES4) == "two zero two one"
    assert caption_changes(np.array([3, 3, 1, 1, 3]), NAMES4) == "three→one→three"
    assert caption_changes(np.arange(12) % 2, NAMES4, most=5) == "zero→one→…→zero→one"

    image = draw_prediction_strip(answers, 2, width=40, height=6)
    assert image.shape == (6, 40, 3) and image.dtype == np.uint8
    grey, vermillion = hex_to_rgb(DIAGONAL_COLOR), hex_to_rgb(HIGHLIGHT_COLOR)
    assert tuple(image[0, 5]) == grey and tuple(image[0, 15]) == vermillion
    assert tuple(image[0, 25]) == grey and tuple(image[0, 35]) == vermillion
    assert tuple(image[0, 10]) == (255, 255, 255)  # the gap between epochs 1 and 2
    assert draw_prediction_strip(answers[:0], 2).shape == (8, 84, 3)
    with pytest.raises(ValueError):
        draw_prediction_strip(PREDS, 2)
    thumbnail = add_strip(np.zeros((40, 40), np.uint8), image[:, :40])
    assert thumbnail.shape == (40 + 3 + 6, 40, 3) and tuple(thumbnail[41, 0]) == (255, 255, 255)

import numpy as np
import pytest

from core.data.drawing import preprocess_drawing
from core.data.handwriting import keep_drawing
from core.model.spec import NetworkSpec, TrainSpec
from core.training.fine_tune import (
    DEFAULTS,
    FineTuneJob,
    FineTuneResult,
    FineTuneSettings,
    can_fine_tune,
    copy_model,
    fine_tune_name,
    pick_replay,
    replay_mix,
    split_held_out,
)
from core.training.local import collect_run
from core.training.queue import TrainingSlots
from tests.harness.drawings import make_drawings, make_styled_drawings, render_drawing
from tests.harness.polling import poll_until, wait_for_job

TINY = TrainSpec(dataset="mnist", network=NetworkSpec(hidden_layers=(32,)), optimizer="adam",
                 learning_rate=3e-3, batch_size=32, epochs=10, seed=0)


# -- the held-out split ------------------------------------------------------------------------

def test_split_is_stratified_disjoint_and_seeded():
    labels = np.repeat(np.arange(10), 10)
    teach, held = split_held_out(labels, 0.2, seed=3)
    assert len(held) == 20 and np.bincount(labels[held], minlength=10).tolist() == [2] * 10
    assert sorted(np.r_[teach, held].tolist()) == list(range(100))
    assert np.array_equal(held, split_held_out(labels, 0.2, seed=3)[1])
    assert not np.array_equal(held, split_held_out(labels, 0.2, seed=4)[1])


def test_split_keeps_a_digit_of_each_class_to_teach_where_it_can():
    labels = np.array([0] * 9 + [1])  # the lone 1 stays to teach; both held out are 0s
    teach, held = split_held_out(labels, 0.2)
    assert labels[held].tolist() == [0, 0] and 9 in teach
    labels = np.array([0] * 5 + [1] * 5 + [2] * 10)  # in proportion: one 0, one 1, two 2s
    assert sorted(labels[split_held_out(labels, 0.2)[1]].tolist()) == [0, 1, 2, 2]


def test_split_of_ten_single_digits_still_holds_some_out():
    teach, held = split_held_out(np.arange(10), 0.2)
    assert len(held) == 2 and len(teach) == 8
    assert split_held_out(np.array([4, 5]), 0.2)[1].size == 1
    assert split_held_out(np.array([4]), 0.2)[1].size == 0


# -- the replay mix ----------------------------------------------------------------------------

def test_replay_is_balanced_per_class_even_from_skewed_data():
    y_train = np.r_[np.zeros(1000), np.ones(500), np.full(3, 2), np.arange(3, 10).repeat(40)].astype(np.uint8)
    picks = pick_replay(y_train, 148, seed=0)
    counts = np.bincount(y_train[picks], minlength=10)
    assert counts.sum() == 148 and counts.min() == 14 and counts.max() == 15
    assert len(set(picks[y_train[picks] == 0])) == counts[0]  # drawn without repeats where it can
    assert len(set(picks[y_train[picks] == 2])) == 3  # a class of 3 images repeats them


def test_replay_mix_proportions_scale_and_shuffle():
    rng = np.random.default_rng(0)
    x_mine = np.full((37, 28, 28), 0.5, np.float32)  # yours are marked by 0.5
    y_mine = rng.integers(0, 10, 37).astype(np.uint8)
    x_train = np.full((2000, 28, 28), 255, np.uint8)  # replayed ones become 1.0
    y_train = np.arange(2000) % 10
    x, y = replay_mix(x_mine, y_mine, x_train, y_train, value_max=255, replay_per_mine=4, seed=1)
    assert x.shape == (185, 28, 28, 1) and x.dtype == np.float32 and y.dtype == np.uint8
    mine = x[:, 0, 0, 0] == 0.5
    assert mine.sum() == 37 and (x[~mine] == 1.0).all()  # a fifth is yours
    assert sorted(y[mine].tolist()) == sorted(y_mine.tolist())
    replay_counts = np.bincount(y[~mine], minlength=10)
    assert replay_counts.sum() == 148 and replay_counts.max() - replay_counts.min() <= 1
    assert not mine[:37].all()  # shuffled, not yours first
    again = replay_mix(x_mine, y_mine, x_train, y_train, value_max=255, replay_per_mine=4, seed=1)
    assert np.array_equal(y, again[1])


def test_replay_mix_scales_digits_images_by_their_maximum():
    x, y = replay_mix(np.zeros((2, 8, 8), np.float32), np.array([1, 2]), np.full((20, 8, 8), 16, np.uint8),
                      np.arange(20) % 10, value_max=16, replay_per_mine=2)
    assert x.shape == (6, 8, 8, 1) and sorted(np.unique(x).tolist()) == [0.0, 1.0]


# -- when fine-tuning is offered ---------------------------------------------------------------

def test_can_fine_tune_says_why_not():
    ten = np.arange(10)
    assert can_fine_tune("mnist", ten) is None
    assert "28x28" in can_fine_tune("digits", ten)
    assert "reads digits" in can_fine_tune("fashion_mnist", ten) and "Fashion-MNIST" in can_fine_tune(
        "fashion_mnist", ten)
    assert "unknown" in can_fine_tune("nope", ten)
    assert can_fine_tune("mnist", np.arange(9)) == "Add at least 10 digits to fine-tune on (you have 9)."
    assert can_fine_tune("mnist", np.full(12, 3)) == (
        "All your digits are 3s: add digits of at least one other class.")
    assert "at least 10" in can_fine_tune("mnist", np.zeros(0, np.uint8))


def test_result_reports_forgetting_in_points():
    result = FineTuneResult(0.5, 0.9, 0.99, 0.965, n_teach=8, n_held=2, n_replay=32)
    assert result.forgetting_points == pytest.approx(2.5) and result.forgot_too_much
    assert not FineTuneResult(0.5, 0.9, 0.99, 0.98, 8, 2, 32).forgot_too_much
    assert fine_tune_name("Run 3", 40) == "Run 3 fine-tuned on my 40 digits"


# -- copying a model ---------------------------------------------------------------------------

def test_copy_model_freezes_batch_norm_and_never_touches_the_source():
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x))
    source = keras.Model(inputs, outputs)
    before = [w.copy() for w in source.get_weights()]
    copy = copy_model(source)
    assert copy is not source and not copy.get_layer("bn").trainable and source.get_layer("bn").trainable
    assert all(np.array_equal(a, b) for a, b in zip(before, copy.get_weights()))
    moving = [w.numpy().copy() for w in copy.get_layer("bn").non_trainable_weights]
    rng = np.random.default_rng(0)
    copy.fit(rng.random((64, 8, 8, 1)) * 5, rng.integers(0, 10, 64), epochs=2, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, source.get_weights()))  # the source is untouched
    assert not np.array_equal(copy.get_layer("conv").kernel.numpy(), before[0])  # the copy learnt
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(moving, copy.get_layer("bn").non_trainable_weights))


# -- a fine-tuning job on a tiny model ---------------------------------------------------------

def render_set(drawings) -> tuple[np.ndarray, np.ndarray]:
    """(x (N, 28, 28) uint8 MNIST-like, y (N,) uint8) of (label, strokes) drawings."""
    x = [np.rint(preprocess_drawing(render_drawing(strokes), (28, 28)) * 255) for _, strokes in drawings]
    return np.stack(x).astype(np.uint8), np.array([label for label, _ in drawings], np.uint8)


@pytest.fixture(scope="module")
def plain_mnist(tmp_path_factory):
    """A DIGITLAB_DATA_DIR whose `mnist.npz` is plain synthetic drawings: 300 to train, 100 to test."""
    folder = tmp_path_factory.mktemp("plain-mnist")
    train = [render_set(make_drawings(seed)) for seed in range(3)]
    x_test, y_test = render_set(make_drawings(seed=3))
    np.savez(folder / "mnist.npz", x_train=np.concatenate([x for x, _ in train]),
             y_train=np.concatenate([y for _, y in train]), x_test=x_test, y_test=y_test)
    return folder


@pytest.fixture(scope="module")
def tiny_source(plain_mnist):
    """A small dense MNIST-shaped model that reads the plain drawings (seeded)."""
    from core.data.datasets import load_dataset, to_model_input
    from core.model.network import build_model

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DIGITLAB_DATA_DIR", str(plain_mnist))
        data = load_dataset("mnist")
    model = build_model(TINY)
    model.fit(to_model_input(data.x_train, data.info), data.y_train, epochs=TINY.epochs,
              batch_size=TINY.batch_size, verbose=0)
    return model


@pytest.fixture(scope="module")
def square_hand():
    """(labels (60,), kept (60, 56, 56)): six of each digit in the square hand, kept as the Draw page keeps them."""
    drawings = make_styled_drawings("square_hand", 60, seed=1)
    return (np.array([label for label, _ in drawings], np.uint8),
            np.stack([keep_drawing(render_drawing(strokes)) for _, strokes in drawings]))


def wait(job, timeout=120):
    return wait_for_job(job, timeout)


def test_fine_tune_job_learns_a_new_hand_without_forgetting(plain_mnist, tiny_source, square_hand, monkeypatch):
    monkeypatch.setenv("DIGITLAB_DATA_DIR", str(plain_mnist))
    labels, kept = square_hand
    before = [w.copy() for w in tiny_source.get_weights()]
    settings = FineTuneSettings(held_out_fraction=0.5)  # the defaults otherwise
    job = FineTuneJob(tiny_source, "Tiny", "mnist", labels, kept, settings, source_spec=TINY, slots=TrainingSlots(1))
    assert len(job.teach_idx) == len(job.held_idx) == 30  # known before it starts
    assert job.start() is job
    progress = wait(job)
    assert job.state == "finished", job.message
    assert len(progress.epoch_logs) == DEFAULTS.epochs and progress.steps == -(-150 // 32)
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(progress.epoch_logs[-1])
    r = job.result
    assert (r.n_teach, r.n_held, r.n_replay) == (30, 30, 120)
    assert r.held_after >= r.held_before + 0.1, r  # the new hand is learnt...
    assert r.test_after >= r.test_before - 0.05, r  # ...and the plain digits still read
    assert progress.epoch_logs[-1]["val_accuracy"] == pytest.approx(r.held_after)
    assert "Your 30 held-out digits:" in job.message and "MNIST test:" in job.message
    assert all(np.array_equal(a, b) for a, b in zip(before, tiny_source.get_weights()))
    assert job.model is not tiny_source

    run = collect_run(job, 7)
    assert run.name == "Tiny fine-tuned on my 60 digits" and run.run_id == 7 and run.dataset == "mnist"
    assert run.model is job.model and run.spec.network == TINY.network and run.spec.learning_rate == 3e-4
    assert run.metrics["val_accuracy"] == pytest.approx(r.held_after)
    run = job.finish_run(run)
    assert run.source == "fine-tuned" and run.metrics["test_accuracy_before"] == r.test_before
    assert collect_run(job, 8) is None  # once


def test_a_fine_tune_can_be_stopped_and_a_model_without_spec_keeps_none(plain_mnist, tiny_source, square_hand,
                                                                         monkeypatch):
    monkeypatch.setenv("DIGITLAB_DATA_DIR", str(plain_mnist))
    labels, kept = square_hand
    job = FineTuneJob(tiny_source, "Bundled", "mnist", labels, kept, FineTuneSettings(epochs=200, batch_size=8),
                      slots=TrainingSlots(1)).start()
    poll_until(lambda: len(job.snapshot().batch_logs) >= 3 or job.done, timeout=60, what="3 batches")
    job.stop()
    progress = wait(job)
    assert job.state == "stopped" and progress.message == "Stopped by you." and len(progress.epoch_logs) < 200
    assert job.result is not None  # measured after, even when stopped
    run = job.finish_run(collect_run(job, 1))
    assert run.name == "Bundled fine-tuned on my 60 digits" and run.spec is None and run.source == "fine-tuned"


def test_a_job_refuses_what_cannot_be_fine_tuned(tiny_source, square_hand):
    labels, kept = square_hand
    with pytest.raises(ValueError, match="at least 10 digits"):
        FineTuneJob(tiny_source, "Tiny", "mnist", labels[:9], kept[:9])
    with pytest.raises(ValueError, match="28x28"):
        FineTuneJob(tiny_source, "Tiny", "digits", labels, kept)
    with pytest.raises(ValueError, match="labels for"):
        FineTuneJob(tiny_source, "Tiny", "mnist", labels, kept[:20])

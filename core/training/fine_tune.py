"""Teach a model your style: fine-tune a copy of it on your digits, without forgetting the rest.

A `FineTuneJob` is a `TrainingJob` (core.training.local) whose `fit()` trains a copy of a model that
already reads digits, so the page polls, stops and collects it like any training and draws its
live curves. The source model is never changed: its weights are copied into a clone.

The recipe (one place: FineTuneSettings):
- A stratified part of your digits is held out (20%); the rest teach. val_loss / val_accuracy
  in the curves are on the held-out digits.
- Every epoch shows each teaching digit once, shuffled with `replay_per_mine` images replayed
  from the model's own training set per digit of yours, the same number of each class. So with
  the default 4, a fifth of the mix is yours and each class has 8% of it from replay: your style
  is learnt, and the digits it already read stay in practice ("rehearsal" against forgetting).
- Adam with a low learning rate, few epochs, batch 32; batch-normalisation layers are frozen (they
  keep the statistics of the original training set: a few small mixed batches would upset them).
- Before and after, on the same copy's weights: accuracy on the held-out digits and on the
  dataset's test set; the drop on the test set is the forgetting, in points.

TensorFlow is needed (like core.training.local); no Streamlit.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from core.analysis.evaluation import predict_probabilities
from core.data.datasets import DatasetInfo, DataSource, get_info, load_dataset, to_model_input
from core.data.handwriting import to_model_images
from core.i18n import Percent, message
from core.model.network import build_training_state
from core.model.run import Run
from core.model.spec import TrainSpec, as_message
from core.training.job import JobState, TrainingSink
from core.training.local import TrainingJob
from core.training.queue import TrainingSlots

MIN_DIGITS = 10  # fewer cannot both teach and measure
MIN_CLASSES = 2
FINE_TUNE_SHAPE = (28, 28)  # MNIST-sized digit models; 8x8 ones are too coarse to learn a hand
FORGETTING_WARN_POINTS = 2.0  # a drop on the test set beyond this is shown in red


@dataclass(frozen=True)
class FineTuneSettings:
    """The fine-tuning recipe; the defaults are the app's (bench/fine_tune.py measures them)."""

    learning_rate: float = 3e-4  # Adam; a tenth to a third of a first training's
    epochs: int = 5
    batch_size: int = 32
    replay_per_mine: int = 4  # replayed training images per teaching digit, balanced per class
    held_out_fraction: float = 0.2  # of your digits, stratified by class
    freeze_batch_norm: bool = True
    seed: int = 0


DEFAULTS = FineTuneSettings()


@dataclass(frozen=True)
class FineTuneResult:
    """Accuracies (0..1) before and after, on your held-out digits and on the dataset's test set."""

    held_before: float
    held_after: float
    test_before: float
    test_after: float
    n_teach: int
    n_held: int
    n_replay: int

    @property
    def forgetting_points(self) -> float:
        """How far test accuracy fell, in percentage points (negative: it rose)."""
        return (self.test_before - self.test_after) * 100

    @property
    def forgot_too_much(self) -> bool:
        """True when the test accuracy fell by more than FORGETTING_WARN_POINTS (shown in red)."""
        return self.forgetting_points > FORGETTING_WARN_POINTS

    def metrics(self) -> dict[str, float]:
        """The figures as a run's metrics (JSON-ready)."""
        return {"held_out_accuracy_before": self.held_before, "held_out_accuracy": self.held_after,
                "test_accuracy_before": self.test_before, "test_accuracy": self.test_after}


def can_fine_tune(run_dataset: str, labels: np.ndarray) -> str | None:
    """Why the model of `run_dataset` cannot be fine-tuned on digits `labels` (N,), or None when it can."""
    try:
        info = get_info(run_dataset)
    except KeyError:
        return message("Fine-tuning needs a model that reads digits; this model's dataset is unknown.")
    if not info.is_digits:
        return message("Fine-tuning needs a model that reads digits; this one was trained on {name}.", name=info.title)
    if info.image_shape != FINE_TUNE_SHAPE:
        return message("Fine-tuning works on 28x28 digit models (MNIST); this one reads {name} images. "
                       "Pick the bundled model or an MNIST run.", name=info.title)
    labels = np.asarray(labels).ravel()
    if len(labels) < MIN_DIGITS:
        return message("Add at least {least} digits to fine-tune on (you have {count}).", least=MIN_DIGITS,
                       count=len(labels))
    classes = np.unique(labels)
    if len(classes) < MIN_CLASSES:
        return message("All your digits are {digit}s: add digits of at least one other class.",
                       digit=int(classes[0]))
    return None


def split_held_out(labels: np.ndarray, fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices (teach, held) of `labels` (N,), seeded; `fraction` of them held out, stratified where possible.

    round(N * fraction) are held out (at least 1 and at most N - 1 when N >= 2), spread over the
    classes in proportion to their counts; a class keeps at least one digit to teach unless
    there is no other way to hold out that many (e.g. ten digits of ten classes).
    """
    labels = np.asarray(labels).ravel()
    n = len(labels)
    target = int(np.clip(round(n * fraction), 1, n - 1)) if n >= 2 else 0
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    held_counts = np.zeros(len(classes), dtype=np.int64)
    for _ in range(target):
        # The class furthest below its share, preferring those that keep a digit to teach.
        shortfall = counts * fraction - held_counts
        keeps_one = held_counts < counts - 1
        open_ = keeps_one if keeps_one.any() else held_counts < counts
        held_counts[np.argmax(np.where(open_, shortfall, -np.inf))] += 1
    held = [rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, held_counts)]
    held_idx = np.sort(np.concatenate(held)) if held else np.zeros(0, np.int64)
    teach_idx = np.setdiff1d(np.arange(n), held_idx)
    return teach_idx.astype(np.int64), held_idx.astype(np.int64)


def pick_replay(y_train: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """Indices (count,) into y_train, the same number of each class present (±1), seeded.

    Each class gives count // C images, and count % C random classes one more; a class with
    fewer images than its share repeats some.
    """
    y_train = np.asarray(y_train).ravel()
    rng = np.random.default_rng(seed)
    classes = np.unique(y_train)
    if count <= 0 or not len(classes):
        return np.zeros(0, np.int64)
    per_class = np.full(len(classes), count // len(classes))
    per_class[rng.choice(len(classes), count % len(classes), replace=False)] += 1
    picks = []
    for c, k in zip(classes, per_class):
        members = np.flatnonzero(y_train == c)
        picks.append(rng.choice(members, k, replace=k > len(members)))
    return np.concatenate(picks).astype(np.int64)


def replay_mix(x_mine: np.ndarray, y_mine: np.ndarray, x_train: np.ndarray, y_train: np.ndarray,
               value_max: int = 255, replay_per_mine: int = DEFAULTS.replay_per_mine,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Your digits with replayed training images, shuffled: (x (M, H, W, 1) float32 0..1, y (M,) uint8).

    x_mine (N, H, W) float32 0..1 (core.data.handwriting.to_model_images); x_train (T, H, W) raw
    uint8 in 0..value_max, as a Dataset holds it. M = N * (1 + replay_per_mine): each of your
    digits once and N * replay_per_mine replayed images, balanced per class (pick_replay).
    """
    picks = pick_replay(y_train, len(y_mine) * replay_per_mine, seed)
    x = np.concatenate([np.asarray(x_mine, np.float32),
                        np.asarray(x_train[picks], np.float32) / value_max])  # (M, H, W)
    y = np.concatenate([np.asarray(y_mine, np.uint8).ravel(), np.asarray(y_train[picks], np.uint8)])
    order = np.random.default_rng(seed + 1).permutation(len(y))
    return x[order][..., np.newaxis], y[order]


def accuracy_of(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """Share of images (N, H, W, 1) float32 the model reads as their labels y (N,); 0 for none."""
    if len(y) == 0:
        return 0.0
    predicted = predict_probabilities(model, x).argmax(axis=1)
    return float(np.mean(predicted == np.asarray(y).ravel()))


def measure(model: keras.Model, x_held: np.ndarray, y_held: np.ndarray, x_test: np.ndarray,
            y_test: np.ndarray) -> tuple[float, float]:
    """(accuracy on the held-out digits, accuracy on the test set); x as (N, H, W, 1) float32 0..1."""
    return accuracy_of(model, x_held, y_held), accuracy_of(model, x_test, y_test)


def set_batch_norm_trainable(model: keras.Model, trainable: bool) -> None:
    """Freeze or unfreeze every BatchNormalization layer, nested models included.

    A frozen one runs in inference mode (Keras 3): it normalises with the moving statistics of
    the original training and does not update them.
    """
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = trainable
        elif isinstance(layer, keras.Model):
            set_batch_norm_trainable(layer, trainable)


def copy_model(source: keras.Model, settings: FineTuneSettings = DEFAULTS) -> keras.Model:
    """A compiled copy of `source` with its weights (Adam at the fine-tuning rate); `source` is untouched."""
    model = keras.models.clone_model(source)
    model.set_weights(source.get_weights())  # moving statistics included
    if settings.freeze_batch_norm:
        set_batch_norm_trainable(model, False)
    model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def fine_tune_spec(dataset: str, settings: FineTuneSettings, n_images: int,
                   source_spec: TrainSpec | None = None) -> TrainSpec:
    """The spec a fine-tuning runs under: the source's network and split, the fine-tuning's schedule.

    Without a source spec (the bundled model, uploads) the network is a placeholder: see
    FineTuneJob.finish_run. n_images (the mix) is the spec's train_limit.
    """
    base = source_spec if source_spec is not None and source_spec.dataset == dataset else TrainSpec(dataset=dataset)
    return dataclasses.replace(
        base, optimizer="adam", learning_rate=settings.learning_rate, momentum=0.0,
        batch_size=settings.batch_size, epochs=settings.epochs, patience=0, seed=settings.seed,
        train_limit=max(10, n_images),
    )


def fine_tune_name(source_name: str, n_digits: int) -> str:
    """'Default MNIST CNN fine-tuned on my 40 digits'."""
    return f"{source_name} fine-tuned on my {n_digits} digits"


class FineTuneJob(TrainingJob):
    """Fine-tune a copy of `source_model` on kept digits in a background thread, like any TrainingJob.

    labels (N,) 0..9 and kept (N, 56, 56) uint8 as core.data.handwriting keeps them. Raises ValueError
    with can_fine_tune's reason, or when the model does not take the dataset's images. After
    the job ends, `result` holds the before / after figures (None if it failed first).
    """

    def __init__(self, source_model: keras.Model, source_name: str, dataset: str, labels: np.ndarray,
                 kept: np.ndarray, settings: FineTuneSettings = DEFAULTS, source_spec: TrainSpec | None = None,
                 is_alive: Callable[[], bool] | None = None, slots: TrainingSlots | None = None,
                 sink: TrainingSink | None = None):
        labels = np.asarray(labels, dtype=np.uint8).ravel()
        reason = can_fine_tune(dataset, labels)
        if reason:
            raise ValueError(reason)
        info = get_info(dataset)
        if tuple(source_model.input_shape[1:]) != info.input_shape:
            raise ValueError(message("This model takes {shape} images, not {name}'s {expected}.",
                                     shape=tuple(source_model.input_shape[1:]), name=info.title,
                                     expected=info.input_shape))
        if len(kept) != len(labels):
            raise ValueError(f"{len(labels)} labels for {len(kept)} digits")
        self.teach_idx, self.held_idx = split_held_out(labels, settings.held_out_fraction, settings.seed)
        n_mix = len(self.teach_idx) * (1 + settings.replay_per_mine)
        super().__init__(fine_tune_spec(dataset, settings, n_mix, source_spec), is_alive=is_alive, slots=slots,
                         sink=sink, name=fine_tune_name(source_name, len(labels)))
        self.source_model = source_model
        self.source_spec = source_spec
        # Replay from the training images the source learnt from: its own seeded validation split.
        self.split_seed = source_spec.seed if source_spec is not None else 0
        self.settings = settings
        self.labels = labels.copy()
        self.kept = np.array(kept, dtype=np.uint8)  # a copy: the page may change its own
        self.result: FineTuneResult | None = None
        self.data_source: DataSource | None = None  # where the replay and test images came from, once loaded

    def fit(self) -> None:
        """Load the replay and test images, copy the model, measure, train on the mix, measure again."""
        spec, settings = self.spec, self.settings
        data = load_dataset(spec.dataset, spec.validation_fraction, None, self.split_seed)
        info: DatasetInfo = data.info
        self.data_source = data.source
        x_mine = to_model_images(self.kept, info.image_shape)  # (N, 28, 28) float32 0..1
        teach, held = self.teach_idx, self.held_idx
        x_mix, y_mix = replay_mix(x_mine[teach], self.labels[teach], data.x_train, data.y_train,
                                  info.value_max, settings.replay_per_mine, settings.seed)
        x_held, y_held = x_mine[held][..., np.newaxis], self.labels[held]
        x_test = to_model_input(data.x_test, info)
        keras.utils.set_random_seed(settings.seed)
        self.model = copy_model(self.source_model, settings)
        build_training_state(self.model, x_mix[:1], y_mix[:1])
        held_before, test_before = measure(self.model, x_held, y_held, x_test, data.y_test)
        self.steps = -(-len(y_mix) // spec.batch_size)  # ceil
        self.tell_sink("started")
        self.state = JobState.TRAINING
        self.started_at = time.monotonic()
        self.model.fit(
            x_mix, y_mix, batch_size=spec.batch_size, epochs=spec.epochs, shuffle=True,
            validation_data=(x_held, y_held) if len(held) else None, callbacks=[self.live], verbose=0,
        )
        held_after, test_after = measure(self.model, x_held, y_held, x_test, data.y_test)
        self.result = FineTuneResult(held_before, held_after, test_before, test_after,
                                     n_teach=len(teach), n_held=len(held), n_replay=len(y_mix) - len(teach))

    def describe_finish(self) -> str:
        """'Finished 5 epochs. Your held-out digits: 70% -> 90%; MNIST test: 99.3% -> 99.2% (0.1 points lower).'

        When the images came from the dataset's shipped sample, the sentence that says so and why follows.
        """
        text = super().describe_finish()
        r = self.result
        if r is None:
            return text
        change = r.forgetting_points
        points = f"{abs(change):.1f}"
        trend = (message("no change") if not round(change, 1) else
                 message("{points} points lower", points=points) if change > 0 else
                 message("{points} points higher", points=points))
        text = message("{finish} Your {held} held-out digits: {held_before} -> {held_after}; "
                       "{name} test: {test_before} -> {test_after} ({trend}).", finish=text, held=r.n_held,
                       held_before=Percent(round(r.held_before, 2)), held_after=Percent(round(r.held_after, 2)),
                       name=get_info(self.spec.dataset).title, test_before=Percent(r.test_before),
                       test_after=Percent(r.test_after), trend=trend)
        if self.data_source is not None and self.data_source.is_sample:
            text = message("{text} Replayed and test images: {source}", text=text,
                           source=as_message(self.data_source.sentence))
        return text

    def finish_run(self, run: Run) -> Run:
        """Mark the run collect_run made as fine-tuned: its source's spec (None if it had none), the figures."""
        run.source = "fine-tuned"
        if self.source_spec is None:
            run.spec = None  # the job's spec has a placeholder network
        if self.result is not None:
            run.metrics.update(self.result.metrics())
        return run

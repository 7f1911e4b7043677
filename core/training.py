"""Training in a background thread, with every batch's and epoch's logs handed to the page.

A Streamlit script run is stopped by any click, so `fit()` cannot live inside it. A
`TrainingJob` owns a thread (no Streamlit calls in it); the page keeps the job in the session and
polls `job.snapshot()` a few times a second. The server's slots cap how many trainings run at
once; the others wait in line, visibly, each with its place.

Validation is the job's own: `ValidationRecorder` predicts the validation set once per epoch,
keeps each image's class (`job.epoch_record()`, the run's learning history) and writes `val_loss`
and `val_accuracy` from that same pass, so Keras' own validation pass is not run.

A job outlives the browser tab that started it: the `JOBS` board (core.jobs) holds it under its
owner (a lab), so a reloaded tab finds it again, until it has ended and no tab watches it. What
a job makes is saved by its `sink` (see core.persistence), from the training thread, so nothing
depends on a tab being open.

The server's slots are a line, first come, first served: `start()` takes a ticket (QueueFull,
with a message for the page, when DIGITLAB_MAX_QUEUED trainings wait already).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import keras
import numpy as np
import tensorflow as tf

from core.datasets import DatasetUnavailable, load_dataset, to_model_input
from core.epochs import EpochRecord
from core.jobs import JOBS, BackgroundJob, Board, QueueFull, ThinnedLog, TrainingSlots, limit_malloc_arenas, ordinal
from core.limits import LIMITS, read_limit
from core.network import build_model, build_training_state, inference_batch_size
from core.runs import Run, make_run
from core.spec import TrainSpec

MAX_TRAININGS_ENV = LIMITS["max_trainings"].env


def read_max_trainings() -> int:
    """The server-wide cap on simultaneous trainings (DIGITLAB_MAX_TRAININGS, default 2).

    Two fits Community Cloud's share of 2 CPU cores: a third would only slow the other two.
    """
    return max(1, int(read_limit("max_trainings")))


limit_malloc_arenas()  # before any training thread: their heaps would keep what each training freed
SLOTS = TrainingSlots(read_max_trainings())  # process-wide: one server, one cap, one line
JobBoard = Board  # the boards are core.jobs'; these names stay for older imports
__all__ = ["JOBS", "SLOTS", "QueueFull", "TrainingSlots", "TrainingJob", "LiveHistory", "ValidationRecorder",
           "Progress", "run_of_job", "collect_run", "read_max_trainings", "make_validation_step"]


class TrainingSink(Protocol):
    """Where a job's work is kept as it goes (a database, say). Called from the training thread."""

    def started(self, job: TrainingJob) -> None: ...  # the model is built; no epoch has run
    def epoch_ended(self, job: TrainingJob) -> None: ...  # job.model holds the epoch's weights
    def ended(self, job: TrainingJob) -> None: ...  # finished, stopped or failed: job.state says


class LiveHistory(keras.callbacks.Callback):
    """Collects each batch's and epoch's `logs` for another thread to read; stops on request.

    `stop_requested()` is checked after every batch, so Stop takes effect at the next batch and
    the weights trained so far are kept (Keras breaks out of the epoch when `stop_training`).
    `epoch_ended()` runs after each epoch's logs are recorded (the job's checkpoint).
    """

    def __init__(self, stop_requested: Callable[[], bool], epoch_ended: Callable[[], None] = lambda: None,
                 max_points: int | None = None):
        super().__init__()
        self.stop_requested = stop_requested
        self.epoch_ended = epoch_ended
        # {"epoch", "batch", "loss", "accuracy"} per batch, at most `max_points` (DIGITLAB_MAX_BATCH_POINTS)
        # of them: thinned evenly past that, the newest always last (core.jobs.ThinnedLog).
        self.log = ThinnedLog(max_points)
        self.epochs: list[dict] = []  # {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
        self.epoch = 0  # 0-based epoch in progress
        self.batch = 0  # batches finished in that epoch
        self._lock = threading.Lock()

    @property
    def batches(self) -> list[dict]:
        """The batch logs kept (see `log`)."""
        return self.log.points

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.batch = epoch, 0

    def on_train_batch_end(self, batch, logs=None):
        with self._lock:
            self.batch = batch + 1
            self.log.append({"epoch": self.epoch, "batch": batch + 1, **(logs or {})})
        if self.stop_requested():
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        with self._lock:
            self.epochs.append({"epoch": epoch + 1, **(logs or {})})
        self.epoch_ended()

    def read(self) -> tuple[list[dict], list[dict], int, int]:
        """Copies of (batches, epochs) and the (epoch, batch) in progress, taken together."""
        with self._lock:
            return list(self.log.points), list(self.epochs), self.epoch, self.batch

    def release(self) -> None:
        """Drop the batch logs and the model (the epochs' logs stay: they are the run's history)."""
        with self._lock:
            self.log.clear()
        self.set_model(None)


class ValidationRecorder(keras.callbacks.Callback):
    """Predicts the validation set once per epoch: keeps the classes, logs val_loss and val_accuracy.

    `val_loss` is what Keras' own validation reports: the mean sparse categorical cross-entropy
    plus the model's regularization losses (`sum(model.losses)`, e.g. L2). The cross-entropy is
    computed in a compiled graph by `keras.losses.sparse_categorical_crossentropy`, exactly as
    `evaluate` does: from the softmax's logits when the output layer is a softmax, else from the
    probabilities clipped to [1e-7, 1 - 1e-7]. Assumes the model was compiled with that loss and
    the "accuracy" metric, as `core.network.build_model` does. Dropout is off (training=False).

    It replaces `model.fit(validation_data=...)`: fit WITHOUT `validation_data`, or the
    validation set is gone through twice. Callback order matters: Keras 3's
    `CallbackList.on_epoch_end` hands one logs dict to every callback in list order (the
    `History` that `fit` returns comes last), so the recorder must come BEFORE every callback
    that reads `val_loss` (EarlyStopping, LiveHistory); put after them, EarlyStopping only warns
    that `val_loss` is missing and never stops:

        recorder = ValidationRecorder(x_val, y_val)
        model.fit(x, y, epochs=..., callbacks=[recorder, live, EarlyStopping("val_loss", ...)])

    `read()` may be called from any thread while `fit` runs in another. A second `fit` with the
    same recorder appends to the record.
    """

    def __init__(self, x_val: np.ndarray, y_val: np.ndarray, batch_size: int | None = None):
        super().__init__()
        self.x_val = np.asarray(x_val, dtype=np.float32)  # (N, H, W, 1)
        self.y_val = np.asarray(y_val, dtype=np.int64).ravel()  # (N,)
        if len(self.x_val) == 0 or len(self.x_val) != len(self.y_val):
            raise ValueError(f"need a non-empty validation set with one label per image, "
                             f"got {len(self.x_val)} images and {len(self.y_val)} labels")
        self.batch_size = batch_size  # None: the model's own (core.network.inference_batch_size), at train begin
        self._rows: list[np.ndarray] = []  # one (N,) uint8 per epoch
        self._lock = threading.Lock()
        self._step = None
        self._step_model = None
        self.chunk = batch_size or 32  # images per validation step (set again at train begin)

    def on_train_begin(self, logs=None):
        num_classes = int(self.model.output_shape[-1])
        if num_classes > 256:
            raise ValueError(f"a uint8 record holds at most 256 classes, the model has {num_classes}")
        if self._step_model is not self.model:
            self._step, self._step_model = make_validation_step(self.model, self.x_val.shape[1:]), self.model
            self.chunk = self.batch_size or inference_batch_size(self.model)

    def on_epoch_end(self, epoch, logs=None):
        predicted, loss_sum = [], 0.0
        for start in range(0, len(self.x_val), self.chunk):
            classes, losses = self._step(self.x_val[start:start + self.chunk], self.y_val[start:start + self.chunk])
            predicted.append(classes.numpy())
            loss_sum += float(losses)
        row = np.concatenate(predicted)  # (N,) uint8
        with self._lock:
            self._rows.append(row)
        if logs is not None:
            regularization = sum(float(keras.ops.convert_to_numpy(loss)) for loss in self.model.losses)
            logs["val_loss"] = loss_sum / len(row) + regularization
            logs["val_accuracy"] = float(np.mean(row == self.y_val))

    def read(self) -> np.ndarray:
        """A copy of the record so far: (E, N) uint8, row e = the classes after epoch e + 1."""
        with self._lock:
            rows = list(self._rows)
        if not rows:
            return np.zeros((0, len(self.y_val)), dtype=np.uint8)
        return np.stack(rows)


def make_validation_step(model: keras.Model, image_shape: tuple[int, ...]):
    """A compiled `step(x (B, *image_shape), y (B,)) -> (classes (B,) uint8, summed loss float64)`.

    One graph for every chunk size (the batch dimension is None), so the last, shorter chunk
    does not trace a second one.
    """
    signature = [tf.TensorSpec((None, *image_shape), tf.float32), tf.TensorSpec((None,), tf.int64)]

    @tf.function(input_signature=signature)
    def step(x, y):
        probs = model(x, training=False)  # (B, C)
        losses = keras.losses.sparse_categorical_crossentropy(y, probs)  # (B,), Keras' own path
        classes = tf.cast(tf.argmax(probs, axis=-1), tf.uint8)  # (B,)
        return classes, tf.reduce_sum(tf.cast(losses, tf.float64))

    return step


@dataclass
class Progress:
    """What the page draws: state, where training is, timing, and the logs so far."""

    state: str  # waiting | loading | training | finished | stopped | failed
    epoch: int  # 1-based epoch in progress (or last)
    epochs: int
    batch: int
    steps: int  # batches per epoch
    elapsed: float  # seconds since training (not waiting) began
    remaining: float | None  # seconds, estimated from the pace so far
    batch_logs: list[dict] = field(default_factory=list)
    epoch_logs: list[dict] = field(default_factory=list)
    message: str = ""  # the error, or why training stopped, or the queue position
    place: int | None = None  # while waiting: 1 = next to get a slot

    @property
    def fraction(self) -> float:
        """Share of all batches done, 0..1."""
        total = self.epochs * self.steps
        return 0.0 if not total else min(1.0, ((self.epoch - 1) * self.steps + self.batch) / total)


class TrainingJob(BackgroundJob):
    """One training run in a background thread. Create, `start()`, poll `snapshot()`, `stop()`."""

    def __init__(self, spec: TrainSpec, is_alive: Callable[[], bool] | None = None,
                 slots: TrainingSlots | None = None, sink: TrainingSink | None = None, name: str = ""):
        super().__init__(spec, is_alive, sink, name)
        self.slots = slots if slots is not None else SLOTS  # None: the server's
        self.ticket: int | None = None  # its place in the slots' line, taken at start()
        self.model: keras.Model | None = None
        self.live = LiveHistory(self.should_stop, epoch_ended=lambda: self.tell_sink("epoch_ended"))
        self.recorder: ValidationRecorder | None = None  # made once the data is loaded
        self.y_val: np.ndarray | None = None  # the validation labels the recorder checks against

    def start(self) -> TrainingJob:
        """Join the line for a slot (QueueFull when it is full: nothing starts), then start the thread."""
        self.ticket = self.slots.take_ticket()
        return super().start()

    def stop(self, reason: str = "Stopped by you.") -> None:
        super().stop(reason)
        self.slots.cancel(self.ticket)  # a waiting training leaves the line at once

    def place_in_line(self) -> int | None:
        return self.slots.place(self.ticket) if self.state == "waiting" else None

    def release(self) -> None:
        """Let go of the model, the validation images and the batch logs (it has left its board)."""
        self.model = None
        self.recorder = None
        self.y_val = None
        self.live.release()

    def run(self) -> None:
        """The thread's body: wait for a slot, load data, fit, let the sink keep the run. Never raises."""
        try:
            if not self.slots.acquire(self.should_stop, ticket=self.ticket):
                self.state, self.message = "stopped", self.stop_reason
                return
            try:
                self.state = "loading"
                self.fit()
                stopped = self._stop.is_set()
                self.state = "stopped" if stopped else "finished"
                self.message = self.stop_reason if stopped else self.describe_finish()
            except DatasetUnavailable as error:
                self.state, self.message = "failed", str(error)
            except Exception as error:  # anything else must reach the page as a message, not kill the thread
                self.state, self.message = "failed", f"Training failed: {type(error).__name__}: {error}"
            finally:
                self.finished_at = time.monotonic()
                self.slots.release()
            self.tell_sink("ended")  # needs `done` (core.persistence reads the run off the job)
        finally:
            self.settle()

    def finish_run(self, run: Run) -> Run:
        """Adjust the run this job made (subclasses add what they know, e.g. a fine-tune's source)."""
        return run

    def fit(self) -> None:
        spec = self.spec
        data = load_dataset(spec.dataset, spec.validation_fraction, spec.train_limit, spec.seed)
        x_train, x_val = to_model_input(data.x_train, data.info), to_model_input(data.x_val, data.info)
        self.model = build_model(spec)
        build_training_state(self.model, x_train[:1], data.y_train[:1])
        self.steps = -(-len(data.y_train) // spec.batch_size)  # ceil
        # The recorder gives val_loss and val_accuracy from its one pass, so fit has no
        # validation_data; it goes first, before every callback that reads val_loss.
        self.y_val = data.y_val
        self.recorder = ValidationRecorder(x_val, data.y_val)
        callbacks = [self.recorder, self.live]
        if spec.patience:
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=spec.patience, restore_best_weights=True))
        self.tell_sink("started")
        self.state = "training"
        self.started_at = time.monotonic()
        self.model.fit(
            x_train, data.y_train, batch_size=spec.batch_size, epochs=spec.epochs, callbacks=callbacks, verbose=0,
        )

    def describe_finish(self) -> str:
        done = len(self.live.epochs)
        if done < self.spec.epochs:
            return f"Early stopping after {done} of {self.spec.epochs} epochs (best weights kept)."
        return f"Finished {done} epochs."

    def snapshot(self) -> Progress:
        """A consistent copy of the progress, safe to read from the page's thread."""
        batches, epochs, epoch, batch = self.live.read()
        elapsed = 0.0
        if self.started_at is not None:
            elapsed = (self.finished_at or time.monotonic()) - self.started_at
        total = self.spec.epochs * self.steps
        done = epoch * self.steps + batch
        remaining = elapsed / done * (total - done) if done and not self.done else None
        message, place = self.message, self.place_in_line()
        if self.state == "waiting":
            message = describe_place(place, self.slots)
        return Progress(
            state=self.state, epoch=epoch + 1, epochs=self.spec.epochs, batch=batch,
            steps=self.steps, elapsed=elapsed, remaining=remaining,
            batch_logs=batches, epoch_logs=epochs, message=message, place=place,
        )

    def epoch_record(self) -> EpochRecord | None:
        """Which class each validation image got after each epoch so far; None before training."""
        if self.recorder is None:
            return None
        return EpochRecord(self.recorder.read(), self.y_val)

    def history(self) -> dict[str, list[float]]:
        """Per-epoch metrics as Keras' History has them: {'loss': [...], 'val_accuracy': [...]}."""
        _, epochs, _, _ = self.live.read()
        keys = [k for k in (epochs[0] if epochs else {}) if k != "epoch"]
        return {k: [float(e[k]) for e in epochs] for k in keys}


def describe_place(place: int | None, slots: TrainingSlots) -> str:
    """'Waiting for a free slot: 2 of 2 trainings are running on this server; this one is 3rd in line.'"""
    where = f"this one is {ordinal(place)} in line" if place else "this one is next"
    return (f"Waiting for a free slot: {slots.running} of {slots.limit} trainings are running on this server; "
            f"{where}.")


def run_of_job(job: TrainingJob, run_id: int) -> Run | None:
    """The run a job that ended made; None while it runs or when nothing was trained.

    Early stopping keeps the best epoch's weights and metrics. A job stopped inside its first epoch
    has no epoch logs: its last batch says how far it got.
    """
    progress = job.snapshot()
    if not job.ended or job.model is None or not progress.batch_logs:
        return None  # running, failed, or stopped before the first batch: nothing was trained
    history = job.history()
    early_stopped = job.state == "finished" and len(history.get("loss", [])) < job.spec.epochs
    run = make_run(run_id, job.spec, job.model, history, job.message, progress.elapsed, early_stopped,
                   name=job.name or None)
    if not history:
        last = progress.batch_logs[-1]
        run.metrics = {k: float(last[k]) for k in ("loss", "accuracy") if k in last}
    run.state = job.state
    record = job.epoch_record()
    run.epoch_predictions = record if record is not None and record.epochs else None
    return job.finish_run(run)


def collect_run(job: TrainingJob, run_id: int) -> Run | None:
    """The run of a job that ended, once (the first caller gets it); else None."""
    if not job.settled or job.collected:
        return None
    job.collected = True
    return run_of_job(job, run_id)

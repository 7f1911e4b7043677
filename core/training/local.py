"""Training in a background thread, with every batch's and epoch's logs handed to the page.

A Streamlit script run is stopped by any click, so `fit()` cannot live inside it. A
`TrainingJob` owns a thread (no Streamlit calls in it); the page keeps the job in the session and
polls `job.snapshot()` a few times a second. The server's slots cap how many trainings run at
once; the others wait in line, visibly, each with its place.

Validation is the job's own: `ValidationRecorder` predicts the validation set once per epoch,
keeps each image's class (`job.epoch_record()`, the run's learning history) and writes `val_loss`
and `val_accuracy` from that same pass, so Keras' own validation pass is not run.

A job outlives the browser tab that started it: the `JOBS` board (core.server.board) holds it under its
owner (a lab), so a reloaded tab finds it again, until it has ended and no tab watches it. What
a job makes is saved by its `sink` (see core.storage.sink), from the training thread, so nothing
depends on a tab being open.

The server's slots are a line, first come, first served: `start()` takes a ticket (QueueFull,
with a message for the page, when DIGITLAB_MAX_QUEUED trainings wait already).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import keras
import numpy as np

from core.analysis.evaluation import predict_probabilities
from core.analysis.history import EpochRecord
from core.analysis.outcome import measure_test
from core.data.datasets import DatasetUnavailable, load_dataset, to_model_input
from core.i18n import message
from core.model.network import build_model, build_training_state
from core.model.run import Run, make_run
from core.model.spec import TrainSpec
from core.training.callbacks import LiveHistory, ValidationRecorder
from core.training.job import STOPPED_BY_YOU, BackgroundJob, JobState, TrainingSink
from core.training.memory import limit_malloc_arenas
from core.training.queue import SLOTS, TrainingSlots

limit_malloc_arenas()  # before any training thread: their heaps would keep what each training freed




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
        self.test_metrics: dict[str, float] = {}  # core.analysis.outcome.measure_test's, once training ended

    def start(self) -> TrainingJob:
        """Join the line for a slot (QueueFull when it is full: nothing starts), then start the thread."""
        self.ticket = self.slots.take_ticket()
        return super().start()

    def stop(self, reason: str = STOPPED_BY_YOU) -> None:
        super().stop(reason)
        self.slots.cancel(self.ticket)  # a waiting training leaves the line at once

    def place_in_line(self) -> int | None:
        return self.slots.place(self.ticket) if self.state == JobState.WAITING else None

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
                self.state, self.message = JobState.STOPPED, self.stop_reason
                return
            try:
                self.state = JobState.LOADING
                self.fit()
                stopped = self._stop.is_set()
                self.state = JobState.STOPPED if stopped else JobState.FINISHED
                self.message = self.stop_reason if stopped else self.describe_finish()
            except DatasetUnavailable as error:
                self.state, self.message = JobState.FAILED, str(error)
            except Exception as error:  # anything else must reach the page as a message, not kill the thread
                self.state, self.message = JobState.FAILED, message(
                    "Training failed: {kind}: {error}", kind=type(error).__name__, error=str(error))
            finally:
                self.finished_at = time.monotonic()
                self.slots.release()
            self.tell_sink("ended")  # needs `done` (core.storage.sink reads the run off the job)
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
        self.state = JobState.TRAINING
        self.started_at = time.monotonic()
        self.model.fit(
            x_train, data.y_train, batch_size=spec.batch_size, epochs=spec.epochs, callbacks=callbacks, verbose=0,
        )
        self.measure_test_set(data)

    def measure_test_set(self, data) -> None:
        """The kept weights' test accuracy and most confused pair, once; none when nothing was trained.

        bench/outcome_cost.py: 0.24 s for MNIST's dense preset on its 10,000 test images, 1.4 s for a small CNN.
        """
        batches, _, _, _ = self.live.read()
        if self.model is None or not batches or self.discarded:
            return
        probs = predict_probabilities(self.model, to_model_input(data.x_test, data.info))
        self.test_metrics = measure_test(np.asarray(data.y_test), probs)

    def describe_finish(self) -> str:
        done = len(self.live.epochs)
        if done < self.spec.epochs:
            return message("Early stopping after {done} of {epochs} epochs (best weights kept).", done=done,
                           epochs=self.spec.epochs)
        return message("Finished {done} epochs.", done=done)

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
        if self.state == JobState.WAITING:
            message = describe_place(place, self.slots)
        return Progress(
            state=self.state, epoch=epoch + 1, epochs=self.spec.epochs, batch=batch,
            steps=self.steps, elapsed=elapsed, remaining=remaining,
            batch_logs=batches, epoch_logs=epochs, message=message, place=place,
        )

    def epoch_record(self) -> EpochRecord | None:
        """Which class each validation image got after each epoch so far; None before training."""
        if self.recorder is None or self.y_val is None:  # both set once the data is loaded
            return None
        return EpochRecord(self.recorder.read(), self.y_val)

    def history(self) -> dict[str, list[float]]:
        """Per-epoch metrics as Keras' History has them: {'loss': [...], 'val_accuracy': [...]}."""
        _, epochs, _, _ = self.live.read()
        keys = [k for k in (epochs[0] if epochs else {}) if k != "epoch"]
        return {k: [float(e[k]) for e in epochs] for k in keys}


def describe_place(place: int | None, slots: TrainingSlots) -> str:
    """'Waiting for a free slot: 2 of 2 trainings are running on this server; this one is number 3 in line.'"""
    if not place or place == 1:  # first in line is next
        return message("Waiting for a free slot: {running} of {limit} trainings are running on this server; "
                       "this one is next.", running=slots.running, limit=slots.limit)
    return message("Waiting for a free slot: {running} of {limit} trainings are running on this server; "
                   "this one is number {place} in line.", running=slots.running, limit=slots.limit, place=place)


def run_of_job(job: TrainingJob, run_id: int) -> Run | None:
    """The run a job that ended made; None while it runs or when nothing was trained.

    Early stopping keeps the best epoch's weights and metrics. A job stopped inside its first epoch
    has no epoch logs: its last batch says how far it got.
    """
    progress = job.snapshot()
    if not job.ended or job.model is None or not progress.batch_logs:
        return None  # running, failed, or stopped before the first batch: nothing was trained
    history = job.history()
    early_stopped = job.state == JobState.FINISHED and len(history.get("loss", [])) < job.spec.epochs
    run = make_run(run_id, job.spec, job.model, history, job.message, progress.elapsed, early_stopped,
                   name=job.name or None)
    if not history:
        last = progress.batch_logs[-1]
        run.metrics = {k: float(last[k]) for k in ("loss", "accuracy") if k in last}
    run.metrics.update(getattr(job, "test_metrics", {}))  # a Ray job measures no test set (yet)
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

"""Runs kept in the store (core.store): a training job's sink, and runs rebuilt from saved records.

While a job trains, its run is a `running` row: each epoch's weights are saved as a small
`checkpoint` blob (numpy arrays, a few ms), so a server killed mid-training leaves a run that
comes back as "interrupted after epoch k" with that epoch's weights. When the job ends, the
model is saved as a `.keras` file (blob `model`, without optimizer state) and the checkpoint is
dropped. Models are loaded only when a page needs one, through the same safe loader as uploads.

Beside them, blob `epoch_predictions` holds the run's learning history (core.epochs: each
validation image's class after each epoch, and the labels), rewritten at each epoch end and kept
at the end; a run cut off keeps the epochs it finished.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np

from core.epochs import EpochRecord, pack_epoch_record, unpack_epoch_record
from core.model_io import ModelFileError, load_model_file, write_model_file
from core.runs import Run
from core.spec import SpecError, spec_from_dict, spec_to_dict
from core.store import RunRecord, Store, StoreError

MODEL_BLOB = "model"
CHECKPOINT_BLOB = "checkpoint"
EPOCHS_BLOB = "epoch_predictions"
MAX_MODEL_BYTES = 100_000_000  # our own saves: far above any model the spec allows


def pack_weights(model: Any) -> bytes:
    """The model's weights as an uncompressed .npz (fast: a checkpoint per epoch)."""
    buffer = io.BytesIO()
    np.savez(buffer, *model.get_weights())
    return buffer.getvalue()


def unpack_weights(data: bytes) -> list[np.ndarray]:
    """The arrays `pack_weights` wrote, in order; ValueError for anything else."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
    except (OSError, ValueError, KeyError, EOFError) as error:
        raise ValueError(f"not a weights checkpoint: {error}") from error


def model_bytes(run: Run) -> bytes:
    """The run's model as a .keras file with its record inside (what a download holds too)."""
    return write_model_file(run.model, run.metadata())


def record_of(run: Run) -> RunRecord:
    """The store's record of a run (without blobs)."""
    return RunRecord(name=run.name, dataset=run.dataset, source=run.source, state=run.state, status=run.status,
                     spec=spec_to_dict(run.spec) if run.spec else None, history=run.history, metrics=run.metrics,
                     seconds=run.seconds, epochs_done=len(run.history.get("loss", [])), sweep=run.sweep)


def run_of_record(record: RunRecord) -> Run:
    """A Run for a saved record, its model not loaded yet (see `load_model`)."""
    try:
        spec = spec_from_dict(record.spec) if record.spec else None
    except SpecError:
        spec = None  # a record from an older app: the run still shows, without its recipe
    # A run cut off by a crash has its epochs' history but no final metrics: its last epoch's are its model's.
    metrics = record.metrics or {k: v[-1] for k, v in record.history.items() if v}
    return Run(run_id=record.run_id, name=record.name, dataset=record.dataset, model=None, spec=spec,
               history=record.history, metrics=metrics, status=record.status, seconds=record.seconds,
               source=record.source, state=record.state, sweep=record.sweep)


def load_model(run: Run, blob_names: tuple[str, ...], fetch: Callable[[str], bytes]) -> Any:
    """The run's keras.Model from its saved blobs (`fetch(name) -> bytes`); ModelFileError if it cannot be had.

    A finished run has its `.keras` file; an interrupted one only the weights of its last epoch,
    which go into a model built again from its spec.
    """
    try:
        if MODEL_BLOB in blob_names:
            return load_model_file(fetch(MODEL_BLOB), MAX_MODEL_BYTES)
        if CHECKPOINT_BLOB in blob_names and run.spec is not None:
            from core.network import build_model  # imports TensorFlow

            model = build_model(run.spec)
            model.set_weights(unpack_weights(fetch(CHECKPOINT_BLOB)))
            return model
    except (StoreError, ValueError) as error:  # ModelFileError is a ValueError
        raise ModelFileError(f"The saved model of {run.name} is damaged ({error}); the other runs are fine.") from error
    raise ModelFileError(f"{run.name} has no saved model (it ended before its first epoch).")


def record_blobs(record: EpochRecord | None) -> dict[str, bytes]:
    """The blob that keeps a run's learning history ({} when it has none)."""
    return {EPOCHS_BLOB: pack_epoch_record(record)} if record is not None and record.epochs else {}


def load_epoch_record(run: Run, blob_names: tuple[str, ...], fetch: Callable[[str], bytes] | None
                      ) -> EpochRecord | None:
    """The run's learning history from its saved blobs; None when it has none; ValueError when damaged."""
    if fetch is None or EPOCHS_BLOB not in blob_names:
        return None
    try:
        return unpack_epoch_record(fetch(EPOCHS_BLOB))
    except (StoreError, ValueError) as error:
        raise ValueError(f"The learning history of {run.name} is damaged ({error}).") from error


def recorded_spec(job: Any) -> dict | None:
    """The spec a job's record keeps: its own, but none for a fine-tuning of a model without one.

    Such a FineTuneJob's spec has a placeholder network (core.fine_tune.fine_tune_spec), which
    must never be built for its weights.
    """
    if hasattr(job, "source_spec") and job.source_spec is None:
        return None
    return spec_to_dict(job.spec)


class StoreSink:
    """Keeps a training job's run in the store as it trains (core.training.TrainingSink).

    `source` is the run's (core.runs.Run.source): "fine-tuned" for a core.fine_tune.FineTuneJob.
    """

    def __init__(self, store: Store, lab_id: int, source: str = "trained", sweep: str | None = None):
        self.store, self.lab_id, self.source, self.sweep = store, lab_id, source, sweep

    def started(self, job: Any) -> None:
        record = RunRecord(name=job.name, dataset=job.spec.dataset, source=self.source, state="running",
                           status="Training…", spec=recorded_spec(job), sweep=self.sweep)
        job.run_id = self.store.save_run(self.lab_id, record)

    def epoch_ended(self, job: Any) -> None:
        history = job.history()
        done = len(history.get("loss", []))
        blobs = {CHECKPOINT_BLOB: pack_weights(job.model), **record_blobs(job.epoch_record())}
        self.store.update_run(job.run_id, self.lab_id, blobs=blobs, history=history, epochs_done=done,
                              status=f"Training: epoch {done} of {job.spec.epochs} done")

    def ended(self, job: Any) -> None:
        from core.training import run_of_job  # imports TensorFlow

        if job.run_id is None:
            return  # it never started training
        run = run_of_job(job, job.run_id)
        if run is None:  # failed, or stopped before its first batch: nothing to keep
            self.store.delete_run(job.run_id, self.lab_id)
            return
        run.source, run.sweep = self.source, self.sweep
        fields = record_of(run)
        try:
            self.store.update_run(job.run_id, self.lab_id,
                                  blobs={MODEL_BLOB: model_bytes(run), **record_blobs(run.epoch_predictions)},
                                  drop_blobs=[CHECKPOINT_BLOB], state=run.state, status=run.status,
                                  history=fields.history, metrics=fields.metrics, seconds=fields.seconds,
                                  epochs_done=fields.epochs_done)
        except StoreError as error:  # e.g. the lab is full: keep the record, say why the model is not kept
            self.store.update_run(job.run_id, self.lab_id, drop_blobs=[CHECKPOINT_BLOB], state="failed",
                                  status=f"{run.status} Its model could not be saved: {error}")
            raise
        if self.sweep is None:  # a sweep's members do not take turns as the current model: the visitor picks one
            self.store.set_current_run(self.lab_id, job.run_id)

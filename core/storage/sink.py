"""Runs kept in the store (core.storage.store): a training job's sink, and runs rebuilt from saved records.

While a job trains, its run is a `running` row: each epoch's weights are saved as a small
`checkpoint` blob (numpy arrays, a few ms), so a server killed mid-training leaves a run that
comes back as "interrupted after epoch k" with that epoch's weights. When the job ends, the
model is saved as a `.keras` file (blob `model`, without optimizer state) and the checkpoint is
dropped. Models are loaded only when a page needs one, through the same safe loader as uploads.

Beside them, blob `epoch_predictions` holds the run's learning history (core.analysis.history: each
validation image's class after each epoch, and the labels), rewritten at each epoch end and kept
at the end; a run cut off keeps the epochs it finished.

When the final save fails (the lab is full, the database is locked, the disk is full), the
checkpoint of the last epoch stays and the run is marked "interrupted" with the reason, in a
write that carries no blob. When even that fails, the sink keeps the write and tries it again
each time a board looks for ended jobs (`retry_pending_saves`), so no run stays "running" after
its job has ended while this process lives (a restarted server marks it through the store's
`recover_interrupted`).
"""

from __future__ import annotations

import errno
import io
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from core.analysis.history import EpochRecord, pack_epoch_record, unpack_epoch_record
from core.i18n import message, message_of
from core.model.files import ModelFileError, load_model_file, write_model_file
from core.model.run import Run
from core.model.spec import SpecError, spec_from_dict, spec_to_dict
from core.storage.engine import LabFullError, NotFound, StoreBusy, StoreError, StoreFull
from core.storage.records import RunRecord, interrupted_status
from core.storage.store import Store

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
    assert record.run_id is not None, "a record read from the store has its id"
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
            from core.model.network import build_model  # imports TensorFlow

            model = build_model(run.spec)
            model.set_weights(unpack_weights(fetch(CHECKPOINT_BLOB)))
            return model
    except (StoreError, ValueError) as error:  # ModelFileError is a ValueError
        raise ModelFileError(message("The saved model of {name} is damaged ({error}); the other runs are fine.",
                                     name=run.name, error=message_of(error))) from error
    raise ModelFileError(message("{name} has no saved model (it ended before its first epoch).", name=run.name))


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
        raise ValueError(message("The learning history of {name} is damaged ({error}).", name=run.name,
                                 error=message_of(error))) from error


def recorded_spec(job: Any) -> dict | None:
    """The spec a job's record keeps: its own, but none for a fine-tuning of a model without one.

    Such a FineTuneJob's spec has a placeholder network (core.training.fine_tune.fine_tune_spec), which
    must never be built for its weights.
    """
    if hasattr(job, "source_spec") and job.source_spec is None:
        return None
    return spec_to_dict(job.spec)


SAVE_ERRORS = (StoreError, OSError)  # what a save can fail with: the store's errors, a full disk writing the .keras
_PENDING: dict[int, tuple[Store, int, dict[str, Any]]] = {}  # run id -> (store, lab id, fields) of a final write
_PENDING_LOCK = threading.Lock()


def describe_save_failure(error: BaseException) -> str:
    """'the lab is full (...)', 'the disk is full (...)': why a run's model could not be kept."""
    if isinstance(error, LabFullError):
        what = "the lab is full"
    elif isinstance(error, StoreBusy):
        what = "the database was busy"
    elif isinstance(error, StoreFull) or (isinstance(error, OSError) and error.errno == errno.ENOSPC):
        what = "the disk is full"
    else:
        what = "saving failed"
    return f"{what} ({error})"


def first_epochs(history: dict[str, list[float]], epochs: int) -> dict[str, list[float]]:
    """The history of the first `epochs` epochs (what a checkpoint of epoch `epochs` was trained through)."""
    return {key: list(values[:epochs]) for key, values in history.items()}


def write_or_keep(store: Store, lab_id: int, run_id: int, fields: dict[str, Any]) -> bool:
    """Write a run's final fields (no blob); on failure keep them to try again later. True when written."""
    try:
        store.update_run(run_id, lab_id, **fields)
    except NotFound:
        pass  # the run (or its lab) was deleted: nothing to mark
    except SAVE_ERRORS:
        with _PENDING_LOCK:
            _PENDING[run_id] = (store, lab_id, fields)
        return False
    with _PENDING_LOCK:
        _PENDING.pop(run_id, None)
    return True


def retry_pending_saves() -> int:
    """Try again the final writes that failed (each one once); how many are still waiting."""
    with _PENDING_LOCK:
        pending = list(_PENDING.items())
    for run_id, (store, lab_id, fields) in pending:
        write_or_keep(store, lab_id, run_id, fields)
    with _PENDING_LOCK:
        return len(_PENDING)




class StoreSink:
    """Keeps a training job's run in the store as it trains (core.training.job.TrainingSink).

    `source` is the run's (core.model.run.Run.source): "fine-tuned" for a core.training.fine_tune.FineTuneJob.
    """

    def __init__(self, store: Store, lab_id: int, source: str = "trained", sweep: str | None = None):
        self.store, self.lab_id, self.source, self.sweep = store, lab_id, source, sweep
        self.checkpoint_epochs = 0  # epochs the saved checkpoint was trained through

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
        self.checkpoint_epochs = done

    def ended(self, job: Any) -> None:
        """Keep the run: its model, or (when that cannot be saved) its last checkpoint, marked interrupted.

        Always leaves the row in an ended state, or a write pending that does (see retry_pending_saves).
        """
        from core.training.local import run_of_job  # imports TensorFlow

        if job.run_id is None:
            return  # it never started training
        run = run_of_job(job, job.run_id)
        if run is None:  # failed, or stopped before its first batch: nothing to keep
            try:
                self.store.delete_run(job.run_id, self.lab_id)
            except SAVE_ERRORS as error:  # the row stays: it must not stay "running"
                write_or_keep(self.store, self.lab_id, job.run_id,
                              {"state": "failed", "status": job.message or "It ended before its first batch."})
                raise StoreError(message("Its run could not be removed: {why}",
                                         why=describe_save_failure(error))) from error
            return
        run.source, run.sweep = self.source, self.sweep
        fields = record_of(run)
        try:
            self.store.update_run(job.run_id, self.lab_id,
                                  blobs={MODEL_BLOB: model_bytes(run), **record_blobs(run.epoch_predictions)},
                                  drop_blobs=[CHECKPOINT_BLOB], state=run.state, status=run.status,
                                  history=fields.history, metrics=fields.metrics, seconds=fields.seconds,
                                  epochs_done=fields.epochs_done)
        except NotFound:
            raise  # the run was deleted meanwhile: nothing to keep
        except SAVE_ERRORS as error:  # keep the last checkpoint, say why the model is not kept
            status = self.keep_checkpoint(job, run, error)
            raise StoreError(message("Its model could not be saved: {why}", why=status)) from error
        if self.sweep is None:  # a sweep's members do not take turns as the current model: the visitor picks one
            self.store.set_current_run(self.lab_id, job.run_id)

    def keep_checkpoint(self, job: Any, run: Run, error: BaseException) -> str:
        """Mark the run interrupted after its last saved epoch, keeping that epoch's checkpoint; its status.

        A write without blobs (it passes a full lab's cap). Without a checkpoint the run is failed.
        """
        reason = describe_save_failure(error)
        epochs = self.checkpoint_epochs
        fields: dict[str, Any]
        if epochs:
            history = first_epochs(run.history, epochs)
            fields = {"state": "interrupted", "status": f"{interrupted_status(epochs)}: {reason}",
                      "history": history, "metrics": {k: v[-1] for k, v in history.items() if v},
                      "epochs_done": epochs, "seconds": run.seconds}
        else:
            fields = {"state": "failed", "status": f"Its model could not be saved: {reason}",
                      "seconds": run.seconds}
        write_or_keep(self.store, self.lab_id, job.run_id, fields)
        return fields["status"]

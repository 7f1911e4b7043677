"""Runs kept in the store while and after they train (core.storage.sink), on tiny seeded data."""

import errno

import numpy as np
import pytest

from core.data.datasets import load_dataset
from core.model.files import ModelFileError
from core.storage import sink as persistence
from core.storage.engine import LabFullError, StoreBusy, StoreFull
from core.storage.records import RunRecord
from core.storage.store import open_store
from core.training.local import TrainingJob
from core.training.queue import TrainingSlots
from tests.harness.specs import TINY


@pytest.fixture
def lab(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'lab.db'}")
    yield store, store.open_lab(store.create_lab())
    store.close()


def fetcher(store, lab_id, run_id):
    return lambda name: store.load_blob(run_id, lab_id, name)


def probe(model) -> np.ndarray:
    return np.asarray(model.predict_on_batch(np.random.default_rng(0).random((4, 8, 8, 1), dtype=np.float32)))


def test_a_finished_training_is_saved_with_its_model_and_becomes_current(lab):
    store, lab_id = lab
    job = TrainingJob(TINY, slots=TrainingSlots(1), sink=persistence.StoreSink(store, lab_id), name="Run 1 · tiny")
    job.start().join(60)
    assert job.state == "finished" and not job.save_error
    [record] = store.list_runs(lab_id)
    assert record.run_id == job.run_id and record.state == "finished" and record.name == "Run 1 · tiny"
    assert record.blob_names == ("epoch_predictions", "model") and record.epochs_done == 3
    assert len(record.history["loss"]) == 3
    assert store.current_run(lab_id) == job.run_id
    run = persistence.run_of_record(record)
    model = persistence.load_model(run, record.blob_names, fetcher(store, lab_id, record.run_id))
    np.testing.assert_allclose(probe(model), probe(job.model), atol=1e-6)
    last_epoch = {k: v[-1] for k, v in record.history.items()}
    assert run.spec == TINY and {k: run.metrics[k] for k in last_epoch} == pytest.approx(last_epoch)
    # ...and its test figures, measured once at the end (core.analysis.outcome), for its sentence in words.
    assert run.metrics == pytest.approx(last_epoch | job.test_metrics) and "test_accuracy" in job.test_metrics
    # The learning history is kept with it: every epoch, and the labels of the split the spec rebuilds.
    history = persistence.load_epoch_record(run, record.blob_names, fetcher(store, lab_id, record.run_id))
    assert (history.preds == job.epoch_record().preds).all() and history.epochs == 3
    y_val = load_dataset(TINY.dataset, TINY.validation_fraction, TINY.train_limit, TINY.seed).y_val
    assert (history.y == y_val).all()


def test_a_training_cut_off_comes_back_interrupted_with_its_last_epoch(lab):
    store, lab_id = lab

    class CrashAfterTwoEpochs(persistence.StoreSink):
        weights = None

        def epoch_ended(self, job):
            if self.weights is not None:
                return  # the server died after epoch 2: nothing more reaches the store
            super().epoch_ended(job)
            if len(job.history()["loss"]) == 2:
                self.weights = job.model.get_weights()
                job.stop("crash")

        def ended(self, job):
            pass

    sink = CrashAfterTwoEpochs(store, lab_id)
    job = TrainingJob(TINY, slots=TrainingSlots(1), sink=sink, name="cut off")
    job.start().join(60)
    # Another server process finds the run: its owner (this process) looks gone to it.
    with store.writing() as conn:
        from sqlalchemy import update

        from core.storage.schema import runs_table
        conn.execute(update(runs_table).values(owner="elsewhere:1:dead", heartbeat_at=0.0))
    assert store.recover_interrupted(lab_id) == [job.run_id]
    [record] = store.list_runs(lab_id)
    assert record.state == "interrupted" and record.status == "Interrupted after epoch 2"
    assert record.blob_names == ("checkpoint", "epoch_predictions")
    run = persistence.run_of_record(record)
    assert run.metrics == {k: v[1] for k, v in record.history.items()}  # its model's: epoch 2's
    model = persistence.load_model(run, record.blob_names, fetcher(store, lab_id, record.run_id))
    for saved, loaded in zip(sink.weights, model.get_weights()):
        np.testing.assert_array_equal(saved, loaded)
    # What exists of its learning history: the two epochs it finished.
    history = persistence.load_epoch_record(run, record.blob_names, fetcher(store, lab_id, record.run_id))
    assert (history.preds == job.epoch_record().preds[:2]).all()


class FailingStore:
    """The real store, except that the writes `failing(fields)` picks raise `error` (as a full lab, a locked
    database or a full disk would)."""

    def __init__(self, store, error, failing):
        self.store, self.error, self.failing = store, error, failing

    def __getattr__(self, name):
        return getattr(self.store, name)

    def update_run(self, run_id, lab_id, **fields):
        if self.failing(fields):
            raise self.error
        return self.store.update_run(run_id, lab_id, **fields)


def final_save(fields) -> bool:
    return "model" in (fields.get("blobs") or {})


@pytest.mark.parametrize("error, reason", [
    (LabFullError("This lab is full: it holds 200.0 MB."), "the lab is full (This lab is full"),
    (StoreBusy("The database is busy."), "the database was busy (The database is busy.)"),
    (StoreFull("No disk space is left."), "the disk is full (No disk space is left.)"),
    (OSError(errno.ENOSPC, "No space left on device"), "the disk is full ("),
])
def test_a_final_save_that_fails_keeps_the_last_checkpoint_and_says_why(lab, error, reason):
    store, lab_id = lab
    job = TrainingJob(TINY, slots=TrainingSlots(1), sink=persistence.StoreSink(FailingStore(store, error, final_save),
                                                                              lab_id), name="kept")
    job.start().join(60)
    assert job.state == "finished" and reason in job.save_error  # the page says it
    [record] = store.list_runs(lab_id)
    assert record.state == "interrupted" and record.status.startswith(f"Interrupted after epoch 3: {reason}")
    assert record.blob_names == ("checkpoint", "epoch_predictions") and record.epochs_done == 3
    run = persistence.run_of_record(record)
    assert run.usable  # it can be evaluated, downloaded, deleted
    model = persistence.load_model(run, record.blob_names, fetcher(store, lab_id, record.run_id))
    np.testing.assert_allclose(probe(model), probe(job.model), atol=1e-6)  # the weights of epoch 3


def test_when_even_the_status_cannot_be_written_it_is_written_later(lab):
    store, lab_id = lab
    broken = FailingStore(store, StoreBusy("The database is busy."), lambda fields: True)  # every update
    job = TrainingJob(TINY, slots=TrainingSlots(1), sink=persistence.StoreSink(broken, lab_id), name="late")
    job.start().join(60)
    assert job.done and store.get_run(job.run_id, lab_id).state == "running"  # nothing could be written
    assert persistence.retry_pending_saves() == 1  # still busy
    broken.failing = lambda fields: False  # the database is free again
    assert persistence.retry_pending_saves() == 0
    record = store.get_run(job.run_id, lab_id)
    assert record.state == "failed" and "the database was busy" in record.status  # no checkpoint was kept


def test_a_run_whose_model_is_kept_after_a_failed_epoch_save_keeps_the_epochs_it_saved(lab):
    store, lab_id = lab
    saves = []

    def third_epoch_and_after(fields):
        saves.append(fields.get("epochs_done"))
        return fields.get("epochs_done") == 3 or final_save(fields)

    job = TrainingJob(TINY, slots=TrainingSlots(1), name="two",
                      sink=persistence.StoreSink(FailingStore(store, LabFullError("full"), third_epoch_and_after),
                                                 lab_id))
    job.start().join(60)
    record = store.get_run(job.run_id, lab_id)
    assert record.status.startswith("Interrupted after epoch 2: the lab is full") and record.epochs_done == 2
    assert len(record.history["loss"]) == 2  # the history of the weights it kept


def test_a_run_without_a_history_has_none_and_a_damaged_one_says_so(lab):
    store, lab_id = lab
    run_id = store.save_run(lab_id, RunRecord(name="uploaded", dataset="digits"),
                            {"model": b"m", "epoch_predictions": b"junk"})
    run = persistence.run_of_record(store.get_run(run_id, lab_id))
    assert persistence.load_epoch_record(run, ("model",), fetcher(store, lab_id, run_id)) is None
    assert persistence.load_epoch_record(run, ("epoch_predictions",), None) is None
    with pytest.raises(ValueError, match="learning history of uploaded is damaged"):
        persistence.load_epoch_record(run, ("epoch_predictions", "model"), fetcher(store, lab_id, run_id))


def test_a_failed_training_leaves_no_run(lab, monkeypatch):
    store, lab_id = lab
    job = TrainingJob(TINY, slots=TrainingSlots(1), sink=persistence.StoreSink(store, lab_id))
    monkeypatch.setattr(job, "fit", lambda: (job.tell_sink("started"), 1 / 0))
    job.start().join(60)
    assert job.state == "failed" and store.list_runs(lab_id) == []


def test_a_damaged_model_is_a_message_for_that_run_only(lab):
    store, lab_id = lab
    run_id = store.save_run(lab_id, RunRecord(name="broken", dataset="digits"), {"model": b"PK\x03\x04 not a model"})
    run = persistence.run_of_record(store.get_run(run_id, lab_id))
    with pytest.raises(ModelFileError, match="broken is damaged"):
        persistence.load_model(run, ("model",), fetcher(store, lab_id, run_id))


def test_weights_pack_and_refuse_garbage():
    arrays = [np.arange(6, dtype=np.float32).reshape(2, 3), np.ones(3, np.float32)]

    class Model:
        def get_weights(self):
            return arrays

    unpacked = persistence.unpack_weights(persistence.pack_weights(Model()))
    assert all(np.array_equal(a, b) for a, b in zip(arrays, unpacked))
    with pytest.raises(ValueError):
        persistence.unpack_weights(b"junk")


def test_a_fine_tuning_of_a_model_without_a_spec_keeps_no_spec():
    from types import SimpleNamespace

    from core.model.spec import spec_to_dict

    assert persistence.recorded_spec(SimpleNamespace(spec=TINY)) == spec_to_dict(TINY)  # a training
    assert persistence.recorded_spec(SimpleNamespace(spec=TINY, source_spec=TINY)) == spec_to_dict(TINY)
    assert persistence.recorded_spec(SimpleNamespace(spec=TINY, source_spec=None)) is None  # placeholder network

import time

import numpy as np

from core.datasets import load_dataset, to_model_input
from core.jobs import NOBODY_LOOKING
from core.spec import NetworkSpec, TrainSpec
from core.training import LiveHistory, TrainingJob, TrainingSlots, run_of_job

TINY = TrainSpec(dataset="digits", network=NetworkSpec(hidden_layers=(8,)), optimizer="adam",
                 learning_rate=0.01, batch_size=64, epochs=3, seed=0, train_limit=256)


def wait(job, timeout=60):
    job.join(timeout)
    assert job.done, job.snapshot()
    return job.snapshot()


def test_live_history_collects_every_batch_and_epoch():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    live = LiveHistory(stop_requested=lambda: False)
    x, y = np.random.default_rng(0).random((40, 4)), np.arange(40) % 2
    model.fit(x, y, batch_size=10, epochs=2, validation_data=(x, y), callbacks=[live], verbose=0)
    batches, epochs, epoch, batch = live.read()
    assert len(batches) == 8 and [b["batch"] for b in batches[:4]] == [1, 2, 3, 4]
    assert {"loss", "accuracy"} <= set(batches[0]) and batches[-1]["epoch"] == 1
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(epochs[0])
    assert (epoch, batch) == (1, 4)


def test_job_trains_and_reports_progress():
    job = TrainingJob(TINY, slots=TrainingSlots(1)).start()
    p = wait(job)
    assert job.state == "finished" and p.message == "Finished 3 epochs."
    assert p.steps == 4 and len(p.batch_logs) == 12 and len(p.epoch_logs) == 3
    assert p.fraction == 1.0 and p.elapsed > 0
    history = job.history()
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"} and len(history["loss"]) == 3
    assert history["loss"][-1] < history["loss"][0]
    assert job.model.input_shape == (None, 8, 8, 1)


def test_the_job_records_each_epochs_validation_classes_in_one_pass():
    """The record's row e is model.predict on the validation set at the end of epoch e + 1."""
    data = load_dataset(TINY.dataset, TINY.validation_fraction, TINY.train_limit, TINY.seed)
    x_val = to_model_input(data.x_val, data.info)
    predicted = []

    class Probe:  # a sink: called from the training thread after each epoch's record and logs
        def started(self, job):
            pass

        def epoch_ended(self, job):
            predicted.append(job.model.predict(x_val, verbose=0).argmax(axis=1))

        def ended(self, job):
            pass

    job = TrainingJob(TINY, slots=TrainingSlots(1), sink=Probe())
    assert job.epoch_record() is None
    wait(job.start())
    record = job.epoch_record()
    assert record.preds.shape == (3, len(data.y_val)) and record.preds.dtype == np.uint8
    assert (record.y == data.y_val).all()
    for e in range(3):
        assert (record.preds[e] == predicted[e]).all()
    # val_accuracy comes from that same pass (no second one: fit has no validation_data).
    assert job.history()["val_accuracy"] == [float(np.mean(row == data.y_val)) for row in record.preds]
    run = run_of_job(job, 7)
    assert (run.epoch_predictions.preds == record.preds).all()


def test_stop_ends_mid_epoch_and_keeps_the_model():
    spec = TrainSpec(**{**TINY.__dict__, "batch_size": 8, "epochs": 50})
    job = TrainingJob(spec, slots=TrainingSlots(1)).start()
    while len(job.snapshot().batch_logs) < 5:
        time.sleep(0.01)
    job.stop()
    job.stop()  # pressing Stop twice is harmless
    p = wait(job)
    assert job.state == "stopped" and p.message == "Stopped by you."
    # Stopped inside the first epoch (Keras still closes that epoch with its validation).
    assert len(p.batch_logs) < p.steps and len(p.epoch_logs) == 1
    assert job.model is not None and job.model(np.zeros((1, 8, 8, 1)), training=False).shape == (1, 10)


def test_closed_tab_stops_the_job(monkeypatch):
    monkeypatch.setattr("core.jobs.ALIVE_CHECK_SECONDS", 0.0)
    spec = TrainSpec(**{**TINY.__dict__, "batch_size": 8, "epochs": 50})
    job = TrainingJob(spec, is_alive=lambda: False, slots=TrainingSlots(1)).start()
    wait(job)
    assert job.state == "stopped" and job.message == NOBODY_LOOKING


def test_early_stopping_ends_before_the_last_epoch():
    # A wide net with a high learning rate on 256 images overfits within a few epochs.
    spec = TrainSpec(**{**TINY.__dict__, "epochs": 60, "patience": 1, "learning_rate": 0.1,
                        "network": NetworkSpec(hidden_layers=(64,))})
    job = TrainingJob(spec, slots=TrainingSlots(1)).start()
    p = wait(job)
    assert job.state == "finished" and len(p.epoch_logs) < 60
    assert p.message.startswith("Early stopping after")


def test_slots_cap_simultaneous_trainings():
    slots = TrainingSlots(1)
    first = TrainingJob(TrainSpec(**{**TINY.__dict__, "epochs": 30, "batch_size": 8}), slots=slots).start()
    while first.state == "waiting":
        time.sleep(0.01)
    second = TrainingJob(TINY, slots=slots).start()
    time.sleep(0.3)
    p = second.snapshot()
    assert p.state == "waiting" and "Waiting for a free slot: 1 of 1" in p.message
    first.stop()
    wait(first)
    wait(second)
    assert second.state == "finished" and slots.running == 0


def test_stop_while_waiting_frees_nothing_it_did_not_take():
    slots = TrainingSlots(1)
    assert slots.acquire(lambda: False)
    job = TrainingJob(TINY, slots=slots).start()
    time.sleep(0.2)
    job.stop()
    wait(job, timeout=5)
    assert job.state == "stopped" and slots.running == 1 and job.model is None


def test_failure_is_a_message_not_a_dead_thread(monkeypatch):
    def broken(*args, **kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr("core.training.build_model", broken)
    slots = TrainingSlots(1)
    job = TrainingJob(TINY, slots=slots).start()
    wait(job)
    assert job.state == "failed" and "MemoryError" in job.message and slots.running == 0

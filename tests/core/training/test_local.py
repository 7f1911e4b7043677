
import numpy as np
import pytest

from core.data.datasets import load_dataset, to_model_input
from core.i18n import translate
from core.model.spec import NetworkSpec, TrainSpec
from core.training.callbacks import LiveHistory
from core.training.job import NOBODY_LOOKING
from core.training.local import TrainingJob, describe_place, run_of_job
from core.training.queue import TrainingSlots, queue_full_message
from tests.harness.polling import poll_until
from tests.harness.polling import wait_for_job as wait
from tests.harness.specs import TINY, tiny_spec


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
    job = TrainingJob(tiny_spec(batch_size=8, epochs=50), slots=TrainingSlots(1)).start()
    poll_until(lambda: len(job.snapshot().batch_logs) >= 5 or job.done, what="5 batches")
    job.stop()
    job.stop()  # pressing Stop twice is harmless
    p = wait(job)
    assert job.state == "stopped" and p.message == "Stopped by you."
    # Stopped inside the first epoch (Keras still closes that epoch with its validation).
    assert len(p.batch_logs) < p.steps and len(p.epoch_logs) == 1
    assert job.model is not None and job.model(np.zeros((1, 8, 8, 1)), training=False).shape == (1, 10)


def test_closed_tab_stops_the_job(monkeypatch):
    monkeypatch.setattr("core.training.job.ALIVE_CHECK_SECONDS", 0.0)
    job = TrainingJob(tiny_spec(batch_size=8, epochs=50), is_alive=lambda: False, slots=TrainingSlots(1)).start()
    wait(job)
    assert job.state == "stopped" and job.message == NOBODY_LOOKING


def test_early_stopping_ends_before_the_last_epoch():
    # A wide net with a high learning rate on 256 images overfits within a few epochs.
    spec = tiny_spec(epochs=60, patience=1, learning_rate=0.1, network=NetworkSpec(hidden_layers=(64,)))
    job = TrainingJob(spec, slots=TrainingSlots(1)).start()
    p = wait(job)
    assert job.state == "finished" and len(p.epoch_logs) < 60
    assert p.message.startswith("Early stopping after")


def test_slots_cap_simultaneous_trainings():
    slots = TrainingSlots(1)
    first = TrainingJob(tiny_spec(epochs=30, batch_size=8), slots=slots).start()
    poll_until(lambda: first.state != "waiting", what="the first training to take the slot")
    second = TrainingJob(TINY, slots=slots).start()
    p = poll_until(lambda: (s := second.snapshot()).message and s, what="the second training's message")
    assert p.state == "waiting" and "Waiting for a free slot: 1 of 1" in p.message
    first.stop()
    wait(first)
    wait(second)
    assert second.state == "finished" and slots.running == 0


def test_stop_while_waiting_frees_nothing_it_did_not_take():
    slots = TrainingSlots(1)
    assert slots.acquire(lambda: False)
    job = TrainingJob(TINY, slots=slots).start()
    poll_until(lambda: "Waiting for a free slot" in job.snapshot().message, what="the job to wait for a slot")
    job.stop()
    wait(job, timeout=5)
    assert job.state == "stopped" and slots.running == 1 and job.model is None


def test_failure_is_a_message_not_a_dead_thread(monkeypatch):
    def broken(*args, **kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr("core.training.local.build_model", broken)
    slots = TrainingSlots(1)
    job = TrainingJob(TINY, slots=slots).start()
    wait(job)
    assert job.state == "failed" and "MemoryError" in job.message and slots.running == 0


class FakeModel:
    """What LiveHistory touches of a model: `stop_training`."""

    stop_training = False


def drive(live, epochs, steps, loss=lambda epoch, batch: 1.0 / (1 + epoch + batch / 1000)):
    """Call LiveHistory's hooks as Keras' fit does, with scripted logs (no model trains)."""
    live.set_model(FakeModel())
    live.on_train_begin()
    for epoch in range(epochs):
        live.on_epoch_begin(epoch)
        for batch in range(steps):
            live.on_train_batch_end(batch, {"loss": loss(epoch, batch), "accuracy": 0.5})
        live.on_epoch_end(epoch, {"loss": loss(epoch, steps), "accuracy": 0.5})


def test_batch_logs_are_thinned_past_the_bound_and_keep_the_curves_shape(monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_BATCH_POINTS", "200")
    live = LiveHistory(stop_requested=lambda: False)
    drive(live, epochs=10, steps=1000)
    batches, epochs, epoch, batch = live.read()
    assert len(batches) <= 200 and len(epochs) == 10 and (epoch, batch) == (9, 1000)
    assert (batches[-1]["epoch"], batches[-1]["batch"]) == (9, 1000)  # the newest point is always there
    x = [b["epoch"] * 1000 + b["batch"] for b in batches]
    gaps = {b - a for a, b in zip(x[:-2], x[1:-1])}
    assert len(gaps) == 1 and x[0] == gaps.pop()  # evenly spaced from the first batch on: the same shape
    assert all(b["loss"] == 1.0 / (1 + b["epoch"] + (b["batch"] - 1) / 1000) for b in batches)  # each its own


def test_a_million_batches_keep_a_few_thousand_dicts():
    """Batch 8 for 200 epochs of MNIST's 60,000 images: 1.5 million batches, the default bound."""
    live = LiveHistory(stop_requested=lambda: False)
    drive(live, epochs=200, steps=7500, loss=lambda epoch, batch: 0.5)
    assert 1000 <= len(live.read()[0]) <= 2000 and len(live.read()[1]) == 200


def test_the_validation_pass_takes_as_many_images_as_the_networks_activations_allow(monkeypatch):
    import keras

    from core.model.network import build_model, inference_batch_size
    from core.training.callbacks import ValidationRecorder

    dense = build_model(TrainSpec(dataset="mnist", network=NetworkSpec(hidden_layers=(128,))))
    wide = build_model(TrainSpec(dataset="mnist", network=NetworkSpec(kind="cnn", conv_filters=(256,),
                                                                         hidden_layers=()), batch_size=32, epochs=1))
    conv = next(layer for layer in wide.layers if isinstance(layer, keras.layers.Conv2D))
    per_image = 26 * 26 * 256  # the 3x3 'valid' conv's output on 28x28: the largest
    assert tuple(conv.output.shape[1:]) == (26, 26, 256)
    assert inference_batch_size(dense) == 2048
    assert inference_batch_size(wide) == int(64e6 // (4 * per_image))  # about 92 images, 64 MB
    monkeypatch.setenv("DIGITLAB_INFERENCE_BATCH_MB", "1")
    assert inference_batch_size(wide) == 32  # never fewer

    x = np.zeros((300, 28, 28, 1), np.float32)
    recorder = ValidationRecorder(x, np.zeros(300, np.int64))
    recorder.set_model(wide)
    recorder.on_train_begin()
    calls = []
    step = recorder._step
    recorder._step = lambda xb, yb: calls.append(len(xb)) or step(xb, yb)
    recorder.on_epoch_end(0, {})
    assert calls == [32] * 9 + [12]  # never 2048 images of 173,056 floats (1.4 GB) at once


def test_a_finished_job_measures_the_test_set_once_and_its_run_keeps_the_figures():
    from core.analysis.evaluation import most_confused_pairs, predict_probabilities, summarize_predictions

    job = TrainingJob(TINY, slots=TrainingSlots(1)).start()
    wait(job)
    data = load_dataset(TINY.dataset, TINY.validation_fraction, TINY.train_limit, TINY.seed)
    probs = predict_probabilities(job.model, to_model_input(data.x_test, data.info))
    result = summarize_predictions(data.y_test, probs)
    run = run_of_job(job, 1)
    assert run.metrics["test_accuracy"] == pytest.approx(result.accuracy)
    assert run.metrics["test_images"] == len(data.y_test)
    truth, predicted, count = most_confused_pairs(result.cm, 1)[0]
    assert (run.metrics["test_confused_truth"], run.metrics["test_confused_predicted"],
            run.metrics["test_confused_count"]) == (truth, predicted, count)


def test_the_waiting_and_ending_messages_read_in_each_language():
    slots = TrainingSlots(2)
    assert translate("es", describe_place(3, slots)).endswith("el tuyo es el número 3 de la cola.")
    assert translate("de", describe_place(None, slots)) == (
        "Warten auf einen freien Platz: 0 von 2 Trainings laufen auf diesem Server; deins ist als Nächstes dran.")
    assert translate("de", NOBODY_LOOKING).startswith("Kein Tab dieses Labors")
    assert translate("es", queue_full_message(5)).startswith("El servidor está ocupado: 5 entrenamientos")

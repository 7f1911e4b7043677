"""Trainings on a real local Ray instance (2 CPUs, no dashboard), started once for this module.

Every actor is a fresh worker process that imports TensorFlow (seconds): the tests are few.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.ray
ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -r requirements-ray.txt)")

from core.model.settings import DEFAULT_VALUES  # noqa: E402
from core.storage.sink import StoreSink  # noqa: E402
from core.storage.store import open_store  # noqa: E402
from core.training.launch import make_job  # noqa: E402
from core.training.local import Progress  # noqa: E402, F401  # TensorFlow loaded first, as in the app
from core.training.ray.capacity import IDLE_ACTORS  # noqa: E402
from core.training.ray.job import RayTrainingJob  # noqa: E402
from core.training.sweeps import make_sweep  # noqa: E402
from tests.harness.polling import poll_until, wait_for_job  # noqa: E402
from tests.harness.specs import tiny_spec  # noqa: E402

TINY = tiny_spec(batch_size=8, epochs=20)


@pytest.fixture(scope="module", autouse=True)
def local_ray(tmp_path_factory):
    """A local Ray instance whose workers find no MNIST (DIGITLAB_DATA_DIR names a missing folder)."""
    missing = tmp_path_factory.mktemp("data") / "missing"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=100 * 1024**2,
             runtime_env={"env_vars": {"DIGITLAB_DATA_DIR": str(missing), "TF_CPP_MIN_LOG_LEVEL": "3",
                                       "KERAS_HOME": os.environ["KERAS_HOME"]}})
    yield
    IDLE_ACTORS.clear()
    ray.shutdown()


class Recorder:
    """A sink that notes each call, and whether the model was there."""

    def __init__(self):
        self.calls = []

    def started(self, job):
        self.calls.append(("started", job.model is not None))

    def epoch_ended(self, job):
        self.calls.append(("epoch_ended", len(job.history()["loss"])))

    def ended(self, job):
        self.calls.append(("ended", job.state))


def wait(job, timeout=90):
    return wait_for_job(job, timeout)


def test_a_training_on_ray_shows_live_progress_and_brings_the_model_back(monkeypatch):
    monkeypatch.setenv("DIGITLAB_RAY_ADDRESS", "auto")  # make_job's switch; the instance is already up
    sink = Recorder()
    job = make_job(TINY, sink=sink, name="on ray")
    assert isinstance(job, RayTrainingJob)
    assert job.snapshot().state == "waiting" and "Ray cluster" in job.snapshot().message
    job.start()
    seen = []

    def note_batches() -> bool:
        p = job.snapshot()
        if p.state == "training" and p.batch_logs:
            seen.append(len(p.batch_logs))
        return job.done

    poll_until(note_batches, timeout=90, what="the training on Ray to end", interval=0.1)
    p = wait(job)
    assert job.state == "finished" and p.message == "Finished 20 epochs.", p.message
    assert job.settled  # the Train page polls until then, as for a local training
    assert len(set(seen)) >= 2 and seen[0] < p.steps * p.epochs  # batches grew while it trained
    assert len(p.batch_logs) == 20 * 32 and len(job.history()["val_accuracy"]) == 20
    assert job.model(np.zeros((1, 8, 8, 1)), training=False).shape == (1, 10)
    assert sink.calls[0] == ("started", True) and sink.calls[-1] == ("ended", "finished")
    assert [c for c in sink.calls if c[0] == "epoch_ended"][-1] == ("epoch_ended", 20)


def test_stop_on_ray_keeps_the_weights_so_far():
    job = RayTrainingJob(tiny_spec(batch_size=8, epochs=200)).start()
    poll_until(lambda: job.snapshot().epoch_logs or job.done, timeout=90, what="one epoch on Ray", interval=0.1)
    job.stop()
    p = wait(job)
    assert job.state == "stopped" and p.message == "Stopped by you."
    assert 1 <= len(p.epoch_logs) < 200 and job.model is not None
    assert job.model(np.zeros((1, 8, 8, 1)), training=False).shape == (1, 10)


def test_a_failing_training_on_ray_says_why():
    job = RayTrainingJob(tiny_spec(batch_size=8, epochs=20, dataset="mnist")).start()
    p = wait(job)
    assert job.state == "failed" and job.model is None
    assert "DIGITLAB_DATA_DIR" in p.message and "missing" in p.message, p.message


def test_a_sweep_of_three_on_ray_completes_and_saves_its_runs(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'lab.db'}")
    lab_id = store.open_lab(store.create_lab())
    base = {**DEFAULT_VALUES, "dataset": "digits", "hidden": "8", "optimizer": "adam", "lr": 0.01,
            "batch": 64, "epochs": 3, "limit": 256}
    sweep = make_sweep(base, "optimizer", "sgd, adam, nadam", tag="ab12", make_job=lambda spec, name: RayTrainingJob(
        spec, name=name, sink=StoreSink(store, lab_id, sweep="ab12"))).start_all()
    queued = set()  # 3 trainings, 2 CPUs: one waits in line

    def note_waiting() -> bool:
        queued.update(m.job.message for m in sweep.members if m.job.state == "waiting")
        return sweep.done

    poll_until(note_waiting, timeout=180, what="the sweep on Ray to end", interval=0.1)
    assert any(m.startswith("Waiting for a free CPU on the Ray cluster: all 2 CPUs are busy") for m in queued), queued
    for member in sweep.members:
        wait(member.job)
    assert sweep.counts() == {"finished": 3}
    assert all(m.job.model is not None and len(m.job.history()["loss"]) == 3 for m in sweep.members)
    assert [r["best val accuracy"] for r in sweep.results()] == sorted(
        (r["best val accuracy"] for r in sweep.results()), reverse=True)
    # Each member is an ordinary run of the lab, saved with its model and its sweep's tag; none made itself current.
    assert not any(m.job.save_error for m in sweep.members), [m.job.save_error for m in sweep.members]
    records = {r.run_id: r for r in store.list_runs(lab_id)}
    assert sorted(records) == sorted(m.job.run_id for m in sweep.members)
    assert all(r.sweep == "ab12" and r.state == "finished" and r.blob_names == ("model",) for r in records.values())
    assert store.current_run(lab_id) is None
    store.close()


OUTLIVE_SCRIPT = """
import threading
import ray
from core.training.ray.connection import connect

thread = threading.Thread(target=connect, args=("local",))  # as a training's thread connects
thread.start()
thread.join()  # the thread that started the local instance has ended

@ray.remote(num_cpus=0)
def answer():
    return 42

print("answer", ray.get(answer.remote(), timeout=60))
"""


def test_a_local_instance_outlives_the_thread_that_started_it():
    """DIGITLAB_RAY_ADDRESS=local from a training's thread: Ray's processes must not die with that thread."""
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("RAY_ADDRESS", None)
    done = subprocess.run([sys.executable, "-c", OUTLIVE_SCRIPT], cwd=Path(__file__).resolve().parents[4], env=env,
                          capture_output=True, text=True, timeout=180)
    assert "answer 42" in done.stdout, done.stderr[-2000:]

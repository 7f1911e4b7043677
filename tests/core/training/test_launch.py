"""What needs no Ray: where jobs are made, and how the queue and failures read."""

from core.model.spec import TrainSpec
from core.training.launch import make_job
from core.training.local import TrainingJob
from core.training.ray.capacity import describe_wait
from core.training.ray.connection import explain_ray_error, ray_address
from core.training.ray.job import RayTrainingJob


def test_jobs_train_in_the_app_unless_a_ray_address_is_set(monkeypatch):
    monkeypatch.delenv("DIGITLAB_RAY_ADDRESS", raising=False)
    assert ray_address() is None and type(make_job(TrainSpec(), name="x")) is TrainingJob
    monkeypatch.setenv("DIGITLAB_RAY_ADDRESS", " ray://head:10001 ")
    monkeypatch.setenv("DIGITLAB_RAY_CPUS", "2")
    job = make_job(TrainSpec(), name="x", slots=object())  # not started: nothing connects yet
    assert isinstance(job, RayTrainingJob) and job.address == "ray://head:10001" and job.num_cpus == 2
    assert job.snapshot().state == "waiting" and job.history() == {}


def test_the_queue_and_failures_read_plainly():
    assert describe_wait(2, (8, 0), 1) == ("Waiting for a free CPU on the Ray cluster: all 8 CPUs are busy; "
                                           "2 trainings from this server ahead.")
    assert describe_wait(0, (1, 0), 1).startswith("Waiting for a free CPU on the Ray cluster: its one CPU is busy")
    assert "no CPUs yet" in describe_wait(0, (0, 0), 1)
    assert describe_wait(1, None, 1) == "Waiting for the Ray cluster: 1 training from this server ahead."
    assert "do not have Digit Lab's code" in explain_ray_error(ModuleNotFoundError("No module named 'core'"))
    assert explain_ray_error(ValueError("bad\nmore")) == "Training failed: ValueError: bad"

"""What runs on a Ray worker: `TrainingActor` runs an ordinary local TrainingJob and answers the
app's polls; `WeightKeeper` is its sink, keeping each epoch's weights for the app to copy.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

from core.model.files import write_model_file
from core.model.spec import TrainSpec, spec_to_dict
from core.training.queue import TrainingSlots

if TYPE_CHECKING:  # imports TensorFlow: a worker loads it in `start`, after limiting its threads
    from core.training.local import TrainingJob


class WeightKeeper:
    """The worker's sink: keeps each epoch's weights for the app to copy (only when the app has a sink)."""

    def __init__(self):
        self.latest: tuple[int, list] | None = None  # (epochs done, model.get_weights())

    def started(self, job: TrainingJob) -> None:
        pass

    def epoch_ended(self, job: TrainingJob) -> None:
        assert job.model is not None, "a job's model is built before its first epoch"
        self.latest = (len(job.live.epochs), job.model.get_weights())

    def ended(self, job: TrainingJob) -> None:
        pass


class TrainingActor:
    """Runs one core.training.local.TrainingJob in a Ray worker and answers the app's questions about it.

    A plain class: `actor_class()` makes it a Ray actor. Its methods return at once (the job trains
    in its own thread), so the default one-call-at-a-time actor is enough.
    """

    def __init__(self):
        self.job: TrainingJob | None = None
        self.keeper: WeightKeeper | None = None

    def ping(self) -> str:
        """The worker's host name; answering means the actor has its CPU and is up."""
        return socket.gethostname()

    def start(self, spec: TrainSpec, name: str, keep_weights: bool, threads: int) -> None:
        """Load TensorFlow (limited to the CPUs Ray gave us), then start the training in a thread.

        An idle actor is reused: the next `start` replaces the job that ended.
        """
        import tensorflow as tf  # on the worker only, its threads set just below

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # TensorFlow already ran something in this worker: keep its threads
            pass
        from core.training.local import TrainingJob  # imports TensorFlow: after its threads are set above

        self.keeper = WeightKeeper() if keep_weights else None
        # The keeper reads a TrainingJob's model and live logs; TrainingSink's methods take any BackgroundJob.
        self.job = TrainingJob(spec, slots=TrainingSlots(1), sink=self.keeper,  # type: ignore[arg-type]  # TrainingJobs only
                               name=name).start()

    def progress(self, last_batch: tuple[int, int] | None, epochs_seen: int) -> dict[str, Any]:
        """The job's snapshot, with only the batch logs after `last_batch` ((epoch, batch) of the app's
        newest, None for all) and the epoch logs after the first `epochs_seen`.

        Batch logs are picked by position, not by index: the worker thins its own (core.training.job.ThinnedLog).
        """
        job = self.job
        assert job is not None, "start comes before any poll"
        p = job.snapshot()
        after = tuple(last_batch) if last_batch is not None else (-1, -1)
        return {
            "state": p.state, "message": p.message, "epoch": p.epoch, "batch": p.batch, "steps": p.steps,
            "elapsed": p.elapsed, "started": job.started_at is not None, "save_error": job.save_error,
            "batch_logs": [b for b in p.batch_logs if (b["epoch"], b["batch"]) > after],
            "epoch_logs": p.epoch_logs[epochs_seen:],
        }

    def epoch_weights(self) -> tuple[int, list] | None:
        """(epochs done, the weights after the latest), or None before the first epoch ends."""
        return self.keeper.latest if self.keeper else None

    def stop(self, reason: str) -> None:
        if self.job is not None:
            self.job.stop(reason)

    def result_bytes(self) -> bytes | None:
        """The model as a .keras file (with its spec), or None when nothing was built."""

        job = self.job
        if job is None or job.model is None:
            return None
        return write_model_file(job.model, {"name": job.name, "dataset": job.spec.dataset,
                                            "spec": spec_to_dict(job.spec)})


_ACTOR_CLASS: Any = None


def actor_class() -> Any:
    """TrainingActor as a Ray actor class (made once; Ray is imported only here)."""
    global _ACTOR_CLASS
    if _ACTOR_CLASS is None:
        import ray  # Ray is optional (requirements-ray.txt)

        _ACTOR_CLASS = ray.remote(max_restarts=0, max_task_retries=0)(TrainingActor)
    return _ACTOR_CLASS

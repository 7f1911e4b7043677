"""Trainings on a Ray cluster: core.training.local's job, run by a Ray actor, watched from the app.

With DIGITLAB_RAY_ADDRESS set (`ray://head:10001`, or `auto` on a cluster node), `make_job`
returns a `RayTrainingJob` instead of a `core.training.local.TrainingJob`. It has the same interface as
the pages use it: `start()`, `stop()`, `done`, `state`, `message`, `snapshot()`, `history()`,
`model`, the sink hooks. Inside, a `TrainingActor` on a worker runs an ordinary `TrainingJob`;
a thread in the app process asks it for new batch and epoch logs every half second and keeps them
here, so that the page's `snapshot()` is local and fast. The trained model comes back as `.keras`
bytes and is loaded with core.model.files's vetting (uncompiled, as an uploaded model is).

Each training asks Ray for one CPU: how many run at once is the cluster's capacity, and the server's
own slots (core.training.queue.SLOTS) are not used. A training that finds no free CPU waits, as
"waiting", with a message that says so. The sink's hooks run in the app process: `started` when the
worker's model is built, `epoch_ended` when a poll finds new epochs (once per poll, with `model`
holding the latest epoch's weights, copied from the worker only when there is a sink), `ended` at
the end.

This module imports neither Ray nor TensorFlow at import time: the app imports it whatever runs
its trainings, and a Ray worker imports it to create the actor, which then answers at once (the
queue display tells "waiting for a CPU" from "loading TensorFlow" by that).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from core.i18n import N_, message_of
from core.i18n import message as make_message
from core.model.files import load_model_file
from core.model.spec import TrainSpec
from core.training.job import ENDED, STOPPED_BY_YOU, BackgroundJob, JobState, ThinnedLog
from core.training.ray.actor import actor_class
from core.training.ray.capacity import CPU_COUNTS, IDLE_ACTORS, RAY_QUEUE, describe_wait
from core.training.ray.connection import RayUnavailable, connect, explain_ray_error, get, kill

if TYPE_CHECKING:
    from core.training.job import TrainingSink
    from core.training.local import Progress


POLL_SECONDS = 0.5  # how often the app asks a running actor for its progress


MAX_MODEL_BYTES = 1 << 30  # a trained model's .keras file (5M weights with Adam's slots: ~60 MB)


class RayTrainingJob(BackgroundJob):
    """One training on the Ray cluster, with core.training.local.TrainingJob's interface. Create, `start()`, poll."""

    thread_name = "digitlab-ray-training"

    def __init__(self, spec: TrainSpec, is_alive: Callable[[], bool] | None = None,
                 sink: TrainingSink | None = None, name: str = "", address: str | None = None,
                 num_cpus: float = 1.0, slots: Any = None):
        super().__init__(spec, is_alive, sink, name)
        self.address = address  # None: the Ray instance this process is already connected to
        self.num_cpus = num_cpus  # asked of Ray per training; `slots` is accepted and unused (the cluster queues)
        self.message = make_message(N_("Waiting for the Ray cluster…"))
        self.model: Any = None  # keras.Model: each epoch's weights with a sink; the trained model at the end
        self.sweep: str | None = None  # the sweep's tag when the job is a sweep's member
        self.node = ""  # the worker's host name, once it runs
        self._lock = threading.Lock()
        self._batches = ThinnedLog()  # the worker's batch logs, thinned here too past DIGITLAB_MAX_BATCH_POINTS
        self._epochs: list[dict] = []
        self._epoch = 0  # 0-based, as LiveHistory's
        self._batch = 0
        self._elapsed = 0.0  # the worker's elapsed seconds at the last poll
        self._polled_at = time.monotonic()

    def start(self) -> RayTrainingJob:
        """Join this server's line for the cluster (QueueFull when it is full: nothing starts), then start."""
        RAY_QUEUE.join(self)
        return super().start()

    def stop(self, reason: str = STOPPED_BY_YOU) -> None:
        super().stop(reason)
        if self.state == JobState.WAITING:
            RAY_QUEUE.leave(self)  # a waiting training leaves the line at once

    def place_in_line(self) -> int | None:
        return RAY_QUEUE.ahead_of(self) + 1 if self.state == JobState.WAITING and RAY_QUEUE.holds(self) else None

    def release(self) -> None:
        """Let go of the model and the batch logs (it has left its board)."""
        self.model = None
        with self._lock:
            self._batches.clear()

    def run(self) -> None:
        """The thread's body: connect, find a worker, follow its training, bring the model back. Never raises."""
        actor, healthy = None, False
        state, message = JobState.FAILED, ""
        try:
            connect(self.address)
            actor = self.find_actor()
            if actor is not None:
                RAY_QUEUE.leave(self)
                self.state, self.message = JobState.LOADING, make_message(N_("Loading on {node}…"), node=self.node)
                threads = max(1, int(self.num_cpus))
                started = actor.start.remote(self.spec, self.name, self.sink is not None, threads)
                if self.wait_for(started, lambda: None):
                    get(started)  # raises what went wrong in the worker
                    state, message = self.follow(actor)
                    self.bring_back(actor)
                    healthy = True
            if self._stop.is_set() and not self.started_at:
                state, message = JobState.STOPPED, self.stop_reason
        except RayUnavailable as error:
            message = message_of(error)  # its Message: the page translates it
        except Exception as error:  # anything must reach the page as a message, not kill the thread
            state, message = JobState.FAILED, explain_ray_error(error)
        finally:
            RAY_QUEUE.leave(self)
            if actor is not None and healthy:
                IDLE_ACTORS.put(actor, self.num_cpus, self.node)
            elif actor is not None:
                kill(actor)
            self.finished_at = time.monotonic()
        self.state, self.message = state, message  # after the model and logs are in place
        self.tell_sink("ended")  # `done` only once this returns (the thread's end)
        self.settle()

    def find_actor(self) -> Any:
        """A worker for this training: an idle one, or a new one once the cluster has a CPU; None if stopped first.

        While it waits, the message says why (the queue display), and an actor that another
        training of this server leaves idle is taken by the first in line.
        """
        import ray  # Ray is optional (requirements-ray.txt)

        reused = self.take_idle()
        if reused is not None:
            return reused
        actor = actor_class().options(num_cpus=self.num_cpus).remote()
        ping = actor.ping.remote()
        while not ray.wait([ping], timeout=POLL_SECONDS)[0]:
            reused = None if self.should_stop() else self.take_idle()
            if self.should_stop() or reused is not None:
                kill(actor)  # a pending actor: Ray drops its request for a CPU
                return reused
            self.message = describe_wait(RAY_QUEUE.ahead_of(self), CPU_COUNTS.read(), self.num_cpus)
        try:
            self.node = get(ping)
        except Exception:
            kill(actor)
            raise
        return actor

    def take_idle(self) -> Any:
        """An idle actor that still answers, when this job is first in this server's line; else None."""
        while RAY_QUEUE.ahead_of(self) == 0:
            idle = IDLE_ACTORS.take(self.num_cpus)
            if idle is None:
                return None
            actor, node = idle
            try:
                get(actor.ping.remote())
            except Exception:  # its node left, or the cluster was restarted
                kill(actor)
                continue
            self.node = node
            return actor
        return None

    def wait_for(self, ref: Any, describe: Callable[[], str | None]) -> bool:
        """Wait for an actor call to answer, updating the message; False when stopped first."""
        import ray  # Ray is optional (requirements-ray.txt)

        while not ray.wait([ref], timeout=POLL_SECONDS)[0]:
            if self.should_stop():
                return False
            message = describe()
            if message:
                self.message = message
        return True

    def follow(self, actor: Any) -> tuple[JobState, str]:
        """Poll the actor until its training ends, keeping its logs here; its final (state, message)."""
        told_started, told_epochs, stop_sent = False, 0, False
        while True:
            if self.should_stop() and not stop_sent:
                actor.stop.remote(self.stop_reason)
                stop_sent = True
            with self._lock:
                newest = self._batches.points[-1] if self._batches.points else None
            last = (newest["epoch"], newest["batch"]) if newest is not None else None
            p = get(actor.progress.remote(last, len(self._epochs)))
            self.absorb(p)
            if p["started"] and not told_started:
                told_started = True
                if self.sink is not None:
                    from core.model.network import build_model  # imports TensorFlow: only with a sink

                    self.model = build_model(self.spec)
                self.tell_sink("started")
            if len(self._epochs) > told_epochs and self.sink is not None:
                told_epochs = len(self._epochs)
                latest = get(actor.epoch_weights.remote())
                if latest is not None:
                    self.model.set_weights(latest[1])
                self.tell_sink("epoch_ended")
            if p["state"] in ENDED:
                return p["state"], p["message"]
            self._stop.wait(POLL_SECONDS)  # Stop wakes it at once

    def absorb(self, p: dict[str, Any]) -> None:
        """Add a poll's new logs and position to what the page reads."""
        with self._lock:
            for point in p["batch_logs"]:
                self._batches.append(point)
            self._epochs.extend(p["epoch_logs"])
            self._epoch, self._batch, self.steps = p["epoch"] - 1, p["batch"], p["steps"]
            self._elapsed, self._polled_at = p["elapsed"], time.monotonic()
            if p["started"] and self.started_at is None:
                self.started_at = self._polled_at - p["elapsed"]
            if p["state"] not in ENDED and p["started"]:
                self.state, self.message = JobState.TRAINING, p["message"]  # "" while it trains, as locally
            if p["save_error"]:
                self.save_error = p["save_error"]

    def bring_back(self, actor: Any) -> None:
        """Load the trained model from the worker's .keras bytes (nothing when none was built)."""
        data = get(actor.result_bytes.remote())
        if data is not None:

            self.model = load_model_file(data, MAX_MODEL_BYTES)

    def snapshot(self) -> Progress:
        """The progress as of the last poll (elapsed time moves on between polls)."""
        from core.training.local import Progress  # imports TensorFlow (light path: the app imports this module)

        with self._lock:
            batches, epochs = list(self._batches.points), list(self._epochs)
            epoch, batch, elapsed = self._epoch, self._batch, self._elapsed
            if self.state == JobState.TRAINING:
                elapsed += time.monotonic() - self._polled_at
        total = self.spec.epochs * self.steps
        done = epoch * self.steps + batch
        remaining = elapsed / done * (total - done) if done and not self.ended else None
        return Progress(
            state=self.state, epoch=epoch + 1, epochs=self.spec.epochs, batch=batch, steps=self.steps,
            elapsed=elapsed, remaining=remaining, batch_logs=batches, epoch_logs=epochs, message=self.message,
            place=self.place_in_line(),
        )

    def history(self) -> dict[str, list[float]]:
        """Per-epoch metrics as Keras' History has them: {'loss': [...], 'val_accuracy': [...]}."""
        with self._lock:
            epochs = list(self._epochs)
        keys = [k for k in (epochs[0] if epochs else {}) if k != "epoch"]
        return {k: [float(e[k]) for e in epochs] for k in keys}

    def finish_run(self, run: Any) -> Any:
        """The run as core.training.local.run_of_job made it (nothing to add for a Ray training)."""
        return run

    def epoch_record(self) -> None:
        """The per-epoch validation record stays on the worker: a Ray run carries no learning history yet."""
        return None

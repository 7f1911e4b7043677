"""Trainings on a Ray cluster: core.training's job, run by a Ray actor, watched from the app.

With DIGITLAB_RAY_ADDRESS set (`ray://head:10001`, or `auto` on a cluster node), `make_job`
returns a `RayTrainingJob` instead of a `core.training.TrainingJob`. It has the same interface as
the pages use it: `start()`, `stop()`, `done`, `state`, `message`, `snapshot()`, `history()`,
`model`, the sink hooks. Inside, a `TrainingActor` on a worker runs an ordinary `TrainingJob`;
a thread in the app process asks it for new batch and epoch logs every half second and keeps them
here, so that the page's `snapshot()` is local and fast. The trained model comes back as `.keras`
bytes and is loaded with core.model_io's vetting (uncompiled, as an uploaded model is).

Each training asks Ray for one CPU: how many run at once is the cluster's capacity, and the server's
own slots (core.training.SLOTS) are not used. A training that finds no free CPU waits, as
"waiting", with a message that says so. The sink's hooks run in the app process: `started` when the
worker's model is built, `epoch_ended` when a poll finds new epochs (once per poll, with `model`
holding the latest epoch's weights, copied from the worker only when there is a sink), `ended` at
the end.

This module imports neither Ray nor TensorFlow at import time: the app imports it whatever runs
its trainings, and a Ray worker imports it to create the actor, which then answers at once (the
queue display tells "waiting for a CPU" from "loading TensorFlow" by that).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from core.jobs import ENDED, BackgroundJob, QueueFull, ThinnedLog, queue_full_message
from core.limits import read_limit
from core.spec import TrainSpec, spec_to_dict

if TYPE_CHECKING:
    from core.training import Progress, TrainingJob, TrainingSink

RAY_ADDRESS_ENV = "DIGITLAB_RAY_ADDRESS"
RAY_WORKING_DIR_ENV = "DIGITLAB_RAY_WORKING_DIR"  # a folder to ship to the workers as their code
RAY_CPUS_ENV = "DIGITLAB_RAY_CPUS"  # CPUs per training
POLL_SECONDS = 0.5  # how often the app asks a running actor for its progress
CALL_TIMEOUT = 120.0  # seconds one actor call may take before the cluster counts as unreachable
RESOURCES_TTL = 1.0  # seconds the cluster's CPU counts are reused by all waiting jobs
MAX_MODEL_BYTES = 1 << 30  # a trained model's .keras file (5M weights with Adam's slots: ~60 MB)
IDLE_SECONDS = 15.0  # how long a worker whose training ended waits, TensorFlow loaded, for the next
WORKING_DIR_EXCLUDES = [".git", "tests", "docs", "bench", "**/__pycache__", "*.db", "*.sqlite", ".venv"]


class RayUnavailable(RuntimeError):
    """Ray is not installed, or the cluster cannot be reached; the message says what to do."""


def ray_address() -> str | None:
    """The cluster to train on (DIGITLAB_RAY_ADDRESS), or None: train in the app's own threads."""
    return os.environ.get(RAY_ADDRESS_ENV, "").strip() or None


def ray_runtime_env() -> dict | None:
    """The job's runtime_env: the app's folder shipped to the workers, if DIGITLAB_RAY_WORKING_DIR names it."""
    folder = os.environ.get(RAY_WORKING_DIR_ENV, "").strip()
    return {"working_dir": folder, "excludes": WORKING_DIR_EXCLUDES} if folder else None


_CONNECT_LOCK = threading.Lock()


def connect(address: str | None, runtime_env: dict | None = None) -> None:
    """Connect this process to the Ray cluster at `address`, once; RayUnavailable with a clear message.

    Already connected (or a local instance started, as the tests do): nothing to do. None is only
    that: without a connection it is RayUnavailable. `local` starts a Ray instance in this process.
    """
    try:
        import ray
    except ImportError as error:
        raise RayUnavailable(
            f"{RAY_ADDRESS_ENV} is set, but Ray is not installed here: "
            "pip install -r requirements-ray.txt, or unset it to train on this server."
        ) from error
    with _CONNECT_LOCK:
        if ray.is_initialized():
            return
        if address is None:
            raise RayUnavailable(f"This process is not connected to a Ray cluster: set {RAY_ADDRESS_ENV}.")
        try:
            run_in_lasting_thread(lambda: ray.init(
                address=address, ignore_reinit_error=True, log_to_driver=False,
                runtime_env=runtime_env if runtime_env is not None else ray_runtime_env()))
        except Exception as error:  # ConnectionError, a version mismatch, a bad token: all "cannot reach"
            raise RayUnavailable(
                f"Could not connect to the Ray cluster at {address} "
                f"({RAY_ADDRESS_ENV}): {type(error).__name__}: {first_line(error)}"
            ) from error


def run_in_lasting_thread(call: Callable[[], Any]) -> None:
    """call() in a thread that lives as long as this process; its exception is raised here.

    Why: `ray.init(address="local")` starts Ray's processes (its GCS, its raylet) with Linux's
    PR_SET_PDEATHSIG, which kills them when the *thread* that started them ends, not the process.
    Called from a training's thread (or a script run's), the local instance died with that thread
    and, 60 s later, Ray ended the whole app ("Failed to connect to GCS within 60 seconds").
    """
    done, outcome = threading.Event(), {}

    def host() -> None:
        try:
            call()
        except BaseException as error:  # noqa: BLE001 - handed to the caller; nothing to keep alive
            outcome["error"] = error
            return
        finally:
            done.set()
        threading.Event().wait()  # never set: Ray's processes live while this thread does

    threading.Thread(target=host, name="ray-host", daemon=True).start()
    done.wait()
    if "error" in outcome:
        raise outcome["error"]


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def explain_ray_error(error: BaseException) -> str:
    """A failure of the cluster or the worker as the page says it (not Ray's traceback)."""
    cause = getattr(error, "cause", None) or error  # a RayTaskError carries the worker's exception
    text = str(error)
    if "No module named 'core'" in text or (isinstance(cause, ModuleNotFoundError) and cause.name == "core"):
        return ("The Ray workers do not have Digit Lab's code: install the app on them, or set "
                f"{RAY_WORKING_DIR_ENV} to the app's folder to ship it (see 'Beyond one machine').")
    try:
        from ray.exceptions import GetTimeoutError, RayActorError
    except ImportError:  # pragma: no cover - only without Ray, where no RayTrainingJob runs
        GetTimeoutError = RayActorError = ()  # noqa: N806
    if isinstance(error, RayActorError):
        return ("The Ray worker running this training stopped (its node left the cluster, or it ran "
                f"out of memory): {first_line(error)}")
    if isinstance(error, GetTimeoutError):
        return f"The Ray cluster stopped answering for {CALL_TIMEOUT:g} seconds; the training was abandoned."
    return f"Training failed: {type(cause).__name__}: {first_line(cause)}"


class WeightKeeper:
    """The worker's sink: keeps each epoch's weights for the app to copy (only when the app has a sink)."""

    def __init__(self):
        self.latest: tuple[int, list] | None = None  # (epochs done, model.get_weights())

    def started(self, job: TrainingJob) -> None:
        pass

    def epoch_ended(self, job: TrainingJob) -> None:
        self.latest = (len(job.live.epochs), job.model.get_weights())

    def ended(self, job: TrainingJob) -> None:
        pass


class TrainingActor:
    """Runs one core.training.TrainingJob in a Ray worker and answers the app's questions about it.

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
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # TensorFlow already ran something in this worker: keep its threads
            pass
        from core.training import TrainingJob, TrainingSlots

        self.keeper = WeightKeeper() if keep_weights else None
        self.job = TrainingJob(spec, slots=TrainingSlots(1), sink=self.keeper, name=name).start()

    def progress(self, last_batch: tuple[int, int] | None, epochs_seen: int) -> dict[str, Any]:
        """The job's snapshot, with only the batch logs after `last_batch` ((epoch, batch) of the app's
        newest, None for all) and the epoch logs after the first `epochs_seen`.

        Batch logs are picked by position, not by index: the worker thins its own (core.jobs.ThinnedLog).
        """
        job = self.job
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
        from core.model_io import write_model_file

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
        import ray

        _ACTOR_CLASS = ray.remote(max_restarts=0, max_task_retries=0)(TrainingActor)
    return _ACTOR_CLASS


class CpuCounts:
    """The cluster's CPUs (total, free), asked at most once a second whatever the number of waiting jobs."""

    def __init__(self):
        self._lock = threading.Lock()
        self._at = -RESOURCES_TTL
        self._value: tuple[float, float] | None = None

    def read(self) -> tuple[float, float] | None:
        with self._lock:
            if time.monotonic() - self._at >= RESOURCES_TTL:
                try:
                    import ray

                    self._value = (ray.cluster_resources().get("CPU", 0.0), ray.available_resources().get("CPU", 0.0))
                except Exception:  # the counts only decorate the message
                    self._value = None
                self._at = time.monotonic()
            return self._value


CPU_COUNTS = CpuCounts()


class RayQueue:
    """This server's Ray trainings that wait for a CPU, oldest first (for 'N trainings ahead')."""

    def __init__(self):
        self._jobs: list[RayTrainingJob] = []
        self._lock = threading.Lock()

    def join(self, job: RayTrainingJob) -> None:
        """Join the line; QueueFull past DIGITLAB_MAX_QUEUED, as for this server's own slots."""
        with self._lock:
            if len(self._jobs) >= int(read_limit("max_queued")):
                raise QueueFull(queue_full_message(len(self._jobs)))
            self._jobs.append(job)

    def leave(self, job: RayTrainingJob) -> None:
        with self._lock:
            if job in self._jobs:
                self._jobs.remove(job)

    def holds(self, job: RayTrainingJob) -> bool:
        with self._lock:
            return job in self._jobs

    def ahead_of(self, job: RayTrainingJob) -> int:
        with self._lock:
            return self._jobs.index(job) if job in self._jobs else 0


RAY_QUEUE = RayQueue()


class IdleActors:
    """Actors whose training ended, kept IDLE_SECONDS with TensorFlow loaded (and their CPU) for the next one.

    A sweep's members and a visitor's next training skip the seconds a new worker takes to import
    TensorFlow. An idle actor holds its CPU: other servers sharing the cluster wait at most that long.
    """

    def __init__(self):
        self._idle: list[tuple[Any, float, str]] = []  # (actor, num_cpus, node)
        self._lock = threading.Lock()

    def put(self, actor: Any, num_cpus: float, node: str) -> None:
        with self._lock:
            self._idle.append((actor, num_cpus, node))
        timer = threading.Timer(IDLE_SECONDS, self.expire, args=(actor,))
        timer.daemon = True
        timer.start()

    def take(self, num_cpus: float) -> tuple[Any, str] | None:
        """(actor, node) of an idle actor holding `num_cpus`, no longer idle; None if there is none."""
        with self._lock:
            for i, (actor, cpus, node) in enumerate(self._idle):
                if cpus == num_cpus:
                    del self._idle[i]
                    return actor, node
        return None

    def expire(self, actor: Any) -> None:
        """End `actor` if it is still idle."""
        with self._lock:
            idle = [entry for entry in self._idle if entry[0] is actor]
            self._idle = [entry for entry in self._idle if entry[0] is not actor]
        if idle:
            kill(actor)

    def clear(self) -> None:
        """End every idle actor (before ray.shutdown, say)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for actor, _, _ in idle:
            kill(actor)


IDLE_ACTORS = IdleActors()


def describe_wait(ahead: int, cpus: tuple[float, float] | None, wanted: float) -> str:
    """The queue display of a training that has no CPU on the cluster yet."""
    trainings = f"{ahead} training{'s' if ahead != 1 else ''} from this server ahead"
    if cpus is None:
        return f"Waiting for the Ray cluster: {trainings}."
    total, free = cpus
    if total <= 0:
        return "Waiting for the Ray cluster: it has no CPUs yet (a worker node may still be starting)."
    if free >= wanted:
        return "Starting a worker on the Ray cluster…"
    busy = "its one CPU is busy" if total == 1 else f"all {total:g} CPUs are busy"
    return f"Waiting for a free CPU on the Ray cluster: {busy}; {trainings}."


class RayTrainingJob(BackgroundJob):
    """One training on the Ray cluster, with core.training.TrainingJob's interface. Create, `start()`, poll."""

    thread_name = "digitlab-ray-training"

    def __init__(self, spec: TrainSpec, is_alive: Callable[[], bool] | None = None,
                 sink: TrainingSink | None = None, name: str = "", address: str | None = None,
                 num_cpus: float = 1.0, slots: Any = None):
        super().__init__(spec, is_alive, sink, name)
        self.address = address  # None: the Ray instance this process is already connected to
        self.num_cpus = num_cpus  # asked of Ray per training; `slots` is accepted and unused (the cluster queues)
        self.message = "Waiting for the Ray cluster…"
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

    def stop(self, reason: str = "Stopped by you.") -> None:
        super().stop(reason)
        if self.state == "waiting":
            RAY_QUEUE.leave(self)  # a waiting training leaves the line at once

    def place_in_line(self) -> int | None:
        return RAY_QUEUE.ahead_of(self) + 1 if self.state == "waiting" and RAY_QUEUE.holds(self) else None

    def release(self) -> None:
        """Let go of the model and the batch logs (it has left its board)."""
        self.model = None
        with self._lock:
            self._batches.clear()

    def run(self) -> None:
        """The thread's body: connect, find a worker, follow its training, bring the model back. Never raises."""
        actor, healthy = None, False
        state, message = "failed", ""
        try:
            connect(self.address)
            actor = self.find_actor()
            if actor is not None:
                RAY_QUEUE.leave(self)
                self.state, self.message = "loading", f"Loading on {self.node}…"
                threads = max(1, int(self.num_cpus))
                started = actor.start.remote(self.spec, self.name, self.sink is not None, threads)
                if self.wait_for(started, lambda: None):
                    get(started)  # raises what went wrong in the worker
                    state, message = self.follow(actor)
                    self.bring_back(actor)
                    healthy = True
            if self._stop.is_set() and not self.started_at:
                state, message = "stopped", self.stop_reason
        except RayUnavailable as error:
            message = str(error)
        except Exception as error:  # anything must reach the page as a message, not kill the thread
            state, message = "failed", explain_ray_error(error)
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
        import ray

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
        import ray

        while not ray.wait([ref], timeout=POLL_SECONDS)[0]:
            if self.should_stop():
                return False
            message = describe()
            if message:
                self.message = message
        return True

    def follow(self, actor: Any) -> tuple[str, str]:
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
                    from core.network import build_model

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
                self.state, self.message = "training", p["message"]  # "" while it trains, as locally
            if p["save_error"]:
                self.save_error = p["save_error"]

    def bring_back(self, actor: Any) -> None:
        """Load the trained model from the worker's .keras bytes (nothing when none was built)."""
        data = get(actor.result_bytes.remote())
        if data is not None:
            from core.model_io import load_model_file

            self.model = load_model_file(data, MAX_MODEL_BYTES)

    def snapshot(self) -> Progress:
        """The progress as of the last poll (elapsed time moves on between polls)."""
        from core.training import Progress

        with self._lock:
            batches, epochs = list(self._batches.points), list(self._epochs)
            epoch, batch, elapsed = self._epoch, self._batch, self._elapsed
            if self.state == "training":
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
        """The run as core.training.run_of_job made it (nothing to add for a Ray training)."""
        return run

    def epoch_record(self) -> None:
        """The per-epoch validation record stays on the worker: a Ray run carries no learning history yet."""
        return None


def get(ref: Any) -> Any:
    """ray.get with the module's timeout: a cluster that stops answering fails the job, never hangs it."""
    import ray

    return ray.get(ref, timeout=CALL_TIMEOUT)


def kill(actor: Any) -> None:
    """End an actor and give its CPU back; an actor already gone is fine."""
    try:
        import ray

        ray.kill(actor, no_restart=True)
    except Exception:
        pass


def make_job(spec: TrainSpec, **kwargs: Any) -> TrainingJob | RayTrainingJob:
    """A training job, not started: on the Ray cluster when DIGITLAB_RAY_ADDRESS is set, else in this process.

    `kwargs` are TrainingJob's (is_alive, sink, name, slots); a Ray job ignores `slots`.
    """
    address = ray_address()
    if address is None:
        from core.training import TrainingJob

        return TrainingJob(spec, **kwargs)
    return RayTrainingJob(spec, address=address, num_cpus=ray_cpus(), **kwargs)


def ray_cpus() -> float:
    """CPUs each training asks of the cluster (DIGITLAB_RAY_CPUS, default 1): its TensorFlow threads too."""
    try:
        return max(1.0, float(os.environ.get(RAY_CPUS_ENV, "1")))
    except ValueError:
        return 1.0

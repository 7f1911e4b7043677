"""What every background training shares, wherever it trains (core.training.local's threads or
core.training.ray.job's cluster): start, Stop, stopping on its own once no tab of its lab is open,
`ended` and `done`, and telling its sink. Subclasses write `run`, the thread's body.

Also what a job's states are (`JobState`), what a sweep needs of any job (`Job`), where a job's
work is kept (`TrainingSink`), and the batch logs' thinning (`ThinnedLog`). The server's line for
slots is core.training.queue; the boards that hold each lab's jobs are core.server.board.

No TensorFlow here: a Ray-only server imports this without it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Protocol, Self

from core.i18n import message
from core.limits import read_limit
from core.model.spec import TrainSpec, validate_spec

ALIVE_CHECK_SECONDS = 2.0  # how often a job asks whether a tab of its lab is still open


class JobState(StrEnum):
    """A job's state. A str: compares equal to, and is saved as, its plain name ("finished")."""

    WAITING = "waiting"  # in the server's line (or the cluster's) for a slot
    LOADING = "loading"  # reading the data, building the model
    TRAINING = "training"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"


ENDED = (JobState.FINISHED, JobState.STOPPED, JobState.FAILED)
NOBODY_LOOKING = message("No tab of this lab was open any more, so the training stopped on its own; "
                         "the work so far is kept.")
STOPPED_BY_YOU = message("Stopped by you.")


class BackgroundJob:
    """One training in a background thread: create, `start()`, poll, `stop()`; the sink keeps the run."""

    thread_name = "digitlab-training"

    def __init__(self, spec: TrainSpec, is_alive: Callable[[], bool] | None = None, sink: Any = None,
                 name: str = ""):
        self.spec = validate_spec(spec)
        self.is_alive = is_alive  # False once no tab of its lab is open (ui.lab.lab_open_check): it stops itself
        self.sink = sink  # core.training.job.TrainingSink, or None: nothing is saved
        self.name = name  # the run's name; "" lets make_run name it after its id
        self.state = JobState.WAITING
        self.message = ""
        self.save_error = ""  # why the sink could not keep the work, for the page to say
        self.run_id: int | None = None  # the run this job fills, once the sink has made it
        self.steps = 0
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.stop_reason = ""
        self.collected = False  # True once the finished job has been turned into a run
        # True once the job has ended AND its sink has kept the run: only then may a page read it back
        # (between the two, the store still holds the running run of the last epoch).
        self.settled = False
        self.settled_at: float | None = None  # time.monotonic() when it settled
        self.discarded = False  # True once taken off its board for good: its memory goes when it settles
        self._stop = threading.Event()
        self._last_alive_check = 0.0
        self._thread = threading.Thread(target=self.run, name=self.thread_name, daemon=True)

    def run(self) -> None:
        """The thread's body; sets `state` to an ENDED one and `settled` at the end. Never raises."""
        raise NotImplementedError

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self, reason: str = STOPPED_BY_YOU) -> None:
        """Ask the job to end at its next batch; pressing Stop twice is harmless."""
        if not self._stop.is_set():
            self.stop_reason = reason
            self._stop.set()

    def should_stop(self) -> bool:
        """True when Stop was pressed, or (asked every ALIVE_CHECK_SECONDS) no tab of its lab is open."""
        now = time.monotonic()
        if self.is_alive is not None and now - self._last_alive_check > ALIVE_CHECK_SECONDS:
            self._last_alive_check = now
            if not self.is_alive():
                self.stop(NOBODY_LOOKING)
        return self._stop.is_set()

    @property
    def ended(self) -> bool:
        """True once training is over (finished, stopped or failed), even while the sink still saves."""
        return self.state in ENDED

    @property
    def done(self) -> bool:
        """True once it ended and its thread is over (the sink has kept what it made)."""
        return self.ended and not self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def tell_sink(self, event: str) -> None:
        """Let the sink keep the work so far; its failure is a message, never the training's end."""
        sink = self.sink  # read once: `discard` may take it away meanwhile
        if sink is None:
            return
        try:
            getattr(sink, event)(self)
        except Exception as error:  # a full disk must not stop a training: the page says so
            self.save_error = str(error)

    def settle(self) -> None:
        """The end of `run`: the sink has kept what it could. A discarded job lets go of its memory now."""
        self.settled_at = time.monotonic()
        self.settled = True
        if self.discarded:
            self.release()

    def place_in_line(self) -> int | None:
        """1 for the next training to get a slot, 2 for the one after...; None when not waiting."""
        return None

    def watched(self) -> bool:
        """True while a tab of its lab may still show it (unknown outside a real server: True)."""
        if self.is_alive is None:
            return True
        try:
            return bool(self.is_alive())
        except Exception:  # a liveness check that fails cannot keep a job's memory for ever
            return False

    def release(self) -> None:
        """Let go of what the job holds that weighs (subclasses: the model, images, batch logs)."""

    def discard(self, reason: str, keep_run: bool = True) -> None:
        """Stop it and let go of its memory once it has ended (it is off its board for good).

        `keep_run=False` (its lab or run is deleted): the sink writes nothing more, so no row is
        written under an id that is not this job's any more.
        """
        if not keep_run:
            self.sink = None
        self.discarded = True
        self.stop(reason)
        if self.settled:
            self.release()  # release is idempotent: `settle` may do it too


class ThinnedLog:
    """Points (a training's batch logs) kept at most `bound` at a time, evenly spaced, the newest always last.

    Past the bound, every other point goes and later points are kept one in `stride` (doubled
    each time): the live curve keeps its shape over a million batches with a few thousand dicts.
    Not thread-safe: its owner holds a lock.
    """

    def __init__(self, bound: int | None = None):
        self.bound = max(4, int(bound if bound is not None else read_limit("batch_points")))
        self.points: list[dict] = []
        self.counts: list[int] = []  # the 1-based number of each kept point among all appended
        self.stride = 1
        self.count = 0

    def append(self, point: dict) -> None:
        self.count += 1
        if self.counts and self.counts[-1] % self.stride:  # the newest was kept only as the newest
            self.points[-1], self.counts[-1] = point, self.count
        else:
            self.points.append(point)
            self.counts.append(self.count)
        if len(self.points) > self.bound:
            self.halve()

    def halve(self) -> None:
        """Keep the points on the doubled stride, and the newest."""
        self.stride *= 2
        kept = [i for i, n in enumerate(self.counts) if n % self.stride == 0]
        if not kept or kept[-1] != len(self.counts) - 1:
            kept.append(len(self.counts) - 1)
        self.points = [self.points[i] for i in kept]
        self.counts = [self.counts[i] for i in kept]

    def clear(self) -> None:
        self.points, self.counts = [], []


class TrainingSink(Protocol):
    """Where a job's work is kept as it goes (a database, say). Called from the training thread."""

    def started(self, job: BackgroundJob) -> None: ...  # the model is built; no epoch has run
    def epoch_ended(self, job: BackgroundJob) -> None: ...  # job.model holds the epoch's weights
    def ended(self, job: BackgroundJob) -> None: ...  # finished, stopped or failed: job.state says


class Job(Protocol):
    """What a sweep (and a page) needs of a training: a local TrainingJob and a RayTrainingJob both are one."""

    spec: TrainSpec
    name: str
    state: JobState
    message: str
    run_id: int | None
    collected: bool
    settled: bool
    settled_at: float | None

    def start(self) -> Any: ...  # QueueFull when the server's line is full
    def stop(self, reason: str = ...) -> None: ...
    def watched(self) -> bool: ...
    def release(self) -> None: ...
    def discard(self, reason: str, keep_run: bool = ...) -> None: ...
    @property
    def done(self) -> bool: ...
    def snapshot(self) -> Any: ...  # core.training.local.Progress
    def history(self) -> dict[str, list[float]]: ...

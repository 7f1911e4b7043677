"""The cluster's capacity as the app sees it: its CPU counts (asked at most once a second), the
app's own line of Ray trainings waiting for a CPU, and the idle actors kept warm for the next.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from core.i18n import Message, Number, message
from core.limits import read_limit
from core.training.queue import QueueFull, queue_full_message
from core.training.ray.connection import kill

if TYPE_CHECKING:  # the job imports this module
    from core.training.ray.job import RayTrainingJob

RESOURCES_TTL = 1.0  # seconds the cluster's CPU counts are reused by all waiting jobs


IDLE_SECONDS = 15.0  # how long a worker whose training ended waits, TensorFlow loaded, for the next


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
                    import ray  # Ray is optional (requirements-ray.txt)

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


def describe_wait(ahead: int, cpus: tuple[float, float] | None, wanted: float) -> Message:
    """The queue display of a training that has no CPU on the cluster yet (a Message: the page translates it)."""
    if ahead == 1:  # one and many as whole sentences: each language has its own plural
        trainings = message("1 training from this server ahead")
    else:
        trainings = message("{ahead} trainings from this server ahead", ahead=Number(ahead))
    if cpus is None:
        return message("Waiting for the Ray cluster: {trainings}.", trainings=trainings)
    total, free = cpus
    if total <= 0:
        return message("Waiting for the Ray cluster: it has no CPUs yet (a worker node may still be starting).")
    if free >= wanted:
        return message("Starting a worker on the Ray cluster…")
    if total == 1:
        busy = message("its one CPU is busy")
    else:
        busy = message("all {total} CPUs are busy", total=Number(total))
    return message("Waiting for a free CPU on the Ray cluster: {busy}; {trainings}.", busy=busy, trainings=trainings)

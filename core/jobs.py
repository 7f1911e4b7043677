"""What every background training shares, wherever it trains (core.training's threads or
core.ray_training's cluster): start, Stop, stopping on its own once no tab of its lab is open,
`ended` and `done`, and telling its sink. Subclasses write `run`, the thread's body.

Also the server's line for training slots (`TrainingSlots`: first come, first served tickets,
bounded server-wide), the boards that hold each lab's training and sweep (`JOBS`, `SWEEPS`: a
reloaded tab finds its job there; an ended job leaves once no tab watches it, and lets go of its
model and logs), and the batch logs' thinning (`ThinnedLog`).

No TensorFlow here: a Ray-only server imports this without it.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from core.limits import read_limit
from core.spec import TrainSpec, validate_spec

MALLOC_ARENAS = 2  # glibc's heaps for the server's threads (its default: 8 per core, see limit_malloc_arenas)
ALIVE_CHECK_SECONDS = 2.0  # how often a job asks whether a tab of its lab is still open
ENDED = ("finished", "stopped", "failed")
NOBODY_LOOKING = "No tab of this lab was open any more, so the training stopped on its own; the work so far is kept."


class BackgroundJob:
    """One training in a background thread: create, `start()`, poll, `stop()`; the sink keeps the run."""

    thread_name = "digitlab-training"

    def __init__(self, spec: TrainSpec, is_alive: Callable[[], bool] | None = None, sink: Any = None,
                 name: str = ""):
        self.spec = validate_spec(spec)
        self.is_alive = is_alive  # False once no tab of its lab is open (ui.lab.lab_open_check): it stops itself
        self.sink = sink  # core.training.TrainingSink, or None: nothing is saved
        self.name = name  # the run's name; "" lets make_run name it after its id
        self.state = "waiting"  # waiting | loading | training | finished | stopped | failed
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

    def start(self) -> BackgroundJob:
        self._thread.start()
        return self

    def stop(self, reason: str = "Stopped by you.") -> None:
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


def _libc() -> ctypes.CDLL | None:
    """glibc, or None elsewhere (macOS, musl, Windows): then the two calls below do nothing."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> None:
    """Let glibc keep at most `arenas` heaps for all threads (unless MALLOC_ARENA_MAX says otherwise).

    Why: every training runs in a new thread, and glibc gives busy threads heaps of their own (up
    to 8 per core) that keep what a training freed: measured with bench/job_memory.py, half of what
    a finished training left behind (16 MB of MNIST's 2 epochs on 2,000 images) was such heaps.
    """
    libc = _libc()
    if libc is not None and not os.environ.get("MALLOC_ARENA_MAX"):
        libc.mallopt(-8, arenas)  # M_ARENA_MAX


def return_freed_memory() -> None:
    """Collect Python's garbage (a model is a web of cycles), then hand freed heap pages back to the system."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


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


class QueueFull(RuntimeError):
    """The server's line for training slots is full; the message says so in plain words."""


def queue_full_message(waiting: int) -> str:
    return (f"The server is busy: {waiting} trainings are already waiting for a free slot. "
            "Try again in a few minutes.")


class TrainingSlots:
    """The server's training slots and the line for them: first come, first served.

    `take_ticket()` joins the line (QueueFull past `max_waiting`, DIGITLAB_MAX_QUEUED by default);
    `acquire(ticket)` waits until that ticket is first in line and a slot is free; a cancelled
    ticket leaves the line at once (`cancel`), and the next one moves up.
    """

    def __init__(self, limit: int, max_waiting: int | None = None):
        self.limit = limit
        self.max_waiting = max_waiting  # None: read DIGITLAB_MAX_QUEUED at each ticket
        self.running = 0
        self._line: list[int] = []  # tickets waiting, first in line first
        self._next_ticket = 0
        self._cond = threading.Condition()

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._line)

    def take_ticket(self) -> int:
        """A place at the end of the line; QueueFull when the line is full."""
        bound = self.max_waiting if self.max_waiting is not None else int(read_limit("max_queued"))
        with self._cond:
            if len(self._line) >= bound:
                raise QueueFull(queue_full_message(len(self._line)))
            self._next_ticket += 1
            self._line.append(self._next_ticket)
            return self._next_ticket

    def acquire(self, cancelled: Callable[[], bool], poll: float = 0.2, ticket: int | None = None) -> bool:
        """Wait until `ticket` (a new one if None) is first in line and a slot is free; False if cancelled first."""
        if ticket is None:
            ticket = self.take_ticket()
        with self._cond:
            while not (self._line and self._line[0] == ticket and self.running < self.limit):
                if ticket not in self._line:
                    return False  # cancelled by `cancel`
                if cancelled():
                    self._leave(ticket)
                    return False
                self._cond.wait(poll)
            self._line.pop(0)
            self.running += 1
            self._cond.notify_all()  # the next in line may have a free slot too
            return True

    def cancel(self, ticket: int | None) -> None:
        """Take `ticket` out of the line (a stopped training); nothing if it is not waiting."""
        with self._cond:
            self._leave(ticket)

    def _leave(self, ticket: int | None) -> None:
        if ticket in self._line:
            self._line.remove(ticket)
            self._cond.notify_all()

    def place(self, ticket: int | None) -> int | None:
        """1-based place of `ticket` in line; None when it is not waiting."""
        with self._cond:
            return self._line.index(ticket) + 1 if ticket in self._line else None

    def release(self) -> None:
        with self._cond:
            self.running -= 1
            self._cond.notify_all()


# -- the boards ------------------------------------------------------------------------------

_BOARDS_LOCK = threading.RLock()  # one for every board: a claim checks a lab's training and sweep together
REAP_SECONDS = 1.0  # a board looks for jobs to let go at most this often (from get and claim)
REAP_HOOKS: list[Callable[[], None]] = []  # also run then (core.persistence retries saves that failed)


class Board:
    """The server's trainings (or sweeps) by owner ("lab:12", or "tab:<session id>"): one each, the latest.

    An item is a BackgroundJob or a core.sweeps.Sweep: it has `settled`, `settled_at`, `watched()`,
    `release()` and `discard(reason, keep_run)`. An ended item leaves the board (and lets go of
    its model, images and batch logs) once no tab of its lab watches it, or `job_keep_seconds`
    after it settled whatever the tabs do (`reap`).
    """

    def __init__(self, name: str = "board"):
        self.name = name
        self._items: dict[str, Any] = {}
        self._reaped_at = 0.0

    def get(self, owner: str) -> Any:
        self.maybe_reap()
        with _BOARDS_LOCK:
            return self._items.get(owner)

    def put(self, owner: str, item: Any) -> None:
        """Place `item` under `owner`, whatever was there (see `claim` for a start)."""
        with _BOARDS_LOCK:
            old = self._items.get(owner)
            self._items[owner] = item
        if old is not None and old is not item:
            old.discard("Replaced by a newer training.")

    def claim(self, owner: str, item: Any, others: tuple[Board, ...] = ()) -> Any:
        """Place `item` under `owner` unless a training of that owner is running here or on `others`.

        One atomic check-and-set: of two tabs that start at once, one wins, and the other gets
        the item that runs (compare with `is item`). An ended item it replaces lets go of its memory.
        """
        self.maybe_reap()
        with _BOARDS_LOCK:
            for board in (self, *others):
                current = board._items.get(owner)
                if current is not None and not current.settled:
                    return current
            old = self._items.get(owner)
            self._items[owner] = item
        if old is not None:
            old.discard("Replaced by a newer training.")
        return item

    def drop(self, owner: str, item: Any = None) -> Any:
        """Take what `owner` has off the board (only if it is `item`, when given); what was taken, or None."""
        with _BOARDS_LOCK:
            current = self._items.get(owner)
            if current is None or (item is not None and current is not item):
                return None
            del self._items[owner]
            return current

    def items(self) -> list[tuple[str, Any]]:
        with _BOARDS_LOCK:
            return list(self._items.items())

    def maybe_reap(self) -> None:
        now = time.monotonic()
        if now - self._reaped_at >= REAP_SECONDS:
            self._reaped_at = now
            self.reap(now)

    def reap(self, now: float | None = None) -> list[str]:
        """Let go of the ended items no tab watches, or that ended `job_keep_seconds` ago; their owners."""
        now = time.monotonic() if now is None else now
        keep = read_limit("job_keep_seconds")
        gone = []
        for owner, item in self.items():
            if not item.settled:
                continue
            if now - (item.settled_at or now) > keep or not item.watched():
                if self.drop(owner, item) is not None:
                    item.discard("It ended.")  # already ended: this only releases it
                    gone.append(owner)
        if gone:
            return_freed_memory()  # a page run pays ~0.1 s, once per training that leaves
        for hook in list(REAP_HOOKS):
            try:
                hook()
            except Exception:  # a hook's failure must not break a page's board lookup
                pass
        return gone


JOBS = Board("trainings")  # each lab's (or lab-less tab's) single training or fine-tuning
SWEEPS = Board("sweeps")  # each lab's sweep (core.sweeps.Sweep)
LAB_LEFT = "This lab was left for a new one, so its training stopped; the work so far is kept in it."
LAB_DELETED = "This lab was deleted, so its training stopped."


def lab_owner(lab_id: int) -> str:
    """A lab's key on the boards."""
    return f"lab:{lab_id}"


def stop_lab_jobs(lab_id: int, reason: str = LAB_LEFT, keep_runs: bool = True) -> int:
    """Stop the lab's training and sweep and take them off the boards; how many there were.

    Call it when a tab leaves a lab for a new one (`keep_runs`: what they trained so far is saved
    in it) or deletes it (`keep_runs=False`: their sinks write nothing more, so a lab or run
    that gets the same id later never receives them).
    """
    owner, stopped = lab_owner(lab_id), 0
    for board in (JOBS, SWEEPS):
        item = board.drop(owner)
        if item is not None:
            item.discard(reason, keep_run=keep_runs)
            stopped += 1
    return stopped


def stop_run_job(lab_id: int, run_id: int, reason: str = "Its run was deleted.") -> bool:
    """Stop the job (a training or a sweep's member) of the lab that fills run `run_id`, writing nothing more.

    Call it before deleting a running run. True when there was one.
    """
    owner = lab_owner(lab_id)
    job = JOBS.get(owner)
    members = [job] if job is not None else []
    sweep = SWEEPS.get(owner)
    members += [member.job for member in getattr(sweep, "members", [])]
    found = [member for member in members if member.run_id == run_id]
    for member in found:
        member.sink = None
        member.stop(reason)
    return bool(found)

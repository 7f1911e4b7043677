"""The boards that hold each lab's training and sweep (`JOBS`, `SWEEPS`): a reloaded tab finds its
job there; an ended job leaves once no tab watches it, and lets go of its model and logs.

One generic `Board` serves both. No TensorFlow here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from core.limits import read_limit
from core.storage.sink import retry_pending_saves
from core.training.memory import return_freed_memory

_BOARDS_LOCK = threading.RLock()  # one for every board: a claim checks a lab's training and sweep together
REAP_SECONDS = 1.0  # a board looks for jobs to let go at most this often (from get and claim)
# Also run then: the sink retries the final saves that failed (a busy or full database).
REAP_HOOKS: list[Callable[[], object]] = [retry_pending_saves]  # what they return is not read


class Board:
    """The server's trainings (or sweeps) by owner ("lab:12", or "tab:<session id>"): one each, the latest.

    An item is a BackgroundJob or a core.training.sweeps.Sweep: it has `settled`, `settled_at`, `watched()`,
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
SWEEPS = Board("sweeps")  # each lab's sweep (core.training.sweeps.Sweep)
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

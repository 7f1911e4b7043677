"""What every background training shares, wherever it trains (core.training's threads or
core.ray_training's cluster): start, Stop, stopping on its own once no tab of its lab is open,
`ended` and `done`, and telling its sink. Subclasses write `run`, the thread's body.

No TensorFlow here: a Ray-only server imports this without it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from core.spec import TrainSpec, validate_spec

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
        if self.sink is None:
            return
        try:
            getattr(self.sink, event)(self)
        except Exception as error:  # a full disk must not stop a training: the page says so
            self.save_error = str(error)

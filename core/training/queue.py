"""The server's line for training slots (`TrainingSlots`: first come, first served tickets,
bounded server-wide by DIGITLAB_MAX_QUEUED) and the process's one line, `SLOTS`.

No TensorFlow here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from core.i18n import message
from core.limits import LIMITS, read_limit


class QueueFull(RuntimeError):
    """The server's line for training slots is full; the message says so in plain words."""


def queue_full_message(waiting: int) -> str:
    return message("The server is busy: {waiting} trainings are already waiting for a free slot. "
                   "Try again in a few minutes.", waiting=waiting)


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


MAX_TRAININGS_ENV = LIMITS["max_trainings"].env


def read_max_trainings() -> int:
    """The server-wide cap on simultaneous trainings (DIGITLAB_MAX_TRAININGS, default 2).

    Two fits Community Cloud's share of 2 CPU cores: a third would only slow the other two.
    """
    return max(1, int(read_limit("max_trainings")))


SLOTS = TrainingSlots(read_max_trainings())  # process-wide: one server, one cap, one line

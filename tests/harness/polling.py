"""Deadline polling: every wait in the tests ends, with what it waited for, instead of hanging."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

INTERVAL = 0.01  # seconds between looks: short, since what is awaited is usually a thread of this process


def poll_until(condition: Callable[[], Any], timeout: float = 30.0, what: str = "the condition",
               interval: float = INTERVAL) -> Any:
    """Call condition() until it returns something truthy, and return that; AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(interval)
    return value


def wait_for_job(job, timeout: float = 60.0):
    """Join a training job (local, Ray, fine-tuning) for at most `timeout` s; assert it ended; its snapshot."""
    job.join(timeout)
    assert job.done, job.snapshot()
    return job.snapshot()

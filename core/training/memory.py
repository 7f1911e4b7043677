"""The server's memory between trainings: glibc's heaps capped for training threads, and freed
memory handed back to the system when a job leaves its board.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys

MALLOC_ARENAS = 2  # glibc's heaps for the server's threads (its default: 8 per core, see limit_malloc_arenas)


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

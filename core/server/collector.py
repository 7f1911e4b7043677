"""The server's full garbage collections: one thread, at most one every COLLECT_SECONDS.

Streamlit can run a full `gc.collect(2)` after every script and fragment run (`runner.postScriptGC`).
With thirty visitors each holding a trained network (Keras layers, traced TensorFlow functions:
objects the warm-up's freeze does not cover), it ran after every page and fragment run of every
visitor: in `bench.classroom`, 85% of the server's Python time was in it and the class stalled.
The app turns it off (`.streamlit/config.toml`); Python's own generational collector still runs as
in any program, and this thread adds one full collection every COLLECT_SECONDS so that the cycles of a
closed tab's networks are freed soon after it goes. At exit, one last collection runs while
TensorFlow is still whole: its objects freed during interpreter teardown can abort the process.
No Streamlit here.
"""

from __future__ import annotations

import atexit
import gc
import threading

COLLECT_SECONDS = 20.0  # even at 0.2 s a collection (TensorFlow unfrozen, bench.gc_pause): 1% of a core
THREAD_NAME = "digitlab-collector"

_started = False
_lock = threading.Lock()
_stop = threading.Event()


def collect_periodically(interval: float, stop: threading.Event) -> None:
    """Run a full collection every `interval` seconds until `stop` is set."""
    while not stop.wait(interval):
        gc.collect()


def start_collector(interval: float = COLLECT_SECONDS) -> bool:
    """Start the collecting thread once per process; True if this call started it."""
    global _started
    with _lock:
        if _started:
            return False
        _started = True
    threading.Thread(target=collect_periodically, args=(interval, _stop), name=THREAD_NAME, daemon=True).start()
    atexit.register(collect_at_exit)
    return True


def collect_at_exit() -> None:
    """Stop the thread, then collect once more while every module is still importable."""
    _stop.set()
    gc.collect()

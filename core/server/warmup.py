"""What a server does once, in one background thread, after its first home page is drawn.

1. MODEL: import TensorFlow, load the bundled model and trace its fast forward pass, so the first
   reading of a drawing takes milliseconds instead of the seconds TensorFlow's import costs.
2. EXPLANATIONS: trace "Why this answer"'s gradients on that model (the Draw page's first stroke's cost).
3. PICTURES: train the Digits preset and draw the home page's pictures (core.server.showcase).

The home page starts the thread (`start_after_page`) only once it has drawn everything, so no
page ever waits for TensorFlow to be drawn; a page that needs the model before it is ready waits
for it visibly (`MODEL.get`), and starts the thread itself if nobody has. Both tasks are
process-wide and made once: no visitor's data is in them. No Streamlit here.

DIGITLAB_WARMUP=0 keeps the home page from starting anything: then nothing runs in the
background until a page needs the model (for tests that check what the home page imports).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from core.data.datasets import get_info
from core.data.drawing import predict_drawing
from core.model.default_model import DEFAULT_MODEL_INFO, load_default_model

WARMUP_ENV = "DIGITLAB_WARMUP"
THREAD_NAME = "digitlab-warmup"
PICTURES_NICENESS = 10  # the pictures' training yields the CPU to visitors (Linux: per thread)


class Task:
    """A piece of work done at most once (by whichever thread gets to it first); others wait for it."""

    def __init__(self, name: str, work: Callable[[], Any]):
        self.name = name
        self._work = work
        self._claimed = False
        self._lock = threading.Lock()
        self._done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.seconds: float | None = None  # how long the work took

    @property
    def ready(self) -> bool:
        """True once the work has ended, well or not."""
        return self._done.is_set()

    @property
    def started(self) -> bool:
        return self._claimed

    def run(self) -> None:
        """Do the work here unless another thread does or did it (then wait for that)."""
        with self._lock:
            claimed, self._claimed = not self._claimed, True
        if not claimed:
            self._done.wait()
            return
        start = time.perf_counter()
        try:
            self.result = self._work()
        except Exception as error:  # noqa: BLE001 -- kept, and raised to whoever asks for the result
            self.error = error
        finally:
            self.seconds = time.perf_counter() - start
            self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def get(self, timeout: float | None = None) -> Any:
        """The result, starting the warm-up if nobody has; raises the work's error, or TimeoutError."""
        start()
        if not self._done.wait(timeout):
            raise TimeoutError(f"{self.name} is not ready after {timeout:.0f} s")
        if self.error is not None:
            raise self.error
        return self.result


def load_and_trace() -> Any:
    """The bundled model, loaded, with its fast forward pass traced (the first reading's cost)."""
    import numpy as np

    model = load_default_model()
    predict_drawing(model, np.zeros(get_info(DEFAULT_MODEL_INFO["dataset"]).image_shape, np.float32))
    freeze_long_lived()
    return model


def trace_explanations() -> None:
    """Trace the bundled model's integrated gradients once (about 1 s), so a first drawing is explained at once."""
    import numpy as np

    from core.analysis.explain.attribution import explain

    model = MODEL.get()
    explain(model, np.zeros(get_info(DEFAULT_MODEL_INFO["dataset"]).image_shape, np.float32), 0)


_frozen = threading.Event()


def freeze_long_lived() -> None:
    """Once TensorFlow is imported, move every object made so far out of the garbage collector's sight.

    With TensorFlow's and Keras' ~350,000 long-lived objects a full collection (core.server.collector's, every
    20 s) took about 0.2 s (`python -m bench.gc_pause`). Frozen (`gc.freeze`), they are skipped; what
    pages make afterwards is collected as before. Once per process, and only once TensorFlow is in:
    what is frozen stays.
    """
    import gc
    import sys

    if _frozen.is_set() or "tensorflow" not in sys.modules:
        return
    _frozen.set()
    gc.collect()  # the garbage so far goes first: frozen garbage would never be freed
    gc.freeze()


def make_pictures() -> Any:
    """The home page's pictures, at a lower CPU priority than the visitors' pages."""
    from core.server.showcase import make_showcase  # imports TensorFlow: in the warm-up thread only, never the page

    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PICTURES_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: just slower pages meanwhile
        pass
    return make_showcase()


MODEL = Task("the bundled model", load_and_trace)
EXPLANATIONS = Task("the bundled model's explanations", trace_explanations)
PICTURES = Task("the home page's pictures", make_pictures)
TASKS = (MODEL, EXPLANATIONS, PICTURES)  # in this order: the first reading matters most, then its explanation
_thread: threading.Thread | None = None
_thread_lock = threading.Lock()


def warm_up() -> None:
    for task in TASKS:
        task.run()


def start() -> None:
    """Start the warm-up thread (once per process); returns at once."""
    global _thread
    with _thread_lock:
        if _thread is None:
            _thread = threading.Thread(target=warm_up, name=THREAD_NAME, daemon=True)
            _thread.start()


def enabled() -> bool:
    return os.environ.get(WARMUP_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def start_after_page() -> None:
    """What the home page calls when it has drawn everything: start the warm-up unless disabled."""
    if enabled():
        start()

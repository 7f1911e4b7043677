"""The server's garbage collection: Streamlit's after-every-run collection off, one thread collecting instead."""

import gc
import subprocess
import sys
import threading
import weakref
from pathlib import Path

from streamlit import config

from core.server import collector
from tests.harness.polling import poll_until

ROOT = Path(__file__).resolve().parents[3]


class Node:
    """Something in a reference cycle: only the cycle collector frees it."""

    def __init__(self):
        self.me = self


def test_the_app_turns_off_streamlits_collection_after_every_run():
    config.get_config_options(force_reparse=True)  # .streamlit/config.toml of the repo (pytest runs here)
    assert config.get_option("runner.postScriptGC") is False


def test_the_thread_frees_cycles_without_help(monkeypatch):
    was_enabled = gc.isenabled()
    gc.disable()  # Python's own collector would free the cycle too: only the thread may here
    stop = threading.Event()
    thread = threading.Thread(target=collector.collect_periodically, args=(0.05, stop), daemon=True)
    try:
        node = Node()
        freed = weakref.ref(node)
        del node
        assert freed() is not None  # a cycle: reference counting alone does not free it
        thread.start()
        poll_until(lambda: freed() is None, 10, "the collector to free the cycle", 0.05)
    finally:
        stop.set()
        thread.join(5)
        if was_enabled:
            gc.enable()
    assert not thread.is_alive()


START_SCRIPT = """
import threading
from core.server import collector
assert collector.start_collector(0.05) is True
assert collector.start_collector(0.05) is False  # once per process
assert sum(t.name == collector.THREAD_NAME for t in threading.enumerate()) == 1
import tensorflow as tf  # noqa: F401 -- the exit must stay clean with TensorFlow's objects about
print("ok")
"""


def test_the_thread_starts_once_per_process_and_the_process_exits_cleanly():
    done = subprocess.run([sys.executable, "-c", START_SCRIPT], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.split()[-1] == "ok", done.stderr[-2000:]

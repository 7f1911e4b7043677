"""Housekeeping off the page runs: one daemon thread per database removes stale labs, unreferenced blob bytes,
and classes whose board was not opened for DIGITLAB_CLASS_DAYS (with their memberships; the labs stay).

Before, a visitor's page run did it (one unbounded DELETE); now the server's thread does, every
HOUSEKEEP_SECONDS, in batches of HOUSEKEEP_BATCH per transaction (Store.housekeep), so a visitor's
save waits for one batch at most. A database that fails is tried again at the next pass. The app
starts it where it opens its store (ui.lab.shared_store). No Streamlit here.
"""

from __future__ import annotations

import threading

from core.storage.engine import StoreError
from core.storage.store import HOUSEKEEP_SECONDS, Store

THREAD_NAME = "digitlab-housekeeper"

_lock = threading.Lock()
_started: set[str] = set()  # database URLs (str() hides the password) with a thread in this process


def housekeep_periodically(store: Store, interval: float, stop: threading.Event) -> None:
    """store.housekeep() now and then every `interval` seconds, until `stop` is set."""
    while not stop.is_set():
        try:
            store.housekeep()
            store.classes.remove_stale_classes()
        except StoreError:
            pass  # the database is busy or away: the next pass tries again
        if stop.wait(interval):
            return


def start_housekeeper(store: Store, interval: float = HOUSEKEEP_SECONDS,
                      stop: threading.Event | None = None) -> bool:
    """Start the housekeeping thread of `store`'s database once per process; True if this call started it."""
    key = str(store.engine.url)
    with _lock:
        if key in _started:
            return False
        _started.add(key)
    threading.Thread(target=housekeep_periodically, args=(store, interval, stop or threading.Event()),
                     name=THREAD_NAME, daemon=True).start()
    return True

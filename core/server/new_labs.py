"""How many new labs a browser session and a client address started in the last hour (no Streamlit).

A lab is free to make, and every limit of the store is per lab, so new labs themselves are
bounded: DIGITLAB_MAX_NEW_LABS_PER_HOUR per browser session, and
DIGITLAB_MAX_NEW_LABS_PER_HOUR_PER_ADDRESS per client address (core.storage.store's table of limits).
Behind some proxies the address is unknown (None): then only the session's bound applies.
Counts live in this process only; a restart forgets them.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from core.i18n import Number, message
from core.limits import NEW_LABS_ADDRESS_ENV, NEW_LABS_ENV, max_new_labs_per_address, max_new_labs_per_session

WINDOW_SECONDS = 3600.0
MAX_KEYS = 100_000  # sessions and addresses remembered at most: past it the oldest are forgotten


class NewLabCounter:
    """Times of the new labs per key ("session:<id>", "address:<ip>") within the last hour. Thread-safe."""

    def __init__(self, window: float = WINDOW_SECONDS, max_keys: int = MAX_KEYS):
        self.window, self.max_keys = window, max_keys
        self._times: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def count(self, key: str, now: float | None = None) -> int:
        """New labs of `key` within the window before `now`."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return len(self._recent(key, now))

    def claim(self, limits: dict[str, int], now: float | None = None) -> str | None:
        """Count one new lab for every key of `limits` unless one has its limit already: that key, else None."""
        now = time.monotonic() if now is None else now
        with self._lock:  # checked and counted at once: two sessions of one address cannot both pass the last one
            for key, limit in limits.items():
                if len(self._recent(key, now)) >= limit:
                    return key
            for key in limits:
                times = self._recent(key, now)
                times.append(now)
                self._times[key] = times
            while len(self._times) > self.max_keys:
                del self._times[next(iter(self._times))]  # the key least recently used
        return None

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._times.pop(key, None) or deque()  # popped: re-added last, so the dict stays in use order
        while times and times[0] <= now - self.window:
            times.popleft()
        if times:
            self._times[key] = times
        return times


def limits_of(session_id: str, address: str | None) -> dict[str, int]:
    """The counter's keys for this session (and address, when known) with their hourly limits."""
    limits = {f"session:{session_id}": max_new_labs_per_session()}
    if address:
        limits[f"address:{address}"] = max_new_labs_per_address()
    return limits


def refusal_message(key: str, limit: int) -> str:
    """What a visitor reads when `key` has started `limit` new labs this hour."""
    if key.startswith("session:"):
        return message("This browser tab has started {limit} new labs in the last hour, the most it may "
                       "({setting}). Keep working in your lab, or try again later.",
                       limit=Number(limit), setting=NEW_LABS_ENV)
    return message("{limit} new labs have been started from your network in the last hour, the most it may "
                   "({setting}). Keep working in your lab, or try again later.",
                   limit=Number(limit), setting=NEW_LABS_ADDRESS_ENV)


def new_lab_refusal(counter: NewLabCounter, session_id: str, address: str | None,
                    now: float | None = None) -> str | None:
    """Why this session may not start a new lab now, in plain words; None when it may (nothing is counted)."""
    for key, limit in limits_of(session_id, address).items():
        if counter.count(key, now) >= limit:
            return refusal_message(key, limit)
    return None


def claim_new_lab(counter: NewLabCounter, session_id: str, address: str | None,
                  now: float | None = None) -> str | None:
    """Count a new lab for this session and address; None, or why not in plain words (then nothing is counted)."""
    limits = limits_of(session_id, address)
    refused = counter.claim(limits, now)
    return None if refused is None else refusal_message(refused, limits[refused])

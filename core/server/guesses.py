"""Wrong class codes and teacher links per browser session and per client address, per minute; new
classes per session, per hour (no Streamlit).

A class code has about 29 bits: cheap to guess without a bound. A session or address that sent
`code_guesses` (or `code_guesses_address`) wrong ones within a minute is refused before anything
is looked up, with the same words whether the next try would be right or not. Counts live in this
process only, in core.server.new_labs' NewLabCounter (a sliding window per key).
"""

from __future__ import annotations

from core.i18n import message
from core.limits import LIMITS, read_limit
from core.server.new_labs import NewLabCounter

GUESS_WINDOW_SECONDS = 60.0
NEW_CLASS_WINDOW_SECONDS = 3600.0
WRONG_GUESSES = NewLabCounter(window=GUESS_WINDOW_SECONDS)
NEW_CLASSES = NewLabCounter(window=NEW_CLASS_WINDOW_SECONDS)
TOO_MANY_GUESSES = message("Too many wrong codes or links from here in the last minute: wait a minute, then check "
                           "the code with your teacher and type it again.")
TOO_MANY_CLASSES = message("This browser tab has started the most classes it may in an hour ({setting}). Use a "
                           "class you started, or try again later.", setting=LIMITS["new_classes"].env)


def guess_limits(session_id: str, address: str | None) -> dict[str, int]:
    """The counter's keys for this session (and address, when known) with their per-minute bounds."""
    limits = {f"session:{session_id}": int(read_limit("code_guesses"))}
    if address:
        limits[f"address:{address}"] = int(read_limit("code_guesses_address"))
    return limits


def guessing_refusal(session_id: str, address: str | None, counter: NewLabCounter | None = None,
                     now: float | None = None) -> str | None:
    """TOO_MANY_GUESSES when this session or address may not try another code now; None when it may."""
    counter = counter or WRONG_GUESSES  # read at each call: tests give the server a fresh one
    for key, limit in guess_limits(session_id, address).items():
        if counter.count(key, now) >= limit:
            return TOO_MANY_GUESSES
    return None


def count_wrong_guess(session_id: str, address: str | None, counter: NewLabCounter | None = None,
                      now: float | None = None) -> None:
    """Count one wrong code or teacher link for this session and address."""
    counter = counter or WRONG_GUESSES
    for key in guess_limits(session_id, address):
        counter.claim({key: 1 << 30}, now)  # counted whatever the others hold


def claim_new_class(session_id: str, counter: NewLabCounter | None = None, now: float | None = None) -> str | None:
    """Count a new class for this session; None, or TOO_MANY_CLASSES (then nothing is counted)."""
    refused = (counter or NEW_CLASSES).claim({f"session:{session_id}": int(read_limit("new_classes"))}, now)
    return None if refused is None else TOO_MANY_CLASSES

"""Which process trains a run ('host:pid:boot id'), and whether it is gone: a running run whose
process is gone was interrupted.
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

STALE_SECONDS = 120  # a running row of another host with no heartbeat for this long is dead


HOST = socket.gethostname()
# Made once per process: tells this process from an earlier one that had the same pid (a
# restarted container often gives the server the same pid again).
BOOT_ID = uuid.uuid4().hex


def process_owner() -> str:
    """'host:pid:boot id' of this process, written on the runs it trains."""
    return f"{HOST}:{os.getpid()}:{BOOT_ID}"


def is_pid_alive(pid: int) -> bool:
    """True when a process `pid` exists on this host (and is not a zombie)."""
    if pid <= 0:
        return False
    if os.name == "nt":
        return True  # os.kill(pid, 0) would send Ctrl-C on Windows: rely on the heartbeat there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    try:
        # A killed process that its parent has not reaped yet still takes signal 0.
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def is_owner_gone(owner: str | None, heartbeat_at: float | None, now: float) -> bool:
    """True when the process that was training a run cannot be training it any more.

    On this host: it is this process (same pid and boot id: still training), an earlier process
    with this pid (gone), or another process (gone when its pid is dead, else judged by its
    heartbeat, since the pid may have been reused). Another host's process is judged by its
    heartbeat alone: silent for more than STALE_SECONDS means gone. Assumes one pid namespace
    per host name, as containers have.
    """
    stale = heartbeat_at is None or now - heartbeat_at > STALE_SECONDS
    parts = (owner or "").rsplit(":", 2)
    if len(parts) != 3 or parts[0] != HOST or not parts[1].isdigit():
        return stale
    pid, boot_id = int(parts[1]), parts[2]
    if pid == os.getpid():
        return boot_id != BOOT_ID
    return stale or not is_pid_alive(pid)

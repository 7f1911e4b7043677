"""The browser session's shared state: runs, the current model, the training job.

Everything lives under plain `st.session_state` keys (widget values are deleted when the user
leaves a page; these are not). Nothing here is process-wide: each browser tab has its own.
TensorFlow is not imported here, so the home page stays fast.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.runs import Run

RUNS = "runs"  # list[Run], oldest first
CURRENT = "current_run_id"  # int | None
JOB = "training_job"  # core.training.TrainingJob | None
COUNTER = "run_counter"  # last run id handed out
SETTINGS = "train_settings"  # the Train page's widget values, kept across pages


def get_runs() -> list[Run]:
    return st.session_state.setdefault(RUNS, [])


def find_run(run_id: int | None) -> Run | None:
    return next((r for r in get_runs() if r.run_id == run_id), None)


def current_run() -> Run | None:
    """The session's current model: the last finished run unless the user picked another."""
    return find_run(st.session_state.get(CURRENT))


def set_current(run_id: int) -> None:
    st.session_state[CURRENT] = run_id


def next_run_id() -> int:
    st.session_state[COUNTER] = st.session_state.get(COUNTER, 0) + 1
    return st.session_state[COUNTER]


def add_run(run: Run, make_current: bool = True) -> None:
    get_runs().append(run)
    if make_current:
        set_current(run.run_id)


def get_job() -> Any:
    """The session's training job (running or just ended), or None."""
    return st.session_state.get(JOB)


def set_job(job: Any) -> None:
    st.session_state[JOB] = job


def collect_finished_job() -> Run | None:
    """Turn a job that ended into a run (once), whichever page the user is on; else None."""
    job = get_job()
    if job is None or not job.done or job.collected:
        return None
    from core.training import collect_run  # imports TensorFlow: only once a job exists

    run = collect_run(job, next_run_id())
    if run is not None:
        add_run(run)
    return run


def session_is_alive_check() -> Any:
    """A callable the training thread can ask: is this browser tab still connected?

    Streamlit marks a session inactive when its websocket closes. Two misses in a row are
    needed, so a brief network blip does not end a training. None outside a real server.
    """
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not runtime.exists():
        return None
    instance, session_id = runtime.get_instance(), ctx.session_id
    misses = [0]

    def is_alive() -> bool:
        misses[0] = 0 if instance.is_active_session(session_id) else misses[0] + 1
        return misses[0] < 2

    return is_alive

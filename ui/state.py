"""This tab's view of its lab: the runs, the current model, the training job.

With a lab (ui/lab.py) the runs live in the store and every page run brings this tab's list up
to date (`sync_runs`), so a reload, another tab or a restarted server shows the same runs. Models
are loaded from the store only when a page needs one, then kept on the tab's Run objects. The
training job lives on the server's board (core.server.board.JOBS) under its lab, so a reloaded tab
finds it again (until it has ended and no tab watches it). Without a store the runs stay in this
tab, as plain session state.
TensorFlow is not imported here, so the home page stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from core.model.files import ModelFileError
from core.model.run import Run
from core.server.board import JOBS, SWEEPS, lab_owner, stop_run_job
from core.storage import sink as persistence
from core.storage.engine import StoreError
from core.training.queue import QueueFull
from ui import lab as labs

RUNS = "runs"  # list[Run], oldest first
CURRENT = "current_run_id"  # int | None
JOB = "training_job"  # the job this tab last saw (a mirror of the board's, for the tests)
COUNTER = "run_counter"  # last id handed out to a run that is not in the store
SETTINGS = "train_settings"  # the Train page's widget values, kept across pages
SOURCES = "model_sources"  # {run id: (blob names, fetch(name) -> bytes)}: where a run's model is
SAVE_ERROR = "save_error"  # what could not be saved, for the page to say once
LAB_BUSY = "A training of this lab is running already (started in another tab?): it is shown below."
LAB_BUSY_SWEEP = "A sweep is running in this lab: stop it, or let it end, before starting a single training."


def get_runs() -> list[Run]:
    return st.session_state.setdefault(RUNS, [])


def usable_runs() -> list[Run]:
    """The runs that have a model to evaluate or draw with (not training, not failed)."""
    return [r for r in get_runs() if r.usable]


def find_run(run_id: int | None) -> Run | None:
    return next((r for r in get_runs() if r.run_id == run_id), None)


def current_run() -> Run | None:
    """The current model: the lab's choice, else the newest usable run."""
    return find_run(st.session_state.get(CURRENT))


def set_current(run_id: int) -> None:
    st.session_state[CURRENT] = run_id
    lab, store = st.session_state.get(labs.LAB), labs.get_store()
    if lab is not None and store is not None and find_run(run_id) is not None and run_id > 0:
        try:
            store.set_current_run(lab.lab_id, run_id)
        except StoreError as error:
            st.session_state[SAVE_ERROR] = f"Your choice of model could not be saved: {error}"


def next_run_id() -> int:
    """An id for a run kept only in this tab (negative: store ids are positive)."""
    st.session_state[COUNTER] = st.session_state.get(COUNTER, 0) - 1
    return st.session_state[COUNTER]


def forget_lab_state() -> None:
    """A new lab (or none) for this tab: the runs, the current model and the model choice start afresh."""
    for key in (CURRENT, SOURCES, "picked_model", "picked_with_current", "evaluation_cache"):
        st.session_state.pop(key, None)
    st.session_state[RUNS] = [r for r in get_runs() if r.source == "shared"]


def sync_runs() -> None:
    """Bring this tab's runs up to date with its lab's; loaded models are kept."""
    lab, store = st.session_state.get(labs.LAB), labs.get_store()
    if lab is None or store is None:
        return
    try:
        records, chosen = store.list_runs(lab.lab_id), store.current_run(lab.lab_id)
    except StoreError as error:
        st.session_state[SAVE_ERROR] = f"Your lab's runs could not be read: {error}"
        return
    known = {r.run_id: r for r in get_runs()}
    sources = st.session_state.setdefault(SOURCES, {})
    runs = []
    for record in records:
        run = persistence.run_of_record(record)
        before = known.get(run.run_id)
        if before is not None and before.state == run.state:
            run.model = before.model  # already loaded, and still the same weights
            if run.state != "running":  # a running run's history grows at every epoch
                run.epoch_predictions = before.epoch_predictions
        sources[run.run_id] = (record.blob_names, lambda name, run_id=run.run_id: store.load_blob(
            run_id, lab.lab_id, name))
        runs.append(run)
    runs += [r for r in get_runs() if r.source == "shared"]  # viewed through a share link, not the lab's
    st.session_state[RUNS] = runs
    usable = [r.run_id for r in runs if r.usable and r.source != "shared"]
    if st.session_state.get(CURRENT) not in usable or chosen != st.session_state.get(CURRENT):
        st.session_state[CURRENT] = chosen if chosen in usable else (usable[-1] if usable else None)


def load_model(run: Run) -> Any:
    """The run's model, loaded from the store the first time; ModelFileError when it cannot be."""
    if run.model is None:
        blob_names, fetch = st.session_state.get(SOURCES, {}).get(run.run_id, ((), None))
        if fetch is None:
            raise ModelFileError(f"{run.name} has no model to load.")
        run.model = persistence.load_model(run, blob_names, fetch)
    return run.model


def load_epoch_record(run: Run) -> Any:
    """The run's learning history (core.analysis.history.EpochRecord), read from the store the first time; None
    when it has none (uploaded and bundled models). ValueError when its saved copy is damaged."""
    if run.epoch_predictions is None:
        blob_names, fetch = st.session_state.get(SOURCES, {}).get(run.run_id, ((), None))
        run.epoch_predictions = persistence.load_epoch_record(run, blob_names, fetch)
    return run.epoch_predictions


def add_shared_run(run: Run, blob_names: tuple[str, ...], fetch: Callable[[str], bytes]) -> Run:
    """A run seen through a share link joins this tab's runs (not the lab's), read-only."""
    existing = next((r for r in get_runs() if r.source == "shared" and r.name == run.name), None)
    if existing is not None:
        return existing
    run.run_id, run.source = next_run_id(), "shared"
    st.session_state.setdefault(SOURCES, {})[run.run_id] = (blob_names, fetch)
    get_runs().append(run)
    return run


def add_run(run: Run, make_current: bool = True, model_file: bytes | None = None) -> bool:
    """Keep a new run (an upload, or a training without a store): in the lab when there is one.

    `model_file` is what the store keeps of its model (by default the model saved as .keras).
    False, with the reason in SAVE_ERROR, when the lab cannot take it (full, or the store failed).
    """
    lab, store = labs.ensure_lab(), labs.get_store()
    if lab is not None and store is not None:
        try:
            data = model_file if model_file is not None else persistence.model_bytes(run)
            blobs = {persistence.MODEL_BLOB: data, **persistence.record_blobs(run.epoch_predictions)}
            run.run_id = store.save_run(lab.lab_id, persistence.record_of(run), blobs)
        except StoreError as error:
            st.session_state[SAVE_ERROR] = str(error)
            return False
        st.session_state.setdefault(SOURCES, {})[run.run_id] = (tuple(blobs), None)
    get_runs().append(run)
    if make_current:
        set_current(run.run_id)
    return True


def save_fields(run: Run, **fields: Any) -> None:
    """Change a run's fields (its dataset, say) here and in the lab."""
    for name, value in fields.items():
        setattr(run, name, value)
    lab, store = st.session_state.get(labs.LAB), labs.get_store()
    if lab is not None and store is not None and run.run_id > 0:
        try:
            store.update_run(run.run_id, lab.lab_id, **fields)
        except StoreError as error:
            st.session_state[SAVE_ERROR] = f"{run.name} could not be saved: {error}"


def delete_run(run: Run) -> None:
    """Delete a run from the lab (and this tab); a run still training stops first, and writes nothing more."""
    lab, store = st.session_state.get(labs.LAB), labs.get_store()
    if lab is not None and store is not None and run.run_id > 0:
        stop_run_job(lab.lab_id, run.run_id)
        try:
            store.delete_run(run.run_id, lab.lab_id)
        except StoreError as error:
            st.session_state[SAVE_ERROR] = f"{run.name} could not be deleted: {error}"
            return
    st.session_state[RUNS] = [r for r in get_runs() if r is not run]
    if st.session_state.get(CURRENT) == run.run_id:
        usable = usable_runs()
        st.session_state[CURRENT] = usable[-1].run_id if usable else None


def job_owner() -> str:
    """Whose trainings these are on the server's boards: the lab's, else this tab's."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    lab = st.session_state.get(labs.LAB)
    if lab is not None:
        return lab_owner(lab.lab_id)
    ctx = get_script_run_ctx()
    return f"tab:{ctx.session_id if ctx else 'none'}"


def get_job() -> Any:
    """The lab's training job (running or just ended), or None."""
    job = JOBS.get(job_owner())
    st.session_state[JOB] = job
    return job


def start_job(job: Any) -> str | None:
    """Put `job` on the lab's board and start it; why not (a plain message), or None when it started.

    One training or sweep per lab at a time: of two tabs that start at once, one wins (the board's
    claim is atomic) and the other is told. A full server line (QueueFull) starts nothing.
    """
    owner = job_owner()
    placed = JOBS.claim(owner, job, others=(SWEEPS,))
    if placed is not job:
        st.session_state[JOB] = JOBS.get(owner)
        return LAB_BUSY_SWEEP if SWEEPS.get(owner) is placed else LAB_BUSY
    try:
        job.start()
    except QueueFull as error:
        JOBS.drop(owner, job)
        return str(error)
    st.session_state[JOB] = job
    return None


def set_job(job: Any) -> None:
    """Put a job (started or not) on the lab's board, whatever is there (the tests' way in)."""
    JOBS.put(job_owner(), job)
    st.session_state[JOB] = job


def collect_finished_job() -> None:
    """Take in a job that ended (once), whichever page the user is on."""
    job = get_job()
    if job is None or not job.settled or job.collected:
        return  # running, or done but its run not saved yet
    if job.sink is not None:  # the sink saved it: read it back like any run of the lab
        job.collected = True
        sync_runs()
        return
    from core.training.local import collect_run  # imports TensorFlow: only once a job exists

    run = collect_run(job, next_run_id())
    if run is not None:
        get_runs().append(run)
        st.session_state[CURRENT] = run.run_id

"""This tab's view of its lab: the runs, the current model, the training job.

With a lab (ui/lab.py) the runs live in the store and every page run brings this tab's list up
to date (`sync_runs`), so a reload, another tab or a restarted server shows the same runs. Models
are loaded from the store only when a page needs one, then kept on the tab's Run objects. The
training job lives on the server's board (core.server.board.JOBS) under its lab, so a reloaded tab
finds it again (until it has ended and no tab watches it). Without a store the runs stay in this
tab, as plain session state (its keys are ui.session's). Every job of a lab (a training, a sweep, a
fine-tuning) starts through `start_lab_job`: sink, open-tab check and the board's claim in one place.
TensorFlow is not imported here, so the home page stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.i18n import N_, message, message_of
from core.model.files import ModelFileError
from core.model.run import Run
from core.server.board import JOBS, SWEEPS, lab_owner, stop_run_job
from core.storage import sink as persistence
from core.storage.engine import StoreError
from core.storage.sink import StoreSink
from core.storage.store import Store
from core.training.queue import QueueFull
from ui import lab as labs
from ui import session
from ui.session import CURRENT, JOB, RUNS, SAVE_ERROR, SOURCES

LAB_BUSY = N_("A training of this lab is running already (started in another tab?): it is shown below.")
LAB_BUSY_SWEEP = N_("A sweep is running in this lab: stop it, or let it end, before starting a single training.")
SWEEP_ALREADY = N_("This lab's sweep is running (started in another tab?): it is shown below.")
TRAINING_RUNNING = N_("A training is running in this lab: stop it, or let it end, before starting a sweep.")


def ensure_lab() -> labs.Lab | None:
    """This tab's lab, made now if it has none; None when nothing can be saved (no store, or refused)."""
    lab, store = labs.current_lab(), labs.get_store()
    if lab is not None or store is None:
        return lab
    kept = [r for r in get_runs() if r.source != "shared"]  # made while nothing could be saved
    lab = labs.open_new_lab(store)
    if lab is not None:
        for run in kept:  # nothing is lost: they move into the new lab
            add_run(run, make_current=False)
    return lab


def get_runs() -> list[Run]:
    return RUNS.ensure()


def usable_runs() -> list[Run]:
    """The runs that have a model to evaluate or draw with (not training, not failed)."""
    return [r for r in get_runs() if r.usable]


def find_run(run_id: int | None) -> Run | None:
    return next((r for r in get_runs() if r.run_id == run_id), None)


def current_run() -> Run | None:
    """The current model: the lab's choice, else the newest usable run."""
    return find_run(CURRENT.get())


def set_current(run_id: int) -> None:
    CURRENT.set(run_id)
    lab, store = session.LAB.get(), labs.get_store()
    if lab is not None and store is not None and find_run(run_id) is not None and run_id > 0:
        try:
            store.set_current_run(lab.lab_id, run_id)
        except StoreError as error:
            SAVE_ERROR.set(message("Your choice of model could not be saved: {error}", error=message_of(error)))


def next_run_id() -> int:
    """An id for a run kept only in this tab (negative: store ids are positive)."""
    return session.COUNTER.set(session.COUNTER.get() - 1)


def sync_runs() -> None:
    """Bring this tab's runs up to date with its lab's; loaded models are kept."""
    lab, store = session.LAB.get(), labs.get_store()
    if lab is None or store is None:
        return
    try:
        records, chosen = store.list_runs(lab.lab_id), store.current_run(lab.lab_id)
    except StoreError as error:
        SAVE_ERROR.set(message("Your lab's runs could not be read: {error}", error=message_of(error)))
        return
    known = {r.run_id: r for r in get_runs()}
    sources = SOURCES.ensure()
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
    RUNS.set(runs)
    usable = [r.run_id for r in runs if r.usable and r.source != "shared"]
    if CURRENT.get() not in usable or chosen != CURRENT.get():
        CURRENT.set(chosen if chosen in usable else (usable[-1] if usable else None))


def load_model(run: Run) -> Any:
    """The run's model, loaded from the store the first time; ModelFileError when it cannot be."""
    return model_loader(run)()


def model_loader(run: Run) -> Callable[[], Any]:
    """What loads the run's model later (as load_model), its source read now, in the page's run.

    A download button's deferred data runs in another thread, without this tab's session state:
    read there, the run's source is missing and the model "has no model to load".
    """
    blob_names, fetch = SOURCES.get({}).get(run.run_id, ((), None))

    def load() -> Any:
        if run.model is None:
            if fetch is None:
                raise ModelFileError(message("{name} has no model to load.", name=run.name))
            run.model = persistence.load_model(run, blob_names, fetch)
        return run.model

    return load


def load_epoch_record(run: Run) -> Any:
    """The run's learning history (core.analysis.history.EpochRecord), read from the store the first time; None
    when it has none (uploaded and bundled models). ValueError when its saved copy is damaged."""
    if run.epoch_predictions is None:
        blob_names, fetch = SOURCES.get({}).get(run.run_id, ((), None))
        run.epoch_predictions = persistence.load_epoch_record(run, blob_names, fetch)
    return run.epoch_predictions


def add_shared_run(run: Run, blob_names: tuple[str, ...], fetch: Callable[[str], bytes]) -> Run:
    """A run seen through a share link joins this tab's runs (not the lab's), read-only."""
    existing = next((r for r in get_runs() if r.source == "shared" and r.name == run.name), None)
    if existing is not None:
        return existing
    run.run_id, run.source = next_run_id(), "shared"
    SOURCES.ensure()[run.run_id] = (blob_names, fetch)
    get_runs().append(run)
    return run


def add_run(run: Run, make_current: bool = True, model_file: bytes | None = None) -> bool:
    """Keep a new run (an upload, or a training without a store): in the lab when there is one.

    `model_file` is what the store keeps of its model (by default the model saved as .keras).
    False, with the reason in SAVE_ERROR, when the lab cannot take it (full, or the store failed).
    """
    lab, store = ensure_lab(), labs.get_store()
    if lab is not None and store is not None:
        try:
            data = model_file if model_file is not None else persistence.model_bytes(run)
            blobs = {persistence.MODEL_BLOB: data, **persistence.record_blobs(run.epoch_predictions)}
            run.run_id = store.save_run(lab.lab_id, persistence.record_of(run), blobs)
        except StoreError as error:
            SAVE_ERROR.set(message_of(error))
            return False
        SOURCES.ensure()[run.run_id] = (tuple(blobs), None)
    get_runs().append(run)
    if make_current:
        set_current(run.run_id)
    return True


def save_fields(run: Run, **fields: Any) -> None:
    """Change a run's fields (its dataset, say) here and in the lab."""
    for name, value in fields.items():
        setattr(run, name, value)
    lab, store = session.LAB.get(), labs.get_store()
    if lab is not None and store is not None and run.run_id > 0:
        try:
            store.update_run(run.run_id, lab.lab_id, **fields)
        except StoreError as error:
            SAVE_ERROR.set(message("{name} could not be saved: {error}", name=run.name, error=message_of(error)))


def delete_run(run: Run) -> None:
    """Delete a run from the lab (and this tab); a run still training stops first, and writes nothing more."""
    lab, store = session.LAB.get(), labs.get_store()
    if lab is not None and store is not None and run.run_id > 0:
        stop_run_job(lab.lab_id, run.run_id)
        try:
            store.delete_run(run.run_id, lab.lab_id)
        except StoreError as error:
            SAVE_ERROR.set(message("{name} could not be deleted: {error}", name=run.name, error=message_of(error)))
            return
    RUNS.set([r for r in get_runs() if r is not run])
    if CURRENT.get() == run.run_id:
        usable = usable_runs()
        CURRENT.set(usable[-1].run_id if usable else None)


def job_owner() -> str:
    """Whose trainings these are on the server's boards: the lab's, else this tab's."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    lab = session.LAB.get()
    if lab is not None:
        return lab_owner(lab.lab_id)
    ctx = get_script_run_ctx()
    return f"tab:{ctx.session_id if ctx else 'none'}"


def get_job() -> Any:
    """The lab's training job (running or just ended), or None."""
    job = JOBS.get(job_owner())
    JOB.set(job)
    return job


class LabPlace:
    """Where a job of this tab's lab saves: its lab (made at the first need) and the store.

    Lazy, so that a sweep makes the lab only once every member has been checked.
    """

    def __init__(self) -> None:
        self._where: tuple[int | None, Store | None] | None = None

    def lab_id(self) -> int | None:
        return self._resolve()[0]

    def _resolve(self) -> tuple[int | None, Store | None]:
        if self._where is None:
            lab, store = ensure_lab(), labs.get_store()
            self._where = (lab.lab_id if lab is not None else None, store)
        return self._where

    def sink(self, **fields: Any) -> StoreSink | None:
        """A StoreSink into the lab (`fields`: sweep=tag, source="fine-tuned"), or None without a store."""
        lab_id, store = self._resolve()
        return StoreSink(store, lab_id, **fields) if lab_id is not None and store is not None else None

    def is_alive(self) -> Callable[[], bool] | None:
        """core.training's is_alive: is a tab of the lab still open (see ui.lab.lab_open_check)?"""
        return labs.lab_open_check(self.lab_id())


def start_lab_job(make: Callable[[LabPlace], Any], sweep: bool = False) -> str | None:
    """Make a job of this tab's lab, put it on the lab's board and start it: Train, sweeps and fine-tuning.

    `make(place)` builds the job (a Job, or a Sweep when `sweep`) with `place.sink(...)` and
    `place.is_alive()`; what it raises (SpecError, ModelFileError) passes through, nothing started.
    Returns why it did not start (a plain message), or None. One training or sweep per lab at a time:
    of two tabs that start at once, one wins (the board's claim is atomic) and the other is told.
    A full server line (QueueFull) starts nothing.
    """
    collect_finished_job()
    job = make(LabPlace())
    own, other, busy, busy_other = (SWEEPS, JOBS, SWEEP_ALREADY, TRAINING_RUNNING) if sweep else \
        (JOBS, SWEEPS, LAB_BUSY, LAB_BUSY_SWEEP)
    owner = job_owner()
    placed = own.claim(owner, job, others=(other,))
    if placed is not job:
        if not sweep:
            JOB.set(JOBS.get(owner))
        return busy if own.get(owner) is placed else busy_other
    try:
        if sweep:
            job.start_all()
        else:
            job.start()
    except QueueFull as error:
        own.drop(owner, job)
        return message_of(error)
    if not sweep:
        JOB.set(job)
    return None


def set_job(job: Any) -> None:
    """Put a job (started or not) on the lab's board, whatever is there (the tests' way in)."""
    JOBS.put(job_owner(), job)
    JOB.set(job)


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
        CURRENT.set(run.run_id)

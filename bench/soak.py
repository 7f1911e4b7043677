"""A long day on one server: 200 trainings in sequence from 50 labs, some stopped, some deleted mid-queue.

    python -m bench.soak [--trainings 200] [--labs 50]

In one process, through what the pages call: labs in the store (core.storage.store), a StoreSink per
training, core.training.launch.make_job, the board's atomic claim (ui.state.start_lab_job's), the tab
leaving when the training ended (its liveness check turns False) and the boards letting go of it,
"Start a new lab" / "Delete this lab" through core.server.board.stop_lab_jobs. Trainings are tiny: Digits,
and every third one a small MNIST run when ../shared/data/mnist is there (else Digits only).
Every 10th training is stopped after its first batches; every 15th, a training of another lab
waits in line behind it and that lab is deleted while it waits (a new lab takes its place).

Prints the resident memory after 20, 100 and 200 trainings, and the database's size against the
bytes the labs hold (their blobs). Goals: growth from 20 to 200 under 150 MB; the database within
10% of what the labs hold plus a fixed overhead. Last line:
`soak: 200 trainings, memory after 20 A MB, after 200 B MB, growth G MB, database D MB for L MB held`.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HOME = Path(tempfile.mkdtemp(prefix="digitlab-soak-"))
os.environ["DIGITLAB_HOME"] = str(HOME)  # a database of its own
os.environ.pop("DIGITLAB_DATABASE_URL", None)
os.environ.setdefault("DIGITLAB_MAX_TRAININGS", "1")  # one slot: a second training waits in line

from bench.job_memory import link_mnist, resident_mb  # noqa: E402

CHECKPOINTS = (20, 100, 200)
DEADLINE = 300.0  # seconds any one training may take before the soak gives up


def poll(condition, what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"soak: timed out waiting for {what}")
        time.sleep(0.02)


def spec_for(index: int, mnist: bool):
    from core.model.spec import NetworkSpec, TrainSpec

    if mnist and index % 3 == 2:
        return TrainSpec(dataset="mnist", network=NetworkSpec(hidden_layers=(32,)), optimizer="adam",
                         learning_rate=0.01, batch_size=64, epochs=1, train_limit=500, seed=index)
    return TrainSpec(dataset="digits", network=NetworkSpec(hidden_layers=(16,)), optimizer="adam",
                     learning_rate=0.01, batch_size=64, epochs=2, train_limit=400, seed=index)


class Tab:
    """One visitor's tab on a lab: open while it watches, closed once its training ended."""

    def __init__(self, lab_id: int):
        self.lab_id, self.open = lab_id, True

    def is_alive(self) -> bool:
        return self.open


def start(store, tab: Tab, spec, name: str):
    """What the Train page's Start does: a sink, a job, the board's claim, start (a refusal is a failure here)."""
    from core.server.board import JOBS, SWEEPS, lab_owner
    from core.storage.sink import StoreSink
    from core.training.launch import make_job

    job = make_job(spec, is_alive=tab.is_alive, sink=StoreSink(store, tab.lab_id), name=name)
    placed = JOBS.claim(lab_owner(tab.lab_id), job, others=(SWEEPS,))
    assert placed is job, "the lab's previous training is still on the board"
    return job.start()


def held_bytes(store) -> int:
    """What the labs hold: every run's blobs (the store's own count, runs.blob_bytes)."""
    from sqlalchemy import func, select

    from core.storage.schema import runs_table

    with store.reading() as conn:
        return int(conn.scalar(select(func.coalesce(func.sum(runs_table.c.blob_bytes), 0))))


def database_bytes() -> int:
    return sum(f.stat().st_size for f in HOME.glob("digitlab.db*"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainings", type=int, default=200)
    parser.add_argument("--labs", type=int, default=50)
    args = parser.parse_args()
    mnist = link_mnist()

    from core.model.run import run_name
    from core.server.board import JOBS, LAB_DELETED, stop_lab_jobs
    from core.storage.store import open_store
    from core.training.memory import return_freed_memory

    store = open_store()
    labs = [store.open_lab(store.create_lab()) for _ in range(args.labs)]
    counts = {"finished": 0, "stopped": 0, "deleted in line": 0, "failed": 0}
    memory: dict[int, float] = {}
    done, started_at = 0, time.monotonic()
    while done < args.trainings:
        lab_id = labs[done % len(labs)]
        tab = Tab(lab_id)
        spec = spec_for(done, mnist)
        job = start(store, tab, spec, run_name(done + 1, spec))
        doomed = None
        if done % 15 == 14 and done + 1 < args.trainings:  # another lab's training waits in line behind it
            victim = (done + 1) % len(labs)
            doomed = start(store, Tab(labs[victim]), spec_for(done + 1, mnist), "doomed")
            poll(lambda d=doomed: d.place_in_line() is not None or d.settled, "the doomed training to queue")
            stop_lab_jobs(labs[victim], LAB_DELETED, keep_runs=False)  # "Delete this lab" while it waits
            store.delete_lab(labs[victim])
            labs[victim] = store.open_lab(store.create_lab())  # a new visitor's lab
        if done % 10 == 9:  # the visitor presses Stop after a few batches
            poll(lambda j=job: len(j.snapshot().batch_logs) >= 2 or j.settled, "the first batches")
            job.stop()
        job.join(DEADLINE)
        poll(lambda j=job: j.settled, "the training to be saved")
        counts[job.state] = counts.get(job.state, 0) + 1
        assert not job.save_error, job.save_error
        done += 1
        if doomed is not None:
            poll(lambda d=doomed: d.settled, "the doomed training to end")
            assert doomed.state == "stopped" and doomed.run_id is None, (doomed.state, doomed.run_id)
            counts["deleted in line"] += 1
            done += 1
            del doomed
        tab.open = False  # the visitor closes the tab
        del job
        JOBS.reap()
        for mark in CHECKPOINTS:
            if mark not in memory and done >= mark:
                return_freed_memory()
                memory[mark] = resident_mb()
                print(f"after {done:>3} trainings: {memory[mark]:7.1f} MB resident, "
                      f"{time.monotonic() - started_at:6.0f} s", flush=True)
    return_freed_memory()
    final = resident_mb()
    first = memory.get(20, final)
    held, database = held_bytes(store), database_bytes()
    on_board = len(JOBS.items())
    print(f"trainings: {counts}; still on the board: {on_board}")
    print(f"database {database / 1e6:.1f} MB ({HOME / 'digitlab.db'}), the labs hold {held / 1e6:.1f} MB of blobs")
    print(f"soak: {done} trainings, memory after 20 {first:.0f} MB, after {done} {final:.0f} MB, "
          f"growth {final - first:.0f} MB, database {database / 1e6:.1f} MB for {held / 1e6:.1f} MB held")


if __name__ == "__main__":
    main()

"""Speed and size of core.storage.store: saving and loading a run with the bundled model, opening a lab.

    python -m bench.store [--url URL] [--repeats 20] [--distinct]

Each run's model blob is the bundled model file (`models/default_mnist_cnn.keras`, 865 kB), with a
20-epoch history. The store keeps equal blobs once (copies of a shared run), so the database's
bytes per run are those of one model in all; --distinct makes every run's blob different (the
file with the run's number appended), as separate trainings are. Uses a fresh SQLite database in
a temp folder, or the empty database at --url (e.g. a PostgreSQL one). Prints the median save and
load of one run in ms, the median time to list a lab of 100 runs (what opening a lab costs), and
the database's bytes per run.
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from core.storage.records import RunRecord
from core.storage.store import Store, open_store

MODEL_PATH = Path(__file__).resolve().parents[1] / "models" / "default_mnist_cnn.keras"
LAB_RUNS = 100


def database_bytes(store: Store) -> int:
    """The database's size on disk (SQLite: its file after a WAL checkpoint)."""
    with store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            return conn.scalar(text("SELECT pg_database_size(current_database())"))
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database = store.engine.url.database
    return sum(os.path.getsize(p) for p in (database, database + "-wal") if os.path.exists(p))


def make_record(i: int) -> RunRecord:
    """A run as the Train page saves it: spec, 20 epochs of four metrics, final metrics."""
    history = {k: [0.5 + 0.01 * e for e in range(20)] for k in ("loss", "accuracy", "val_loss", "val_accuracy")}
    spec = {"dataset": "mnist", "network": {"kind": "cnn", "hidden_layers": [128], "conv_filters": [32, 64]},
            "optimizer": "adam", "learning_rate": 0.001, "batch_size": 128, "epochs": 20, "seed": i}
    return RunRecord(name=f"Run {i} · MNIST · CNN 32-64 · Adam", dataset="mnist", status="Finished 20 epochs.",
                     spec=spec, history=history, metrics={k: v[-1] for k, v in history.items()},
                     seconds=120.0, epochs_done=20)


def median_ms(timings: list[float]) -> float:
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an empty database to use instead of a temporary SQLite file")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--distinct", action="store_true", help="a different model blob for every run")
    args = parser.parse_args()
    model = MODEL_PATH.read_bytes()

    def model_of(i: int) -> bytes:
        return model + i.to_bytes(4, "big") if args.distinct else model

    with tempfile.TemporaryDirectory(prefix="digitlab-bench-store-") as folder:
        store = open_store(args.url or f"sqlite:///{folder}/digitlab.db")
        print(f"database: {store!r}; model blob {len(model) / 1000:.0f} kB ({MODEL_PATH.name})")
        empty_bytes = database_bytes(store)

        lab = store.open_lab(store.create_lab())
        saves, run_ids = [], []
        for i in range(args.repeats):
            started = time.perf_counter()
            run_ids.append(store.save_run(lab, make_record(i), {"model": model_of(i)}))
            saves.append(time.perf_counter() - started)
        loads = []
        for i, run_id in enumerate(run_ids):
            started = time.perf_counter()
            assert store.load_blob(run_id, lab, "model") == model_of(i)
            loads.append(time.perf_counter() - started)
        print(f"save a run:  {median_ms(saves):7.1f} ms median of {args.repeats}")
        print(f"load a run:  {median_ms(loads):7.1f} ms median of {args.repeats} (model blob, checksum checked)")

        full_lab = store.open_lab(store.create_lab())
        for i in range(LAB_RUNS):
            store.save_run(full_lab, make_record(i), {"model": model_of(args.repeats + i)})
        store.list_runs(full_lab)  # the pool's connection is made once per process, not per visit
        opens = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            store.recover_interrupted(full_lab)
            runs = store.list_runs(full_lab)
            opens.append(time.perf_counter() - started)
        assert len(runs) == LAB_RUNS
        print(f"open a lab of {LAB_RUNS} runs (recover_interrupted + list_runs): "
              f"{median_ms(opens):6.1f} ms median of {args.repeats}")

        total_runs = args.repeats + LAB_RUNS
        per_run = (database_bytes(store) - empty_bytes) / total_runs
        print(f"database:    {per_run / 1000:7.1f} kB per run ({total_runs} runs, "
              f"model blob {len(model) / 1000:.1f} kB)")
        store.close()
    print(f"summary: save {median_ms(saves):.1f} ms, load {median_ms(loads):.1f} ms, "
          f"open a lab of {LAB_RUNS} runs {median_ms(opens):.1f} ms, {per_run / 1000:.1f} kB per run "
          f"for a {len(model) / 1000:.1f} kB model")


if __name__ == "__main__":
    main()

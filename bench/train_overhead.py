"""What the live training job costs over a plain `model.fit`.

Trains the same spec (same data, seed and epochs) with plain Keras and with the app's
TrainingJob while a poller does what the Train page does twice a second: take a snapshot and
build both learning-curve figures as JSON. Runs alternate to share the machine's noise.

    python -m bench.train_overhead [--dataset mnist|digits] [--epochs 3] [--repeats 3]

Uses real MNIST from ../shared/data/mnist/mnist-22k.npz when present (the 512-512 preset),
else the shipped Digits set. Prints `overhead ratio: X.XX` last (job time / plain time).
"""

import argparse
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist" / "mnist-22k.npz"

from core.data.datasets import load_dataset, to_model_input
from core.figures import curves
from core.model.network import build_model
from core.model.spec import PRESETS
from core.storage.sink import StoreSink
from core.storage.store import open_store
from core.training.local import TrainingJob
from core.training.queue import TrainingSlots

POLL_SECONDS = 0.5  # the Train page's rate


def train_plain(spec) -> float:
    """Seconds for load + build + fit with plain Keras."""
    start = time.monotonic()
    data = load_dataset(spec.dataset, spec.validation_fraction, spec.train_limit, spec.seed)
    model = build_model(spec)
    model.fit(to_model_input(data.x_train, data.info), data.y_train, batch_size=spec.batch_size,
              epochs=spec.epochs, validation_data=(to_model_input(data.x_val, data.info), data.y_val),
              verbose=0)
    return time.monotonic() - start


def train_with_job(spec, store, lab_id) -> tuple[float, int]:
    """Seconds for the same through TrainingJob as the app runs it: polled and redrawn like the page,
    with its run saved to a lab (a checkpoint every epoch, the model at the end); and redraws."""
    start = time.monotonic()
    job = TrainingJob(spec, slots=TrainingSlots(1), sink=StoreSink(store, lab_id), name="bench").start()
    redraws = 0
    while True:
        job.join(POLL_SECONDS)  # returns as soon as the job, its final save included, is done
        if job.done:
            break
        p = job.snapshot()
        for metric in ("loss", "accuracy"):
            curves.plot_learning_curve(p.batch_logs, p.epoch_logs, p.steps, metric).to_json()
        redraws += 1
    assert job.state == "finished", job.message
    assert not job.save_error, job.save_error
    return time.monotonic() - start, redraws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["mnist", "digits"],
                        default="mnist" if SHARED_MNIST.is_file() else "digits")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    if args.dataset == "mnist":
        if not SHARED_MNIST.is_file():
            sys.exit(f"real MNIST not found at {SHARED_MNIST}")
        os.environ["DIGITLAB_DATA_DIR"] = str(prepare_data_dir())
        spec = PRESETS["mnist_dense"]
    else:
        spec = PRESETS["digits_tutorial"]
    spec = replace(spec, epochs=args.epochs, patience=0)
    print(f"spec: {spec.dataset}, {spec.network.hidden_layers}, {spec.optimizer}, "
          f"batch {spec.batch_size}, {spec.epochs} epochs; {args.repeats} repeats each")

    train_plain(replace(spec, epochs=1))  # warm up: imports, data cache, graph tracing
    import tempfile

    store = open_store(f"sqlite:///{tempfile.mkdtemp(prefix='digitlab-bench-home-')}/digitlab.db")
    lab_id = store.open_lab(store.create_lab())
    plain, job = [], []
    for i in range(args.repeats):
        plain.append(train_plain(spec))
        seconds, redraws = train_with_job(spec, store, lab_id)
        job.append(seconds)
        print(f"repeat {i + 1}: plain {plain[-1]:.2f} s, job {seconds:.2f} s ({redraws} redraws)")
    p, j = statistics.median(plain), statistics.median(job)
    print(f"plain fit: {p:.2f} s median, {min(plain):.2f} s best "
          f"({min(plain) / spec.epochs:.2f} s per epoch incl. loading)")
    print(f"training job: {j:.2f} s median, {min(job):.2f} s best "
          f"({min(job) / spec.epochs:.2f} s per epoch incl. loading)")
    print(f"overhead ratio of medians: {j / p:.2f}")
    # The best of N runs is the least disturbed by the rest of the machine: the headline figure.
    print(f"overhead ratio: {min(job) / min(plain):.2f}")


def prepare_data_dir() -> Path:
    """A temporary DIGITLAB_DATA_DIR with the shared MNIST copy under Keras' name."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="digitlab-bench-"))
    (folder / "mnist.npz").symlink_to(SHARED_MNIST)
    return folder


if __name__ == "__main__":
    main()

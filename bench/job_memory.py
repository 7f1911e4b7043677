"""Memory a finished training leaves behind: the issue's twelve visitors, in one process.

    python -m bench.job_memory [--trainings 12] [--dataset mnist|digits]

Each visitor gets a new lab, trains (MNIST, 2 epochs on 2,000 images, the form's default network)
through what the Train page calls (a StoreSink, core.training.launch.make_job, the board under
"lab:<id>"), then leaves: its tab's liveness check turns False. Then the boards are asked to let
go of what no tab watches, Python's garbage is collected, and the resident memory is read.
Uses ../shared/data/mnist when present, else Digits. Last line:
`job memory: N trainings, A MB after the first, B MB after the last, C MB per training`.
"""

import argparse
import gc
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST_DIR = ROOT.parent / "shared" / "data" / "mnist"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("DIGITLAB_HOME", tempfile.mkdtemp(prefix="digitlab-bench-"))


def resident_mb() -> float:
    """This process's resident memory in MB (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def link_mnist() -> bool:
    """Point DIGITLAB_DATA_DIR at a folder with the shared MNIST subset as mnist.npz; False without it."""
    source = SHARED_MNIST_DIR / "mnist-22k.npz"
    if not source.is_file():
        return False
    folder = Path(tempfile.mkdtemp(prefix="digitlab-data-"))
    (folder / "mnist.npz").symlink_to(source)
    os.environ["DIGITLAB_DATA_DIR"] = str(folder)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainings", type=int, default=12)
    parser.add_argument("--dataset", choices=["mnist", "digits"], default=None)
    args = parser.parse_args()
    dataset = args.dataset or ("mnist" if link_mnist() else "digits")
    if dataset == "mnist" and "DIGITLAB_DATA_DIR" not in os.environ and not link_mnist():
        sys.exit("MNIST is not at ../shared/data/mnist")

    from core.model.spec import NetworkSpec, TrainSpec
    from core.server import board
    from core.storage.sink import StoreSink
    from core.storage.store import open_store
    from core.training.launch import make_job

    store = open_store()
    spec = TrainSpec(dataset=dataset, network=NetworkSpec(hidden_layers=(128,)), epochs=2,
                     train_limit=2000 if dataset == "mnist" else None, batch_size=32)
    figures = []
    for visitor in range(args.trainings):
        lab_id = store.open_lab(store.create_lab())
        here = [True]  # the visitor's tab is open while it trains
        job = make_job(spec, is_alive=lambda here=here: here[0], sink=StoreSink(store, lab_id), name="visitor")
        owner = f"lab:{lab_id}"
        board.JOBS.put(owner, job.start())
        job.join(600)
        assert job.done and job.state == "finished" and not job.save_error, (job.state, job.message, job.save_error)
        here[0] = False  # the visitor closes the tab
        del job
        reap = getattr(board.JOBS, "reap", None)
        if reap is not None:
            reap()
        gc.collect()
        figures.append(resident_mb())
        print(f"after training {visitor + 1:>3}: {figures[-1]:7.1f} MB resident", flush=True)
    per = (figures[-1] - figures[0]) / max(1, len(figures) - 1)
    print(f"job memory: {len(figures)} trainings, {figures[0]:.1f} MB after the first, "
          f"{figures[-1]:.1f} MB after the last, {per:.1f} MB per training")


if __name__ == "__main__":
    main()

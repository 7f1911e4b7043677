"""Train each classic recipe (the Train page's presets) and print its test accuracy.

    python -m bench.presets [--only NAME_PART]

Uses the app's own TrainingJob. MNIST presets need ../shared/data/mnist/mnist-22k.npz (the first
22,699 training images only, so expect a few tenths of a point below the published full-data
figures); without it they are skipped. Published figures: Digits 64-15-10 about 90%, 512-512
ReLU MLP 98.1%, small CNN 99.2%.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist" / "mnist-22k.npz"

from core.analysis.evaluation import predict_probabilities, summarize_predictions
from core.data.datasets import get_info, load_test_set, to_model_input
from core.model.spec import PRESETS
from core.training.local import TrainingJob
from core.training.queue import TrainingSlots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="train only presets whose name contains this")
    args = parser.parse_args()
    if SHARED_MNIST.is_file():
        folder = Path(tempfile.mkdtemp(prefix="digitlab-presets-"))
        (folder / "mnist.npz").symlink_to(SHARED_MNIST)
        os.environ["DIGITLAB_DATA_DIR"] = str(folder)
    for name, spec in PRESETS.items():
        if args.only not in name:
            continue
        if spec.dataset == "mnist" and not SHARED_MNIST.is_file():
            print(f"{name}: skipped (no MNIST at {SHARED_MNIST})")
            continue
        start = time.monotonic()
        job = TrainingJob(spec, slots=TrainingSlots(1)).start()
        job.join()
        assert job.state == "finished", job.message
        x_test, y_test = load_test_set(spec.dataset)
        result = summarize_predictions(
            y_test, predict_probabilities(job.model, to_model_input(x_test, get_info(spec.dataset))))
        epochs = len(job.history()["loss"])
        print(f"{name}: test accuracy {result.accuracy:.2%} after {epochs} epochs "
              f"({job.message}) in {time.monotonic() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()

"""For each preset recipe (cut down to train in seconds) and a small CNN on the 8x8 Digits: the app's test
accuracy and the exported script's (run in a fresh process), and the seconds to write the script, the
notebook and each model format.

    python -m bench.code_export [--epochs 2] [--limit 2000] [--full]

MNIST comes from ../shared/data/mnist/mnist-22k.npz when it is there (DIGITLAB_DATA_DIR for both the app
and the script), else from the sample the app ships (data/mnist-sample.npz). --full trains the presets
as they are (minutes each). Last line: `code export: N recipes reproduced, max accuracy gap G points`.
"""

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist" / "mnist-22k.npz"
DATA = Path(tempfile.mkdtemp(prefix="digitlab-bench-data-"))
(DATA / "mnist.npz").symlink_to(SHARED_MNIST if SHARED_MNIST.is_file() else ROOT / "data" / "mnist-sample.npz")
os.environ["DIGITLAB_DATA_DIR"] = str(DATA)
os.environ["DIGITLAB_DIGITS_FILE"] = str(ROOT / "data" / "digits.npz")

from core.export.card import card_for_run, measure_run
from core.export.code import script_for_run
from core.export.formats import FORMATS, export_run
from core.export.notebook import notebook_for_run
from core.model.spec import PRESETS
from tests.harness.runs import SMALL_CNN, app_run, quick, script_run

REPRODUCED_POINTS = 1.5  # a script whose accuracy is this close to the app's (and same layers) reproduces it


def timed(make, *args) -> float:
    """Seconds that make(*args) takes."""
    started = time.perf_counter()
    make(*args)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=2000, help="training images of the MNIST recipes")
    parser.add_argument("--full", action="store_true", help="the presets as they are")
    args = parser.parse_args()
    recipes = {name: spec if args.full else quick(spec, args.epochs, args.limit) for name, spec in PRESETS.items()}
    recipes["Digits · small CNN · Adam"] = SMALL_CNN if args.full else dataclasses.replace(SMALL_CNN,
                                                                                          epochs=args.epochs)
    print(f"MNIST from {os.path.realpath(DATA / 'mnist.npz')}")
    reproduced, gaps = 0, []
    for name, spec in recipes.items():
        run, app = app_run(spec)
        with tempfile.TemporaryDirectory() as folder:
            script = script_run(run, Path(folder))
        gap = abs(script.accuracy - app.accuracy) * 100
        same = script.params == app.params and script.layers == app.layers
        reproduced += same and gap <= REPRODUCED_POINTS
        gaps.append(gap)
        started = time.perf_counter()
        card = card_for_run(run, measure_run(run))
        seconds = {"card (with the test set)": time.perf_counter() - started, "script": timed(script_for_run, run),
                   "notebook": timed(notebook_for_run, run, card)}
        seconds.update({key: timed(export_run, run, key) for key in FORMATS})
        print(f"{name} ({spec.epochs} epochs, {'all' if spec.train_limit is None else spec.train_limit} images): "
              f"app {app.accuracy:.2%} in {app.seconds:.1f} s, script {script.accuracy:.2%} in {script.seconds:.1f} s "
              f"(fresh process), gap {gap:.2f} points, same layers and {app.params:,} parameters: {same}")
        print("    seconds to make: " + ", ".join(f"{key} {value:.3f}" for key, value in seconds.items()))
    print(f"code export: {reproduced} recipes reproduced, max accuracy gap {max(gaps):.2f} points")


if __name__ == "__main__":
    main()

"""What the per-epoch validation record costs over Keras' own validation.

Fits the 512-512 MLP preset on real MNIST (../shared/data/mnist/mnist-22k.npz) for a few epochs,
four ways, alternating so that they share the machine's noise:

    plain          model.fit(validation_data=...)                        Keras' own validation pass
    recorder       model.fit(callbacks=[ValidationRecorder])             our pass: classes + val_ logs
    plain+live     model.fit(validation_data=..., callbacks=[LiveHistory])   the app today
    recorder+live  model.fit(callbacks=[ValidationRecorder, LiveHistory])    the app with the record

Only `fit` is timed (data loaded once, model built outside the clock). Run from the repository root:

    python -m bench.epochs_overhead [--epochs 3] [--repeats 6]

Prints, per variant, the ratio to its baseline as best-of (the least disturbed run: the headline)
and of medians. Goal: <= 1.05.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported (in the functions)
ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist" / "mnist-22k.npz"
PRESET = "mnist_dense"
VARIANTS = ("plain", "recorder", "plain+live", "recorder+live")
BASELINES = {"recorder": "plain", "recorder+live": "plain+live"}


def prepare_data_dir() -> Path:
    """A temporary DIGITLAB_DATA_DIR with the shared MNIST copy under Keras' name."""
    folder = Path(tempfile.mkdtemp(prefix="digitlab-bench-"))
    (folder / "mnist.npz").symlink_to(SHARED_MNIST)
    return folder


def time_fit(variant: str, spec, data) -> float:
    """Seconds for one seeded `fit` of `spec` on `data` = (x_train, y_train, x_val, y_val), as `variant`."""
    from core.model.network import build_model
    from core.training.callbacks import LiveHistory, ValidationRecorder

    x_train, y_train, x_val, y_val = data
    model = build_model(spec)
    callbacks, validation = [], (x_val, y_val)
    if variant.startswith("recorder"):
        callbacks, validation = [ValidationRecorder(x_val, y_val)], None
    if variant.endswith("+live"):
        callbacks.append(LiveHistory(lambda: False))  # after the recorder: it reads val_loss
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=spec.batch_size, epochs=spec.epochs,
                        validation_data=validation, callbacks=callbacks, verbose=0).history
    seconds = time.perf_counter() - start
    assert len(history["val_loss"]) == spec.epochs, history.keys()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=6)
    args = parser.parse_args()
    if not SHARED_MNIST.is_file():
        print(f"skipped: real MNIST not found at {SHARED_MNIST}")
        sys.exit(0)
    os.environ["DIGITLAB_DATA_DIR"] = str(prepare_data_dir())
    from core.data.datasets import load_dataset, to_model_input
    from core.model.spec import PRESETS


    spec = replace(PRESETS[PRESET], epochs=args.epochs, patience=0)
    raw = load_dataset(spec.dataset, spec.validation_fraction, spec.train_limit, spec.seed)
    data = (to_model_input(raw.x_train, raw.info), raw.y_train, to_model_input(raw.x_val, raw.info), raw.y_val)
    print(f"{PRESET}: {len(raw.y_train)} training, {len(raw.y_val)} validation images, "
          f"batch {spec.batch_size}, {spec.epochs} epochs; {args.repeats} repeats of {', '.join(VARIANTS)}")

    for variant in VARIANTS:  # warm up: graph tracing, allocator
        time_fit(variant, replace(spec, epochs=1), data)
    seconds: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for i in range(args.repeats):
        order = VARIANTS if i % 2 == 0 else VARIANTS[::-1]  # alternate who goes first
        for variant in order:
            seconds[variant].append(time_fit(variant, spec, data))
        print(f"repeat {i + 1}: " + ", ".join(f"{v} {seconds[v][-1]:.2f} s" for v in VARIANTS), flush=True)
    for variant in VARIANTS:
        print(f"{variant:>14}: best {min(seconds[variant]):.2f} s, median {statistics.median(seconds[variant]):.2f} s")
    for variant, baseline in BASELINES.items():
        best = min(seconds[variant]) / min(seconds[baseline])
        median = statistics.median(seconds[variant]) / statistics.median(seconds[baseline])
        print(f"{variant} / {baseline}: ratio best-of {best:.3f}, ratio of medians {median:.3f}")


if __name__ == "__main__":
    main()

"""Fine-tune the bundled model on one unusual hand, and read the real-world variety of digits.

Run from the repo root:  python -m bench.fine_tune [--per-style 50] [--digits 100]
Needs the real MNIST subset at ../shared/data/mnist/mnist-22k.npz (replay and test images), read
through DIGITLAB_DATA_DIR like the app; skips with a message when it is absent.

1. The bundled model on VARIED_STYLES (tests/harness/drawings.py: flagged 1s, crossed 7s, open 4s,
   two-circle 8s, small in a corner, rotated 20-35 degrees, a shaky hand), each drawing
   rendered and kept as the Draw page keeps it, then rebuilt through its preprocessing.
2. A FineTuneJob, exactly as the app runs it (default settings), on `--digits` drawings in the
   "square_hand" style (every digit of straight strokes, a 1 with a flag and a base, a crossed
   7, an open 4, a 9 with a straight stem), half held out (stratified): the held-out accuracy and
   the MNIST test accuracy before and after, and the job's seconds from start to end (loading,
   copying, measuring twice and training).
Goals: under 20 s on 2 cores; MNIST test drops by at most 0.5 points; the style's held-out
accuracy rises. The last line is `fine-tune: style B% -> A%, MNIST test B% -> A%, S s`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO_ROOT.parent / "shared" / "data" / "mnist" / "mnist-22k.npz"

import numpy as np

from core.data.handwriting import keep_drawing, to_model_images
from core.model.default_model import DEFAULT_MODEL_INFO, load_default_model
from core.training.fine_tune import DEFAULTS, FineTuneJob
from core.training.local import collect_run
from core.training.queue import TrainingSlots
from tests.harness.drawings import VARIED_STYLES, make_styled_drawings, make_varied_drawings, render_drawing


def keep_all(drawings: list[tuple[int, list]]) -> tuple[np.ndarray, np.ndarray]:
    """(labels (N,) uint8, kept (N, 56, 56) uint8) of (label, strokes) drawings, as the Draw page keeps them."""
    kept = [keep_drawing(render_drawing(strokes)) for _, strokes in drawings]
    assert all(k is not None for k in kept), "a synthetic drawing came out empty"
    return np.array([label for label, _ in drawings], np.uint8), np.stack(kept)


def read_varied(model, per_style: int) -> None:
    """Print how many drawings of each varied style the model reads, and in all."""
    drawings = make_varied_drawings(per_style, seed=0)
    labels, kept = keep_all([(label, strokes) for _, label, strokes in drawings])
    predicted = model.predict(to_model_images(kept, (28, 28))[..., None], verbose=0).argmax(axis=1)
    styles = np.array([style for style, _, _ in drawings])
    print("The bundled model on real-world variety (issue 13, item 6), through the Draw page's preprocessing:")
    for style in VARIED_STYLES:
        mine = styles == style
        wrong = sorted({f"{t}->{p}" for t, p in zip(labels[mine], predicted[mine]) if t != p})
        print(f"  {style:16s} {int(np.sum(predicted[mine] == labels[mine])):3d}/{int(mine.sum())}"
              + (f"  misread: {', '.join(wrong)}" if wrong else ""))
    print(f"varied styles: {int(np.sum(predicted == labels))}/{len(labels)} read")


def fine_tune(model, n_digits: int) -> None:
    """Run a FineTuneJob on the square hand, half held out, and print the figures."""
    labels, kept = keep_all(make_styled_drawings("square_hand", n_digits, seed=1))
    settings = DEFAULTS.__class__(**{**DEFAULTS.__dict__, "held_out_fraction": 0.5})
    job = FineTuneJob(model, DEFAULT_MODEL_INFO["name"], "mnist", labels, kept, settings,
                      slots=TrainingSlots(1))
    before = [w.copy() for w in model.get_weights()]
    load = os.getloadavg()[0]
    start, cpu_start = time.perf_counter(), time.process_time()
    job.start().join()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    assert job.state == "finished", job.message
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights())), "the source model changed"
    r = job.result
    history = job.history()
    print(f"\nFine-tune on the square hand: {r.n_teach} digits teach, {r.n_held} held out, "
          f"{r.n_replay} MNIST images replayed per epoch; Adam {settings.learning_rate:g}, "
          f"{settings.epochs} epochs, batch {settings.batch_size}, batch norm frozen")
    print("  epoch  loss    acc     held-out loss  held-out acc")
    for i, loss in enumerate(history["loss"]):
        print(f"  {i + 1:5d}  {loss:.4f}  {history['accuracy'][i]:.3f}   {history['val_loss'][i]:.4f}         "
              f"{history['val_accuracy'][i]:.3f}")
    print(f"held-out style: {r.held_before:.1%} -> {r.held_after:.1%} (goal: rises)")
    print(f"MNIST test: {r.test_before:.2%} -> {r.test_after:.2%}, "
          f"forgetting {r.forgetting_points:.2f} points (goal <= 0.5)")
    print(f"seconds: {seconds:.1f} from start to end, {job.snapshot().elapsed:.1f} of them training and "
          f"measuring after (goal < 20); {cpu:.1f} s of CPU; load average {load:.1f} at the start "
          f"on {os.cpu_count()} cores")
    run = collect_run(job, 1)
    print(f"run: {run.name!r}; {job.message}")
    print(f"fine-tune: style {r.held_before:.0%} -> {r.held_after:.0%}, "
          f"MNIST test {r.test_before:.2%} -> {r.test_after:.2%}, {seconds:.1f} s")


def main() -> None:
    """Point DIGITLAB_DATA_DIR at the real MNIST, then run both parts."""
    parser = argparse.ArgumentParser(description="fine-tuning on one hand; reading varied styles")
    parser.add_argument("--per-style", type=int, default=50, help="drawings per varied style")
    parser.add_argument("--digits", type=int, default=100, help="square-hand drawings, half held out")
    args = parser.parse_args()
    if not SHARED_MNIST.is_file():
        print(f"skipped: real MNIST not found at {SHARED_MNIST}")
        return
    with tempfile.TemporaryDirectory(prefix="digitlab-bench-") as folder:
        (Path(folder) / "mnist.npz").symlink_to(SHARED_MNIST)
        os.environ["DIGITLAB_DATA_DIR"] = folder
        model = load_default_model()
        read_varied(model, args.per_style)
        fine_tune(model, args.digits)


if __name__ == "__main__":
    main()

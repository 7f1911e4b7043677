"""Time the Evaluate page's work: the first view of a model and a click on a matrix cell.

Run from the repo root:  python -m bench.evaluate_speed
Goals: first view <= 2 s, click <= 0.3 s.

First view = predict 10,000 test images + summary (confusion matrix, accuracy, loss)
+ per-class metrics + building the two figures, on a model that is already loaded
(the page caches the loaded model). Timed "cold" (first call on a freshly loaded model,
so graph tracing is included, as on the page) and again warm.
Click = select_cell + paginate + to_thumbnails + captions for one page of 24 images +
rebuilding the confusion figure with the cell outlined.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parents[1]

import numpy as np

from core.analysis.evaluation import (
    compute_class_metrics,
    paginate,
    predict_probabilities,
    select_cell,
    summarize_predictions,
)
from core.data.datasets import get_info, to_model_input
from core.figures.confusion import plot_class_metrics, plot_confusion_matrix
from core.figures.images import caption_prediction, to_thumbnails

MNIST_FILE = REPO_ROOT.parent / "shared" / "data" / "mnist" / "mnist-22k.npz"
DEFAULT_MODEL = REPO_ROOT / "models" / "default_mnist_cnn.keras"
CLASS_NAMES = [str(i) for i in range(10)]
PER_PAGE = 24
MAX_BYTES = 200_000_000


def load_test_set() -> tuple[np.ndarray, np.ndarray, str]:
    """MNIST test images (10000, 28, 28) uint8 and labels, or random stand-ins."""
    if MNIST_FILE.exists():
        with np.load(MNIST_FILE) as data:
            source = f"real MNIST test set ({MNIST_FILE})"
            return data["x_test"], data["y_test"].astype(np.int64), source
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(10_000, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=10_000)
    return x, y, "random data of MNIST shape (MNIST file not found)"


def build_mlp():
    """The 512-512 ReLU MLP preset (untrained weights are fine for timing)."""
    from core.model.network import build_model
    from core.model.spec import PRESETS

    return build_model(PRESETS["mnist_dense"])


def time_first_view(model, x: np.ndarray, y: np.ndarray):
    """Seconds for the first view, with its parts, and the result."""
    t0 = time.perf_counter()
    probs = predict_probabilities(model, x)
    t1 = time.perf_counter()
    result = summarize_predictions(y, probs)
    t2 = time.perf_counter()
    metrics = compute_class_metrics(result.cm)
    plot_confusion_matrix(result.cm, CLASS_NAMES, normalize=False)
    plot_class_metrics(metrics, CLASS_NAMES)
    t3 = time.perf_counter()
    parts = {"predict": t1 - t0, "summary": t2 - t1, "figures": t3 - t2}
    return t3 - t0, parts, result


def time_click(result, x: np.ndarray, truth: int, predicted: int) -> float:
    """Seconds for one cell click: select, page, thumbnails, captions, figure."""
    t0 = time.perf_counter()
    indices = select_cell(result, truth, predicted)
    page, _ = paginate(indices, 1, PER_PAGE)
    thumbs = to_thumbnails(x[page, ..., 0], size=84)
    captions = [
        caption_prediction(CLASS_NAMES[result.y_pred[i]], float(result.confidence[i]),
                           CLASS_NAMES[result.y_true[i]])
        for i in page
    ]
    plot_confusion_matrix(result.cm, CLASS_NAMES, normalize=False, selected=(truth, predicted))
    assert len(thumbs) == len(captions)
    return time.perf_counter() - t0


def time_predict_variants(model_bytes: bytes, x: np.ndarray) -> dict[str, float]:
    """Cold seconds to predict x with three approaches, each on a freshly loaded copy."""
    from core.model.files import load_model_file

    xf = x
    variants = {
        "model.predict": lambda m: m.predict(xf, batch_size=1024, verbose=0),
        "eager model(x)": lambda m: np.concatenate(
            [np.asarray(m(xf[i : i + 1024], training=False)) for i in range(0, len(xf), 1024)]
        ),
        "predict_on_batch (used)": lambda m: predict_probabilities(m, x),
    }
    seconds = {}
    for name, run in variants.items():
        model = load_model_file(model_bytes, MAX_BYTES)
        t0 = time.perf_counter()
        run(model)
        seconds[name] = time.perf_counter() - t0
    return seconds


def report_model(label: str, model_bytes: bytes, x: np.ndarray, y: np.ndarray) -> None:
    """Print first-view and click timings for one model."""
    from core.model.files import load_model_file

    t0 = time.perf_counter()
    model = load_model_file(model_bytes, MAX_BYTES)
    load_s = time.perf_counter() - t0
    cold_s, parts, result = time_first_view(model, x, y)
    warm_s, _, _ = time_first_view(model, x, y)
    part_text = ", ".join(f"{k} {v:.3f}" for k, v in parts.items())
    print(f"{label}: accuracy {result.accuracy:.4f}")
    print(f"  load model (cached by the page, not in first view): {load_s:.3f} s")
    print(f"  first view cold: {cold_s:.3f} s  ({part_text})  goal <= 2 s")
    print(f"  first view warm: {warm_s:.3f} s")

    diagonal = int(np.argmax(np.diag(result.cm)))  # the biggest cell: most to sort
    off = result.cm.copy()
    np.fill_diagonal(off, -1)
    worst = np.unravel_index(int(np.argmax(off)), off.shape)
    for name, (truth, predicted) in (
        ("biggest diagonal cell", (diagonal, diagonal)),
        ("biggest mistake cell", (int(worst[0]), int(worst[1]))),
    ):
        runs = [time_click(result, x, truth, predicted) for _ in range(7)]
        print(
            f"  click on {name} ({truth}, {predicted}), {result.cm[truth, predicted]} images: "
            f"first {runs[0]:.3f} s, median {statistics.median(runs):.3f} s, "
            f"max {max(runs):.3f} s  goal <= 0.3 s"
        )
    variants = time_predict_variants(model_bytes, x)
    print("  predict 10,000 cold, by approach: "
          + ", ".join(f"{k} {v:.3f} s" for k, v in variants.items()))


def main() -> None:
    t0 = time.perf_counter()
    import keras  # noqa: F401  (import cost is paid before the page shows anything)

    from core.model.files import write_model_file

    print(f"import keras/tensorflow: {time.perf_counter() - t0:.2f} s (not counted)")
    x, y, source = load_test_set()
    x = to_model_input(x, get_info("mnist"))  # as the page does: (N, 28, 28, 1) floats
    print(f"data: {source}, {len(x)} images")
    print(f"CPU cores: {os.cpu_count()}")

    if DEFAULT_MODEL.exists():
        report_model(f"(a) default model {DEFAULT_MODEL.name}", DEFAULT_MODEL.read_bytes(), x, y)
    else:
        print("(a) default model missing")
    report_model("(b) 512-512 ReLU MLP (untrained)", write_model_file(build_mlp(), {}), x, y)


if __name__ == "__main__":
    main()

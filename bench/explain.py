"""Server time of one explanation: integrated gradients plus its sentence (core.analysis.explain.attribution.explain).

Run from the repo root: python -m bench.explain [--n 30]
Times the bundled CNN and the untrained 512-512 ReLU dense preset on drawn digits (tests/harness/drawings.py
through the Draw page's preprocessing), after a warm-up that traces the compiled functions.
Goals: CNN <= 100 ms, dense <= 20 ms. The last line is `explanation ms: X`, the CNN's median.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from core.analysis.explain.attribution import DEFAULT_STEPS, explain
from core.data.drawing import preprocess_drawing
from core.model.default_model import load_default_model
from core.model.network import build_model
from core.model.spec import PRESETS
from tests.harness.drawings import make_drawings, render_drawing

DENSE_PRESET = "mnist_dense"
WARM_UP = 3


def drawn_images(count: int) -> list[tuple[int, np.ndarray]]:
    """(label, (28, 28) float32 image) of `count` synthetic drawings, all digits in turn."""
    drawings = make_drawings(seed=0)
    picked = [drawings[(i % 10) * 10 + (i // 10) % 10] for i in range(count)]
    return [(label, preprocess_drawing(render_drawing(strokes), (28, 28))) for label, strokes in picked]


def time_explanations(model, images: list[tuple[int, np.ndarray]]) -> list[float]:
    """Seconds of each explain(...) call, after WARM_UP untimed calls."""
    for label, image in images[:WARM_UP]:
        explain(model, image, label)
    times = []
    for label, image in images:
        start = time.perf_counter()
        explain(model, image, label, class_names=[str(d) for d in range(10)])
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    """Time both models and print their medians, the CNN's last."""
    parser = argparse.ArgumentParser(description="explanation latency")
    parser.add_argument("--n", type=int, default=30, help="timed explanations per model")
    args = parser.parse_args()

    images = drawn_images(args.n)
    dense_ms = np.median(time_explanations(build_model(PRESETS[DENSE_PRESET]), images)) * 1000
    cnn_times = time_explanations(load_default_model(), images)
    cnn_ms = np.median(cnn_times) * 1000
    print(f"steps: {DEFAULT_STEPS} (path of {DEFAULT_STEPS + 1} images), explanations timed per model: {args.n}")
    print(f"dense 512-512 ReLU median: {dense_ms:.1f} ms (goal <= 20)")
    print(f"bundled CNN median: {cnn_ms:.1f} ms, p95 {np.percentile(cnn_times, 95) * 1000:.1f} ms (goal <= 100)")
    print(f"explanation ms: {cnn_ms:.1f}")


if __name__ == "__main__":
    main()

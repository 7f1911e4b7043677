"""Latency from a canvas image (280x280x4 uint8) to class probabilities.

Run from the repo root: python -m bench.draw_latency [--n 200]
Prints the median milliseconds of preprocess_drawing alone and of preprocess plus
predict_drawing with the bundled default model. Goal: <= 20 ms end to end.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from core.data.drawing import predict_drawing, preprocess_drawing
from core.model.default_model import load_default_model
from tests.harness.drawings import make_drawings, render_drawing


def median_ms(samples: list[float]) -> float:
    """Median of durations in seconds, in milliseconds."""
    return float(np.median(samples) * 1000)


def main() -> None:
    """Render the drawings once, warm up, then time each canvas image."""
    parser = argparse.ArgumentParser(description="canvas-to-probabilities latency")
    parser.add_argument("--n", type=int, default=200, help="number of timed drawings")
    args = parser.parse_args()

    model = load_default_model()
    input_shape = tuple(model.input_shape[1:3])
    drawings = make_drawings(seed=0) + make_drawings(seed=1)
    canvases = [render_drawing(strokes) for _, strokes in drawings]
    canvases = (canvases * (args.n // len(canvases) + 1))[: args.n]

    for canvas in canvases[:20]:  # warm-up: first model calls trace and allocate
        predict_drawing(model, preprocess_drawing(canvas, input_shape))

    preprocess_times, total_times = [], []
    for canvas in canvases:
        start = time.perf_counter()
        image = preprocess_drawing(canvas, input_shape)
        middle = time.perf_counter()
        predict_drawing(model, image)
        end = time.perf_counter()
        preprocess_times.append(middle - start)
        total_times.append(end - start)

    print(f"drawings timed: {len(canvases)}")
    print(f"preprocess median: {median_ms(preprocess_times):.2f} ms")
    print(f"preprocess + model median: {median_ms(total_times):.2f} ms")
    print(f"preprocess + model p95: {np.percentile(total_times, 95) * 1000:.2f} ms")


if __name__ == "__main__":
    main()

"""Server time of one Draw page rerun after a stroke: the whole script, explanation included.

Run from the repo root: python -m bench.draw_rerun [--n 40]
Replays drawings stroke by stroke (each stroke a new image, so nothing is remembered) into the
Draw page through Streamlit's AppTest, with the bundled CNN, and times each rerun of the page
script (preprocess, prediction, probabilities chart, "Why this answer", images to the client).
The last line is `draw rerun ms: X`, the median.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.harness.drawings import make_drawings, render_drawing

ROOT = Path(__file__).resolve().parents[1]
WARM_UP = 3


def as_data_url(rgba: np.ndarray) -> str:
    """The canvas image as the drawable-canvas component hands it over (tests/test_app_draw.py)."""
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def canvases(count: int) -> list[np.ndarray]:
    """Canvas images of drawings growing stroke by stroke, all digits in turn."""
    out = []
    for _, strokes in make_drawings(seed=1):
        out += [render_drawing(strokes[:k]) for k in range(1, len(strokes) + 1)]
    return out[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description="Draw page rerun time")
    parser.add_argument("--n", type=int, default=40, help="timed reruns")
    args = parser.parse_args()

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/draw.py").run()
    times = []
    for i, rgba in enumerate(canvases(args.n + WARM_UP)):
        key = f"draw_canvas_{at.session_state['draw_clears']}"
        at.session_state[key] = {"drawing": {"raw": {"objects": []}, "data": as_data_url(rgba)}}
        start = time.perf_counter()
        at.run()
        if i >= WARM_UP:
            times.append(time.perf_counter() - start)
        assert not at.exception, at.exception
    times_ms = np.array(times) * 1000
    print(f"reruns timed: {len(times)}, p90 {np.percentile(times_ms, 90):.0f} ms")
    print(f"draw rerun ms: {np.median(times_ms):.0f}")


if __name__ == "__main__":
    main()

"""The first minute: from opening the app's address to the first reading of a drawn digit on the home page.

Run from the repo root: python -m bench.first_minute [--rounds 2] [--warm 3]

Each round starts a new `streamlit run app.py` (as the browser tests do) and, as soon as it
answers its health check, opens its address in Debian's Chromium (headless; never
`playwright install`), already launched, in a new browser context:

- cold: the first visitor of the just-started server. The clock starts at page.goto and stops when
  the "Prediction" metric of a digit drawn (with the mouse, one stroke, as soon as the canvas shows)
  is on the screen. TensorFlow is not loaded yet: the page is drawn without it, and the reading
  waits for the warm-up the page started.
- warm: once that server's warm-up is over (the home page's pictures are shown), new visitors
  (new contexts, new sessions) do the same, `--warm` times.

- floor: the same, `--warm` times, on a bare Streamlit app with nothing but the same canvas and a
  "Prediction" metric (no model: the metric shows as soon as the stroke arrives), with the app's
  .streamlit/config.toml. No page of this app can be faster than that on this machine; it includes
  the stroke itself (the mouse moves take most of a second here).

Prints every measurement (with when the canvas showed), then the medians as its last line:

    first reading: cold C s, warm W s (a bare Streamlit page with the canvas: F s)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from core.data.drawing import CANVAS_SIZE, STROKE_WIDTH
from tests.harness.browser import canvas_box, metric_value, mouse_stroke, wait_until
from tests.harness.drawings import make_drawings
from tests.harness.server import ROOT, browser_problem, launch_browser, start_server

DIGIT = 3  # a one-stroke 3 of tests/harness/drawings.py
TIMEOUT = 300.0
PLACEHOLDER = "Drawing this picture"
BARE_APP = f"""
import streamlit as st
from streamlit_drawable_canvas import st_canvas

draw_column, result_column = st.columns(2)
with draw_column:
    canvas = st_canvas(stroke_width={STROKE_WIDTH}, stroke_color="#FFFFFF", background_color="#000000",
                       width={CANVAS_SIZE}, height={CANVAS_SIZE}, drawing_mode="freedraw", return_image_data=True)
if canvas.image_data is not None and canvas.image_data[..., :3].any():
    result_column.metric("Prediction", "a digit")
"""


def first_reading(browser, url: str, strokes) -> tuple[float, float, str]:
    """(seconds to the canvas, seconds to the reading, the reading) for a new visitor of url."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT * 1000)
    page = context.new_page()
    try:
        start = time.monotonic()
        page.goto(url, wait_until="domcontentloaded")
        box = canvas_box(page)
        canvas = time.monotonic() - start
        for stroke in strokes:
            mouse_stroke(page, box, stroke)
        reading = wait_until(page, lambda: metric_value(page, "Prediction"), TIMEOUT, "the first reading",
                             interval=0.02)
        return canvas, time.monotonic() - start, reading
    finally:
        context.close()


def wait_until_warm(browser, url: str) -> float:
    """Seconds until the server's warm-up is over: a home page shows its pictures, not placeholders."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    start = time.monotonic()
    try:
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_text("What you can do here").first.wait_for(timeout=TIMEOUT * 1000)
        wait_until(page, lambda: page.get_by_text(PLACEHOLDER).count() == 0, TIMEOUT, "the home page's pictures")
        return time.monotonic() - start
    finally:
        context.close()


def time_bare_page(browser, strokes, visits: int) -> list[float]:
    """The same visits on a bare Streamlit app with only the canvas and a metric: this machine's floor."""
    app_dir = Path(tempfile.mkdtemp(prefix="digitlab-bare-"))
    try:
        (app_dir / "app.py").write_text(BARE_APP)
        shutil.copytree(ROOT / ".streamlit", app_dir / ".streamlit")
        server = start_server(app_dir=app_dir)
        try:
            first_reading(browser, server.url, strokes)  # its first visit loads Streamlit's own modules
            seconds = []
            for visit in range(1, visits + 1):
                canvas, total, _ = first_reading(browser, server.url, strokes)
                print(f"  bare page {visit}: canvas shown {canvas:.2f} s, first reading {total:.2f} s")
                seconds.append(total)
            return seconds
        finally:
            server.stop()
    finally:
        shutil.rmtree(app_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="time the first reading of a drawn digit on the home page")
    parser.add_argument("--rounds", type=int, default=2, help="fresh servers, one cold visit each (default 2)")
    parser.add_argument("--warm", type=int, default=3, help="warm visits per server (default 3)")
    args = parser.parse_args()
    problem = browser_problem(try_install=True)
    if problem:
        print(f"cannot run: {problem}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    strokes = next(s for label, s in make_drawings(seed=0) if label == DIGIT)
    print(f"CPUs: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.1f}")
    cold, warm = [], []
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        for round_number in range(1, args.rounds + 1):
            started = time.monotonic()
            server = start_server()
            print(f"round {round_number}: server {server.url} healthy {time.monotonic() - started:.1f} s "
                  "after `streamlit run`")
            try:
                canvas, seconds, reading = first_reading(browser, server.url, strokes)
                print(f"  cold: canvas shown {canvas:.2f} s, first reading {seconds:.2f} s (read {reading})")
                cold.append(seconds)
                print(f"  warm-up over {wait_until_warm(browser, server.url):.1f} s later")
                for visit in range(1, args.warm + 1):
                    canvas, seconds, reading = first_reading(browser, server.url, strokes)
                    print(f"  warm {visit}: canvas shown {canvas:.2f} s, first reading {seconds:.2f} s "
                          f"(read {reading})")
                    warm.append(seconds)
            finally:
                server.stop()
        print("floor: a bare Streamlit app with the same canvas and nothing else")
        bare = time_bare_page(browser, strokes, args.warm)
        browser.close()
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(f"first reading: cold {statistics.median(cold):.1f} s, warm {statistics.median(warm):.1f} s "
          f"(a bare Streamlit page with the canvas: {statistics.median(bare):.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

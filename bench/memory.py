"""The server's resident memory along a visitor's path, and the cold start.

    python -m bench.memory [--epochs 2]

Starts `streamlit run app.py` (as the browser tests do), drives it with Chromium, and prints the
server's resident memory (VmRSS, and the peak VmHWM) after start, after the home page, after the
Draw page has loaded the default model, after Evaluate (default model on the
MNIST test set, when ../shared MNIST is present), and after training the 512-512 MLP preset.
Also prints the cold start: seconds from `streamlit run` to the home page rendered, and to the
Draw page ready (canvas shown, default model loaded). Goal: at most 1.0 GB after Evaluate and Draw.
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from core.words import RECIPE_WORDS, SETTING_WORDS
from tests.harness import browser as helpers
from tests.harness.server import browser_problem, launch_browser, start_server


def read_memory(pid: int) -> tuple[float, float]:
    """(resident, peak resident) of process `pid` in MB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def report(step: str, pid: int) -> None:
    rss, peak = read_memory(pid)
    print(f"{step:<45} {rss:7.0f} MB resident (peak {peak:.0f} MB)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2, help="epochs of the 512-512 MLP training")
    args = parser.parse_args()
    if problem := browser_problem():
        sys.exit(problem)
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    server = start_server()
    healthy = time.monotonic() - started
    try:
        pid = server.process.pid
        report("after start", pid)
        with sync_playwright() as playwright:
            browser = launch_browser(playwright)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            helpers.open_page(page, server.url, ready_text="Digit Lab")
            home = time.monotonic() - started
            report("after the home page", pid)

            helpers.open_page(page, f"{server.url}/draw", ready_text="Draw a digit")
            page.locator(helpers.CANVAS).first.wait_for(timeout=120_000)
            draw_ready = time.monotonic() - started
            report("after Draw (default model loaded)", pid)

            helpers.open_page(page, f"{server.url}/evaluate", ready_text="Test accuracy", timeout=180)
            report("after Evaluate (default model, MNIST test set)", pid)

            helpers.open_page(page, f"{server.url}/train", ready_text="Start training")
            helpers.combobox(page, "Start from a classic recipe").click()
            page.get_by_role("option", name=RECIPE_WORDS["mnist_dense"].label).click()  # applies at once
            helpers.wait_for_idle(page)
            epochs = page.get_by_label(SETTING_WORDS["epochs"].label)
            epochs.fill(str(args.epochs))
            epochs.press("Enter")
            helpers.wait_for_idle(page)
            page.get_by_role("button", name="Start training").click()
            page.get_by_text("Your runs").wait_for(timeout=600_000)
            report(f"after training the 512-512 MLP ({args.epochs} epochs)", pid)

            helpers.open_page(page, f"{server.url}/evaluate", ready_text="Test accuracy", timeout=180)
            report("after Evaluate of that MLP", pid)
            browser.close()
        print(f"cold start: server healthy {healthy:.1f} s, home page rendered {home:.1f} s, "
              f"Draw page ready {draw_ready:.1f} s after `streamlit run`")
    finally:
        server.stop()


if __name__ == "__main__":
    main()

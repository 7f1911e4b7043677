"""A lab's runs after a reload, in a real browser; and a lab opened in a new browser.

    python -m bench.lab_reload [--runs 5] [--reloads 5]

Starts `streamlit run app.py` (as the browser tests do), trains `--runs` short Digits runs in one
lab, then reloads the Train page `--reloads` times and prints the seconds from the reload to every
run shown (the goal: 2 s), and the same for the lab's link opened in a fresh browser context.

"Shown" is read from the page without touching it: the current model's name in its select box, and
every run's name in the runs table (the "All runs" tab, open after a reload; the grid is drawn on a
canvas, and also kept in the page as an accessible table, which is what is read). After the timing,
the select box is opened once to check that it lists every run.
"""

import argparse
import statistics
import sys
import time

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from core.words import SETTING_WORDS
from tests.harness import browser as helpers
from tests.harness.server import browser_problem, launch_browser, start_server


def runs_listed(page, count: int, timeout: float = 60) -> float:
    """Seconds until the Train page lists `count` runs (from now; opens the select box to count)."""
    def listed() -> bool:
        try:
            return len(helpers.run_options(page)) == count
        except PlaywrightError:  # the select box was redrawn (a run just ended) while it was read
            return False

    started = time.monotonic()
    helpers.wait_until(page, listed, timeout, f"{count} runs listed", interval=0.05)
    return time.monotonic() - started


def table_text(page) -> str:
    """The runs table's text (its accessible copy in the page; no click)."""
    return page.evaluate("""() => [...document.querySelectorAll('[data-testid="stDataFrame"]')]
        .map(t => t.textContent).find(t => t.includes("how it ended")) || "" """)


def runs_shown(page, names: list[str], current: str, timeout: float = 60) -> float:
    """Seconds until the page shows the current model and every run in `names` (no click: a reader's view)."""
    started = time.monotonic()

    def shown() -> bool:
        if helpers.selectbox_value(page, helpers.CURRENT_MODEL) != current:
            return False
        text = table_text(page)
        return all(name in text for name in names)

    helpers.wait_until(page, shown, timeout, f"{current} and {len(names)} runs shown", interval=0.02)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reloads", type=int, default=5)
    args = parser.parse_args()
    if problem := browser_problem():
        sys.exit(problem)

    server = start_server()
    try:
        with sync_playwright() as playwright:
            browser = launch_browser(playwright)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            helpers.open_page(page, f"{server.url}/train", ready_text="Start training")
            helpers.set_number(page, SETTING_WORDS["epochs"].label, 2)
            start = page.get_by_role("button", name="Start training")
            for n in range(1, args.runs + 1):
                helpers.wait_until(page, start.is_enabled, 60, "Start training enabled")
                start.click()
                runs_listed(page, n, timeout=300)
                helpers.wait_for_idle(page)
            link = page.url
            names = helpers.run_options(page)  # every run
            current = helpers.selectbox_value(page, helpers.CURRENT_MODEL)
            reloads = []
            for _ in range(args.reloads):
                started = time.monotonic()
                page.reload()
                runs_shown(page, names, current)
                reloads.append(time.monotonic() - started)
                runs_listed(page, args.runs, timeout=10)  # and the select box lists every run
                helpers.wait_for_idle(page)
            fresh = []
            for _ in range(args.reloads):
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                other = context.new_page()
                started = time.monotonic()
                other.goto(link)
                runs_shown(other, names, current)
                fresh.append(time.monotonic() - started)
                runs_listed(other, args.runs, timeout=10)
                context.close()
            browser.close()
    finally:
        server.stop()
    print(f"reload to {args.runs} runs shown: median {statistics.median(reloads):.2f} s, "
          f"worst {max(reloads):.2f} s")
    print(f"the link in a new browser to {args.runs} runs shown: median {statistics.median(fresh):.2f} s, "
          f"worst {max(fresh):.2f} s")
    print(f"lab reload: {statistics.median(reloads):.2f} s")


if __name__ == "__main__":
    main()

"""Several people using one server at once: isolation, the training queue, memory, response.

    python -m bench.concurrency [--sessions 4] [--epochs 10]

Starts the app (DIGITLAB_MAX_TRAININGS as set, default 2) and drives N browser sessions at once,
each in its own Chromium context and thread. Session i trains the Digits preset with 15 + i hidden
units (so every run's name is unique), then opens Evaluate. Cross-talk is any session seeing a
run that is not its own. Then two sessions start long trainings and close their tabs, and a
third measures how soon it gets a slot. Prints sessions completed, cross-talk seen, peak server
memory, the slowest page response, and the seconds for closed tabs to free their slots.
"""

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from bench.memory import read_memory
from core.words import SETTING_WORDS
from tests.harness import browser as helpers
from tests.harness.server import browser_problem, launch_browser, start_server


def set_number(page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    helpers.wait_for_idle(page)


def set_text(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    helpers.wait_for_idle(page)


def go_to(page, title: str, ready_text: str) -> None:
    """Click the sidebar link to a page and wait until it shows `ready_text`."""
    helpers.nav_link(page, title).click()
    page.get_by_text(ready_text).first.wait_for(timeout=300_000)
    helpers.wait_for_idle(page)


def timed(responses: list, what: str, action) -> None:
    """Run `action` and record how long the server took to answer it."""
    start = time.monotonic()
    action()
    responses.append((time.monotonic() - start, what))


def run_session(url: str, index: int, epochs: int, results: dict) -> None:
    """One visitor: train a uniquely sized Digits net, check the runs, evaluate it."""
    from playwright.sync_api import sync_playwright

    units = 15 + index
    result = {"completed": False, "cross_talk": [], "responses": [], "waited": False}
    results[index] = result
    try:
        with sync_playwright() as playwright:
            browser = launch_browser(playwright)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            r = result["responses"]
            timed(r, "open Train", lambda: helpers.open_page(page, f"{url}/train", ready_text="Start training"))
            timed(r, "set hidden layers", lambda: set_text(page, "Hidden layers", str(units)))
            timed(r, "set epochs", lambda: set_number(page, SETTING_WORDS["epochs"].label, epochs))
            page.get_by_role("button", name="Start training").click()
            deadline = time.monotonic() + 900
            while not page.get_by_text("Your runs").count():
                if page.get_by_text("Waiting for a free slot").count():
                    result["waited"] = True
                helpers.assert_no_exception(page)
                if time.monotonic() > deadline:
                    raise TimeoutError("training did not finish in 15 minutes")
                page.wait_for_timeout(300)
            helpers.wait_for_idle(page)
            own = f"· {units} sigmoid ·"
            table = page.locator('[data-testid="stDataFrame"]').last.inner_text()
            names = [line for line in table.splitlines() if line.startswith("Run ")]
            result["cross_talk"] += [n for n in names if own not in n]
            # Through the app's own links: a reload (page.goto) would start a new, empty session.
            timed(r, "open Evaluate", lambda: go_to(page, "Evaluate", "Test accuracy"))
            model = helpers.selectbox_value(page, "Model") or ""
            if own not in model:
                result["cross_talk"].append(f"Evaluate shows {model!r}")
            options = helpers.selectbox_options(page, "Model")
            result["cross_talk"] += [o for o in options if o.startswith("Run ") and own not in o]
            timed(r, "open Draw", lambda: go_to(page, "Draw", "Draw a digit"))
            result["completed"] = True
            browser.close()
    except Exception as error:  # reported, not raised: the other sessions go on
        result["error"] = f"{type(error).__name__}: {error}"


def measure_closed_tabs(url: str) -> float:
    """Fill both slots with long trainings, close those tabs; seconds until a new one trains."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        long_pages = []
        for _ in range(2):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            helpers.open_page(page, f"{url}/train", ready_text="Start training")
            set_number(page, SETTING_WORDS["epochs"].label, 200)
            page.get_by_role("button", name="Start training").click()
            page.get_by_text("Epoch ").first.wait_for(timeout=120_000)
            long_pages.append(context)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        helpers.open_page(page, f"{url}/train", ready_text="Start training")
        page.get_by_role("button", name="Start training").click()
        page.get_by_text("Waiting for a free slot").first.wait_for(timeout=60_000)
        closed = time.monotonic()
        for context in long_pages:
            context.close()  # the tabs are gone: their trainings must stop and free the slots
        page.get_by_text("Waiting for a free slot").first.wait_for(state="detached", timeout=120_000)
        freed = time.monotonic() - closed
        browser.close()
        return freed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    if problem := browser_problem():
        sys.exit(problem)
    server = start_server()
    try:
        results: dict = {}
        threads = [threading.Thread(target=run_session, args=(server.url, i, args.epochs, results))
                   for i in range(args.sessions)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
            time.sleep(0.5)  # people do not arrive in the same millisecond
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
        completed = sum(r["completed"] for r in results.values())
        cross_talk = [c for r in results.values() for c in r["cross_talk"]]
        responses = sorted((s, w) for r in results.values() for s, w in r["responses"])
        for i, r in sorted(results.items()):
            print(f"session {i}: {'completed' if r['completed'] else 'FAILED ' + r.get('error', '')}"
                  f"{', waited for a slot' if r['waited'] else ''}")
        print(f"sessions completed: {completed}/{args.sessions} in {wall:.0f} s")
        print(f"cross-talk seen: {len(cross_talk)}" + (f" {cross_talk}" if cross_talk else ""))
        if responses:
            print(f"page responses: median {statistics.median(s for s, _ in responses):.2f} s, "
                  f"slowest {responses[-1][0]:.2f} s ({responses[-1][1]})")
        print(f"closed tabs freed their slots after: {measure_closed_tabs(server.url):.1f} s")
        rss, peak = read_memory(server.process.pid)
        print(f"server memory: {rss:.0f} MB resident now, peak {peak:.0f} MB")
    finally:
        server.stop()


if __name__ == "__main__":
    main()

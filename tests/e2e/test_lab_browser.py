"""Labs in a real browser: reload, another browser, a stranger, and a server killed mid-training."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from core.words import SETTING_WORDS
from tests.harness.browser import (
    CURRENT_MODEL,
    assert_no_exception,
    choose_option,
    open_page,
    progress,
    run_options,
    save_screenshot,
    selectbox_value,
    set_number,
    short,
    wait_for_idle,
    wait_until,
)
from tests.harness.server import start_server

pytestmark = pytest.mark.e2e


def train(page, epochs: int) -> None:
    """Start a Digits training of `epochs` epochs (batch 32) on the Train page."""
    page.get_by_role("button", name="Start training").wait_for(timeout=120_000)
    wait_for_idle(page)
    set_number(page, SETTING_WORDS["epochs"].label, epochs)
    page.get_by_role("button", name="Start training").click()


def alert(page, text: str):
    return page.locator('[data-testid="stAlert"]').filter(has_text=text)


def test_a_lab_survives_reload_other_browsers_and_a_killed_server(browser, browser_available, tmp_path):
    home = tmp_path / "home"  # the database outlives the first server
    server = start_server(extra_env={"DIGITLAB_HOME": str(home)})
    contexts = []

    def new_page():
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(60_000)
        contexts.append(context)
        return context.new_page()

    try:
        page = new_page()
        open_page(page, f"{server.url}/train", "Start training")
        assert "lab=" not in page.url  # a visit alone makes no lab
        train(page, epochs=3)
        wait_until(page, lambda: alert(page, "Finished 3 epochs.").count(), 120, '"Finished 3 epochs."')
        wait_until(page, lambda: "lab=" in page.url, 10, "the lab's key in the address")
        link = page.url
        wait_until(page, lambda: [short(n) for n in run_options(page)] == ["Run 1"], 30, "Run 1 in the runs")

        # Reload: the run is back, and the current model too.
        started = time.monotonic()
        page.reload()
        wait_until(page, lambda: [short(n) for n in run_options(page)] == ["Run 1"], 30, "Run 1 after a reload")
        print(f"reload to runs visible: {time.monotonic() - started:.1f} s")
        assert short(selectbox_value(page, CURRENT_MODEL)) == "Run 1"

        # The same link in another browser: the same lab. No link: nothing of it.
        other = new_page()
        open_page(other, link, "Start training")
        wait_until(other, lambda: [short(n) for n in run_options(other)] == ["Run 1"], 30, "Run 1 in another browser")
        stranger = new_page()
        open_page(stranger, f"{server.url}/train", "Start training")
        wait_for_idle(stranger)
        assert run_options(stranger) == [] and stranger.get_by_role("heading", name="Your runs").count() == 0
        guessed = new_page()
        open_page(guessed, link.replace("lab=", "lab=x"), "Start training")
        assert guessed.get_by_text("This link does not open any lab").count() == 1
        assert run_options(guessed) == []

        # A long training, cut off by a crash after its second epoch.
        train(page, epochs=200)
        before = wait_until(page, lambda: (p := progress(page)) and p[1] == 200 and p[0] >= 3 and p, 120,
                            "the third epoch to start")
        page.reload()  # the training goes on, and the reloaded page follows it live
        wait_until(page, lambda: (p := progress(page)) and p[1] == 200 and p[:3] > before[:3] and p, 60,
                   "the training's progress after a reload")
        assert page.get_by_role("button", name="Stop training").is_enabled()
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
        server.stop()
        server = start_server(extra_env={"DIGITLAB_HOME": str(home)})
        page.goto(link.replace(link.split("/")[2], server.url.split("/")[2]))
        names = wait_until(page, lambda: (n := run_options(page)) and len(n) == 2 and n, 60, "the runs after the crash")
        assert [short(n) for n in names] == ["Run 1", "Run 2"]
        choose_option(page, CURRENT_MODEL, "Run 2")  # the cut-off training, with its last epoch's weights
        # k >= 2: a quiet machine gets past epoch 9 before the kill
        wait_until(page, lambda: page.get_by_text(re.compile(r"Interrupted after epoch ([2-9]|[1-9]\d+)\b")).count(),
                   30, '"Interrupted after epoch k" (k >= 2)')
        assert_no_exception(page)
        save_screenshot(page, "train_after_crash")
    except Exception:
        for i, context in enumerate(contexts):
            for shown in context.pages:
                save_screenshot(shown, f"FAILED-lab-{i}")
        raise
    finally:
        for context in contexts:
            context.close()
        server.stop()

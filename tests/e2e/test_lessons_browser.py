"""Lesson 1 in a real browser, from Home: start it, follow every step by clicking what the panel says, reload
in the middle and come back to the same step, finish it. Takes the README's pictures of Learn and of a step
beside Train."""

from __future__ import annotations

import re

import numpy as np
import pytest

from core.words import SETTING_WORDS, TRAIN_WORDS
from tests.e2e.test_app_browser import pick_mistake_cell
from tests.harness.browser import clear_canvas, draw_digit, open_page, save_screenshot, wait_for_idle, wait_until
from tests.harness.drawings import make_drawing
from tests.harness.server import start_server

pytestmark = pytest.mark.e2e
PANEL = ".st-key-lesson_panel"
DRAW_TRIES = 8  # drawings of a 7 tried until the Digits network reads one as 7


def panel(page):
    return page.locator(PANEL)


def panel_says(page, text: str, timeout: float = 60) -> None:
    wait_until(page, lambda: text in (panel(page).inner_text() if panel(page).count() else ""), timeout,
               lambda: f"the lesson panel to say {text!r}; it says {panel(page).inner_text()[:400]!r}"
               if panel(page).count() else f"the lesson panel to say {text!r}; there is none")


def click_in_panel(page, name: str) -> None:
    panel(page).get_by_role("button", name=name, exact=True).click()
    wait_for_idle(page)


def answer(page, text: str, value: str) -> None:
    field = panel(page).get_by_label(text)
    field.fill(value)
    field.press("Enter")
    wait_for_idle(page)
    click_in_panel(page, "Check my answer")


def test_lesson_one_from_home_to_the_end_with_a_reload_in_the_middle(browser, browser_available, tmp_path):
    server = start_server(extra_env={"DIGITLAB_HOME": str(tmp_path / "home")})
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        open_page(page, server.url, "Follow a lesson")
        page.get_by_text("New here? Follow a lesson").click()
        page.get_by_text("Lesson 1 · Your first network").wait_for()
        wait_for_idle(page)
        save_screenshot(page, "learn")
        page.locator(".st-key-lesson_1").get_by_role("button", name="Start").click()
        wait_until(page, lambda: page.url.split("?")[0].endswith("/train"), 60, "Train, the step's page")
        panel_says(page, "step 1 of 5")
        assert "lab=" in page.url

        panel_says(page, "Look at the data")
        panel(page).get_by_role("link", name="Open Train with the Digits set").click()
        wait_for_idle(page)
        answer(page, "How many dots (pixels) does one picture have?", "64")
        panel_says(page, "Right: 64")
        click_in_panel(page, "Next")

        panel_says(page, "step 2 of 5")
        panel_says(page, "no finished run yet")
        panel(page).get_by_role("link", name="Set up this network").click()
        wait_for_idle(page)
        hidden = page.locator(f'input[aria-label="{SETTING_WORDS["hidden"].label}"]')
        wait_until(page, lambda: hidden.input_value() == "15", 30, "the form filled in by the step")
        assert page.locator(f'input[aria-label="{SETTING_WORDS["epochs"].label}"]').input_value() == "15"
        page.mouse.move(0, 0)
        save_screenshot(page, "learn_step_train", full_page=False)
        page.get_by_role("button", name=TRAIN_WORDS["start_training"].label).click()
        panel_says(page, "Done:", timeout=180)
        reached = re.search(r"reached (\d+\.\d)%", panel(page).inner_text()).group(1)

        page.reload()  # in the middle of the lesson: the same step comes back, from the lab's store
        panel_says(page, "step 2 of 5")
        panel_says(page, "Done:")
        click_in_panel(page, "Next")

        panel_says(page, "step 3 of 5")
        answer(page, "What validation accuracy did your run reach, in percent?", reached)
        panel_says(page, "Right:")
        click_in_panel(page, "Next")

        panel_says(page, "step 4 of 5")
        panel(page).get_by_role("link", name="Open Evaluate").click()
        matrix = page.locator(".st-key-confusion_matrix .js-plotly-plot")
        matrix.wait_for(timeout=120_000)
        wait_for_idle(page)
        matrix.scroll_into_view_if_needed()
        truth, predicted, _, x, y = pick_mistake_cell(page)
        page.mouse.click(x, y)
        panel_says(page, f"Done: you opened the {truth}s read as {predicted}")
        click_in_panel(page, "Next")

        panel_says(page, "step 5 of 5")
        panel(page).get_by_role("link", name="Open Draw").click()
        page.get_by_text("Draw one digit").first.wait_for(timeout=60_000)
        wait_for_idle(page)
        rng = np.random.default_rng(7)
        readings = []
        for variant in range(DRAW_TRIES):
            readings.append(draw_digit(page, make_drawing(7, variant, rng)))
            if readings[-1] == "7":
                break
            panel_says(page, "not 7")  # the specific "not yet" of a wrong reading
            clear_canvas(page)
        assert "7" in readings, f"no drawn 7 was read as 7 by the lesson's network: {readings}"
        panel_says(page, "Done: your drawing was read as 7")
        click_in_panel(page, "Finish")
        page.get_by_text("You finished lesson 1").wait_for(timeout=60_000)
        assert page.url.split("?")[0].endswith("/learn")
        assert page.locator(".st-key-lesson_1").get_by_text("Finished").count()
        assert not panel(page).count()
    finally:
        context.close()
        server.stop()

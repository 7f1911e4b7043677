"""The learning history in a real browser: train a short Digits run, scrub the "Epoch" slider of the
confusion over epochs back to an earlier epoch, click a cell, and see that cell's images at that epoch;
then the same run's history on Evaluate. Screenshots: train_history, evaluate_history."""

from __future__ import annotations

import re

import pytest

from core.words import SETTING_WORDS
from tests.harness.browser import (
    assert_no_exception,
    nav_link,
    open_page,
    save_screenshot,
    set_number,
    set_select_slider_to_first,
    wait_for_idle,
    wait_until,
)

pytestmark = pytest.mark.e2e

EPOCHS = 30  # 0.3 to 1 s each (quiet or loaded machine): the live matrix (from epoch 2, redrawn every 2 s) shows
MATRIX = '[class*="st-key-run_history_"][class*="_matrix"] .js-plotly-plot'  # the Train page's matrix
HISTORY_TAB = "Learning history of the current model"


def slider_epoch(page, plot_selector: str) -> int | None:
    """The epoch the plotly slider shows (its current value, "Epoch 3"), or None."""
    text = page.evaluate("""(sel) => {
        const value = [...document.querySelectorAll(`${sel} .slider-group > text.slider-label`)]
            .map(t => t.textContent).find(t => t.startsWith("Epoch"));
        return value || null; }""", plot_selector)
    match = re.fullmatch(r"Epoch (\d+)", text or "")
    return int(match.group(1)) if match else None


def wait_for_epoch(page, plot_selector: str, epoch: int, timeout_s: float = 30) -> None:
    """Wait until the slider shows `epoch`: plotly draws its slider after the plot, later on a loaded machine."""
    wait_until(page, lambda: slider_epoch(page, plot_selector) == epoch, timeout_s,
               lambda: f"the slider at epoch {epoch} (it shows {slider_epoch(page, plot_selector)})")


def scrub_to(page, plot_selector: str, epoch: int) -> None:
    """Click the slider's rail under `epoch`'s step label (plotly moves to the nearest step)."""
    label = page.locator(f"{plot_selector} .slider-label-group").nth(epoch - 1)
    label.scroll_into_view_if_needed()
    rail = page.locator(f"{plot_selector} .slider-rail-touch-rect").first.bounding_box()
    box = label.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, rail["y"] + rail["height"] / 2)


def worst_cell_on_screen(page, plot_selector: str) -> dict:
    """The shown frame's most confused cell: {truth, predicted, epoch, count, x, y} (x, y in the page)."""
    return page.evaluate("""(sel) => {
        const gd = document.querySelector(sel);
        gd.scrollIntoView({block: "center"});  // the whole matrix on screen: a cell may be clicked
        const errors = gd.data.find(t => t.name === "errors");
        const cells = gd.data.find(t => t.name === "cells");
        let best = null;
        errors.z.forEach((row, t) => row.forEach((v, p) => {
            if (v !== null && v > 0 && (!best || v > best.count)) best = {truth: t, predicted: p, count: v};
        }));
        const index = best.truth * errors.z.length + best.predicted;
        best.epoch = cells.customdata[index][2];
        const fl = gd._fullLayout, box = gd.getBoundingClientRect();
        best.x = box.left + fl.xaxis._offset + fl.xaxis.l2p(best.predicted);
        best.y = box.top + fl.yaxis._offset + fl.yaxis.l2p(best.truth);
        return best;
    }""", plot_selector)


def history_panel(page):
    """The runs' tab of the current model's history (the finished run's history above it has galleries too)."""
    return page.get_by_role("tabpanel", name=HISTORY_TAB)


def gallery_title(page) -> str | None:
    """The cell gallery's title ("Truth 3, predicted 8 after epoch 2 — 5 validation images"), or None."""
    title = history_panel(page).locator('[data-testid="stMarkdownContainer"]').filter(
        has_text=re.compile(r"after epoch \d+ —"))
    return title.first.inner_text().strip() if title.count() else None


def test_scrub_the_epochs_and_click_a_cell(page, app_url):
    open_page(page, f"{app_url}/train", "Start training")
    set_number(page, SETTING_WORDS["epochs"].label, EPOCHS)
    set_select_slider_to_first(page, SETTING_WORDS["batch"].label)  # 8: epochs slow enough to watch
    page.get_by_role("button", name="Start training").click()
    # Live, while it trains: the matrix of the epochs so far, from epoch 2 on.
    live = ".st-key-live_history_matrix .js-plotly-plot"
    wait_until(page, lambda: page.locator(live).count() and (slider_epoch(page, live) or 0) >= 2, 90,
               "the live confusion over epochs")
    history_tab = page.get_by_role("tab", name=HISTORY_TAB)
    wait_until(page, lambda: history_tab.count(), 150, "the runs' tabs")
    wait_for_idle(page)

    def open_history() -> bool:
        """Open the lazy tab (its content is made when opened); again if a rerun that ended the
        training redrew it closed under the click."""
        if page.locator(MATRIX).count():
            return True
        if history_tab.get_attribute("aria-selected") != "true":
            history_tab.click()
        return False

    wait_until(page, open_history, 90, "the run's learning history", interval=1.0)
    wait_for_idle(page)
    wait_for_epoch(page, MATRIX, EPOCHS)  # opens at the last epoch

    # Scrub back to epoch 2, in the browser alone (plotly frames): the counts change to epoch 2's.
    scrub_to(page, MATRIX, 2)
    wait_for_epoch(page, MATRIX, 2, 10)
    page.wait_for_timeout(300)  # the frame is drawn
    cell = worst_cell_on_screen(page, MATRIX)
    assert cell["epoch"] == 2, cell
    viewport = page.viewport_size
    assert 0 < cell["x"] < viewport["width"] and 0 < cell["y"] < viewport["height"], cell

    # Click the most confused cell of epoch 2: its images after epoch 2 show below.
    page.mouse.click(cell["x"], cell["y"])
    images = "image" if cell["count"] == 1 else "images"
    expected = (f"Truth {cell['truth']}, predicted {cell['predicted']} after epoch 2 — {cell['count']} "
                f"validation {images}")
    wait_until(page, lambda: gallery_title(page) == expected, 30,
               lambda: f"{expected!r} (the gallery says {gallery_title(page)!r})")
    wait_for_idle(page)
    wait_for_epoch(page, MATRIX, 2)  # the figure opens again at the clicked epoch
    captions = history_panel(page).get_by_text(re.compile("^Over the epochs: "))  # the title names the cell
    assert captions.count() == min(cell["count"], 24)  # one captioned image each
    assert page.get_by_text("Images that changed their mind").count() >= 1
    assert_no_exception(page)
    page.locator(MATRIX).first.scroll_into_view_if_needed()
    page.mouse.move(0, 0)
    save_screenshot(page, "train_history")

    # The same run on Evaluate, tab "Learning history".
    nav_link(page, "Evaluate").click()
    page.get_by_text("Test accuracy").wait_for(timeout=120_000)
    wait_for_idle(page)
    page.get_by_role("tab", name="Learning history").click()
    evaluate_matrix = '[class*="st-key-eval_history_"][class*="_matrix"] .js-plotly-plot'
    wait_until(page, lambda: page.locator(evaluate_matrix).count(), 30, "the learning history on Evaluate")
    wait_for_epoch(page, evaluate_matrix, EPOCHS)
    wait_until(page, lambda: page.get_by_text("Most changes first").count() >= 1, 30, "the changed-mind gallery")
    assert_no_exception(page)
    page.mouse.move(0, 0)
    save_screenshot(page, "evaluate_history")

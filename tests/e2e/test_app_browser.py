"""Digit Lab in a real browser (headless Chromium): home, Train -> Evaluate, Draw with mouse and touch.

One Streamlit server serves the whole module (see conftest.py); each test has its own browser
context, so its own Streamlit session. Every step checks that no exception box is shown.
Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.drawings import make_drawings
from tests.e2e.helpers import (assert_no_exception, canvas_box, clear_canvas, draw_digit, link_labels,
                               metric_value, nav_link, open_page, save_screenshot, selectbox_options,
                               selectbox_value, sidebar_links, wait_for_idle, wait_until)

PAGES = ["Train", "Evaluate", "Draw"]
PROGRESS = re.compile(r"Epoch (\d+) of (\d+) · batch (\d+) of (\d+)")
TRAIN_EPOCHS = 40
TRAIN_BATCH = 8  # 162 batches per epoch on Digits: a training long enough to watch (~30-60 s)
TRAIN_TIMEOUT = 240.0  # for the whole first training, on a slow machine


def drawing_of(digit: int, variant: int = 0):
    """The strokes of the `variant`-th drawing of `digit` in tests/drawings.py."""
    return [strokes for label, strokes in make_drawings(seed=0) if label == digit][variant]


# --- Home --------------------------------------------------------------------------------------


def test_home_shows_the_three_pages(page, app_url):
    open_page(page, app_url, "Digit Lab")
    assert "Digit Lab" in page.locator("h1").first.inner_text()
    assert link_labels(page.locator('[data-testid="stMain"] [data-testid="stPageLink-NavLink"]')) == PAGES
    assert link_labels(sidebar_links(page)) == ["Home"] + PAGES
    assert page.get_by_text("You have not trained a model yet").count() == 1
    assert_no_exception(page)
    page.mouse.move(0, 0)
    save_screenshot(page, "home")


# --- Draw --------------------------------------------------------------------------------------


def test_draw_reads_three_digits_with_the_mouse(page, app_url):
    open_page(page, f"{app_url}/draw", "Draw a digit in the black box")
    assert metric_value(page, "Prediction") is None
    for step, digit in enumerate((3, 7, 0)):
        if step:
            clear_canvas(page)
        predicted = draw_digit(page, drawing_of(digit))
        assert predicted == str(digit), f"drew a {digit}, the page read {predicted}"
        assert page.get_by_text("What the model sees").count() == 1
        assert page.locator('[data-testid="stPlotlyChart"]').count() == 1  # the probabilities
    page.mouse.move(0, 0)
    page.wait_for_timeout(400)  # let the canvas toolbar fade out
    save_screenshot(page, "draw")


def test_draw_on_a_phone_with_a_finger(phone_page, app_url):
    page = phone_page
    open_page(page, f"{app_url}/draw", "Draw a digit in the black box")
    box = canvas_box(page)
    width = page.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"canvas {box} sticks out of {width} px"
    cdp = page.context.new_cdp_session(page)
    predicted = draw_digit(page, drawing_of(7), cdp=cdp)
    assert predicted == "7", f"drew a 7 with a finger, the page read {predicted}"
    box = canvas_box(page)
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    save_screenshot(page, "draw_phone")


# --- Train, then Evaluate the run ----------------------------------------------------------------


def progress(page) -> tuple[int, int, int, int] | None:
    """(epoch, epochs, batch, batches) from the progress bar's text, or None."""
    bar = page.locator('[data-testid="stProgress"]')
    if not bar.count():
        return None
    match = PROGRESS.search(bar.first.inner_text())
    return tuple(int(g) for g in match.groups()) if match else None


def curves(page) -> dict[str, dict[str, list[float]]]:
    """The live charts' traces: {"loss": {"training": [x...], ...}, "accuracy": {...}}."""
    return page.evaluate("""() => {
        const out = {};
        for (const metric of ["loss", "accuracy"]) {
            const plot = document.querySelector(`.st-key-live_${metric} .js-plotly-plot`);
            if (!plot || !plot.data) continue;
            out[metric] = {};
            for (const trace of plot.data) out[metric][trace.name] = Array.from(trace.x || []).map(Number);
        }
        return out;
    }""")


def set_number(page, label: str, value: int) -> None:
    field = page.locator(f'input[aria-label="{label}"]')
    field.fill(str(value))
    field.press("Enter")
    wait_for_idle(page)
    assert field.input_value() == str(value)


def set_select_slider_to_first(page, label: str) -> str:
    """Move a (select) slider to its first value with the keyboard; returns the value shown."""
    thumb = page.locator(f'input[type="range"][aria-label="{label}"]')
    thumb.focus()
    thumb.press("Home")
    wait_for_idle(page)
    return thumb.get_attribute("aria-valuetext")


CURRENT_MODEL = "Current model (used by Evaluate and Draw)"


def wait_for_run(page, name: str, timeout: float) -> None:
    """Wait until the runs table's "Current model" select box shows a run named `name · …`."""
    wait_until(page, lambda: (selectbox_value(page, CURRENT_MODEL) or "").startswith(f"{name} · "),
               timeout, f"{name!r} in the runs", interval=0.5)


def test_train_then_evaluate(page, app_url):
    # Home -> Train by the page link.
    open_page(page, app_url, "Digit Lab")
    page.locator('[data-testid="stMain"] [data-testid="stPageLink-NavLink"]').filter(has_text="Train").click()
    page.get_by_role("button", name="Start training").wait_for(timeout=120_000)
    wait_for_idle(page)
    assert selectbox_value(page, "Dataset") == "Digits (8x8)"
    set_number(page, "Epochs", TRAIN_EPOCHS)
    assert set_select_slider_to_first(page, "Batch size") == str(TRAIN_BATCH)
    assert page.get_by_role("button", name="Use this recipe").is_enabled()

    # Start: the progress and the curves grow.
    started = time.monotonic()
    page.get_by_role("button", name="Start training").click()
    first = wait_until(page, lambda: (p := progress(page)) and p[0] >= 2 and p, 90, "epoch 2 to start")
    assert first[1] == TRAIN_EPOCHS and first[3] > 100, first
    first_curves = wait_until(page, lambda: (c := curves(page)) and "training" in c.get("loss", {}) and c,
                              30, "the loss curve's epoch points")
    page.wait_for_timeout(3000)
    second = wait_until(page, progress, 10, "the progress bar")
    second_curves = curves(page)
    assert (second[0], second[2]) > (first[0], first[2]), f"no progress from {first} to {second}"
    for metric in ("loss", "accuracy"):
        before = sum(len(x) for x in first_curves[metric].values())
        after = sum(len(x) for x in second_curves[metric].values())
        assert after > before, f"the {metric} chart did not grow ({before} -> {after} points)"
    assert page.locator(".st-key-live_loss .js-plotly-plot").is_visible()
    assert page.locator(".st-key-live_accuracy .js-plotly-plot").is_visible()
    assert page.get_by_role("button", name="Stop training").is_enabled()
    assert_no_exception(page)
    save_screenshot(page, "train_running")

    # Leave for Evaluate, come back: the training went on, and the curves caught up.
    left_at = wait_until(page, progress, 10, "the progress bar")
    nav_link(page, "Evaluate").click()
    page.get_by_role("heading", name="Evaluate").wait_for(timeout=60_000)
    wait_for_idle(page, quiet=1.0)
    page.wait_for_timeout(2000)
    nav_link(page, "Train").click()
    back = wait_until(page, lambda: (p := progress(page)) and p[0] > left_at[0] and p, 60,
                      f"an epoch after {left_at[0]} on return")
    caught_up = wait_until(page, lambda: (c := curves(page)) and "training" in c.get("loss", {}) and c,
                           30, "the curves on return")
    epochs_drawn = caught_up["loss"]["training"]
    assert len(epochs_drawn) >= left_at[0], f"epochs {epochs_drawn} miss some done while away"
    assert epochs_drawn == list(range(1, len(epochs_drawn) + 1)), epochs_drawn
    assert back[0] - 1 <= len(epochs_drawn) <= back[0]

    # The end: "Run 1" in the runs table, the current model.
    wait_for_run(page, "Run 1", TRAIN_TIMEOUT - (time.monotonic() - started))
    wait_for_idle(page)
    assert page.get_by_text("Your runs").count() == 1
    assert page.get_by_text(f"Finished {TRAIN_EPOCHS} epochs.").count() == 1
    assert page.locator('[data-testid="stDataFrame"]').count() >= 1
    assert not page.get_by_role("button", name="Stop training").is_enabled()
    page.mouse.move(0, 0)
    save_screenshot(page, "train_done")

    # A second training, stopped early.
    page.get_by_role("button", name="Start training").click()
    wait_until(page, lambda: (p := progress(page)) and p[2] > 0, 60, "the second training's first batches")
    page.get_by_role("button", name="Stop training").click()
    wait_until(page, lambda: page.get_by_text("Stopped by you.").count(), 30, '"Stopped by you."')
    wait_for_run(page, "Run 2", 30)
    wait_for_idle(page)
    names = selectbox_options(page, CURRENT_MODEL)
    assert [n.split(" · ")[0] for n in names] == ["Run 1", "Run 2"], names
    assert_no_exception(page)

    # Evaluate the current model (Run 2, trained on Digits).
    nav_link(page, "Evaluate").click()
    page.get_by_text("Test accuracy").wait_for(timeout=60_000)
    wait_for_idle(page)
    accuracy = metric_value(page, "Test accuracy")
    assert re.fullmatch(r"\d{1,3}\.\d\d%", accuracy), accuracy
    assert selectbox_value(page, "Model").startswith("Run 2 · "), selectbox_value(page, "Model")
    matrix = page.locator(".st-key-confusion_matrix .js-plotly-plot")
    matrix.wait_for(timeout=30_000)
    assert matrix.is_visible()
    truth, predicted, count, x, y = pick_mistake_cell(page)
    page.mouse.click(x, y)
    title = f"Truth {truth}, predicted {predicted}"
    wait_until(page, lambda: page.get_by_text(f"{title} —").count(), 30, f"the gallery {title!r}")
    wait_for_idle(page)
    gallery_title = page.get_by_text(f"{title} —").first.inner_text()
    assert gallery_title == f"{title} — {count:,} images", gallery_title
    assert selectbox_value(page, "Truth") == str(truth)
    assert selectbox_value(page, "Predicted") == str(predicted)
    captions = page.locator('[data-testid="stImageCaption"]').all_inner_texts()
    shown = [c for c in captions if re.fullmatch(rf"Predicted {predicted} \(\d+%\) · Truth {truth}", c.strip())]
    assert len(shown) == min(count, 24), captions
    assert_no_exception(page)
    matrix.scroll_into_view_if_needed()
    page.mouse.move(0, 0)
    save_screenshot(page, "evaluate")


def pick_mistake_cell(page) -> tuple[int, int, int, float, float]:
    """The off-diagonal confusion-matrix cell with the most images, and its centre on screen.

    Reads the counts from the heatmap's data and the cell's position from plotly's axes
    (l2p plus the plot area's offset); rows are truth (class 0 at the top), columns predicted.
    """
    cell = page.evaluate("""() => {
        const plot = document.querySelector('.st-key-confusion_matrix .js-plotly-plot');
        const errors = plot.data.find(t => t.name === 'errors');
        let best = null;
        errors.z.forEach((row, t) => Array.from(row).forEach((v, p) => {
            if (t !== p && v && (!best || v > best.count)) best = {truth: t, predicted: p, count: v};
        }));
        if (!best) return null;
        const xa = plot._fullLayout.xaxis, ya = plot._fullLayout.yaxis;
        const rect = plot.getBoundingClientRect();
        best.x = rect.left + xa._offset + xa.l2p(best.predicted);
        best.y = rect.top + ya._offset + ya.l2p(best.truth);
        best.top = rect.top + ya._offset + ya.l2p(0);
        best.bottom = rect.top + ya._offset + ya.l2p(9);
        return best;
    }""")
    if cell is None:
        pytest.fail("the confusion matrix has no mistakes to click")
    assert cell["top"] < cell["bottom"], "the Truth axis should have class 0 at the top"
    return cell["truth"], cell["predicted"], int(cell["count"]), cell["x"], cell["y"]


# --- First visit: a deep link on a server nobody has visited yet ---------------------------------


def test_deep_link_on_a_fresh_server_shows_the_apps_navigation(page, fresh_app_url):
    """/draw as the very first request of a new server: the app's own page, layout and navigation."""
    open_page(page, f"{fresh_app_url}/draw", "Draw a digit in the black box")
    assert link_labels(sidebar_links(page)) == ["Home"] + PAGES
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0  # Streamlit's own ("app", ...) is off
    assert page.title() == "Draw · Digit Lab"
    assert page.locator(".streamlit-wide").count() == 1, "the page should use the wide layout"

"""Digit Lab in a real browser (headless Chromium): home, Train -> Evaluate, Draw with mouse and touch.

One Streamlit server serves the whole module (see conftest.py); each test has its own browser
context, so its own Streamlit session. Every step checks that no exception box is shown.
Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import re
import time

import pytest

from core.words import EVALUATE_WORDS, SETTING_WORDS, words_for
from tests.harness.browser import (
    CURRENT_MODEL,
    assert_no_exception,
    canvas_box,
    choose_option,
    clear_canvas,
    combobox,
    draw_digit,
    link_labels,
    metric_value,
    nav_link,
    open_page,
    progress,
    run_options,
    save_screenshot,
    selectbox_value,
    set_number,
    set_select_slider_to_first,
    short,
    sidebar_links,
    wait_for_idle,
    wait_until,
)
from tests.harness.drawings import make_drawings

PAGES = ["Train", "Evaluate", "Draw"]
PER_BATCH = "training (epoch so far)"  # the live charts' traces: this one, "training", "validation"
TRAIN_EPOCHS = 40
TRAIN_BATCH = 8  # 162 batches per epoch on Digits: a training long enough to watch (~30-60 s)
# The whole first training: ~30-40 s on a 2-core machine; a generous bound keeps a stalled or
# crawling training (several times slower than Keras alone) from eating the suite's time.
TRAIN_TIMEOUT = 150.0

pytestmark = pytest.mark.e2e  # a real browser against a real server


def drawing_of(digit: int, variant: int = 0):
    """The strokes of the `variant`-th drawing of `digit` in tests/harness/drawings.py."""
    return [strokes for label, strokes in make_drawings(seed=0) if label == digit][variant]


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


def curves(page) -> dict[str, dict[str, list[float]]]:
    """The live charts' traces: {"loss": {"training": [x...], ...}, "accuracy": {...}}."""
    return page.evaluate("""() => {
        const out = {};
        for (const metric of ["loss", "accuracy"]) {
            // While the fragment re-runs, the previous chart may linger beside the new one (stale).
            const plots = [...document.querySelectorAll(`.st-key-live_${metric}`)]
                .sort((a, b) => (a.dataset.stale === "true") - (b.dataset.stale === "true"))
                .map(e => e.querySelector(".js-plotly-plot")).filter(Boolean);
            const plot = plots[0];
            if (!plot || !plot.data) continue;
            out[metric] = {};
            // _fullData: the traces as drawn (data's x may still be a base64 typed-array spec)
            for (const trace of plot._fullData || []) out[metric][trace.name] = Array.from(trace.x || []).map(Number);
        }
        return out;
    }""")


def wait_for_curves(page, what: str, min_epochs: int = 1, timeout: float = 30) -> dict[str, dict[str, list[float]]]:
    """curves() once both charts show at least `min_epochs` points on their per-epoch "training" trace."""
    def ready():
        c = curves(page)
        return all(len(c.get(m, {}).get("training", [])) >= min_epochs for m in ("loss", "accuracy")) and c
    return wait_until(page, ready, timeout, what)


@pytest.fixture(scope="module")
def trainer_page(browser):
    """One visitor's page for the Train -> Evaluate journey: its steps are the tests below, in order,
    each a test of its own, so one failed check does not hide the later ones."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    yield context.new_page(), {}
    context.close()


@pytest.fixture
def journey(trainer_page, request):
    """(page, what the earlier steps noted) for one step; a failed step leaves its screenshot."""
    page, notes = trainer_page
    yield page, notes
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        save_screenshot(page, f"FAILED-{request.node.name}")


def test_journey_1_a_training_shows_its_progress_and_growing_curves(journey, app_url):
    page, notes = journey
    # Home -> Train by the page link.
    open_page(page, app_url, "Digit Lab")
    page.locator('[data-testid="stMain"] [data-testid="stPageLink-NavLink"]').filter(has_text="Train").click()
    page.get_by_role("button", name="Start training").wait_for(timeout=120_000)
    wait_for_idle(page)
    dataset = SETTING_WORDS["dataset"].label
    wait_until(page, lambda: selectbox_value(page, dataset) == "Digits (8x8)", 30, "the Dataset select")
    set_number(page, SETTING_WORDS["epochs"].label, TRAIN_EPOCHS)
    assert set_select_slider_to_first(page, SETTING_WORDS["batch"].label) == str(TRAIN_BATCH)
    assert combobox(page, words_for("preset").label).count()  # a recipe applies when chosen

    # Start: the progress and the curves grow.
    notes["started"] = time.monotonic()
    page.get_by_role("button", name="Start training").click()
    first = wait_until(page, lambda: (p := progress(page)) and p[0] >= 2 and p, 90, "epoch 2 to start")
    assert first[1] == TRAIN_EPOCHS and first[3] > 100, first
    first_curves = wait_for_curves(page, "the curves' epoch points")
    page.wait_for_timeout(2000)  # a few seconds later (at least one more epoch, however slow)
    second = wait_until(page, lambda: (p := progress(page)) and p[0] > first[0] and p, 30,
                        lambda: f"an epoch after {first} (the bar says {progress(page)})")
    second_curves = wait_for_curves(page, "the curves, later", min_epochs=second[0] - 1)
    assert (second[0], second[2]) > (first[0], first[2]), f"no progress from {first} to {second}"
    for metric in ("loss", "accuracy"):  # the per-batch curve is thinned out: compare its reach
        before, after = first_curves[metric], second_curves[metric]
        assert max(after[PER_BATCH]) > max(before[PER_BATCH]), f"the {metric} batch curve did not grow"
        assert len(after["training"]) > len(before["training"]), f"the {metric} epoch curve did not grow"
        assert len(after["validation"]) == len(after["training"])
    for metric in ("loss", "accuracy"):
        charts = page.locator(f".st-key-live_{metric} .js-plotly-plot")
        shown = lambda charts=charts: any(c.is_visible() for c in charts.all())  # noqa: E731
        wait_until(page, shown, 5, f"the {metric} chart shown")
    assert page.get_by_role("button", name="Stop training").is_enabled()
    assert_no_exception(page)
    save_screenshot(page, "train_running")


def test_journey_2_the_training_goes_on_while_away_and_its_curves_catch_up(journey):
    page, _ = journey
    left_at = wait_until(page, lambda: progress(page), 10, "the progress bar")
    nav_link(page, "Evaluate").click()
    page.get_by_role("heading", name="Evaluate").wait_for(timeout=60_000)
    wait_for_idle(page, quiet=1.0)
    page.wait_for_timeout(2000)  # the point: time away from the page while the training goes on
    nav_link(page, "Train").click()
    back = wait_until(page, lambda: (p := progress(page)) and p[0] > left_at[0] and p, 60,
                      f"an epoch after {left_at[0]} on return")
    caught_up = wait_for_curves(page, "the curves on return", min_epochs=back[0] - 1)
    epochs_drawn = caught_up["loss"]["training"]
    assert len(epochs_drawn) >= left_at[0], f"epochs {epochs_drawn} miss some done while away"
    assert epochs_drawn == list(range(1, len(epochs_drawn) + 1)), epochs_drawn
    # Read after the progress bar, so training may have gone on meanwhile: no upper bound.
    assert len(epochs_drawn) >= back[0] - 1


def test_journey_3_at_the_end_run_1_is_in_the_runs_and_the_current_model(journey):
    page, notes = journey
    started = notes.get("started", time.monotonic())
    wait_until(page, lambda: short(selectbox_value(page, CURRENT_MODEL)) == "Run 1",
               max(TRAIN_TIMEOUT - (time.monotonic() - started), 30),
               lambda: f"Run 1 in the runs (the end of {TRAIN_EPOCHS} epochs; the bar says {progress(page)})",
               interval=0.5)
    wait_for_idle(page)
    assert page.get_by_role("heading", name="Your runs").count() == 1
    assert page.locator('[data-testid="stDataFrame"]').count() >= 1  # the runs table (drawn on a canvas)
    assert page.locator('[data-testid="stAlert"]').filter(has_text=f"Finished {TRAIN_EPOCHS} epochs.").count() == 1
    assert [short(n) for n in run_options(page)] == ["Run 1"]
    assert not page.get_by_role("button", name="Stop training").is_enabled()
    page.mouse.move(0, 0)
    save_screenshot(page, "train_done")


def test_journey_4_a_double_clicked_training_stopped_early_is_one_run(journey):
    # Two real clicks: the second arrives before the page has redrawn the button as disabled.
    page, notes = journey
    page.get_by_role("button", name="Start training").dblclick()
    wait_until(page, lambda: (p := progress(page)) and p[2] > 0, 60, "the second training's first batches")
    page.get_by_role("button", name="Stop training").click()
    wait_until(page, lambda: page.locator('[data-testid="stAlert"]').filter(has_text="Stopped by you.").count(),
               90, '"Stopped by you."')
    wait_for_idle(page)
    names = wait_until(page, lambda: (n := [short(x) for x in run_options(page)]) and "Run 2" in n and n,
                       30, "Run 2 in the runs", interval=1.0)
    assert names == ["Run 1", "Run 2"], names
    notes["current"] = current = selectbox_value(page, CURRENT_MODEL)
    assert_no_exception(page)
    page.mouse.move(0, 0)
    save_screenshot(page, "train_stopped")
    assert short(current) == "Run 2", f"after Run 2 ended, the current model is still {current!r}"


def test_journey_5_evaluate_shows_the_current_model_and_a_cell_opens_its_images(journey):
    page, notes = journey
    nav_link(page, "Evaluate").click()
    page.get_by_text("Test accuracy").wait_for(timeout=60_000)
    wait_for_idle(page)
    accuracy = metric_value(page, "Test accuracy")
    assert re.fullmatch(r"\d{1,3}(\.\d)?%", accuracy), accuracy  # one decimal at most (ui.i18n.percent)
    evaluated = selectbox_value(page, "Model")  # the sidebar's model picker
    assert evaluated.startswith("Run ") and "Digits (8x8)" in evaluated, evaluated
    current = notes.get("current")
    same_model = current is None or evaluated == f"{current} (current)"
    # Switch to Run 1 (40 epochs; Run 2 was stopped after a few batches) in the sidebar's picker.
    if short(evaluated) != "Run 1":
        picked = choose_option(page, "Model", "Run 1 · ")
        wait_until(page, lambda: short(selectbox_value(page, "Model")) == "Run 1", 30, "Run 1 picked")
        page.get_by_text(f"{picked.removesuffix(' (current)')} on the ").first.wait_for(timeout=60_000)
        wait_for_idle(page)
        accuracy = metric_value(page, "Test accuracy")
        assert re.fullmatch(r"\d{1,3}(\.\d)?%", accuracy), accuracy  # one decimal at most (ui.i18n.percent)
    assert float(accuracy.rstrip("%")) > 80, f"Run 1 (40 epochs on Digits) scored only {accuracy}"
    matrix = page.locator(".st-key-confusion_matrix .js-plotly-plot")
    matrix.wait_for(timeout=30_000)
    matrix.scroll_into_view_if_needed()
    assert matrix.is_visible()
    truth, predicted, count, x, y = pick_mistake_cell(page)
    page.mouse.click(x, y)
    title = f"Truth {truth}, predicted {predicted}"
    wait_until(page, lambda: page.get_by_text(f"{title} —").count(), 30, f"the gallery {title!r}")
    wait_for_idle(page)
    gallery_title = page.get_by_text(f"{title} —").first.inner_text()
    assert re.fullmatch(rf"{title} — {count:,} images?", gallery_title), (gallery_title, count)
    assert selectbox_value(page, EVALUATE_WORDS["truth"].label) == str(truth)
    assert selectbox_value(page, EVALUATE_WORDS["predicted"].label) == str(predicted)
    matrix_tab = page.get_by_role("tabpanel", name="Confusion matrix")  # the other tabs' galleries are in the DOM too
    captions = matrix_tab.locator('[data-testid="stImageCaption"]').all_inner_texts()
    shown = [c for c in captions if re.fullmatch(r"\d+% sure", c.strip())]  # the title names the cell
    assert len(shown) == min(count, 24), captions
    assert_no_exception(page)
    matrix.scroll_into_view_if_needed()
    page.mouse.move(0, 0)
    save_screenshot(page, "evaluate")
    assert same_model, f"Train showed {current!r} as the current model, Evaluate picked {evaluated!r}"


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
        best.bottom = rect.top + ya._offset + ya.l2p(errors.z.length - 1);
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
    assert link_labels(sidebar_links(page)) == ["Home", "Learn"] + PAGES + ["My digits"]
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0  # Streamlit's own ("app", ...) is off
    assert page.title() == "Draw · Digit Lab"
    assert page.locator(".streamlit-wide").count() == 1, "the page should use the wide layout"

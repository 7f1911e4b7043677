"""axe-core on every page in its main states (issue 26): 0 critical and 0 serious violations of our own.

One visitor walks the app in one browser context, each state a test of its own so one page's violations do
not hide the next one's: Home; Train in each mode before, during and after its training (a training, a
comparison of two optimizers, a fine-tuning on uploaded digits); My digits; every Evaluate tab; Draw with a
reading of a drawing and of a test image; Learn and a lesson's step panel; a class's board.
What Streamlit's own frontend does wrong is listed in tests/harness/axe_upstream.toml (tests/harness/axe.py
leaves it out by rule and selector). The counts per page (impact -> count) are printed at the end.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.data.handwriting import export_npz, keep_drawing
from core.words import SETTING_WORDS, words_for
from tests.harness.axe import audit, blocking, count_by_impact
from tests.harness.browser import (
    CURRENT_MODEL,
    draw_digit,
    metric_value,
    nav_link,
    open_page,
    progress,
    save_screenshot,
    selectbox_value,
    set_number,
    set_select_slider_to_first,
    short,
    wait_for_idle,
    wait_until,
)
from tests.harness.drawings import make_drawings, render_drawing

pytestmark = pytest.mark.e2e  # a real browser against a real server

TRAIN_EPOCHS = 20  # Digits, batch 8: long enough to be audited while it runs, short enough to wait for
SWEEP_EPOCHS = 3
MODE_LINKS = {"train": "mode=train", "compare": "mode=compare", "fine_tune": "mode=fine_tune"}
COUNTS: dict[str, dict[str, int]] = {}  # state -> impact -> count, printed at the end of the module


@pytest.fixture(scope="module")
def visitor(browser, request):
    """One visitor's page for the whole walk; at the end, the counts per page in the terminal summary."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    yield context.new_page()
    context.close()
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("\naxe-core, violations of our own per page (impact -> count):")
        for state, counts in COUNTS.items():
            reporter.write_line(f"  {state:<40} {counts or 'none'}")


@pytest.fixture
def page(visitor, request):
    """The visitor's page for one step; a failed step leaves its screenshot."""
    yield visitor
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        save_screenshot(visitor, f"FAILED-{request.node.name}")


@pytest.fixture
def check(page):
    """check(state): audit the page as it is now and note its counts under `state`; at the end of the test,
    fail with every critical or serious violation found in its states (so a first state's do not hide a later's)."""
    problems: list[str] = []

    def audit_now(state: str) -> None:
        wait_for_idle(page)
        findings = audit(page)
        COUNTS[state] = count_by_impact(findings)
        print(f"{state}: {COUNTS[state]}")
        if bad := blocking(findings):
            problems.append(f"{state}: {len(bad)} critical/serious violations:\n" + "\n".join(map(str, bad)))

    yield audit_now
    assert not problems, "\n\n".join(problems)


def upload_digits(page, tmp_path) -> None:
    """Fifty drawings (five of each digit) into My digits through its file input."""
    drawings = make_drawings(seed=0)[::2]
    upload = tmp_path / "fifty.npz"
    upload.write_bytes(export_npz(np.array([label for label, _ in drawings], np.uint8),
                                  np.stack([keep_drawing(render_drawing(strokes)) for _, strokes in drawings])))
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(upload))
    wait_until(page, lambda: metric_value(page, "Your digits") == "50", 60, "50 digits counted")


# --- Home and Train before a training -----------------------------------------------------------


def test_home(page, check, app_url):
    open_page(page, app_url, "Digit Lab", timeout=180)
    check("Home")


@pytest.mark.parametrize("mode", list(MODE_LINKS))
def test_train_before(page, check, app_url, mode):
    open_page(page, f"{app_url}/train?{MODE_LINKS[mode]}", timeout=180)
    page.get_by_role("button", name=words_for({"train": "start_training", "compare": "start_sweep",
                                                 "fine_tune": "fine_tune"}[mode]).label).wait_for(timeout=120_000)
    check(f"Train ({mode}), before")


# --- Train: a training, during and after ---------------------------------------------------------


def test_train_during_and_after_a_training(page, check, app_url):
    open_page(page, f"{app_url}/train?mode=train", "Start training", timeout=180)
    wait_until(page, lambda: selectbox_value(page, SETTING_WORDS["dataset"].label) == "Digits (8x8)", 30,
               "the Digits set")
    set_number(page, SETTING_WORDS["epochs"].label, TRAIN_EPOCHS)
    set_select_slider_to_first(page, SETTING_WORDS["batch"].label)
    page.get_by_role("button", name="Start training").click()
    wait_until(page, lambda: (p := progress(page)) and p[0] >= 2, 90, "epoch 2 to start")
    check("Train (train), during")
    wait_until(page, lambda: short(selectbox_value(page, CURRENT_MODEL)) == "Run 1", 240,
               lambda: f"Run 1 finished (the bar says {progress(page)})", interval=0.5)
    page.mouse.move(0, 0)
    check("Train (train), after")


def test_compare_during_and_after_a_sweep(page, check, app_url):
    open_page(page, f"{app_url}/train?mode=compare", "Start sweep", timeout=180)
    set_number(page, SETTING_WORDS["epochs"].label, SWEEP_EPOCHS)
    for name in ("RMSprop", "Adamax", "Nadam"):  # the default five, less three
        page.get_by_role("button", name=f"Remove {name}").click()
        wait_for_idle(page)
    page.get_by_role("button", name="Start sweep").click()
    wait_until(page, lambda: page.get_by_role("button", name="Stop sweep").is_enabled(), 60, "Stop sweep enabled")
    check("Train (compare), during")
    wait_until(page, lambda: page.get_by_text("2 finished").count(), 240, "the two members finished", interval=0.5)
    page.mouse.move(0, 0)
    check("Train (compare), after")


# --- My digits, then a fine-tuning on them --------------------------------------------------------


def test_my_digits_empty_and_with_digits(page, check, app_url, tmp_path):
    open_page(page, f"{app_url}/digits", "You have no digits yet", timeout=180)
    check("My digits, empty")
    upload_digits(page, tmp_path)
    wait_until(page, lambda: page.locator('[data-testid="stPlotlyChart"]').count() == 1, 30, "the counts' chart")
    check("My digits, 50 digits")


def test_fine_tune_during_and_after(page, check):
    nav_link(page, "Train").click()  # in-app: the lab with the digits goes along
    mode = page.locator('[data-testid="stRadio"]').get_by_text(words_for("mode_fine_tune").label)
    mode.wait_for()
    mode.click()
    wait_for_idle(page)
    page.get_by_role("button", name="Fine-tune on my digits").click()
    wait_until(page, lambda: page.get_by_text("A training is running").count(), 30, "the fine-tuning running")
    check("Train (fine_tune), during")
    wait_until(page, lambda: page.get_by_text("Before and after").count(), 400, "the before and after")
    wait_for_idle(page, timeout=60, errors_ok=True)
    page.mouse.move(0, 0)
    check("Train (fine_tune), after")


# --- Evaluate: every tab ----------------------------------------------------------------------------


def test_evaluate_every_tab(page, check):
    nav_link(page, "Evaluate").click()
    page.get_by_text("Test accuracy").wait_for(timeout=120_000)
    tabs = page.locator('[data-testid="stMain"]').get_by_role("tab")
    wait_until(page, lambda: tabs.count() >= 2, 60, "Evaluate's tabs")  # the metrics are drawn before the tabs
    wait_for_idle(page)
    names = [name.strip() for name in tabs.all_inner_texts()]
    for name in names:
        tabs.filter(has_text=name).first.click()
        wait_for_idle(page)
        check(f"Evaluate, tab {name!r}")


# --- Draw: a reading of a drawing, and of a test image -----------------------------------------------


def test_draw_with_a_reading(page, check):
    nav_link(page, "Draw").click()
    page.get_by_text("Draw a digit in the black box").wait_for(timeout=120_000)
    seven = next(strokes for label, strokes in make_drawings(seed=0) if label == 7)
    draw_digit(page, seven)
    check("Draw, a drawing read")


def test_draw_a_test_image(page, check):
    page.locator('[data-testid="stMain"] [data-testid="stRadio"]').get_by_text("A test image").click()
    wait_for_idle(page)
    page.locator('[data-testid="stMain"] [data-testid="stImage"]').first.wait_for(timeout=60_000)
    check("Draw, a test image read")


# --- Learn, a lesson's step panel, a class's board ----------------------------------------------------


def test_learn_and_a_lessons_step(page, check, app_url):
    open_page(page, f"{app_url}/learn", timeout=180)
    page.locator(".st-key-lesson_1").wait_for()
    check("Learn")
    page.locator(".st-key-lesson_1").get_by_role("button", name="Start").click()
    page.locator(".st-key-lesson_panel").wait_for(timeout=60_000)
    check("Learn, lesson 1's step panel")


def test_a_class_board(page, check, app_url):
    open_page(page, app_url, "Digit Lab", timeout=180)
    page.locator('[data-testid="stSidebar"]').get_by_text("Your class", exact=True).click()
    wait_for_idle(page)
    page.get_by_role("textbox", name="Name of the class").fill("Year 9 maths")
    page.get_by_role("button", name="Start a class").click()
    wait_until(page, lambda: "teacher=" in page.url, 60, "the board's teacher link")
    check("A class's board")

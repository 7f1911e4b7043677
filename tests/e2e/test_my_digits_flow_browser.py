"""Your handwriting through the whole app: Draw -> Add to my digits -> My digits -> fine-tune on Train -> Evaluate.

Runs once the pages call ui/my_digits.py (Draw: show_add_to_my_digits, Train: show_fine_tune,
Evaluate: pick_evaluation_data); skipped until then. The fine-tuning takes 20 s on an idle
2-core machine, minutes on a busy one.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.data.handwriting import export_npz, keep_drawing
from core.words import words_for
from tests.harness.browser import draw_digit, metric_value, open_page, save_screenshot, wait_for_idle, wait_until
from tests.harness.drawings import make_drawings, render_drawing
from tests.harness.server import ROOT

WIRED = all(call in (ROOT / page).read_text() for page, call in (
    ("ui/drawing_box.py", "show_add_to_my_digits("), ("pages/train.py", "show_fine_tune("),
    ("pages/evaluate.py", "pick_evaluation_data(")))

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not WIRED, reason="the pages do not call ui/my_digits.py yet")]


def go_to(page, title: str) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_text(title, exact=True).click()


def test_draw_add_fine_tune_and_evaluate_on_my_digits(page, app_url, tmp_path):
    open_page(page, f"{app_url}/draw", "Draw a digit in the black box")
    seven = next(strokes for label, strokes in make_drawings(seed=0) if label == 7)
    draw_digit(page, seven)
    wait_for_idle(page)
    page.get_by_role("button", name="Add to my digits").click()
    wait_until(page, lambda: page.get_by_text("Added a 7 · you have 1 digit").count(), 30, "the confirmation")
    wait_for_idle(page)
    assert "lab=" in page.url
    assert page.get_by_role("button", name="Add to my digits").is_disabled()  # not the same drawing twice
    save_screenshot(page, "my_digits_added_on_draw")

    # Fifty more from a file, on My digits (the link beside the confirmation keeps the lab).
    drawings = make_drawings(seed=0)[::2]
    upload = tmp_path / "fifty.npz"
    upload.write_bytes(export_npz(np.array([label for label, _ in drawings]),
                                  np.stack([keep_drawing(render_drawing(strokes)) for _, strokes in drawings])))
    page.locator('[data-testid="stMain"]').get_by_role("link", name="My digits").click()
    page.get_by_text("Add digits from a file").wait_for()
    wait_for_idle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(upload))
    wait_until(page, lambda: metric_value(page, "Your digits") == "51", 60, "51 digits")

    go_to(page, "Train")
    mode = page.locator('[data-testid="stRadio"]').get_by_text(words_for("mode_fine_tune").label)  # the mode
    mode.wait_for()
    mode.click()
    wait_for_idle(page)
    button = page.get_by_role("button", name="Fine-tune on my digits")
    button.wait_for()
    wait_for_idle(page)
    button.click()
    wait_until(page, lambda: page.get_by_text("A training is running").count(), 30, "the job running")
    # A failed fine-tuning shows its error at once: the wait ends then, not after 400 s.
    wait_until(page, lambda: page.get_by_text("Before and after").count(), 400, "the before and after")
    wait_for_idle(page, timeout=60, errors_ok=True)  # forgetting past 2 points is shown as an error box
    assert metric_value(page, "Your held-out digits") and metric_value(page, "MNIST test set")
    save_screenshot(page, "my_digits_fine_tuned")
    page.reload()  # the figures are the run's, from the lab
    mode.wait_for()
    mode.click()  # a reload opens Train in its first mode
    wait_until(page, lambda: page.get_by_text("Before and after").count(), 120, "the before and after, reloaded")

    go_to(page, "Evaluate")
    page.get_by_text("My digits (51)").click()
    wait_until(page, lambda: page.get_by_text("on your 51 digits").count(), 120, "Evaluate on my digits")
    wait_for_idle(page)
    assert metric_value(page, "Test accuracy") is not None

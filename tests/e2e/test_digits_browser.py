"""My digits in a real browser: upload an .npz through the file input, see the counts and the grid, download."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from core.data.handwriting import export_npz, keep_drawing
from tests.harness.browser import metric_value, open_page, save_screenshot, wait_for_idle, wait_until
from tests.harness.drawings import make_drawings, render_drawing

pytestmark = pytest.mark.e2e


def test_upload_shows_counts_and_grid_and_downloads_them_back(page, app_url, tmp_path):
    drawings = [(label, strokes) for label, strokes in make_drawings(seed=0)][::2]  # five of each digit
    labels = np.array([label for label, _ in drawings], np.uint8)
    kept = np.stack([keep_drawing(render_drawing(strokes)) for _, strokes in drawings])
    upload = tmp_path / "my [first] *digits*.npz"  # markup in a visitor's file name is shown as typed
    upload.write_bytes(export_npz(labels, kept))

    open_page(page, f"{app_url}/digits", "You have no digits yet")
    assert "lab=" not in page.url  # a visit alone makes no lab
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(upload))
    wait_until(page, lambda: page.get_by_text("Added 50 digits from my [first] *digits*.npz").count(), 60,
               "the upload's confirmation")
    wait_for_idle(page)
    assert "lab=" in page.url  # the digits are in a lab of their own now
    wait_until(page, lambda: metric_value(page, "Your digits") == "50", 30, "50 digits counted")
    grid = page.locator('[data-testid="stMain"] [data-testid="stImage"]')
    wait_until(page, lambda: grid.count() == 5, 30, "the first digit's five images")
    wait_until(page, lambda: page.locator('[data-testid="stPlotlyChart"]').count() == 1, 30,
               "the chart of the counts per digit")
    save_screenshot(page, "my_digits")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download as .npz").click()
    data = Path(download.value.path()).read_bytes()
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        assert arrays["x"].shape == (50, 28, 28) and arrays["y"].tolist() == labels.tolist()
    assert download.value.suggested_filename == "my-digits.npz"

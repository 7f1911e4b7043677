""""The code" in a real browser: train a small Digits network, open the runs' "The code" tab for it, read the
script shown, download its notebook, its .keras file and its LiteRT model.

The script must be this run's (its hidden layers, `model.fit(`); the notebook must be a valid nbformat 4
file whose code cells hold the script's blocks; the LiteRT zip must hold the model, labels.txt and use_it.py.
The downloads' data is made on click in a thread without the tab's session state: the run's model, not in
memory after its training, must still load there.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import nbformat
import pytest

from core.words import SETTING_WORDS
from tests.harness.browser import (
    CURRENT_MODEL,
    assert_no_exception,
    open_page,
    save_screenshot,
    selectbox_value,
    set_number,
    short,
    wait_for_idle,
    wait_until,
)

pytestmark = pytest.mark.e2e  # a real browser against a real server

EPOCHS = 3
TRAIN_TIMEOUT = 120.0  # three Digits epochs, on a busy 2-core machine
EXPORT_TIMEOUT = 90.0  # a LiteRT export traces the model (seconds; more while other work shares the CPU)
DENSE = re.compile(r" · ([\d-]+) \w+ · ")  # 'Run 1 · Digits (8x8) · 15-10 sigmoid · SGD 0.1' -> '15-10'


def download_button(page, label: str):
    """The st.download_button labelled `label` (its icon's ligature text is part of its name)."""
    # .first: a button with help is drawn twice by Streamlit's tooltip wrapper (one of them hidden)
    return page.locator('[data-testid="stDownloadButton"] button').filter(has_text=label).first


def download(page, label: str, timeout: float = 60.0) -> tuple[str, bytes]:
    """Click the download button `label`; (the file's suggested name, its bytes)."""
    with page.expect_download(timeout=timeout * 1000) as started:
        download_button(page, label).click()
    return started.value.suggested_filename, Path(started.value.path()).read_bytes()


def test_the_code_of_a_finished_run_shows_its_script_and_downloads_its_notebook_and_model(page, app_url):
    open_page(page, f"{app_url}/train", "Start training")
    dataset = SETTING_WORDS["dataset"].label
    wait_until(page, lambda: selectbox_value(page, dataset) == "Digits (8x8)", 30, "the Dataset select")
    set_number(page, SETTING_WORDS["epochs"].label, EPOCHS)
    page.get_by_role("button", name="Start training").click()
    run = wait_until(page, lambda: short(name := selectbox_value(page, CURRENT_MODEL)) == "Run 1" and name,
                     TRAIN_TIMEOUT, "Run 1 in the runs", interval=0.5)
    wait_for_idle(page)
    layers = tuple(int(u) for u in DENSE.search(run)[1].split("-"))  # the run's hidden layer sizes

    # The tab: the finished run is chosen, its script shown.
    page.get_by_role("tab", name="The code").click()
    wait_for_idle(page)
    assert short(selectbox_value(page, "Run")) == "Run 1"
    code = page.locator('[data-testid="stCode"]').filter(has_text="model.fit(")
    wait_until(page, lambda: code.count() == 1, 30, "the run's script")
    script = code.first.text_content() or ""
    assert f"HIDDEN_LAYERS = {layers!r}" in script, (layers, script[:2000])
    assert f"EPOCHS = {EPOCHS}" in script and "model.fit(" in script and "model.save(" in script

    # The notebook: made on click (it measures the model for its card), valid, the script's blocks as code.
    name, data = download(page, "Notebook (.ipynb)")
    assert re.fullmatch(r"digitlab-run-\d+-digits\.ipynb", name), name  # run ids are the database's, never reused
    notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
    nbformat.validate(notebook)
    code_cells = [c.source for c in notebook.cells if c.cell_type == "code"]
    assert len(code_cells) >= 5, [c[:60] for c in code_cells]
    assert any("model.fit(" in c for c in code_cells) and any(f"{layers!r}" in c for c in code_cells)
    assert notebook.cells[0].cell_type == "markdown" and "Test accuracy" in notebook.cells[0].source

    # The runs' own "Download" (.keras) is made on click too, in another thread than the page's run.
    with page.expect_download(timeout=60_000) as started:
        page.get_by_role("button", name=re.compile(r"Download$")).click()
    assert started.value.suggested_filename == name.replace(".ipynb", ".keras")
    assert zipfile.is_zipfile(started.value.path())  # a .keras file is a zip

    # A model format: built by its button, then downloaded as a zip.
    page.get_by_role("button", name="Make LiteRT / TFLite (zip)").click()
    wait_until(page, lambda: download_button(page, "Download LiteRT / TFLite (zip)").count(), EXPORT_TIMEOUT,
               "the LiteRT download")
    wait_for_idle(page)
    name, data = download(page, "Download LiteRT / TFLite (zip)")
    assert re.fullmatch(r"digitlab-run-\d+-digits-litert\.zip", name), name
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert {"model.tflite", "labels.txt", "use_it.py"} <= set(archive.namelist())
    assert archive.read("labels.txt").decode().split() == [str(d) for d in range(10)]
    assert archive.getinfo("model.tflite").file_size > 1000
    assert_no_exception(page)
    page.mouse.move(0, 0)
    save_screenshot(page, "train_code")

"""core/export/notebook.py: the run's notebook (card first, markdown before each block) executes end to end."""

import json
import re

import nbformat
import pytest

from core.export.code import run_blocks
from core.export.notebook import notebook_for_run
from tests.conftest import ROOT
from tests.harness.runs import SMALL_CNN, app_run, make_run_of

MAX_GAP_POINTS = 1.5


def test_the_notebook_has_the_card_then_a_markdown_cell_before_each_block():
    run = make_run_of(SMALL_CNN)
    notebook = nbformat.reads(notebook_for_run(run, "# Model card: test").decode(), as_version=4)
    kinds = [cell.cell_type for cell in notebook.cells]
    blocks = run_blocks(run)
    assert notebook.cells[0].source == "# Model card: test"
    assert kinds == ["markdown", "code"] + ["markdown", "code"] * len(blocks)
    assert [cell.source for cell in notebook.cells[3::2]] == [b.code.strip("\n") for b in blocks]


def test_the_notebook_executes_and_reproduces_the_apps_run(tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    run, app = app_run(SMALL_CNN)
    notebook = nbformat.reads(notebook_for_run(run, "# card").decode(), as_version=4)
    monkeypatch.setenv("DIGITLAB_DIGITS_FILE", str(ROOT / "data" / "digits.npz"))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
    accuracy = float(re.search(r"Test accuracy: ([0-9.]+)", printed).group(1))
    assert abs(accuracy - app.accuracy) * 100 <= MAX_GAP_POINTS, (app.accuracy, accuracy)
    assert (tmp_path / f"digitlab-run-{run.run_id}-digits.keras").is_file()

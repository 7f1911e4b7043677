"""The code of a run as a Jupyter notebook: the model card first, then per block a markdown cell and a code cell.

The same blocks as the script (core.export.code), so the two never differ; `nbformat` writes the file.
"""

from __future__ import annotations

import nbformat
from nbformat import v4

from core.export.code import PREAMBLE, Block, run_blocks
from core.model.run import Run


def make_notebook(blocks: list[Block], card: str) -> nbformat.NotebookNode:
    """A notebook: `card` (Markdown), the imports, then each block as '### title' + text and its code."""
    cells = [v4.new_markdown_cell(card), v4.new_code_cell(PREAMBLE.rstrip("\n"))]
    for block in blocks:
        cells.append(v4.new_markdown_cell(f"### {block.title}\n\n{block.text}"))
        cells.append(v4.new_code_cell(block.code.strip("\n")))
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def notebook_for_run(run: Run, card: str) -> bytes | None:
    """The run's `.ipynb` file (UTF-8 JSON), `card` in its first cell; None for a run without code."""
    blocks = run_blocks(run)
    if blocks is None:
        return None
    notebook = make_notebook(blocks, card)
    nbformat.validate(notebook)
    return nbformat.writes(notebook).encode("utf-8")


def notebook_file_name(run: Run) -> str:
    """'digitlab-run-3-mnist.ipynb'."""
    return f"digitlab-run-{run.run_id}-{run.dataset}.ipynb"

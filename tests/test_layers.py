"""The import contracts of pyproject.toml (`lint-imports`) hold, and break when an upward import is added."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("core", "ui", "pages", "bench", "tests")  # the contracts' root packages
LINT_IMPORTS = shutil.which("lint-imports")
pytestmark = pytest.mark.skipif(LINT_IMPORTS is None, reason="import-linter is not installed")


def copy_repo(target: Path) -> Path:
    """The root packages and pyproject.toml, copied under `target` (no caches, no screenshots)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.png", "*.npz", "*.keras", "screenshots")
    for name in PACKAGES:
        shutil.copytree(ROOT / name, target / name, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", target)
    return target


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([LINT_IMPORTS, "--no-cache"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_contracts_hold_on_the_tree(tmp_path):
    done = lint_imports(copy_repo(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_an_upward_import_in_core_breaks_the_layers(tmp_path):
    root = copy_repo(tmp_path)
    with open(root / "core" / "data" / "drawing.py", "a") as module:
        module.write("\nimport core.server.board  # noqa: E402  (the data layer reaching up to the server)\n")
    done = lint_imports(root)
    assert done.returncode != 0
    assert "core in layers: a layer imports only the layers below it BROKEN" in done.stdout
    assert "core.data.drawing -> core.server.board" in done.stdout


def test_streamlit_in_core_and_pages_in_ui_are_refused(tmp_path):
    root = copy_repo(tmp_path)
    with open(root / "core" / "limits.py", "a") as module:
        module.write("\nimport streamlit  # noqa: E402\n")
    with open(root / "ui" / "text.py", "a") as module:
        module.write("\nimport pages.shared  # noqa: E402\n")
    done = lint_imports(root)
    assert done.returncode != 0
    assert "core never imports ui, pages or Streamlit BROKEN" in done.stdout
    assert "ui never imports pages BROKEN" in done.stdout

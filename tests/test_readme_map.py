"""The README's map ("How it is built") matches the tree: every package and module of core/, ui/ and
pages/ has its line, no line names one that is gone, and no path or dotted name in the README points
at a module that does not exist (an old module path left behind by a move).

The map is the first fenced block after the heading. An entry is a line whose first word ends in
`/` (a package or folder) or `.py` (a module); two spaces of indent per level nest it under the
entry above (`core/` > `  storage/` > `    sink.py` is core/storage/sink.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT

README = ROOT / "README.md"
MAPPED_ROOTS = ("core", "ui", "pages")  # every package and module under these has a line
ENTRY = re.compile(r"^(?P<indent> *)(?P<name>[\w.*]+(?:/|\.py))(?:\s|$)")
# A module path (core/storage/sink.py, ui/layout) or a dotted name (core.server.board.JOBS), not
# inside a longer path (tests/core/... is a test file, not a module of core).
SLASHED = re.compile(r"(?<![\w/.-])(?:core|ui|pages)(?:/\w+)+(?:\.py)?")
DOTTED = re.compile(r"(?<![\w/.-])(?:core|ui)(?:\.[A-Za-z_]\w*)+")


def map_block(readme: str) -> str:
    """The text of the first fenced block after '## How it is built'."""
    section = readme.split("## How it is built", 1)[1]
    return section.split("```", 2)[1]


def map_paths(block: str) -> list[str]:
    """Every entry of the map as a path from the repository root ('core/storage/', 'core/storage/sink.py')."""
    stack: list[str] = []  # the folder entry open at each indent level
    paths = []
    for line in block.splitlines():
        found = ENTRY.match(line)
        if not found or len(found["indent"]) % 2 or len(found["indent"]) // 2 > len(stack):
            continue  # a description's continuation line, or not an entry
        level = len(found["indent"]) // 2
        del stack[level:]
        path = "".join(stack) + found["name"]
        paths.append(path)
        if path.endswith("/"):
            stack.append(found["name"])
    return paths


def tree_paths(root: Path = ROOT) -> set[str]:
    """Every package (folder holding .py files) and module (but __init__.py) under MAPPED_ROOTS."""
    paths = set()
    for top in MAPPED_ROOTS:
        for module in (root / top).rglob("*.py"):
            if "__pycache__" in module.parts:
                continue
            relative = module.relative_to(root)
            for folder in relative.parents[:-1]:
                paths.add(folder.as_posix() + "/")
            if module.name != "__init__.py":
                paths.add(relative.as_posix())
    return paths


def map_problems(readme: str, root: Path = ROOT) -> list[str]:
    """What the map misses, what it names that is gone, and entries named twice; [] when it matches."""
    named = [p for p in map_paths(map_block(readme)) if p.split("/", 1)[0] in MAPPED_ROOTS]
    tree = tree_paths(root)
    problems = [f"not in the map: {p}" for p in sorted(tree - set(named))]
    problems += [f"in the map but gone: {p}" for p in sorted(set(named) - tree)]
    problems += [f"in the map twice: {p}" for p in sorted({p for p in named if named.count(p) > 1})]
    return problems


def module_exists(parts: list[str], root: Path) -> bool:
    """Whether parts name a module (.py) or package (folder) under root."""
    path = root.joinpath(*parts)
    return path.with_suffix(".py").is_file() or path.is_dir()


def dangling_references(readme: str, root: Path = ROOT) -> list[str]:
    """Module paths and dotted names in the README that name no module of the tree.

    A dotted name is read as the longest module it starts with, then at most one attribute, which
    must be written in that module's source (core.server.board.JOBS: core/server/board.py has JOBS).
    """
    dangling = []
    for ref in sorted(set(SLASHED.findall(readme))):
        if not module_exists(ref.removesuffix(".py").split("/"), root):
            dangling.append(ref)
    for ref in sorted(set(DOTTED.findall(readme))):
        parts = ref.split(".")
        known = max((n for n in range(1, len(parts) + 1) if module_exists(parts[:n], root)), default=0)
        rest = parts[known:]
        if known < 2 or len(rest) > 1:
            dangling.append(ref)
        elif rest:
            path = root.joinpath(*parts[:known])
            source = path.with_suffix(".py") if path.with_suffix(".py").is_file() else path / "__init__.py"
            if not re.search(rf"\b{re.escape(rest[0])}\b", source.read_text(encoding="utf-8")):
                dangling.append(ref)
    return dangling


def test_the_map_names_every_package_and_module_and_nothing_gone():
    assert map_problems(README.read_text(encoding="utf-8")) == []


def test_a_module_left_out_or_gone_is_named():
    readme = README.read_text(encoding="utf-8")
    assert "\n    sink.py " in readme  # the line this test takes out
    changed = readme.replace("\n    sink.py ", "\n    old_sink.py ", 1)
    assert map_problems(changed) == ["not in the map: core/storage/sink.py",
                                     "in the map but gone: core/storage/old_sink.py"]


def test_nesting_follows_the_indent():
    block = "core/   x\n  data/   y\n    drawing.py  z\n                continued, not.py an entry\n  limits.py  w\n"
    assert map_paths(block) == ["core/", "core/data/", "core/data/drawing.py", "core/limits.py"]


def test_no_path_in_the_readme_names_a_module_that_is_gone():
    readme = README.read_text(encoding="utf-8")
    assert dangling_references(readme) == []
    old = "`core/store.py`, `core.ray_training`, `core.training.TrainingJob`, core.server.board.NOPE"
    assert dangling_references(old) == ["core/store.py", "core.ray_training", "core.server.board.NOPE"]

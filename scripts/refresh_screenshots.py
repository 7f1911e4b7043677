"""Refresh the README's pictures (docs/screenshots/) from the browser tests' screenshots.

Usage:
    python scripts/refresh_screenshots.py [--dry-run]

One command: finds every docs/screenshots/NAME.png the README shows, finds the browser tests that
take NAME (`save_screenshot(page, "NAME")` in tests/e2e/), runs those test files
(`python -m pytest -m e2e FILES`, Debian's Chromium, a few minutes), then copies each NAME.png that
this run wrote into artifacts/screenshots/ over docs/screenshots/. A picture no test takes, or that
the run did not write (its test failed or skipped), is named at the end and left as it was; then the
exit status is 1. `--dry-run` only says which tests would run for which pictures.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
README = REPO_ROOT / "README.md"
DOCS_DIR = REPO_ROOT / "docs" / "screenshots"
ARTIFACTS_DIR = REPO_ROOT / "artifacts" / "screenshots"  # tests/e2e/helpers.SCREENSHOT_DIR
E2E_DIR = REPO_ROOT / "tests" / "e2e"

README_PICTURE = re.compile(r"docs/screenshots/([\w-]+)\.png")
TEST_SHOT = re.compile(r"save_screenshot\(\s*\w+\s*,\s*[\"']([\w-]+)[\"']")  # literal names only


def readme_pictures(readme: Path = README) -> list[str]:
    """The screenshot names the README shows, in order of first appearance."""
    return list(dict.fromkeys(README_PICTURE.findall(readme.read_text(encoding="utf-8"))))


def tests_taking(names: list[str], e2e_dir: Path = E2E_DIR) -> dict[str, Path]:
    """For each name that a browser test saves under that literal name, the test file that does."""
    takers: dict[str, Path] = {}
    for path in sorted(e2e_dir.glob("test_*.py")):
        for name in TEST_SHOT.findall(path.read_text(encoding="utf-8")):
            if name in names:
                takers.setdefault(name, path)
    return takers


def run_browser_tests(files: list[Path]) -> int:
    """Run the browser tests of these files; their exit status (they save into artifacts/)."""
    command = [sys.executable, "-m", "pytest", "-m", "e2e", "-q", "-p", "no:cacheprovider",
               *(str(f.relative_to(REPO_ROOT)) for f in files)]
    print("$", " ".join(command), flush=True)
    return subprocess.run(command, cwd=REPO_ROOT).returncode


def copy_fresh(names: list[str], since: float) -> tuple[list[str], list[str]]:
    """Copy each NAME.png written into artifacts/screenshots/ after `since` into docs/screenshots/.

    Returns (copied, not made). An older file there is from an earlier run and is not copied.
    """
    copied, missing = [], []
    for name in names:
        shot = ARTIFACTS_DIR / f"{name}.png"
        if shot.is_file() and shot.stat().st_mtime >= since:
            shutil.copyfile(shot, DOCS_DIR / f"{name}.png")
            copied.append(name)
        else:
            missing.append(name)
    return copied, missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="only say which tests take which pictures")
    args = parser.parse_args(argv)

    names = readme_pictures()
    takers = tests_taking(names)
    untaken = [n for n in names if n not in takers]
    files = sorted(set(takers.values()))
    for name in names:
        where = takers[name].relative_to(REPO_ROOT) if name in takers else "no browser test takes it"
        print(f"{name + '.png':28} {where}")
    if args.dry_run or not files:
        return 1 if untaken else 0

    started = time.time() - 1.0  # file times can round down
    status = run_browser_tests(files)
    DOCS_DIR.mkdir(parents=True, exist_ok=True)
    copied, not_made = copy_fresh([n for n in names if n in takers], started)
    sizes = sum((DOCS_DIR / f"{n}.png").stat().st_size for n in copied)
    print(f"\ncopied {len(copied)} pictures into docs/screenshots/ ({sizes / 1e6:.1f} MB)")
    for name in untaken:
        print(f"NOT MADE {name}.png: no browser test saves it (save_screenshot(page, {name!r}))")
    for name in not_made:
        print(f"NOT MADE {name}.png: {takers[name].relative_to(REPO_ROOT)} did not write it this run"
              " (failed or skipped); the old picture stays")
    if status != 0:
        print(f"the browser tests exited with status {status}")
    return 1 if untaken or not_made or status != 0 else 0


if __name__ == "__main__":
    sys.exit(main())

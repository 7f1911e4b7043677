"""axe-core audits of a page in Chromium (WCAG 2.1 A and AA), less what belongs to Streamlit's own frontend.

`audit(page)` injects axe-core (from axe-playwright-python) and returns the violations of our own as
`Finding`s. What Streamlit draws and the app cannot change is listed, each with its upstream issue, in
tests/harness/axe_upstream.toml and excluded by its rule *and* its selector, never a rule wholesale.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

UPSTREAM_FILE = Path(__file__).with_name("axe_upstream.toml")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("critical", "serious")


@dataclass(frozen=True)
class Finding:
    """One violated rule on one element: what axe says, where, and how bad."""

    rule: str
    impact: str
    target: str  # axe's CSS selector of the element
    html: str  # the element's opening tag, cut
    summary: str

    def __str__(self) -> str:
        return f"{self.impact} {self.rule} at {self.target}: {self.summary.splitlines()[-1].strip()} -- {self.html}"


@dataclass(frozen=True)
class Upstream:
    """A violation in Streamlit's own frontend: its rule, a selector that matches only that element, the issue."""

    rule: str
    selector: str  # a substring of axe's target selector (data-testid or class that Streamlit gives it)
    issue: str
    why: str


def read_upstream(path: Path = UPSTREAM_FILE) -> list[Upstream]:
    """The known upstream violations; each entry needs rule, selector, issue and why."""
    entries = tomllib.loads(path.read_text())["upstream"]
    return [Upstream(e["rule"], e["selector"], e["issue"], e["why"]) for e in entries]


def is_upstream(finding: Finding, upstream: list[Upstream]) -> bool:
    return any(u.rule == finding.rule and u.selector in finding.target for u in upstream)


def findings_of(response: dict) -> list[Finding]:
    """axe's `violations`, one Finding per element."""
    return [
        Finding(v["id"], v.get("impact") or "minor", " ".join(map(str, node["target"])),
                node.get("html", "")[:160], node.get("failureSummary", ""))
        for v in response["violations"] for node in v["nodes"]
    ]


def audit(page: Page, upstream: list[Upstream] | None = None) -> list[Finding]:
    """The page's WCAG 2.1 A/AA violations of our own (upstream ones left out)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    known = read_upstream() if upstream is None else upstream
    return [f for f in findings_of(results.response) if not is_upstream(f, known)]


def blocking(findings: list[Finding]) -> list[Finding]:
    """The critical and serious ones: what the browser tests allow none of."""
    return [f for f in findings if f.impact in BLOCKING]


def count_by_impact(findings: list[Finding]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.impact] = counts.get(finding.impact, 0) + 1
    return counts

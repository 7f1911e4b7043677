"""The Train page's Compare mode in a real browser: a sweep of three optimizers on Digits.

Three members queue under the server's cap (2), their curves grow overlaid in one colour each,
the results table ranks them, and each one becomes a run of the lab tagged with the sweep.
"""

from __future__ import annotations

import pytest

from core.figures.style import color_of
from core.words import SETTING_WORDS
from tests.harness.browser import assert_no_exception, open_page, save_screenshot, set_number, wait_for_idle, wait_until

pytestmark = pytest.mark.e2e  # a real browser against a real server

MEMBERS = ["optimizer=SGD", "optimizer=Adam", "optimizer=Nadam"]
EPOCHS = 8
SWEEP_TIMEOUT = 240.0  # three short Digits trainings, two at a time, on a busy 2-core machine


def sweep_traces(page, metric: str) -> dict[str, dict]:
    """The sweep chart's member traces (validation, per epoch): {name: {"x": [...], "y": [...], "color": "#..."}}."""
    return page.evaluate("""(metric) => {
        const plots = [...document.querySelectorAll(`.st-key-sweep_${metric}`)]
            .sort((a, b) => (a.dataset.stale === "true") - (b.dataset.stale === "true"))
            .map(e => e.querySelector(".js-plotly-plot")).filter(Boolean);
        const out = {};
        for (const trace of (plots[0] && plots[0]._fullData) || []) {
            if (trace.showlegend === false) continue;  // the thin per-batch lines
            out[trace.name] = {x: Array.from(trace.x || []).map(Number), y: Array.from(trace.y || []).map(Number),
                              color: trace.line.color};
        }
        return out;
    }""", metric)


def test_a_sweep_of_three_optimizers_overlays_their_curves_and_ranks_them(page, app_url):
    open_page(page, f"{app_url}/train?mode=compare", "Start sweep")  # the Compare mode, by the link
    set_number(page, SETTING_WORDS["epochs"].label, EPOCHS)
    for name in ("RMSprop", "Adamax"):  # the default five, less two
        page.get_by_role("button", name=f"Remove {name}").click()
        wait_for_idle(page)
    page.get_by_role("button", name="Start sweep").click()

    # Live: a third member waits for a slot while two train (the server's cap); curves before the end.
    wait_until(page, lambda: page.get_by_role("button", name="Stop sweep").is_enabled(), 60, "Stop sweep enabled")
    wait_until(page, lambda: page.get_by_text("1 waiting").count(), 60, "a member waiting for a slot")
    wait_until(page, lambda: sweep_traces(page, "accuracy"), 120, "the first member's validation curve")

    # The end: three curves overlaid, each member in its own colour (the same in both charts).
    def all_done():
        traces = {m: sweep_traces(page, m) for m in ("loss", "accuracy")}
        return all(len(t) == 3 and all(len(v["x"]) == EPOCHS for v in t.values()) for t in traces.values()) \
            and page.get_by_text("3 finished").count() and traces
    traces = wait_until(page, all_done, SWEEP_TIMEOUT, "three finished members' curves", interval=0.5)
    wait_for_idle(page)
    for metric in ("loss", "accuracy"):
        assert sorted(traces[metric]) == sorted(MEMBERS)
        assert [traces[metric][m]["color"] for m in MEMBERS] == [color_of(i) for i in range(3)]

    # The results table (drawn on a canvas: read through its accessible grid) ranks the three.
    results = page.locator('.st-key-sweep_results')
    results.wait_for()
    text = results.text_content() or ""
    assert all(m in text for m in MEMBERS), text
    best = {m: max(traces["accuracy"][m]["y"]) for m in MEMBERS}
    ranked = sorted(MEMBERS, key=lambda m: text.index(m))
    assert [best[m] for m in ranked] == sorted(best.values(), reverse=True), (ranked, best)
    assert not page.get_by_role("button", name="Stop sweep").is_enabled()
    assert page.get_by_role("button", name="Start sweep").is_enabled()  # ended: another can start
    # Each member is a run of the lab, and can become the current model.
    assert page.get_by_role("heading", name="Your runs").count() == 1
    # The chosen member's button: "Make it current", or "Current model" (disabled) when the newest finished
    # run, which becomes current on its own, is the one chosen.
    make, current = (page.get_by_role("button", name=n, exact=True) for n in ("Make it current", "Current model"))
    wait_until(page, lambda: make.count() + current.count() == 1, 30, "the member's current-model button")
    assert make.count() == 1 or not current.is_enabled()
    assert_no_exception(page)
    page.mouse.move(0, 0)
    results.scroll_into_view_if_needed()
    save_screenshot(page, "train_sweep")

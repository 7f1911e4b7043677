"""A stroke reaches the server as soon as it ends: the canvas' "Update the app" pressed for it, one rerun per stroke.

The canvas component waits 200 ms after each stroke before it sends it; ui.drawing_box presses the component's
own send button instead (SEND_STROKE_JS). Counted here, not timed: its send button's clicks and the app's script
runs, for a mouse and for a finger (bench/browser_drawings.py prints the time).
"""

from __future__ import annotations

import pytest

from tests.harness.browser import draw_digit, open_page
from tests.harness.drawings import make_drawings

pytestmark = pytest.mark.e2e  # a real browser against a real server

# Counts, in the page, the canvas send button's clicks and the app's script runs from now on.
COUNT_JS = """() => {
    const counts = window.__strokeCounts = {sends: 0, runs: 0};
    for (const host of document.querySelectorAll('*')) {
        const button = host.shadowRoot?.querySelector('button[aria-label="Update the app with this drawing"]');
        if (button) button.addEventListener('click', () => { counts.sends += 1; });
    }
    const app = document.querySelector('[data-testid="stApp"]');
    let state = app.getAttribute('data-test-script-state');
    new MutationObserver(() => {
        const now = app.getAttribute('data-test-script-state');
        if (now !== state && now === 'running') counts.runs += 1;
        state = now;
    }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def two_stroke_drawing():
    """A held-out drawing of more than one stroke: (label, strokes)."""
    return next((label, strokes) for label, strokes in make_drawings(seed=0) if len(strokes) >= 2)


@pytest.mark.parametrize("pointer", ["mouse", "finger"])
def test_each_stroke_is_sent_at_once_and_read_in_one_run(page, app_url, pointer):
    open_page(page, f"{app_url}/draw", "Draw a digit in the black box")
    label, strokes = two_stroke_drawing()
    page.evaluate(COUNT_JS)
    cdp = page.context.new_cdp_session(page) if pointer == "finger" else None
    assert draw_digit(page, strokes, cdp=cdp) == str(label)  # waits for each stroke's reading, then settles
    counts = page.evaluate("() => window.__strokeCounts")
    assert counts == {"sends": len(strokes), "runs": len(strokes)}

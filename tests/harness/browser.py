"""Playwright helpers for driving Digit Lab in Chromium: waiting, screenshots, drawing, reading.

Shared by the browser tests and the benchmarks; no pytest here. The pure parts (selectors, the idle
rule `next_idle_since`, `metric_locator`, stroke geometry) also serve tests/harness/browser_async.py.
Waits are generous: on a slow 2-core machine the first page that imports TensorFlow takes several seconds, and a
training running in the same server competes for the CPU. So every wait fails at once, with the
text, when the page shows an exception or an error box (st.error) instead of what was awaited:
a page that says "Could not download MNIST" will not say anything else within the deadline. A
wait where an error box is expected or harmless passes `errors_ok=True`.
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tests.harness.server import ROOT

if TYPE_CHECKING:  # playwright is imported by the caller; the conftest skips when it is missing
    from playwright.sync_api import Page

SCREENSHOT_DIR = ROOT / "artifacts" / "screenshots"
APP = '[data-testid="stApp"]'
EXCEPTION = '[data-testid="stException"]'
ERROR_BOX = '[data-testid="stAlertContentError"]'  # st.error (Streamlit names it stAlertContent + the kind)
STRAY_HELP = '[data-testid="stHelp"]'
CANVAS = "canvas.upper-canvas"  # the canvas Fabric.js draws on (inside the component's shadow root)
CANVAS_SIZE = 280  # the Draw page's canvas, in canvas pixels
PAGE_TIMEOUT = 120.0  # a page's first run (TensorFlow import, model load) on a busy machine
RESULT_TIMEOUT = 30.0  # one stroke's rerun and reading


class AppError(AssertionError):
    """The app showed an exception box, or did not reach the expected state in time."""


def assert_no_exception(page: Page) -> None:
    """Fail when the page shows a Streamlit exception box, or a stray st.help box.

    The app never calls st.help: a help box means a bare expression statement in a page was
    written out by Streamlit's "magic" (e.g. `st.success(a) if ok else st.warning(b)`).
    """
    boxes = page.locator(EXCEPTION)
    if boxes.count():
        text = boxes.first.inner_text(timeout=5000)
        raise AppError(f"Streamlit exception on {page.url}:\n{text[:3000]}")
    stray = page.locator(STRAY_HELP)
    if stray.count():
        text = stray.first.inner_text(timeout=5000)
        raise AppError(f"stray st.help output (Streamlit magic) on {page.url}:\n{text[:500]}")


def shown_error(page: Page) -> str | None:
    """The text of the first error box (st.error) on the page, or None when there is none."""
    boxes = page.locator(ERROR_BOX)
    if not boxes.count():
        return None
    try:
        return boxes.first.inner_text(timeout=5000)
    except Exception:  # noqa: BLE001 -- Playwright's TimeoutError: a rerun removed it meanwhile
        return None


def assert_no_error(page: Page, errors_ok: bool = False) -> None:
    """assert_no_exception, and fail when the page shows an error box (unless `errors_ok`)."""
    assert_no_exception(page)
    if not errors_ok and (text := shown_error(page)) is not None:
        raise AppError(f"the page shows an error on {page.url}:\n{text[:3000]}")


def save_screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    """A PNG of the whole page at artifacts/screenshots/NAME.png; returns its path.

    Streamlit scrolls inside its main container, not the document, so Playwright's own
    full_page shot would stop at the window's bottom edge: the window is made as tall as the
    content for the shot, then restored.
    """
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    viewport = page.viewport_size
    extra = page.evaluate("""() => {
        let extra = 0;
        for (const el of document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]')) {
            extra = Math.max(extra, el.scrollHeight - el.clientHeight);
        }
        return extra;
    }""") if full_page and viewport else 0
    if extra > 0:
        page.set_viewport_size({"width": viewport["width"], "height": min(viewport["height"] + extra, 12000)})
        page.wait_for_timeout(500)  # charts and tables re-measure themselves
    try:
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    finally:
        if extra > 0:
            page.set_viewport_size(viewport)
            page.wait_for_timeout(200)
    return path


# (data-test-script-state, data-test-connection-state) of the app root: page.evaluate(SCRIPT_STATE_JS, APP)
SCRIPT_STATE_JS = """(sel) => { const a = document.querySelector(sel);
                      return a ? [a.getAttribute('data-test-script-state'),
                                  a.getAttribute('data-test-connection-state')] : [null, null]; }"""


def script_state(page: Page) -> tuple[str | None, str | None]:
    """(data-test-script-state, data-test-connection-state) of the app root, or Nones."""
    return page.evaluate(SCRIPT_STATE_JS, APP)


def next_idle_since(state: str | None, connection: str | None, now: float, idle_since: float | None) -> float | None:
    """Since when the app has been idle (connected, its script not running), given one look at it; None: busy."""
    if state == "notRunning" and connection == "CONNECTED":
        return idle_since or now
    return None


def wait_for_idle(page: Page, timeout: float = PAGE_TIMEOUT, quiet: float = 0.4, errors_ok: bool = False) -> None:
    """Wait until the app is connected and its script has not been running for `quiet` seconds.

    Streamlit marks the app root `data-test-script-state="notRunning"` between runs. A fragment
    that re-runs every half second (the Train page while training) never stays quiet for long:
    poll for the text you expect there instead. Fails at once on an exception box, or on an error
    box unless `errors_ok`.
    """
    deadline = time.monotonic() + timeout
    idle_since = None
    while True:
        assert_no_error(page, errors_ok)
        state, connection = script_state(page)
        now = time.monotonic()
        idle_since = next_idle_since(state, connection, now, idle_since)
        if idle_since is not None and now - idle_since >= quiet:
            assert_no_error(page, errors_ok)
            return
        if now > deadline:
            raise AppError(f"app not idle after {timeout:.0f} s on {page.url} "
                           f"(script {state}, connection {connection})")
        page.wait_for_timeout(100)


def wait_until(page: Page, predicate, timeout: float, what, interval: float = 0.2, errors_ok: bool = False):
    """Poll predicate() until it returns something truthy; fail at once on an exception box, or on an
    error box while it is not yet true (unless `errors_ok`).

    `what` names the wait in the timeout message: a string, or a callable giving one then. The
    predicate comes before the error check: what was awaited may show beside an error box.
    """
    deadline = time.monotonic() + timeout
    while True:
        assert_no_exception(page)
        value = predicate()
        if value:
            return value
        if not errors_ok and (text := shown_error(page)) is not None:
            raise AppError(f"the page shows an error instead of {what() if callable(what) else what} "
                           f"on {page.url}:\n{text[:3000]}")
        if time.monotonic() > deadline:
            raise AppError(f"timed out after {timeout:.0f} s waiting for {what() if callable(what) else what} "
                           f"on {page.url}")
        page.wait_for_timeout(int(interval * 1000))


def open_page(page: Page, url: str, ready_text: str | None = None, timeout: float = PAGE_TIMEOUT,
              errors_ok: bool = False) -> None:
    """Go to url, wait for ready_text (if any) and for the app to be idle, with no exception or error box."""
    page.goto(url, wait_until="domcontentloaded", timeout=timeout * 1000)
    page.locator(APP).wait_for(timeout=timeout * 1000)
    if ready_text:
        wait_until(page, lambda: page.get_by_text(ready_text).first.is_visible(), timeout, f'"{ready_text}"',
                   errors_ok=errors_ok)
    wait_for_idle(page, timeout, errors_ok=errors_ok)


def link_labels(links) -> list[str]:
    """The labels of st.page_link links (without their Material icon's ligature text)."""
    return [text.strip() for text in links.locator('[data-testid="stMarkdownContainer"]').all_inner_texts()]


def sidebar_links(page: Page):
    """The app's navigation: the page links in the sidebar."""
    return page.locator('[data-testid="stSidebar"] [data-testid="stPageLink-NavLink"]')


def nav_link(page: Page, title: str):
    """The sidebar navigation link to a page, by its label."""
    return sidebar_links(page).filter(
        has=page.locator('[data-testid="stMarkdownContainer"]').get_by_text(title, exact=True))


def metric_locator(page, label: str):
    """The st.metric(label) boxes (a locator: building one is the same in the sync and async APIs)."""
    return page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=label))


METRIC_VALUE = '[data-testid="stMetricValue"]'


def metric_value(page: Page, label: str) -> str | None:
    """The value shown by st.metric(label), or None when there is no such metric."""
    metric = metric_locator(page, label)
    if not metric.count():
        return None
    return metric.first.locator(METRIC_VALUE).inner_text().strip()


def combobox(page: Page, label: str):
    """The text field of st.selectbox(label) (a combobox whose value is the option shown)."""
    return page.locator(f'input[role="combobox"][aria-label="{label}"]')


def open_listbox(page: Page, label: str):
    """Open st.selectbox(label)'s list of options (retrying: a rerun may redraw it); the options."""
    box = combobox(page, label).first
    box.scroll_into_view_if_needed()
    options = page.get_by_role("listbox").first.get_by_role("option")
    for attempt in range(4):
        if attempt % 2 == 0:
            box.click()
        else:  # the chevron beside the text field
            box.locator("xpath=..").get_by_role("button", name="Open").click()
        try:
            options.first.wait_for(state="attached", timeout=3_000)
            return options
        except Exception:  # noqa: BLE001 -- Playwright's TimeoutError: try again
            page.keyboard.press("Escape")
            wait_for_idle(page, timeout=30)
    raise AppError(f"the {label!r} select box does not open")


def choose_option(page: Page, label: str, starts_with: str) -> str:
    """Pick the first option of st.selectbox(label) that starts with `starts_with`; returns it."""
    options = open_listbox(page, label)
    option = options.filter(has_text=re.compile("^" + re.escape(starts_with))).first
    text = (option.text_content() or "").strip()
    option.click()
    page.get_by_role("listbox").first.wait_for(state="detached", timeout=10_000)
    combobox(page, label).first.blur()
    return text


def selectbox_value(page: Page, label: str) -> str | None:
    """The option st.selectbox(label) shows, or None when there is no such select box."""
    box = combobox(page, label)
    return box.first.input_value() if box.count() else None


def selectbox_options(page: Page, label: str) -> list[str]:
    """All options of st.selectbox(label): opens its list, reads it, closes it (Escape, then away)."""
    options = open_listbox(page, label)
    texts = [(t or "").strip() for t in options.all_text_contents()]
    page.keyboard.press("Escape")
    page.get_by_role("listbox").first.wait_for(state="detached", timeout=10_000)
    combobox(page, label).first.blur()  # as a person would, by clicking elsewhere
    return texts


# --- The Draw page's canvas -------------------------------------------------------------------


def canvas_box(page: Page) -> dict:
    """The drawing canvas' bounding box in CSS pixels (page viewport coordinates)."""
    canvas = page.locator(CANVAS).first
    canvas.wait_for(timeout=PAGE_TIMEOUT * 1000)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    if not box or box["width"] <= 0:
        raise AppError("the drawing canvas has no size")
    return box


def to_screen(box: dict, point: tuple[float, float]) -> tuple[float, float]:
    """Canvas pixels (0..280) -> viewport CSS pixels, following any CSS scaling of the canvas."""
    return (box["x"] + point[0] * box["width"] / CANVAS_SIZE,
            box["y"] + point[1] * box["height"] / CANVAS_SIZE)


def densify(stroke, spacing: float = 8.0) -> list[tuple[float, float]]:
    """The stroke's points with extra points so that consecutive ones are <= spacing px apart."""
    points = [tuple(stroke[0])]
    for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
        steps = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / spacing))
        points += [(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps) for i in range(1, steps + 1)]
    return points


def stroke_points(box: dict, stroke) -> list[tuple[float, float]]:
    """A stroke in canvas pixels as the viewport points a mouse or finger passes through."""
    return [to_screen(box, p) for p in densify(stroke)]


def mouse_stroke(page: Page, box: dict, stroke) -> None:
    """Draw one stroke with the mouse: press at its first point, move through all, release."""
    points = stroke_points(box, stroke)
    page.mouse.move(*points[0])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x, y)
    page.mouse.up()


def touch_stroke(cdp, box: dict, stroke) -> None:
    """Draw one stroke with a finger through CDP Input.dispatchTouchEvent (real touch input)."""
    points = stroke_points(box, stroke)

    def touch(kind: str, x: float, y: float) -> None:
        cdp.send("Input.dispatchTouchEvent", {
            "type": kind, "touchPoints": [{"x": x, "y": y, "radiusX": 4, "radiusY": 4, "force": 1, "id": 1}]})

    touch("touchStart", *points[0])
    for x, y in points[1:]:
        touch("touchMove", x, y)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def model_view_src(page: Page) -> str | None:
    """The src of the "What the model sees" image (it changes with every new reading), or None."""
    image = page.locator('[data-testid="stImage"]').filter(has_text="What the model sees")
    if not image.count():
        return None
    return image.first.locator("img").first.get_attribute("src")


def wait_for_new_reading(page: Page, before: str | None, timeout: float = RESULT_TIMEOUT) -> str:
    """Wait for a reading that differs from `before` (a model_view_src) and an idle app."""
    deadline = time.monotonic() + timeout
    while True:
        assert_no_error(page)
        src = model_view_src(page)
        if src and src != before:
            state, _ = script_state(page)
            if state == "notRunning":
                # Settle: the run that drew it has ended; make sure nothing replaced it since.
                page.wait_for_timeout(250)
                if model_view_src(page) == src and script_state(page)[0] == "notRunning":
                    assert_no_exception(page)
                    return src
        if time.monotonic() > deadline:
            raise AppError(f"no new reading of the drawing within {timeout:.0f} s")
        page.wait_for_timeout(50)


def draw_digit(page: Page, strokes, cdp=None, timeout: float = RESULT_TIMEOUT) -> str:
    """Draw the strokes (mouse, or touch through `cdp`), each followed by its rerun; the Prediction."""
    box = canvas_box(page)
    for stroke in strokes:
        before = model_view_src(page)
        if cdp is None:
            mouse_stroke(page, box, stroke)
        else:
            touch_stroke(cdp, box, stroke)
        wait_for_new_reading(page, before, timeout)
    value = metric_value(page, "Prediction")
    if value is None:
        raise AppError("no Prediction metric after drawing")
    return value


def clear_canvas(page: Page, timeout: float = RESULT_TIMEOUT) -> None:
    """Press the canvas toolbar's "Reset canvas & history" and wait for the empty-canvas hint."""
    canvas = page.locator(CANVAS).first
    canvas.hover()  # the toolbar shows while the pointer is over the canvas
    page.get_by_role("button", name="Reset canvas & history").click()
    wait_until(page, lambda: page.get_by_text("Draw a digit in the black box").count()
               and metric_value(page, "Prediction") is None, timeout, "the empty-canvas hint")
    wait_for_idle(page, timeout)


# --- The Train page --------------------------------------------------------------------------------

PROGRESS = re.compile(r"Epoch (\d+) of (\d+) · batch (\d+) of (\d+)")


def progress(page) -> tuple[int, int, int, int] | None:
    """(epoch, epochs, batch, batches) from the progress bar's text, or None."""
    bar = page.locator('[data-testid="stProgress"]')
    if not bar.count():
        return None
    match = PROGRESS.search(bar.first.inner_text())
    return tuple(int(g) for g in match.groups()) if match else None


def set_number(page, label: str, value: int) -> None:
    field = page.locator(f'input[aria-label="{label}"]')
    field.fill(str(value))
    field.press("Enter")
    wait_for_idle(page)
    assert field.input_value() == str(value)


def set_select_slider_to_first(page, label: str) -> str:
    """Move a (select) slider to its first value with the keyboard; returns the value shown."""
    thumb = page.locator(f'input[type="range"][aria-label="{label}"]')
    thumb.focus()
    thumb.press("Home")
    wait_for_idle(page)
    return thumb.get_attribute("aria-valuetext")


CURRENT_MODEL = "Current model (used by Evaluate and Draw)"


def run_options(page) -> list[str]:
    """The runs' names, as the runs section's "Current model" select box lists them."""
    if selectbox_value(page, CURRENT_MODEL) is None:
        return []
    return selectbox_options(page, CURRENT_MODEL)


def short(name: str | None) -> str:
    """'Run 2 · Digits (8x8) · 15 sigmoid · SGD 0.1' -> 'Run 2'."""
    return (name or "").split(" · ")[0]

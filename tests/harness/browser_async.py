"""tests/harness/browser.py's waits for Playwright's async API (bench.classroom's visitors share one loop).

Only the awaiting lives here: selectors, the idle rule, metric locators and stroke geometry are
browser.py's. Waits are long (`WAIT`): a class of visitors makes every page slow, and a visitor waits
(the figures say how long) rather than fails.
"""

from __future__ import annotations

import asyncio
import time

from tests.harness.browser import (
    APP,
    CANVAS,
    EXCEPTION,
    METRIC_VALUE,
    SCRIPT_STATE_JS,
    AppError,
    metric_locator,
    nav_link,
    next_idle_since,
    stroke_points,
)

WAIT = 900.0  # seconds one page may take to be ready
POLL = 0.25  # seconds between looks at a page while waiting for it to be idle
STROKE_PAUSE = 0.2  # seconds between strokes: a person lifts the pen; the component reports each stroke


async def assert_no_exception(page) -> None:
    """Fail when the page shows a Streamlit exception box."""
    boxes = page.locator(EXCEPTION)
    if await boxes.count():
        raise AppError(f"Streamlit exception on {page.url}:\n{(await boxes.first.inner_text())[:1500]}")


async def wait_for_idle(page, timeout: float = WAIT, quiet: float = 0.4) -> None:
    """browser.wait_for_idle, awaited: connected, the script not running for `quiet` seconds, no exception."""
    deadline, idle_since = time.monotonic() + timeout, None
    while True:
        state, connection = await page.evaluate(SCRIPT_STATE_JS, APP)
        now = time.monotonic()
        idle_since = next_idle_since(state, connection, now, idle_since)
        if idle_since is not None and now - idle_since >= quiet:
            await assert_no_exception(page)
            return
        if now > deadline:
            raise AppError(f"app not idle after {timeout:.0f} s on {page.url} ({state}, {connection})")
        await asyncio.sleep(POLL)


async def wait_for_text(page, text: str, timeout: float = WAIT) -> None:
    """Wait until `text` shows on the page."""
    await page.get_by_text(text).first.wait_for(timeout=timeout * 1000)


async def go_to(page, title: str, ready_text: str) -> None:
    """Follow the sidebar's link (a page.goto would start a new session) and wait until the page is ready."""
    await nav_link(page, title).click()
    await wait_for_text(page, ready_text)
    await wait_for_idle(page)


async def set_field(page, label: str, value: str, tries: int = 3) -> None:
    """Type a value into a text or number field, and check it took (a rerun may redraw the form meanwhile)."""
    box = page.get_by_label(label, exact=True)
    for _ in range(tries):
        await box.fill(value)
        await box.press("Enter")
        await wait_for_idle(page)
        if await box.input_value() == value:
            return
    raise AppError(f"{label} would not keep {value!r}")


async def draw(page, strokes) -> None:
    """Draw the strokes with the mouse on the real canvas."""
    canvas = page.locator(CANVAS).first
    await canvas.wait_for(timeout=WAIT * 1000)
    await canvas.scroll_into_view_if_needed()
    box = await canvas.bounding_box()
    for stroke in strokes:
        points = stroke_points(box, stroke)
        await page.mouse.move(*points[0])
        await page.mouse.down()
        for x, y in points[1:]:
            await page.mouse.move(x, y)
        await page.mouse.up()
        await asyncio.sleep(STROKE_PAUSE)  # not synchronisation: the pause between two strokes of a hand


async def metric_value(page, label: str) -> str | None:
    """The value shown by st.metric(label), or None when there is no such metric."""
    metric = metric_locator(page, label)
    if not await metric.count():
        return None
    return (await metric.first.locator(METRIC_VALUE).inner_text()).strip()

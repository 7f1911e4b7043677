"""The teacher's board during the class (issue 24): a class started before the students come, its board
open in a browser context of its own for the whole run, watching each student's finished run appear.

`start_class` makes the class through the app's own sidebar (Start a class) and returns its teacher link
and code; the visitors join with the code (`visit(join_code=...)`) under the name "student i", and each
trains 15 + i hidden units, so its row on the board says "· {15 + i} sigmoid ·". `watch_board` reopens
the board now and then (its page-ready time: the table or "No student has joined yet" shown and the app
idle) and in between reads the table every POLL seconds: a visitor's lag is from the moment its own page
showed its finished run to the moment the board showed it, without a reload (the board's fragment).
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field

from tests.harness.browser_async import WAIT, wait_for_idle, wait_for_text

POLL = 0.5  # seconds between looks at the board's table
REOPEN = 60.0  # seconds between two openings of the board (each one timed)


@dataclass
class BoardWatch:
    ready: list[float] = field(default_factory=list)  # seconds for each opening of the board to be ready
    seen_at: dict[int, float] = field(default_factory=dict)  # visitor index -> monotonic time its run showed
    error: str = ""


def row_text(index: int) -> str:
    """What the board's row of visitor `index` says once its run finished (its recipe)."""
    return f"· {15 + index} sigmoid ·"


async def start_class(browser, url: str) -> tuple[str, str]:
    """The teacher starts a class from the sidebar; (teacher link, class code)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(WAIT * 1000)
    page = await context.new_page()
    try:
        await page.goto(url, wait_until="domcontentloaded")
        await wait_for_text(page, "Digit Lab")
        await page.locator('[data-testid="stSidebar"]').get_by_text("Your class", exact=True).click()
        await wait_for_idle(page)
        await page.get_by_role("textbox", name="Name of the class").fill("Bench class")
        await page.get_by_role("button", name="Start a class").click()
        while "teacher=" not in page.url:
            await asyncio.sleep(0.2)
        await wait_for_idle(page)
        box = await page.locator(".st-key-class_code_box").inner_text()
        found = re.search(r"\b[A-Z0-9]{6}\b", box)
        if found is None:
            raise RuntimeError(f"no class code on the board: {box!r}")
        return page.url, found.group(0)
    finally:
        await context.close()


async def board_text(page) -> str:
    tables = page.locator('[data-testid="stDataFrame"]')
    return " ".join([await t.text_content() or "" for t in await tables.all()])


async def open_board(page, link: str) -> float:
    """Open the board by its teacher link; seconds until it was ready."""
    started = time.monotonic()
    await page.goto(link, wait_until="domcontentloaded")
    while not (await page.locator('[data-testid="stDataFrame"]').count()
               or await page.get_by_text("No student has joined yet").count()):
        if time.monotonic() - started > WAIT:
            raise TimeoutError("the board did not show its table")
        await asyncio.sleep(0.1)
    await wait_for_idle(page)
    return time.monotonic() - started


async def watch_board(browser, link: str, visitors: int, class_over) -> BoardWatch:
    """The board open until `class_over()`: when each visitor's run showed on it, and its opening times."""
    watch = BoardWatch()
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(WAIT * 1000)
    page = await context.new_page()
    try:
        watch.ready.append(await open_board(page, link))
        opened = time.monotonic()
        while not class_over() or len(watch.seen_at) < visitors and time.monotonic() - opened < 30:
            if time.monotonic() - opened > REOPEN:
                watch.ready.append(await open_board(page, link))
                opened = time.monotonic()
            text = await board_text(page)
            now = time.monotonic()
            for index in range(visitors):
                if index not in watch.seen_at and row_text(index) in text:
                    watch.seen_at[index] = now
            await asyncio.sleep(POLL)
    except Exception as error:  # reported, not raised: the class goes on
        watch.error = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    finally:
        await context.close()
    return watch


def board_lags(watch: BoardWatch, visitors: list) -> list[float]:
    """Sorted seconds from each visitor's page showing its finished run to the board showing it."""
    return sorted(max(0.0, watch.seen_at[v.index] - v.run_shown_at) for v in visitors
                  if v.run_shown_at is not None and v.index in watch.seen_at)

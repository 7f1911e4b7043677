"""The teacher's board during the class (issue 24): a class started before the students come, its board
open in a browser of its own for the whole run, watching each student's finished run appear.

`start_class` makes the class through the app's own sidebar (Start a class) and returns its teacher link
and code; the visitors join with the code (`visit(join_code=...)`) under the name "student i", and each
trains 15 + i hidden units, so its row on the board says "· {15 + i} sigmoid ·". `watch_board` reopens
the board now and then (its page-ready time: the table or "No student has joined yet" shown and the app
idle) and in between reads the table every POLL seconds. A run's lag is from the moment the server saved
it as finished (the run's `updated_at` in the server's database, read-only) to the moment the board
showed it, without a reload (the board's fragment). The board has a Chromium of its own, as a teacher's
computer is not one of the students': the 30 students' pages share one Chromium core here and draw
slowly, so their own pages are no clock for the board.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness.browser_async import WAIT, wait_for_idle, wait_for_text

FIRST_UNITS = 15  # visitor i trains FIRST_UNITS + i hidden units: its run's name is its own
POLL = 0.5  # seconds between looks at the board's table
REOPEN = 60.0  # seconds between two openings of the board (each one timed)


FINISHED_UNITS = re.compile(r"· (\d+) sigmoid ·")  # a visitor's run name: its units, FIRST_UNITS + its index


@dataclass
class BoardWatch:
    ready: list[float] = field(default_factory=list)  # seconds for each opening of the board to be ready
    seen_at: dict[int, float] = field(default_factory=dict)  # visitor index -> time.time() its run showed
    finished_at: dict[int, float] = field(default_factory=dict)  # visitor index -> time.time() the server saved it
    error: str = ""


def row_text(index: int) -> str:
    """What the board's row of visitor `index` says once its run finished (its recipe)."""
    return f"· {FIRST_UNITS + index} sigmoid ·"


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


def read_finished(database: Path, watch: BoardWatch) -> None:
    """Note when each visitor's run was saved as finished, from the server's SQLite database (read-only)."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as conn:
        rows = conn.execute("SELECT name, updated_at FROM runs WHERE state IN ('finished', 'stopped')").fetchall()
    for name, updated_at in rows:
        if (found := FINISHED_UNITS.search(name)) is not None:
            watch.finished_at.setdefault(int(found.group(1)) - FIRST_UNITS, float(updated_at))


async def watch_board(browser, link: str, visitors: int, class_over, database: Path) -> BoardWatch:
    """The board open until `class_over()`: when each visitor's run showed on it, and its opening times.

    `database` is the server's SQLite file: when each run was saved as finished.
    """
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
            read_finished(database, watch)  # before the board: a run is never seen before it is finished
            text = await board_text(page)
            now = time.time()
            for index in range(visitors):
                if index not in watch.seen_at and row_text(index) in text:
                    watch.seen_at[index] = now
            await asyncio.sleep(POLL)
    except Exception as error:  # reported, not raised: the class goes on
        watch.error = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    finally:
        await context.close()
    return watch


def board_lags(watch: BoardWatch) -> list[float]:
    """Sorted seconds from each visitor's run saved as finished to the board showing it."""
    return sorted(watch.seen_at[i] - watch.finished_at[i] for i in watch.seen_at if i in watch.finished_at)

"""One visitor of the classroom: its path through Home, Train, Evaluate and Draw, timed; the class in one Chromium."""

from __future__ import annotations

import asyncio
import base64
import collections
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf.message import DecodeError
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.classroom.board import FIRST_UNITS, BoardWatch, start_class, watch_board
from core.words import SETTING_WORDS
from tests.harness.browser import AppError, combobox
from tests.harness.browser_async import (
    WAIT,
    assert_no_exception,
    draw,
    go_to,
    metric_value,
    set_field,
    wait_for_idle,
    wait_for_text,
)
from tests.harness.drawings import make_drawings
from tests.harness.server import launch_browser

PAGES = ("Home", "Train", "Evaluate", "Draw")  # the pages whose "ready" times make the p95
READY_TEXT = {"Home": "What you can do here", "Train": "Start training", "Evaluate": "Test accuracy",
              "Draw": "Draw a digit"}  # text that shows when a page reached through the sidebar is drawn
STEPS = (*PAGES, "training", "digit read")
VISITOR_TIMEOUT = 3600.0  # seconds for one visitor's whole path, waits included
REDRAW_AFTER = 60.0  # seconds without a reading after which a visitor draws the digit again
MAX_REDRAWS = 2
PROGRESS = 30.0  # seconds between progress lines (how many visitors are at each step)
POLL = 0.25  # seconds between looks at the Draw page while waiting for its reading
TRAINING_POLL = 1.0  # seconds between looks at the Train page while the training runs
RUN_NAME = re.compile(r"Run \d+ · [^·]+ · (\d+) [a-z]+ ·")  # "Run 1 · Digits (8x8) · 17 sigmoid · SGD 0.1"


@dataclass
class Visitor:
    index: int
    ready: dict[str, float] = field(default_factory=dict)  # step -> seconds
    served: dict[str, float] = field(default_factory=dict)  # step -> seconds of it the server took (FrameClock)
    slot_wait: float = 0.0
    cross_talk: list[str] = field(default_factory=list)
    completed: bool = False
    rounds: dict[str, list[float]] = field(default_factory=dict)  # page -> ready seconds of later rounds
    unexpected: str = ""  # its run's settings are not the ones it set and left (Digits' defaults)
    redraws: int = 0  # times the digit was drawn again because no reading came (a lost stroke)
    error: str = ""
    step: str = "arriving"


# --- The server's share of a step, from the WebSocket's frames ------------------------------------


class FrameClock:
    """When this page asked the server for a run, and when the server said a run had finished.

    Chromium's DevTools protocol reports every WebSocket frame with the network stack's own timestamp,
    so the times do not include the page's drawing (the visitors' browsers share one CPU here, real
    ones do not), though a busy browser reads its socket late: inside the server (bench/server_clock)
    the same requests took far less. A step's "served" time is how long its rerun requests (BackMsg
    `rerun_script` sent by a click, a link or a widget, not by a fragment's timer) waited for the
    server's `script_finished`.
    """

    FINISHED = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)

    def __init__(self):
        self.asked: list[float] = []  # network timestamps (s) of the page's own rerun requests
        self.finished: list[float] = []  # ... and of the server's "script finished"

    async def attach(self, context, page) -> None:
        cdp = await context.new_cdp_session(page)
        cdp.on("Network.webSocketFrameSent", self.on_sent)
        cdp.on("Network.webSocketFrameReceived", self.on_received)
        await cdp.send("Network.enable")

    def on_sent(self, event: dict) -> None:
        message = BackMsg()
        try:
            message.ParseFromString(base64.b64decode(event["response"]["payloadData"]))
        except (ValueError, KeyError, DecodeError):
            return
        if message.HasField("rerun_script") and not message.rerun_script.is_auto_rerun:
            self.asked.append(event["timestamp"])

    def on_received(self, event: dict) -> None:
        payload = event["response"].get("payloadData", "")
        if len(payload) > 400:  # "script finished" is a few bytes: skip the pages' content unparsed
            return
        message = ForwardMsg()
        try:
            message.ParseFromString(base64.b64decode(payload))
        except (ValueError, DecodeError):
            return
        if message.WhichOneof("type") == "script_finished" and message.script_finished in self.FINISHED:
            self.finished.append(event["timestamp"])

    def mark(self) -> tuple[int, int]:
        return len(self.asked), len(self.finished)

    def served_since(self, mark: tuple[int, int], last_request: bool = False) -> float | None:
        """Seconds the page waited on the server since `mark`; None if no request was answered.

        Each request waits until the next "script finished"; a page's drawing between one answer and its
        next request (a component that reports its value once drawn) is the browser's time, not counted.
        With `last_request`, only the last request counts (the last stroke of a drawing).
        """
        asked, finished = self.asked[mark[0]:], self.finished[mark[1]:]
        if last_request:
            asked = asked[-1:]
        waited, covered_until = 0.0, -math.inf
        for start in asked:
            end = next((f for f in finished if f >= start), None)
            if end is None:
                continue
            waited += max(0.0, end - max(start, covered_until))  # overlapping waits count once
            covered_until = max(covered_until, end)
        return waited if covered_until > -math.inf else None



# --- The runs table ---------------------------------------------------------------------------------


async def runs_table_text(page) -> str:
    """The runs table's text (its cells are also in the grid's DOM, as an accessible table).

    The grid keeps only the columns in view in its DOM: the table is found by its test column's header.
    """
    tables = page.locator('[data-testid="stDataFrame"]').filter(has_text="right on new images (test)")
    return " ".join([await t.text_content() or "" for t in await tables.all()])


async def runs_table_units(page) -> list[int]:
    """The hidden-layer units in each run name of the runs table."""
    return [int(units) for units in RUN_NAME.findall(await runs_table_text(page))]


# --- One visitor ------------------------------------------------------------------------------------


async def join_class(page, url: str, code: str, name: str) -> None:
    """Open the class's join link, join under `name`, wait until the lab holds the class (the sidebar says so)."""
    await page.goto(f"{url}/?join={code}", wait_until="domcontentloaded")
    await wait_for_text(page, "Join the class")
    await page.get_by_role("textbox", name="Your name in the class").first.fill(name)
    await page.get_by_role("button", name="Join the class").first.click()
    await wait_for_text(page, "You joined")
    await wait_for_idle(page)


async def visit(browser, url: str, v: Visitor, delay: float, epochs: int, strokes, then=None,
                join_code: str | None = None) -> None:
    """One visitor's path; `then(page, v)`, if given, goes on in the same page before it closes.

    With `join_code`, it joins that class first (as "student i"), then goes on from its Home page.
    """
    await asyncio.sleep(delay)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(WAIT * 1000)
    page = await context.new_page()
    clock = FrameClock()
    await clock.attach(context, page)
    units = FIRST_UNITS + v.index

    async def timed(step: str, action) -> None:
        v.step = step
        started, mark = time.monotonic(), clock.mark()
        await action
        v.ready[step] = time.monotonic() - started
        if (served := clock.served_since(mark)) is not None:
            v.served[step] = served

    try:
        async def open_home():
            if join_code is not None:
                await join_class(page, url, join_code, f"student {v.index}")
            else:
                await page.goto(url, wait_until="domcontentloaded")
            await wait_for_text(page, "Digit Lab")
            await wait_for_idle(page)

        await timed("Home", open_home())
        await timed("Train", go_to(page, "Train", READY_TEXT["Train"]))
        await set_field(page, SETTING_WORDS["hidden"].label, str(units))  # the labels the page shows, in English
        await set_field(page, SETTING_WORDS["epochs"].label, str(epochs))
        v.step = "training"
        await page.get_by_role("button", name="Start training").click()
        clicked = time.monotonic()
        heading = page.get_by_role("heading", name="Your runs")
        while True:  # the fragment redraws twice a second: watch for the queue and for the run
            if time.monotonic() - clicked > WAIT:
                raise AppError(f"no run in the runs table {WAIT:.0f} s after Start training")
            if await page.get_by_text("Waiting for").count():
                v.slot_wait = time.monotonic() - clicked
            if await heading.count() and await runs_table_units(page):
                break
            await assert_no_exception(page)
            await asyncio.sleep(TRAINING_POLL)
        v.ready["training"] = time.monotonic() - clicked
        await wait_for_idle(page)
        shown = await runs_table_units(page)
        if shown != [units]:
            v.cross_talk.append(f"runs table shows units {shown}, its own is {units}")
        expected = f"· {units} sigmoid · SGD 0.1"
        if expected not in (table := await runs_table_text(page)):  # a setting changed that it did not touch
            found = re.search(rf"Run \d+ · [^·]+ · {units} [^|]{{0,60}}", table)
            v.unexpected = f"its run is not '{expected}' but '{found.group(0) if found else table[:120]}'"

        await timed("Evaluate", go_to(page, "Evaluate", READY_TEXT["Evaluate"]))
        model = await combobox(page, "Model").first.input_value()
        if f"· {units} " not in model:
            v.cross_talk.append(f"Evaluate's model is {model!r}")
        await timed("Draw", go_to(page, "Draw", READY_TEXT["Draw"]))
        caption = await page.get_by_text("Model: ").first.inner_text()
        if f"· {units} " not in caption:
            v.cross_talk.append(f"Draw's model is {caption!r}")
        v.step = "digit read"
        mark = clock.mark()
        await draw(page, strokes)
        drawn = time.monotonic()
        while await metric_value(page, "Prediction") is None:
            if time.monotonic() - drawn > REDRAW_AFTER:
                # As a person would: the box still shows no reading, so draw again (counted in the report).
                if v.redraws >= MAX_REDRAWS:
                    raise AppError(f"no reading after {v.redraws + 1} drawings")
                await wait_for_idle(page)
                if await metric_value(page, "Prediction") is not None:
                    break
                v.redraws += 1
                mark = clock.mark()
                await draw(page, strokes)
                drawn = time.monotonic()
            await assert_no_exception(page)
            await asyncio.sleep(POLL)
        await wait_for_idle(page)
        v.ready["digit read"] = time.monotonic() - drawn
        if (served := clock.served_since(mark, last_request=True)) is not None:  # from the last stroke
            v.served["digit read"] = served
        v.completed = True
        print(f"  visitor {v.index} done: " + ", ".join(f"{k} {t:.1f} s" for k, t in v.ready.items()), flush=True)
        if then is not None:
            await then(page, v)
    except Exception as error:  # reported, not raised: the other visitors go on
        v.error = f"{type(error).__name__} at {v.step}: {str(error).splitlines()[0] if str(error) else ''}"
        print(f"  visitor {v.index} FAILED: {v.error}", flush=True)
    finally:
        await context.close()


READ_PAUSE = 5.0  # seconds the visitor with its own browser spends on a page before the next: reading it


def go_round_the_pages(class_over):
    """For the visitor with a browser of its own: after its visit, Home, Train, Evaluate and Draw in
    turn, through the sidebar, until `class_over()`; each page's ready time goes into v.rounds."""
    async def go_round(page, v: Visitor) -> None:
        while not class_over():
            for title in PAGES:
                started = time.monotonic()
                await go_to(page, title, READY_TEXT[title])
                v.rounds.setdefault(title, []).append(time.monotonic() - started)
                await asyncio.sleep(READ_PAUSE)
    return go_round


async def open_before_class(browser, url: str) -> float:
    """The teacher opens the app before class: its home page, until the server's warm-up has drawn the
    pictures (TensorFlow imported, the bundled model loaded, the Digits preset trained). Seconds taken."""
    started = time.monotonic()
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    await page.goto(url, wait_until="domcontentloaded")
    await wait_for_text(page, "What you can do here")
    while await page.get_by_text("Drawing this picture").count():
        if time.monotonic() - started > WAIT:
            raise AppError(f"the home page's pictures were not drawn after {WAIT:.0f} s")
        await asyncio.sleep(1.0)
    await wait_for_idle(page)
    await context.close()
    return time.monotonic() - started


async def run_visitors(url: str, visitors: int, arrival: float, epochs: int, server_exited,
                       cold: bool = False, own_browser_cpu: int | None = None, with_class: bool = False,
                       board_cpu: int | None = None, database: Path | None = None,
                       ) -> tuple[list[Visitor], Visitor | None, float, BoardWatch | None]:
    """Every visitor at once in one Chromium; all stop when the server exits (`server_exited()` true).

    With `own_browser_cpu`, one more visitor comes halfway through the arrivals in a Chromium of its
    own, pinned to that CPU, and after its visit goes round the pages until the class is done: what a
    visitor whose browser is not one of thirty sees. Returns the visitors, that one (or None), and
    when the first visitor arrived (time.monotonic(): the teacher's visit is before it), and with
    `with_class` the board's watch (bench.classroom.board): the visitors join a class the teacher
    started before, whose board stays open in a Chromium of its own (pinned to `board_cpu`) until the
    class is done, reading when each run finished from the server's SQLite file `database`.
    """
    from playwright.async_api import async_playwright

    drawings = make_drawings(seed=0)
    people = [Visitor(i) for i in range(visitors)]
    strokes = [drawings[(v.index * 11) % len(drawings)][1] for v in people]  # varied digits
    async with async_playwright() as playwright:
        browser = await launch_browser(playwright)  # ONE Chromium: a context per visitor
        if not cold:
            print(f"  the teacher opened the app before class: warm in {await open_before_class(browser, url):.0f} s",
                  flush=True)
        code, board_task = None, None
        if with_class:
            link, code = await start_class(browser, url)
        class_started = time.monotonic()
        tasks = [asyncio.create_task(visit(browser, url, v, v.index * arrival / visitors, epochs, strokes[v.index],
                                           join_code=code))
                 for v in people]
        board_browser = None
        if with_class:
            board_browser = await launch_browser(playwright, cpus=None if board_cpu is None else str(board_cpu))
            board_task = asyncio.create_task(watch_board(board_browser, link, visitors,
                                                         lambda: all(t.done() for t in tasks), database))
        own, own_task, own_browser = None, None, None
        if own_browser_cpu is not None:
            own, own_browser = Visitor(visitors), await launch_browser(playwright, cpus=str(own_browser_cpu))
            own_task = asyncio.create_task(visit(own_browser, url, own, arrival / 2, epochs, strokes[0],
                                                 then=go_round_the_pages(lambda: all(t.done() for t in tasks))))
        deadline = time.monotonic() + VISITOR_TIMEOUT + arrival
        started, last_progress = time.monotonic(), time.monotonic()
        while not all(t.done() for t in tasks):
            if time.monotonic() - last_progress >= PROGRESS:  # where everybody is: a hang shows itself
                last_progress = time.monotonic()
                steps = collections.Counter("done" if v.completed else "failed" if v.error else v.step for v in people)
                print(f"  [{last_progress - started:4.0f} s] " + ", ".join(f"{k} {n}" for k, n in steps.items()),
                      flush=True)
            if server_exited() or time.monotonic() > deadline:
                why = "the server exited" if server_exited() else "timed out"
                for v in people:
                    v.error = v.error or ("" if v.completed else f"{why} at {v.step}")
                for task in tasks:
                    task.cancel()
                break
            await asyncio.sleep(1.0)
        await asyncio.gather(*tasks, return_exceptions=True)
        if own_task is not None:
            try:
                await asyncio.wait_for(own_task, 120)  # its round ends when the class does
            except TimeoutError:
                own.error = own.error or "its last round did not end"
            await own_browser.close()
        watch = await board_task if board_task is not None else None
        if board_browser is not None:
            await board_browser.close()
        await browser.close()
    return people, own, class_started, watch

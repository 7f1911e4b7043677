"""A classroom: 30 visitors arrive within one minute at one server, each trains, evaluates and draws.

    python -m bench.classroom [--visitors 30] [--arrival 60] [--epochs 5] [--no-ray]

bench/concurrency.py's four visitors, grown to a class, in real browser contexts of ONE Chromium
(Playwright's async API: one driver, one browser, one context per visitor, so one new Streamlit
session and, since no context has a lab key, one new lab each). Visitor i arrives at i * arrival /
visitors seconds, opens Home, goes to Train, sets hidden layers to 15 + i units (so its run's name
is its own) and a few epochs of Digits (seconds of training), starts, waits for its run, opens
Evaluate, then Draw, and draws one digit with the mouse.

The server runs on one CPU and Chromium (with this script) on another (`taskset`): the browser's
work does not count as the server's. Printed for each run: visitors completed; median and p95
seconds for each page to be ready (Home, Train, Evaluate and Draw: the page's text shown and the
app idle; "training" from the click on Start training to the run in the runs table, "digit read"
from the last stroke to the prediction); the longest wait for a training slot (from the click to
the last moment the page said "Waiting for"); cross-talk (a visitor whose runs table, Evaluate's
model or Draw's model shows a run that is not its own, or more than one run); the server's peak
memory (VmHWM) and its own CPU time (user + system, beside the wall time), and the same summed over
the server and every process it started (its Ray instance and workers), sampled every second.

Two more measures of the server's share, since 30 pages drawn by one Chromium core make every
page slow whatever the server does: bench/server_clock times each request inside the server (from
its arrival to its "script finished" sent), and one more visitor comes in a Chromium of its own,
pinned to the server's CPU (the only other one here, so it also takes from the server): after its
visit it goes round the four pages, 5 s on each, until the class is done (--no-own-browser: not).

With Ray installed the same visitors come again to a fresh server whose trainings run on a local
Ray instance (DIGITLAB_RAY_ADDRESS=local: started inside the server, on the server's CPU). The last
line is the in-process run's: `classroom: completed N/30, cross-talk K, peak memory M MB, p95 ready S s`
(p95 of every page-ready time of every visitor), and in brackets the p95 inside the server and in the
browser of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import importlib.util
import math
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from google.protobuf.message import DecodeError
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.memory import read_memory
from tests.drawings import make_drawings
from tests.e2e import helpers
from tests.e2e.server import browser_problem, launch_browser, start_server

PAGES = ("Home", "Train", "Evaluate", "Draw")  # the pages whose "ready" times make the p95
READY_TEXT = {"Home": "What you can do here", "Train": "Start training", "Evaluate": "Test accuracy",
              "Draw": "Draw a digit"}  # text that shows when a page reached through the sidebar is drawn
STEPS = (*PAGES, "training", "digit read")
PAGE_OF_PATH = {"": "Home", "train": "Train", "evaluate": "Evaluate", "draw": "Draw"}  # url path -> page
SERVER_CLOCK = ROOT / "bench" / "server_clock"  # its sitecustomize times every request inside the server
VISITOR_TIMEOUT = 3600.0  # seconds for one visitor's whole path, waits included
WAIT = 900.0  # seconds one page may take to be ready: a visitor waits (and the figures say so) rather than fails
REDRAW_AFTER = 60.0  # seconds without a reading after which a visitor draws the digit again
MAX_REDRAWS = 2
PROGRESS = 30.0  # seconds between progress lines (how many visitors are at each step)
POLL = 0.25  # seconds between looks at a page while waiting for it to be idle
TRAINING_POLL = 1.0  # seconds between looks at the Train page while the training runs
RUN_NAME = re.compile(r"Run \d+ · [^·]+ · (\d+) [a-z]+ ·")  # "Run 1 · Digits (8x8) · 17 sigmoid · SGD 0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


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


# --- The page, through Playwright's async API ------------------------------------------------------


async def wait_for_idle(page, timeout: float = WAIT, quiet: float = 0.4) -> None:
    """helpers.wait_for_idle, awaited: connected, the script not running for `quiet` seconds, no exception."""
    deadline, idle_since = time.monotonic() + timeout, None
    while True:
        state, connection = await page.evaluate(helpers.SCRIPT_STATE_JS, helpers.APP)
        now = time.monotonic()
        if state == "notRunning" and connection == "CONNECTED":
            idle_since = idle_since or now
            if now - idle_since >= quiet:
                await assert_no_exception(page)
                return
        else:
            idle_since = None
        if now > deadline:
            raise helpers.AppError(f"app not idle after {timeout:.0f} s on {page.url} ({state}, {connection})")
        await asyncio.sleep(POLL)


async def assert_no_exception(page) -> None:
    boxes = page.locator(helpers.EXCEPTION)
    if await boxes.count():
        raise helpers.AppError(f"Streamlit exception on {page.url}:\n{(await boxes.first.inner_text())[:1500]}")


async def wait_for_text(page, text: str, timeout: float = WAIT) -> None:
    await page.get_by_text(text).first.wait_for(timeout=timeout * 1000)


async def go_to(page, title: str, ready_text: str) -> None:
    """Follow the sidebar's link (a page.goto would start a new session) and wait until the page is ready."""
    await helpers.nav_link(page, title).click()
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
    raise helpers.AppError(f"{label} would not keep {value!r}")


async def runs_table_text(page) -> str:
    """The runs table's text (its cells are also in the grid's DOM, as an accessible table)."""
    tables = page.locator('[data-testid="stDataFrame"]').filter(has_text="how it ended")
    return " ".join([await t.text_content() or "" for t in await tables.all()])


async def runs_table_units(page) -> list[int]:
    """The hidden-layer units in each run name of the runs table."""
    return [int(units) for units in RUN_NAME.findall(await runs_table_text(page))]


async def draw(page, strokes) -> None:
    """Draw the strokes with the mouse on the real canvas (helpers.densify / to_screen do the geometry)."""
    canvas = page.locator(helpers.CANVAS).first
    await canvas.wait_for(timeout=WAIT * 1000)
    await canvas.scroll_into_view_if_needed()
    box = await canvas.bounding_box()
    for stroke in strokes:
        points = [helpers.to_screen(box, p) for p in helpers.densify(stroke)]
        await page.mouse.move(*points[0])
        await page.mouse.down()
        for x, y in points[1:]:
            await page.mouse.move(x, y)
        await page.mouse.up()
        await asyncio.sleep(0.2)


async def prediction(page) -> str | None:
    metric = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text="Prediction"))
    if not await metric.count():
        return None
    return (await metric.first.locator('[data-testid="stMetricValue"]').inner_text()).strip()


# --- One visitor ------------------------------------------------------------------------------------


async def visit(browser, url: str, v: Visitor, delay: float, epochs: int, strokes, then=None) -> None:
    """One visitor's path; `then(page, v)`, if given, goes on in the same page before it closes."""
    await asyncio.sleep(delay)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(WAIT * 1000)
    page = await context.new_page()
    clock = FrameClock()
    await clock.attach(context, page)
    units = 15 + v.index

    async def timed(step: str, action) -> None:
        v.step = step
        started, mark = time.monotonic(), clock.mark()
        await action
        v.ready[step] = time.monotonic() - started
        if (served := clock.served_since(mark)) is not None:
            v.served[step] = served

    try:
        async def open_home():
            await page.goto(url, wait_until="domcontentloaded")
            await wait_for_text(page, "Digit Lab")
            await wait_for_idle(page)

        await timed("Home", open_home())
        await timed("Train", go_to(page, "Train", READY_TEXT["Train"]))
        await set_field(page, "Hidden layers", str(units))
        await set_field(page, "Epochs", str(epochs))
        v.step = "training"
        await page.get_by_role("button", name="Start training").click()
        clicked = time.monotonic()
        heading = page.get_by_role("heading", name="Your runs")
        while True:  # the fragment redraws twice a second: watch for the queue and for the run
            if time.monotonic() - clicked > WAIT:
                raise helpers.AppError(f"no run in the runs table {WAIT:.0f} s after Start training")
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
        model = await helpers.combobox(page, "Model").first.input_value()
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
        while await prediction(page) is None:
            if time.monotonic() - drawn > REDRAW_AFTER:
                # As a person would: the box still shows no reading, so draw again (counted in the report).
                if v.redraws >= MAX_REDRAWS:
                    raise helpers.AppError(f"no reading after {v.redraws + 1} drawings")
                await wait_for_idle(page)
                if await prediction(page) is not None:
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
            raise helpers.AppError(f"the home page's pictures were not drawn after {WAIT:.0f} s")
        await asyncio.sleep(1.0)
    await wait_for_idle(page)
    await context.close()
    return time.monotonic() - started


async def run_visitors(url: str, visitors: int, arrival: float, epochs: int, server_exited,
                       cold: bool = False, own_browser_cpu: int | None = None,
                       ) -> tuple[list[Visitor], Visitor | None, float]:
    """Every visitor at once in one Chromium; all stop when the server exits (`server_exited()` true).

    With `own_browser_cpu`, one more visitor comes halfway through the arrivals in a Chromium of its
    own, pinned to that CPU, and after its visit goes round the pages until the class is done: what a
    visitor whose browser is not one of thirty sees. Returns the visitors, that one (or None), and
    when the first visitor arrived (time.monotonic(): the teacher's visit is before it).
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
        class_started = time.monotonic()
        tasks = [asyncio.create_task(visit(browser, url, v, v.index * arrival / visitors, epochs, strokes[v.index]))
                 for v in people]
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
        await browser.close()
    return people, own, class_started


# --- The server's processes -----------------------------------------------------------------------


class TreeSampler:
    """Every second: CPU seconds and resident memory of the server and all its descendants (a Ray instance's too)."""

    def __init__(self, root: int):
        self.root = root
        self.cpu: dict[int, float] = {}  # pid -> latest user + system seconds
        self.peak_rss = 0.0  # MB, the whole tree together
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.loop, daemon=True)

    def start(self) -> TreeSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.sample()
        self._stop.set()
        self._thread.join()

    def loop(self) -> None:
        while not self._stop.wait(1.0):
            self.sample()

    def sample(self) -> None:
        stats = {}  # pid -> (ppid, cpu seconds)
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = read_stat(int(entry.name))
                    stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK)
                except (OSError, ValueError, IndexError):
                    continue  # it ended meanwhile
        tree, frontier = set(), {self.root}
        while frontier:
            tree |= frontier
            frontier = {pid for pid, (ppid, _) in stats.items() if ppid in frontier and pid not in tree}
        rss = 0.0
        for pid in tree & set(stats):
            self.cpu[pid] = stats[pid][1]
            try:
                rss += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_MB
            except (OSError, ValueError, IndexError):
                pass
        self.peak_rss = max(self.peak_rss, rss)


def read_stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields after "pid (name)": [state, ppid, ...]; utime and stime are [11] and [12]."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2:].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads), from /proc."""
    fields = read_stat(pid)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@dataclass
class Outcome:
    title: str
    visitors: list[Visitor]
    wall: float
    peak_mb: float
    cpu: float
    session_cpu: float
    session_peak_mb: float
    log_tail: str = ""
    server_clock: dict[str, list[float]] = field(default_factory=dict)  # page -> sorted seconds (ServerClock)
    own: Visitor | None = None  # the visitor with a browser of its own (run_visitors' own_browser_cpu)

    @property
    def completed(self) -> int:
        return sum(v.completed for v in self.visitors)

    @property
    def cross_talk(self) -> int:
        return sum(bool(v.cross_talk) for v in self.visitors)

    def times(self, step: str, served: bool = False) -> list[float]:
        return sorted(t for v in self.visitors if (t := (v.served if served else v.ready).get(step)) is not None)

    def p95_ready(self, served: bool = False) -> float:
        return percentile(sorted(t for page in PAGES for t in self.times(page, served)), 0.95)

    def own_times(self, page: str) -> list[float]:
        """The own-browser visitor's ready times for a page: its visit's, then its rounds'."""
        if self.own is None:
            return []
        return sorted(([self.own.ready[page]] if page in self.own.ready else []) + self.own.rounds.get(page, []))

    def p95_own(self) -> float:
        return percentile(sorted(t for page in PAGES for t in self.own_times(page)), 0.95)

    def p95_server(self) -> float:
        """p95 of the server's own time for every visitor request on the four pages (bench/server_clock)."""
        return percentile(sorted(t for page in PAGES for t in self.server_clock.get(page, [])), 0.95)


def read_server_clock(path: Path, since: float) -> dict[str, list[float]]:
    """bench/server_clock's lines from `since` on (the visitors', not the teacher's): page -> sorted seconds."""
    times: dict[str, list[float]] = collections.defaultdict(list)
    if path.is_file():
        for line in path.read_text().splitlines():
            start, _session, page, seconds = line.split("\t")
            if float(start) >= since:
                times[PAGE_OF_PATH.get(page, page)].append(float(seconds))
    return {page: sorted(values) for page, values in times.items()}


def summarize(times: list[float]) -> str:
    """'median M, p95 P, slowest S' of sorted seconds."""
    return (f"median {statistics.median(times):6.2f}, p95 {percentile(times, 0.95):6.2f}, "
            f"slowest {times[-1]:6.2f}")


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of sorted values (nearest rank); nan for none."""
    if not values:
        return float("nan")
    return values[min(len(values), max(1, math.ceil(q * len(values)))) - 1]


def run_classroom(title: str, visitors: int, arrival: float, epochs: int, server_cpu: int,
                  extra_env: dict | None = None, cold: bool = False, own_browser: bool = True) -> Outcome:
    clock_file = Path(tempfile.mkdtemp(prefix="classroom-clock-")) / "requests.tsv"
    env = {**(extra_env or {}), "PYTHONPATH": str(SERVER_CLOCK), "DIGITLAB_BENCH_CLOCK": str(clock_file)}
    server = start_server(extra_env=env, cpus=str(server_cpu))
    try:
        pid = server.process.pid
        sampler = TreeSampler(pid).start()
        started = time.monotonic()
        people, own, class_started = asyncio.run(run_visitors(
            server.url, visitors, arrival, epochs, lambda: server.process.poll() is not None, cold,
            own_browser_cpu=server_cpu if own_browser else None))
        wall = time.monotonic() - started
        sampler.stop()
        if server.process.poll() is None:
            (_, peak), cpu = read_memory(pid), cpu_seconds(pid)
        else:  # it died: what the sampler saw last
            peak, cpu = float("nan"), sampler.cpu.get(pid, float("nan"))
        outcome = Outcome(title, people, wall, peak, cpu, sum(sampler.cpu.values()), sampler.peak_rss,
                          server.log_tail(1500), read_server_clock(clock_file, class_started), own)
    finally:
        server.stop()
    return outcome


def report(o: Outcome, visitors: int) -> None:
    print(f"\n== {o.title}", flush=True)
    for v in o.visitors:
        if not v.completed or v.cross_talk:
            print(f"  visitor {v.index}: {'completed' if v.completed else 'FAILED ' + v.error}"
                  f"{'; cross-talk: ' + '; '.join(v.cross_talk) if v.cross_talk else ''}")
    print(f"visitors completed: {o.completed}/{visitors} in {o.wall:.0f} s")
    print("seconds until each step was ready in the visitor's page; in brackets, its requests' waits for the "
          "server's 'script finished' as Chromium's network stack timed them (a busy browser reads its socket "
          "late: an upper bound on the server's share)")
    for step in STEPS:
        if times := o.times(step):
            served = o.times(step, served=True)
            share = (f"   [served: median {statistics.median(served):5.2f}, p95 {percentile(served, 0.95):5.2f}]"
                     if served and step != "training" else "")
            print(f"  {step:<12} {summarize(times)} ({len(times)} visitors){share}")
    print("the server's own time for each request a visitor's page made (bench/server_clock: from the request "
          "reaching the server to its 'script finished' leaving it)")
    for page in PAGES:
        if times := o.server_clock.get(page):
            print(f"  {page:<12} {summarize(times)} ({len(times)} requests)")
    print(f"  all four     p95 {o.p95_server():6.2f}")
    if o.own is not None:
        rounds = len(o.own.rounds.get("Draw", []))
        print(f"one more visitor, in a Chromium of its own pinned to the server's CPU (its visit, then {rounds} "
              f"rounds of the four pages {READ_PAUSE:.0f} s apart while the class was in"
              f"{'; ' + o.own.error if o.own.error else ''}): seconds until each page was ready")
        for page in PAGES:
            if times := o.own_times(page):
                print(f"  {page:<12} {summarize(times)} ({len(times)} visits)")
        for step in ("training", "digit read"):
            if step in o.own.ready:
                print(f"  {step:<12} {o.own.ready[step]:6.2f}")
        print(f"  all four     p95 {o.p95_own():6.2f}")
    waits = [v.slot_wait for v in o.visitors]
    waited = sum(w > 0 for w in waits)
    print(f"longest wait for a training slot: {max(waits):.1f} s ({waited} of {len(waits)} visitors waited)")
    print(f"cross-talk: {o.cross_talk} visitors saw a run that is not theirs")
    odd = [v for v in o.visitors if v.unexpected]
    print(f"runs whose settings are not what the visitor left them at: {len(odd)}"
          + "".join(f"; visitor {v.index}: {v.unexpected}" for v in odd))
    redrawn = [v for v in o.visitors if v.redraws]
    print(f"digits drawn again (no reading {REDRAW_AFTER:.0f} s after the stroke): {len(redrawn)} visitors"
          + "".join(f"; visitor {v.index} {v.redraws}x" for v in redrawn))
    print(f"server process: peak memory {o.peak_mb:.0f} MB, CPU time {o.cpu:.0f} s over {o.wall:.0f} s wall "
          f"({o.cpu / o.wall:.0%} of one core)")
    print(f"server and its child processes (a Ray instance's too): peak memory {o.session_peak_mb:.0f} MB, "
          f"CPU time {o.session_cpu:.0f} s")
    if o.completed < visitors and o.log_tail:
        print("server log (tail):\n" + o.log_tail)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=30)
    parser.add_argument("--arrival", type=float, default=60.0, help="seconds over which the visitors arrive")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of each visitor's Digits training")
    parser.add_argument("--no-ray", action="store_true", help="skip the run with trainings on a local Ray")
    parser.add_argument("--ray-only", action="store_true", help="only the run with trainings on a local Ray")
    parser.add_argument("--no-own-browser", action="store_true",
                        help="no extra visitor in a Chromium of its own (on the server's CPU)")
    parser.add_argument("--cold", action="store_true",
                        help="the visitors meet a server just started (no teacher opened it before class)")
    args = parser.parse_args()
    if problem := browser_problem():
        sys.exit(problem)
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        sys.exit("bench.classroom needs two CPUs: one for the server, one for the browser")
    server_cpu, browser_cpu = cpus[0], cpus[1]
    os.sched_setaffinity(0, {browser_cpu})  # this script, Playwright's driver and Chromium: on the browser's CPU
    load = os.getloadavg()[0]
    print(f"{args.visitors} visitors arriving over {args.arrival:.0f} s, {args.epochs} epochs of Digits each; "
          f"server on CPU {server_cpu}, Chromium on CPU {browser_cpu} (of {os.cpu_count()}); "
          f"load average {load:.1f} at the start (a shared machine: other work competes)", flush=True)
    max_trainings = os.environ.get("DIGITLAB_MAX_TRAININGS", "2")
    env = {"DIGITLAB_RAY_ADDRESS": ""}
    in_process = None
    if not args.ray_only:
        in_process = run_classroom(f"trainings in the server's threads (DIGITLAB_MAX_TRAININGS={max_trainings})",
                                   args.visitors, args.arrival, args.epochs, server_cpu, env, args.cold,
                                   not args.no_own_browser)
        report(in_process, args.visitors)
    if not args.no_ray and importlib.util.find_spec("ray") is not None:
        ray_run = run_classroom("trainings on a local Ray instance (DIGITLAB_RAY_ADDRESS=local, on the server's CPU)",
                                args.visitors, args.arrival, args.epochs, server_cpu,
                                {"DIGITLAB_RAY_ADDRESS": "local", "RAY_USAGE_STATS_ENABLED": "0"}, args.cold,
                                not args.no_own_browser)
        report(ray_run, args.visitors)
    elif not args.no_ray:
        print("\n(Ray is not installed: no run on Ray; pip install -r requirements-ray.txt)")
    if in_process is None:
        return
    print(f"\nclassroom: completed {in_process.completed}/{args.visitors}, cross-talk {in_process.cross_talk}, "
          f"peak memory {in_process.peak_mb:.0f} MB, p95 ready {in_process.p95_ready():.1f} s "
          f"(in the server {in_process.p95_server():.1f} s; in a browser of its own {in_process.p95_own():.1f} s)")


if __name__ == "__main__":
    main()

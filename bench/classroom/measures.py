"""What a classroom run measures: the server's processes sampled, the outcome of a run, percentiles."""

from __future__ import annotations

import collections
import math
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from bench.classroom.board import BoardWatch, board_lags
from bench.classroom.visitor import PAGES, Visitor

PAGE_OF_PATH = {"": "Home", "train": "Train", "evaluate": "Evaluate", "draw": "Draw"}  # url path -> page
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


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
    board: BoardWatch | None = None  # the teacher's board watched during the class (bench.classroom.board)

    def board_lags(self) -> list[float]:
        return board_lags(self.board) if self.board is not None else []

    def p95_board(self) -> float:
        """p95 seconds from a visitor's run saved as finished to the run on the teacher's board."""
        return percentile(self.board_lags(), 0.95)

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


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of sorted values (nearest rank); nan for none."""
    if not values:
        return float("nan")
    return values[min(len(values), max(1, math.ceil(q * len(values)))) - 1]

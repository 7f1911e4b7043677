"""Attacks on a real server, made as an attacker would: what stopped each, and whether visitors still got pages.

    python -m bench.abuse [--blob-mb 20] [--labs 5] [--copies 9]

Starts `streamlit run app.py` on a free loopback port with a database of its own (tests/harness/server.py), then:

(a) Hostile uploads: each file of tests/harness/hostile_models.ATTACKS (a few kB asking Keras for Dense(700000) after a
    Flatten or UpSampling2D(64) before a convolution; HDF5 whose weights are read from other files of the server)
    is uploaded in headless Chromium on the Draw page's model picker, the one Evaluate shows too
    (ui/model_picker.add_upload -> core.model.files.vet_upload). What the page says and the server's memory (its
    resident size, and its peak, reset before each upload) are recorded. The server's address space is capped
    at its size after start + SERVER_HEADROOM_MB, so that an unbounded build fails instead of taking the machine.
(b) The disk attack: one lab shares a run holding a --blob-mb model blob; then --labs new labs each "copy into my
    lab" --copies times, through core.storage.store on the server's own database file (a script needs no browser for
    that); the file's growth is measured (after a WAL checkpoint).
(c) Throughout, a visitor thread GETs the app's page and /_stcore/health every VISITOR_PERIOD s; during each
    attack a visitor also opens the home page in a second tab (the time until it is drawn is shown, not judged:
    it includes this machine's browser).

An attack succeeded when it was not stopped, or the server's peak grew by more than MAX_GROWTH_MB, or a visitor's
GET took more than MAX_ANSWER_S, or (disk) the database grew by more than one copy of the blob plus
ROW_BYTES per copy. The last line: `abuse: N attacks, S succeeded, server answered in T s` (T: the slowest GET).
"""

from __future__ import annotations

import argparse
import re
import resource
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.memory import read_memory
from tests.harness import browser as helpers
from tests.harness import hostile_models
from tests.harness.server import Server, browser_problem, launch_browser, start_server

MAX_GROWTH_MB = 500
MAX_ANSWER_S = 2.0
ROW_BYTES = 100_000  # what one copied run may add besides its blob (its row, history, metrics)
SERVER_HEADROOM_MB = 4_000  # the server's address space: its size after start plus this
VISITOR_PERIOD = 0.5
UPLOAD_TIMEOUT = 120.0
UPLOADER = '[data-testid="stFileUploader"] input[type="file"]'
# Where an upload was stopped, from the first words of what the page said.
STOPPED_BY = (
    ("This model has", "core.model.config_size: the config's sizes, before Keras built anything"),
    ("This model uses a", "core.model.config_size: the layer allow-list, before Keras built anything"),
    ("This model file holds", "core.model.files: the HDF5 check, before Keras opened the file"),
    ("This file unpacks", "core.model.files: the unpacked-size check"),
    ("Keras could not load", "Keras itself (after our checks let it through)"),
)


@dataclass
class Visitor:
    """A thread that GETs the app and its health check over and over: (time, seconds) of each answer."""

    url: str
    samples: list[tuple[float, float]] = field(default_factory=list)
    failures: list[tuple[float, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            for path in ("/", "/_stcore/health"):
                started = time.monotonic()
                try:
                    with urllib.request.urlopen(self.url + path, timeout=30) as response:
                        response.read()
                    self.samples.append((started, time.monotonic() - started))
                except OSError as error:
                    self.failures.append((started, f"{path}: {error}"))
            self.stop.wait(VISITOR_PERIOD)

    def slowest(self, start: float, end: float) -> float:
        """The slowest answer among GETs started in [start, end]; infinity if one failed."""
        if any(start <= t <= end for t, _ in self.failures):
            return float("inf")
        return max((s for t, s in self.samples if start <= t <= end), default=0.0)


@dataclass
class Outcome:
    name: str
    stopped: bool
    where: str
    seconds: float
    growth_mb: float = 0.0
    answer_s: float = 0.0
    page_s: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return not self.stopped or self.growth_mb > MAX_GROWTH_MB or self.answer_s > MAX_ANSWER_S

    def report(self) -> str:
        verdict = "SUCCEEDED" if self.succeeded else "stopped"
        page = f", home page drawn in {self.page_s:.1f} s" if self.page_s is not None else ""
        lines = [f"  [{verdict}] {self.name}: {self.where} ({self.seconds:.1f} s); server peak "
                 f"+{max(self.growth_mb, 0):.0f} MB; visitor's slowest GET {self.answer_s:.2f} s{page}"]
        return "\n".join(lines + [f"      {note}" for note in self.notes])


def reset_peak(pid: int) -> float:
    """Reset the server's peak resident size to its resident size now (Linux clear_refs); that size in MB."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return read_memory(pid)[0]


def cap_server(pid: int) -> str:
    """Cap the server's address space at its size now plus SERVER_HEADROOM_MB; what was done, in words."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    size_mb = int(fields["VmSize"].split()[0]) // 1024
    limit = (size_mb + SERVER_HEADROOM_MB) * 1024 * 1024
    resource.prlimit(pid, resource.RLIMIT_AS, (limit, limit))
    return f"server address space capped at {size_mb + SERVER_HEADROOM_MB:,} MB ({size_mb:,} MB now)"


def open_home(page, url: str) -> float:
    """Seconds until the home page is drawn and idle in `page` (a visitor's tab)."""
    started = time.monotonic()
    helpers.open_page(page, url, ready_text="Digit Lab", timeout=60)
    return time.monotonic() - started


def upload_message(page, file_name: str) -> str | None:
    """What the page says about the upload `file_name`: its error, 'accepted' when it became the model, or None."""
    for alert in page.locator('[data-testid="stAlert"]').all():
        text = alert.inner_text(timeout=5000)
        if f"Could not use {file_name}" in text or f"Could not keep {file_name}" in text:
            return text.split(": ", 1)[1] if ": " in text else text
    if page.get_by_text(f"Uploaded · {file_name}").count():  # the picker shows it: it became the model
        return "accepted"
    return None


def attack_upload(server: Server, attacker, visitor_page, visitor: Visitor, name: str, folder: Path) -> Outcome:
    """Upload one hostile file on the attacker's page while a visitor opens the home page."""
    pid = server.process.pid
    suffix = ".h5" if name.endswith("(.h5)") else ".keras"
    file_name = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + suffix
    path = folder / file_name
    path.write_bytes(hostile_models.ATTACKS[name](folder))
    before = reset_peak(pid)
    started = time.monotonic()
    attacker.locator(UPLOADER).set_input_files(str(path))
    page_s = open_home(visitor_page, server.url)  # while the server vets the upload
    message = helpers.wait_until(attacker, lambda: server.process.poll() is not None and "server died"
                                 or upload_message(attacker, file_name), UPLOAD_TIMEOUT,
                                 f"the page's word on {file_name}")
    seconds = time.monotonic() - started
    if server.process.poll() is not None:
        return Outcome(name, False, "the server died", seconds, notes=[server.log_tail(800)])
    _, peak = read_memory(pid)
    stopped = message != "accepted"
    where = next((place for start, place in STOPPED_BY if message.startswith(start)), "the upload check")
    outcome = Outcome(name, stopped, f"refused by {where}" if stopped else "accepted as a model", seconds,
                      growth_mb=peak - before, answer_s=visitor.slowest(started, time.monotonic()), page_s=page_s,
                      notes=[f"{len(path.read_bytes()):,} bytes; the page said: {message[:160]}"])
    return outcome


def database_bytes(store, path: Path) -> int:
    """The database's size on disk once its write-ahead log is folded into it."""
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def attack_disk(server: Server, visitor: Visitor, visitor_page, blob_mb: float, labs: int, copies: int) -> Outcome:
    """A shared run with a big blob, copied `copies` times into each of `labs` new labs, via the server's database."""
    from core.storage.engine import StoreError
    from core.storage.records import RunRecord
    from core.storage.store import open_store

    path = server.temp_dir / "home" / "digitlab.db"
    store = open_store(f"sqlite:///{path}")
    name = f"disk: {labs} new labs each copy a shared {blob_mb:g} MB run {copies} times"
    started = time.monotonic()
    page_s = None
    try:
        owner = store.open_lab(store.create_lab())
        blob = bytes(range(256)) * int(blob_mb * 1_000_000 / 256)  # the model file of the shared run
        run_id = store.save_run(owner, RunRecord(name="my big model", dataset="mnist", source="uploaded"),
                                {"model": blob})
        token = store.share_run(owner, run_id)
        before = database_bytes(store, path)
        made, refusals = 0, []
        for lab in range(labs):
            try:
                lab_id = store.open_lab(store.create_lab())
            except StoreError as error:
                refusals.append(f"new lab {lab + 1}: {error}")
                continue
            for _ in range(copies):
                try:
                    store.copy_shared_run(token, lab_id)
                    made += 1
                except StoreError as error:
                    refusals.append(f"lab {lab + 1}, copy {made + 1}: {error}")
                    break
            if lab == labs // 2:
                page_s = open_home(visitor_page, server.url)
        grown = database_bytes(store, path) - before
    finally:
        store.close()
    allowed = len(blob) + made * ROW_BYTES
    stopped = grown <= allowed
    where = (f"{made} copies made, the database grew {grown / 1e6:.1f} MB (bound {allowed / 1e6:.1f} MB: one copy of "
             f"the blob and {ROW_BYTES / 1e3:.0f} kB a copy)")
    notes = [f"{len(refusals)} refused; first: {refusals[0]}" if refusals else "nothing was refused"]
    if not stopped:
        notes.append(f"each copy stored the blob again: {grown / max(made, 1) / 1e6:.1f} MB a copy")
    return Outcome(name, stopped, where, time.monotonic() - started, growth_mb=0.0,
                   answer_s=visitor.slowest(started, time.monotonic()), page_s=page_s, notes=notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blob-mb", type=float, default=20, help="size of the shared run's model blob")
    parser.add_argument("--labs", type=int, default=5, help="new labs the disk attack starts")
    parser.add_argument("--copies", type=int, default=9, help="copies of the shared run into each new lab")
    args = parser.parse_args()
    if problem := browser_problem():
        sys.exit(problem)
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    server = start_server()
    visitor = Visitor(server.url)
    thread = threading.Thread(target=visitor.run, daemon=True)
    outcomes: list[Outcome] = []
    try:
        with sync_playwright() as playwright, tempfile.TemporaryDirectory(prefix="digitlab-abuse-") as folder:
            browser = launch_browser(playwright)
            attacker = browser.new_page(viewport={"width": 1400, "height": 1000})
            visitor_page = browser.new_context().new_page()  # another visitor: a session of its own
            helpers.open_page(attacker, f"{server.url}/draw", ready_text="Draw a digit", timeout=180)
            print(f"server up, Draw page ready after {time.monotonic() - started:.0f} s; "
                  f"{cap_server(server.process.pid)}", flush=True)
            print(f"a visitor's home page before any attack: {open_home(visitor_page, server.url):.1f} s", flush=True)
            thread.start()
            print("hostile uploads (Draw page's model picker, as on Evaluate):", flush=True)
            for name in hostile_models.ATTACKS:
                outcomes.append(attack_upload(server, attacker, visitor_page, visitor, name, Path(folder)))
                print(outcomes[-1].report(), flush=True)
            print("the disk attack (core.storage.store on the server's database):", flush=True)
            outcomes.append(attack_disk(server, visitor, visitor_page, args.blob_mb, args.labs, args.copies))
            print(outcomes[-1].report(), flush=True)
            rss, peak = read_memory(server.process.pid)
            print(f"server now {rss:.0f} MB resident; bench took {time.monotonic() - started:.0f} s", flush=True)
            browser.close()
    finally:
        visitor.stop.set()
        server.stop()
    answered = max((o.answer_s for o in outcomes), default=0.0)
    succeeded = sum(o.succeeded for o in outcomes)
    print(f"abuse: {len(outcomes)} attacks, {succeeded} succeeded, server answered in {answered:.2f} s")


if __name__ == "__main__":
    main()

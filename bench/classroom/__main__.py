"""The command line of bench.classroom: a server per run (in its threads, then on a local Ray), its report."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.classroom import __doc__ as DESCRIPTION
from bench.classroom.measures import Outcome, TreeSampler, cpu_seconds, read_server_clock
from bench.classroom.report import report
from bench.classroom.visitor import run_visitors
from bench.memory import read_memory
from tests.harness.server import browser_problem, start_server

ROOT = Path(__file__).resolve().parents[2]
SERVER_CLOCK = ROOT / "bench" / "server_clock"  # its sitecustomize times every request inside the server


def run_classroom(title: str, visitors: int, arrival: float, epochs: int, server_cpu: int,
                  extra_env: dict | None = None, cold: bool = False, own_browser: bool = True,
                  with_class: bool = True) -> Outcome:
    clock_file = Path(tempfile.mkdtemp(prefix="classroom-clock-")) / "requests.tsv"
    env = {**(extra_env or {}), "PYTHONPATH": str(SERVER_CLOCK), "DIGITLAB_BENCH_CLOCK": str(clock_file)}
    server = start_server(extra_env=env, cpus=str(server_cpu))
    try:
        pid = server.process.pid
        sampler = TreeSampler(pid).start()
        started = time.monotonic()
        people, own, class_started, board = asyncio.run(run_visitors(
            server.url, visitors, arrival, epochs, lambda: server.process.poll() is not None, cold,
            own_browser_cpu=server_cpu if own_browser else None, with_class=with_class,
            board_cpu=server_cpu, database=server.temp_dir / "home" / "digitlab.db"))
        wall = time.monotonic() - started
        sampler.stop()
        if server.process.poll() is None:
            (_, peak), cpu = read_memory(pid), cpu_seconds(pid)
        else:  # it died: what the sampler saw last
            peak, cpu = float("nan"), sampler.cpu.get(pid, float("nan"))
        outcome = Outcome(title, people, wall, peak, cpu, sum(sampler.cpu.values()), sampler.peak_rss,
                          server.log_tail(1500), read_server_clock(clock_file, class_started), own, board)
    finally:
        server.stop()
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=DESCRIPTION.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=30)
    parser.add_argument("--arrival", type=float, default=60.0, help="seconds over which the visitors arrive")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of each visitor's Digits training")
    parser.add_argument("--no-ray", action="store_true", help="skip the run with trainings on a local Ray")
    parser.add_argument("--ray-only", action="store_true", help="only the run with trainings on a local Ray")
    parser.add_argument("--no-own-browser", action="store_true",
                        help="no extra visitor in a Chromium of its own (on the server's CPU)")
    parser.add_argument("--no-class", action="store_true",
                        help="visitors on their own: no class to join, no teacher's board open")
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
                                   not args.no_own_browser, not args.no_class)
        report(in_process, args.visitors)
    if not args.no_ray and importlib.util.find_spec("ray") is not None:
        ray_run = run_classroom("trainings on a local Ray instance (DIGITLAB_RAY_ADDRESS=local, on the server's CPU)",
                                args.visitors, args.arrival, args.epochs, server_cpu,
                                {"DIGITLAB_RAY_ADDRESS": "local", "RAY_USAGE_STATS_ENABLED": "0"}, args.cold,
                                not args.no_own_browser, not args.no_class)
        report(ray_run, args.visitors)
    elif not args.no_ray:
        print("\n(Ray is not installed: no run on Ray; pip install -r requirements-ray.txt)")
    if in_process is None:
        return
    print(f"\nclassroom: completed {in_process.completed}/{args.visitors}, cross-talk {in_process.cross_talk}, "
          f"peak memory {in_process.peak_mb:.0f} MB, p95 ready {in_process.p95_ready():.1f} s "
          f"(in the server {in_process.p95_server():.1f} s; in a browser of its own {in_process.p95_own():.1f} s), "
          f"board p95 {in_process.p95_board():.1f} s")


if __name__ == "__main__":
    main()

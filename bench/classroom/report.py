"""The printed figures of a classroom run."""

from __future__ import annotations

import statistics

from bench.classroom.measures import Outcome, percentile
from bench.classroom.visitor import PAGES, READ_PAUSE, REDRAW_AFTER, STEPS


def summarize(times: list[float]) -> str:
    """'median M, p95 P, slowest S' of sorted seconds."""
    return (f"median {statistics.median(times):6.2f}, p95 {percentile(times, 0.95):6.2f}, "
            f"slowest {times[-1]:6.2f}")



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
    if o.board is not None:
        lags, ready = o.board_lags(), sorted(o.board.ready)
        print(f"the teacher's board (open for the whole class{'; ' + o.board.error if o.board.error else ''}): "
              f"{len(o.board.seen_at)} of {len(o.board.finished_at)} finished runs appeared on it")
        if lags:
            print(f"  run on the board after the server saved it as finished: {summarize(lags)} "
                  f"(goal p95 <= 10 s)")
        if ready:
            print(f"  board page ready:  {summarize(ready)} ({len(ready)} openings)")
    print(f"server process: peak memory {o.peak_mb:.0f} MB, CPU time {o.cpu:.0f} s over {o.wall:.0f} s wall "
          f"({o.cpu / o.wall:.0%} of one core)")
    print(f"server and its child processes (a Ray instance's too): peak memory {o.session_peak_mb:.0f} MB, "
          f"CPU time {o.session_cpu:.0f} s")
    if o.completed < visitors and o.log_tail:
        print("server log (tail):\n" + o.log_tail)

"""A classroom: 30 visitors arrive within one minute at one server, each trains, evaluates and draws.

    python -m bench.classroom [--visitors 30] [--arrival 60] [--epochs 5] [--no-ray]

bench/concurrency.py's four visitors, grown to a class, in real browser contexts of ONE Chromium
(Playwright's async API: one driver, one browser, one context per visitor, so one new Streamlit
session and, since no context has a lab key, one new lab each). Visitor i arrives at i * arrival /
visitors seconds, opens Home, goes to Train, sets hidden layers to 15 + i units (so its run's name
is its own) and a few epochs of Digits (seconds of training), starts, waits for its run, opens
Evaluate, then Draw, and draws one digit with the mouse. Before they come, a teacher starts a class
(issue 24) and each visitor first joins it with its code; the teacher's board stays open for the whole
run in a Chromium of its own, pinned to the server's CPU (bench/classroom/board.py): how long a
student's run takes from its save as finished (the server's database) to the board (median, p95; goal
p95 <= 10 s), and the board's page-ready time (--no-class: no class, no board).

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
browser of its own, then `board p95 B s` (a finished run's way to the teacher's board).

The package: `visitor` (one visitor's path through the pages, timed; the class in one Chromium),
`measures` (the server's processes sampled, percentiles, the outcome of a run), `report` (the printed
figures), `__main__` (the command line: a server per run, then its report). The browser's waits are
tests/harness/browser_async.py's.
"""

"""The server's line for training slots, the boards of jobs and sweeps, and the thinning of batch logs."""

import gc
import threading
import time
import weakref

import pytest

from core.server import board as jobs
from core.server.board import Board, stop_lab_jobs, stop_run_job
from core.training.job import ThinnedLog
from core.training.local import TrainingJob
from core.training.queue import QueueFull, TrainingSlots
from core.training.sweeps import make_sweep
from tests.harness.polling import poll_until as poll
from tests.harness.specs import tiny_spec

TINY = tiny_spec(epochs=2)
LONG = tiny_spec(batch_size=8, epochs=200)


def settle(job, timeout=60):
    job.join(timeout)
    assert job.settled, job.snapshot()


# -- the line ------------------------------------------------------------------------------

def test_slots_are_taken_first_come_first_served():
    slots = TrainingSlots(1, max_waiting=10)
    assert slots.acquire(lambda: False)  # the slot is taken
    order, threads = [], []
    for name in "abcd":
        ticket = slots.take_ticket()
        thread = threading.Thread(target=lambda n=name, t=ticket: slots.acquire(lambda: False, 0.01, t)
                                  and order.append(n))
        threads.append((thread, ticket))
    for thread, _ in reversed(threads):  # started last first: only the tickets give the order
        thread.start()
    assert [slots.place(t) for _, t in threads] == [1, 2, 3, 4]
    for i in range(4):
        slots.release()
        poll(lambda i=i: len(order) == i + 1, what=f"training {i + 1} to get the slot")
    assert order == list("abcd")


def test_a_cancelled_ticket_leaves_the_line_and_the_next_moves_up():
    slots = TrainingSlots(1, max_waiting=10)
    assert slots.acquire(lambda: False)
    first, second = slots.take_ticket(), slots.take_ticket()
    slots.cancel(first)
    assert slots.place(first) is None and slots.place(second) == 1 and slots.waiting == 1
    assert not slots.acquire(lambda: False, 0.01, first)  # it left: it never gets the slot


def test_the_line_is_bounded_server_wide(monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_QUEUED", "2")
    slots = TrainingSlots(1)
    slots.take_ticket(), slots.take_ticket()
    with pytest.raises(QueueFull, match="The server is busy.*Try again in a few minutes"):
        slots.take_ticket()


def test_a_waiting_job_says_its_place_and_a_stopped_one_leaves_at_once():
    slots = TrainingSlots(1, max_waiting=10)
    assert slots.acquire(lambda: False)
    first, second = TrainingJob(TINY, slots=slots).start(), TrainingJob(TINY, slots=slots).start()
    assert second.snapshot().place == 2 and "this one is number 2 in line" in second.snapshot().message
    first.stop()
    assert second.snapshot().place == 1  # at once, not at the stopped job's next poll
    second.stop()
    settle(first), settle(second)
    assert slots.waiting == 0 and slots.running == 1


def test_a_full_line_starts_nothing():
    slots = TrainingSlots(1, max_waiting=0)
    job = TrainingJob(TINY, slots=slots)
    with pytest.raises(QueueFull):
        job.start()
    assert job.state == "waiting" and not job._thread.is_alive()


def test_a_sweep_that_the_line_cannot_take_whole_starts_no_member():
    slots = TrainingSlots(1, max_waiting=2)
    assert slots.acquire(lambda: False)  # the slot is taken: members wait in line
    sweep = make_sweep(jobs_values(), "batch", [32, 64, 128],
                       make_job=lambda spec, name: TrainingJob(spec, slots=slots, name=name))
    with pytest.raises(QueueFull):
        sweep.start_all()
    for member in sweep.members[:2]:
        settle(member.job, timeout=10)
        assert member.job.state == "stopped" and member.job.model is None
    assert slots.waiting == 0 and slots.running == 1


def jobs_values():
    return {"dataset": "digits", "hidden": "8", "epochs": 1, "limit": 256}


# -- the thinning ---------------------------------------------------------------------------

def test_thinning_keeps_an_even_curve_and_the_newest_point():
    log = ThinnedLog(bound=100)
    for n in range(1, 10_001):
        log.append({"n": n})
        assert len(log.points) <= 100
    kept = [p["n"] for p in log.points]
    assert kept[-1] == 10_000  # the newest is always last
    steps = {b - a for a, b in zip(kept[:-2], kept[1:-1])}
    assert steps == {log.stride} and kept[0] == log.stride  # evenly spaced over the whole run
    assert len(kept) >= 50  # halving leaves at least half the bound


# -- the boards -----------------------------------------------------------------------------

def test_an_ended_job_leaves_the_board_once_no_tab_watches_and_its_memory_goes():
    board, watching = Board("test"), [True]
    job = TrainingJob(TINY, is_alive=lambda: watching[0], slots=TrainingSlots(1)).start()
    board.put("lab:1", job)
    settle(job)
    assert board.reap() == [] and board.get("lab:1") is job  # a tab still shows it
    watching[0] = False  # the tab was closed
    assert board.reap() == ["lab:1"] and board.get("lab:1") is None
    assert job.model is None and job.recorder is None and job.snapshot().batch_logs == []
    assert len(job.history()["loss"]) == 2  # the epochs' logs (tiny) stay
    gone = weakref.ref(job)
    del job
    gc.collect()
    assert gone() is None  # nothing else holds the job: its model, optimizer and images are freed


def test_a_watched_job_leaves_the_board_at_the_time_limit(monkeypatch):
    monkeypatch.setenv("DIGITLAB_JOB_KEEP_SECONDS", "600")
    board = Board("test")
    job = TrainingJob(TINY, is_alive=lambda: True, slots=TrainingSlots(1)).start()
    board.put("lab:1", job)
    settle(job)
    assert board.reap(job.settled_at + 599) == []
    assert board.reap(job.settled_at + 601) == ["lab:1"] and job.model is None


def test_a_running_job_never_leaves_the_board():
    board, slots = Board("test"), TrainingSlots(1, max_waiting=5)
    assert slots.acquire(lambda: False)  # it waits for ever
    job = TrainingJob(TINY, slots=slots).start()
    board.put("lab:1", job)
    assert board.reap(time.monotonic() + 10_000) == [] and board.get("lab:1") is job  # past the time limit
    job.stop()
    settle(job)


def test_two_tabs_starting_at_once_cannot_orphan_a_job():
    board, others = Board("jobs"), Board("sweeps")
    slots = TrainingSlots(1, max_waiting=10)
    assert slots.acquire(lambda: False)
    made = [TrainingJob(TINY, slots=slots) for _ in range(8)]
    results, barrier = [None] * 8, threading.Barrier(8)

    def start(i):
        barrier.wait()
        results[i] = board.claim("lab:1", made[i], others=(others,))

    threads = [threading.Thread(target=start, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    winner = board.get("lab:1")
    assert all(result is winner for result in results)  # one won; every other tab got the one on the board
    assert sum(result is job for result, job in zip(results, made)) == 1


def test_a_lab_runs_one_training_or_one_sweep():
    jobs_board, sweeps_board, slots = Board("jobs"), Board("sweeps"), TrainingSlots(1, max_waiting=10)
    assert slots.acquire(lambda: False)
    job = TrainingJob(TINY, slots=slots).start()
    assert jobs_board.claim("lab:1", job, others=(sweeps_board,)) is job
    sweep = make_sweep(jobs_values(), "batch", [32, 64], make_job=lambda s, n: TrainingJob(s, slots=slots, name=n))
    assert sweeps_board.claim("lab:1", sweep, others=(jobs_board,)) is job  # refused: the training runs
    job.stop()
    settle(job)
    assert sweeps_board.claim("lab:1", sweep, others=(jobs_board,)) is sweep


def test_a_deleted_labs_queued_jobs_stop_and_a_new_lab_with_its_id_finds_nothing(monkeypatch):
    slots = TrainingSlots(1, max_waiting=10)
    assert slots.acquire(lambda: False)  # the server is busy: the lab's trainings wait in line

    class Sink:  # what would write into the lab's runs
        calls = []

        def started(self, job):
            self.calls.append("started")

        def epoch_ended(self, job):
            self.calls.append("epoch")

        def ended(self, job):
            self.calls.append("ended")

    job = TrainingJob(TINY, slots=slots, sink=Sink()).start()
    jobs.JOBS.put("lab:7", job)
    sweep = make_sweep(jobs_values(), "batch", [32, 64],
                       make_job=lambda s, n: TrainingJob(s, slots=slots, sink=Sink(), name=n)).start_all()
    jobs.SWEEPS.put("lab:7", sweep)
    assert slots.waiting == 3
    assert stop_lab_jobs(7, jobs.LAB_DELETED, keep_runs=False) == 2
    assert slots.waiting == 0  # they left the line at once
    assert jobs.JOBS.get("lab:7") is None and jobs.SWEEPS.get("lab:7") is None  # a new lab 7 finds nothing
    for each in [job, *(m.job for m in sweep.members)]:
        settle(each, timeout=10)
        assert each.state == "stopped" and each.message == jobs.LAB_DELETED
    assert Sink.calls == []  # nothing was written for the deleted lab
    slots.release()


def test_deleting_a_running_run_stops_its_job_and_its_sink_writes_nothing_more():
    written = []

    class Sink:
        def started(self, job):
            job.run_id = 42

        def epoch_ended(self, job):
            written.append("epoch")

        def ended(self, job):
            written.append("ended")

    job = TrainingJob(LONG, slots=TrainingSlots(1), sink=Sink()).start()
    jobs.JOBS.put("lab:8", job)
    poll(lambda: job.run_id == 42, what="the run to be made")
    assert stop_run_job(8, 42)
    settle(job)
    assert job.state == "stopped" and "ended" not in written
    assert not stop_run_job(8, 43)
    jobs.JOBS.drop("lab:8")

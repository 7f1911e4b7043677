"""Test accuracy computed by the app for a class's leaderboard: the run's saved model on the dataset's
held-out test set, kept in the run's metrics (`test_accuracy`). Never a figure a visitor sends.

A run saved before test accuracy was recorded at the end of training is scored here the first
time a board ranks it, a few per board refresh (SCORES_PER_PASS), one at a time per process.
Imports TensorFlow (through the model loader) only when a score is computed.
"""

from __future__ import annotations

import threading

import numpy as np

from core.analysis.evaluation import predict_probabilities
from core.data.datasets import get_info, load_test_set, to_model_input
from core.model.files import ModelFileError
from core.storage import sink
from core.storage.classes import Challenge, Student, ineligible_reason
from core.storage.engine import StoreError
from core.storage.store import Store

SCORES_PER_PASS = 2  # runs scored per board refresh at most: a class's backlog spreads over refreshes
_LOCK = threading.Lock()  # one scoring at a time in this process (two boards open: no double work)


def runs_to_score(students: list[Student], challenge: Challenge) -> list[int]:
    """Ids of the runs that would count but for their missing test accuracy, oldest first."""
    return sorted(r.run_id for s in students for r in s.runs
                  if r.run_id is not None and ineligible_reason(r, challenge) == "not tested yet")


def compute_test_accuracy(model, dataset: str) -> float:
    """The share of the dataset's test images that `model` reads right."""
    x_test, y_test = load_test_set(dataset)
    probs = predict_probabilities(model, to_model_input(x_test, get_info(dataset)))
    return float(np.mean(np.argmax(probs, axis=1) == y_test))


def score_runs(store: Store, class_id: int, students: list[Student], challenge: Challenge,
               limit: int = SCORES_PER_PASS) -> int:
    """Compute and keep the test accuracy of up to `limit` runs of this class that lack one; how many were."""
    if not _LOCK.acquire(blocking=False):
        return 0  # another board is scoring: this refresh shows "not tested yet" a little longer
    try:
        done = 0
        for run_id in runs_to_score(students, challenge)[:limit]:
            record = next(r for s in students for r in s.runs if r.run_id == run_id)
            full = store.classes.student_run(class_id, record.lab_id or 0, run_id)
            if full is None:
                continue

            def fetch(name: str, rid: int = run_id) -> bytes:
                return store.classes.load_student_blob(class_id, rid, name)

            try:
                model = sink.load_model(sink.run_of_record(full), full.blob_names, fetch)
                store.classes.record_test_accuracy(run_id, compute_test_accuracy(model, full.dataset))
                done += 1
            except (ModelFileError, StoreError, ValueError):
                continue  # a damaged model stays "not tested yet"; the rest are scored
        return done
    finally:
        _LOCK.release()

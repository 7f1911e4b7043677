"""Tests for core.server.scoring: the app computes a run's test accuracy for the leaderboard and keeps it."""

import numpy as np

from core.data.datasets import get_info, load_test_set, to_model_input
from core.server import scoring
from core.storage import sink as persistence
from core.storage.store import open_store


def test_untested_runs_are_scored_on_the_test_set_and_ranked(tmp_path, digits_run):
    store = open_store(f"sqlite:///{tmp_path / 'digitlab.db'}")
    try:
        key, code = store.classes.create_class("A")
        class_id = store.classes.open_board(key).class_id
        lab = store.open_lab(store.create_lab())
        store.classes.join(lab, code, "Ada")
        run_id = store.save_run(lab, persistence.record_of(digits_run),
                                {persistence.MODEL_BLOB: persistence.model_bytes(digits_run)})
        store.classes.set_challenge(class_id, "digits", None)
        info = store.classes.class_info(class_id)
        students = store.classes.students(class_id)
        assert scoring.runs_to_score(students, info.challenge) == [run_id]
        assert [s.reason for s in store.classes.leaderboard(class_id)] == ["not tested yet"]

        assert scoring.score_runs(store, class_id, students, info.challenge) == 1
        x_test, y_test = load_test_set("digits")
        expected = float(np.mean(np.argmax(digits_run.model.predict(to_model_input(x_test, get_info("digits")),
                                                                    verbose=0), axis=1) == y_test))
        assert store.get_run(run_id, lab).metrics["test_accuracy"] == expected
        [standing] = store.classes.leaderboard(class_id)
        assert (standing.rank, standing.name, standing.test_accuracy) == (1, "Ada", expected)
        assert scoring.runs_to_score(store.classes.students(class_id), info.challenge) == []
    finally:
        store.close()

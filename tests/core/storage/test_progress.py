"""core.storage.progress: lesson progress and lab events in the store, on SQLite and PostgreSQL; a database made
by the app before the lessons is upgraded; events are bounded per lab."""

import pytest
from sqlalchemy import func, inspect, select

from core.storage import progress
from core.storage.engine import create_store_engine
from core.storage.schema import MIGRATIONS, add_lesson_tables, lab_events_table
from core.storage.store import Store, open_store


def test_progress_is_kept_per_lesson_with_one_active(store, lab):
    assert progress.read_progress(store, lab) == {}
    progress.save_progress(store, lab, "01-first", 2, answers={"0": "64"})
    progress.save_progress(store, lab, "02-line", 0)
    kept = progress.read_progress(store, lab)
    assert (kept["01-first"].step, kept["01-first"].active, kept["01-first"].answers) == (2, False, {"0": "64"})
    assert (kept["02-line"].step, kept["02-line"].active, kept["02-line"].finished) == (0, True, False)
    progress.save_progress(store, lab, "01-first", 4, finished=True)
    kept = progress.read_progress(store, lab)
    assert kept["01-first"].finished and kept["01-first"].answers == {"0": "64"} and not kept["02-line"].active
    progress.leave_lessons(store, lab)
    assert not any(p.active for p in progress.read_progress(store, lab).values())


def test_another_lab_sees_nothing_and_a_deleted_lab_takes_its_progress(store, lab):
    other = store.open_lab(store.create_lab())
    progress.save_progress(store, lab, "01-first", 1)
    progress.record_event(store, lab, "drawing_read", "7")
    assert progress.read_progress(store, other) == {} and progress.list_events(store, other) == []
    store.delete_lab(lab)
    with store.reading() as conn:
        assert conn.scalar(select(func.count()).select_from(lab_events_table)) == 0


def test_bad_progress_is_refused(store, lab):
    with pytest.raises(ValueError):
        progress.save_progress(store, lab, "x" * 81, 0)
    with pytest.raises(ValueError):
        progress.save_progress(store, lab, "01-first", progress.MAX_STEPS)


def test_events_are_kept_newest_first_up_to_the_limit(store, lab, monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_LAB_EVENTS", "3")
    for value in "12345":
        progress.record_event(store, lab, "drawing_read", value)
    assert progress.list_events(store, lab) == [("drawing_read", "3"), ("drawing_read", "4"), ("drawing_read", "5")]
    progress.record_event(store, lab, "cell_opened", "4>9" * 100)
    assert progress.list_events(store, lab)[-1] == ("cell_opened", ("4>9" * 100)[:progress.MAX_EVENT_TEXT])


def test_digits_are_counted_without_reading_them(store, lab):
    import numpy as np

    assert progress.count_digits(store, lab) == 0
    store.add_digits(lab, [1, 2], np.zeros((2, 28, 28), np.uint8))
    assert progress.count_digits(store, lab) == 2


def test_a_database_from_before_the_lessons_gets_their_tables_with_its_labs_kept(url):
    before = Store(create_store_engine(url))  # as main left it: every step before the lessons' one
    steps = MIGRATIONS.index(add_lesson_tables)
    assert before.upgrade_schema(MIGRATIONS[:steps]) == steps
    key = before.create_lab()
    with before.engine.connect() as conn:
        assert "lesson_progress" not in inspect(conn).get_table_names()
    before.close()
    upgraded = open_store(url)
    lab = upgraded.open_lab(key)
    assert lab is not None
    progress.save_progress(upgraded, lab, "01-first", 1)
    progress.record_event(upgraded, lab, "cell_opened", "4>9")
    assert progress.read_progress(upgraded, lab)["01-first"].step == 1
    assert progress.list_events(upgraded, lab) == [("cell_opened", "4>9")]
    upgraded.close()

"""Tests for core.server.housekeeper: stale labs go in a thread of their own, never in a page run."""

import threading
import time

from sqlalchemy import update

from core.server import housekeeper
from core.storage.records import RunRecord
from core.storage.schema import labs_table
from core.storage.store import open_store
from tests.harness.polling import poll_until


def test_the_thread_removes_stale_labs_only(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'digitlab.db'}")
    stale, fresh = (store.open_lab(store.create_lab()) for _ in range(2))
    store.save_run(stale, RunRecord("old", "digits"), {"model": b"old"})
    fresh_run = store.save_run(fresh, RunRecord("new", "digits"), {"model": b"new"})
    with store.engine.begin() as conn:
        conn.execute(update(labs_table).where(labs_table.c.id == stale).values(opened_at=time.time() - 90 * 86_400))
    stop = threading.Event()
    thread = threading.Thread(target=housekeeper.housekeep_periodically, args=(store, 0.05, stop), daemon=True)
    thread.start()
    try:
        poll_until(lambda: store.list_runs(stale) == [], 10, "the stale lab's runs to go", 0.05)
        assert store.load_blob(fresh_run, fresh, "model") == b"new"  # the pass left the fresh lab alone
    finally:
        stop.set()
        thread.join(5)
        store.close()
    assert not thread.is_alive()


def test_one_thread_per_database_and_process(tmp_path, monkeypatch):
    monkeypatch.setattr(housekeeper, "_started", set())
    store = open_store(f"sqlite:///{tmp_path / 'digitlab.db'}")
    stop = threading.Event()
    try:
        assert housekeeper.start_housekeeper(store, 3600, stop) is True
        assert housekeeper.start_housekeeper(store, 3600, stop) is False
        assert any(t.name == housekeeper.THREAD_NAME and t.daemon for t in threading.enumerate())
    finally:
        stop.set()
        store.close()


def test_the_thread_removes_classes_not_opened_for_class_days(tmp_path, monkeypatch):
    from core.storage.schema import classes_table

    monkeypatch.setenv("DIGITLAB_CLASS_DAYS", "5")
    store = open_store(f"sqlite:///{tmp_path / 'digitlab.db'}")
    old_key, old_code = store.classes.create_class("old")
    new_key, _ = store.classes.create_class("new")
    lab = store.open_lab(store.create_lab())
    store.classes.join(lab, old_code, "Ada")
    with store.engine.begin() as conn:
        conn.execute(update(classes_table).where(classes_table.c.code == old_code)
                     .values(opened_at=time.time() - 6 * 86_400))
    stop = threading.Event()
    thread = threading.Thread(target=housekeeper.housekeep_periodically, args=(store, 0.05, stop), daemon=True)
    thread.start()
    try:
        poll_until(lambda: store.classes.membership(lab) is None, 10, "the stale class's membership to go", 0.05)
        assert store.classes.open_board(old_key) is None and store.classes.open_board(new_key) is not None
    finally:
        stop.set()
        thread.join(5)
        store.close()

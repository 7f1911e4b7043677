"""Tests for core.storage.store: labs, runs, blobs, shares, digits, limits and failures.

Most tests run twice: on SQLite in a temp folder, and on a throwaway PostgreSQL server (marker
`postgres`; skipped with the reason when PostgreSQL's binaries are missing or it cannot start).
"""

import math
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import event, func, inspect, select, update

from core.i18n import message_of, translate
from core.storage import engine, owners, records, schema
from core.storage.engine import (
    DamagedBlob,
    LabFullError,
    NotFound,
    StorageFull,
    StoreBusy,
    StoreDamaged,
    StoreError,
    StoreFull,
    StoreUnavailable,
    create_store_engine,
    database_url,
)
from core.storage.owners import BOOT_ID, HOST, STALE_SECONDS
from core.storage.records import RunRecord
from core.storage.schema import (
    MIGRATIONS,
    blob_data_table,
    blobs_table,
    digits_table,
    labs_table,
    runs_table,
    schema_version,
    shares_table,
)
from core.storage.secrets import checksum, hash_secret
from core.storage.store import Store, open_store
from tests.harness.server import free_port

ROOT = Path(__file__).resolve().parents[3]
RAW_ERROR_WORDS = ("sqlalchemy", "sqlite3.", "psycopg.", "Traceback", "[SQL:")


# -- helpers (the databases and a lab: tests/core/storage/conftest.py) ------------------------

def make_record(name: str = "Run 1", **fields) -> RunRecord:
    return RunRecord(name=name, dataset="digits", **fields)


def count_rows(store: Store, table) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


def execute(store: Store, statement) -> None:
    """Change the database behind the store's back (to simulate damage, age, other processes)."""
    with store.engine.begin() as conn:
        conn.execute(statement)


def assert_plain(message: str) -> None:
    assert message and not any(word in message for word in RAW_ERROR_WORDS), message


# -- where the database is -----------------------------------------------------------------------

def test_database_url_prefers_env_then_secrets_then_home(tmp_path, monkeypatch):
    monkeypatch.delenv("DIGITLAB_DATABASE_URL", raising=False)
    monkeypatch.setenv("DIGITLAB_HOME", str(tmp_path / "home"))
    assert database_url() == f"sqlite:///{tmp_path / 'home' / 'digitlab.db'}"
    assert database_url({"DIGITLAB_DATABASE_URL": "postgres://u:p@h/db"}) == "postgresql+psycopg://u:p@h/db"
    monkeypatch.setenv("DIGITLAB_DATABASE_URL", "postgresql://u@h:5433/db")
    assert database_url({"DIGITLAB_DATABASE_URL": "sqlite:///other.db"}) == "postgresql+psycopg://u@h:5433/db"


def test_database_url_ignores_a_missing_secrets_file(tmp_path, monkeypatch):
    class NoSecrets(dict):
        def get(self, key, default=None):
            raise FileNotFoundError("no secrets.toml")  # what st.secrets does without a file

    monkeypatch.delenv("DIGITLAB_DATABASE_URL", raising=False)
    monkeypatch.setenv("DIGITLAB_HOME", str(tmp_path))
    assert database_url(NoSecrets()).startswith("sqlite:///")


def test_default_home_is_created_on_first_use(tmp_path, monkeypatch):
    monkeypatch.delenv("DIGITLAB_DATABASE_URL", raising=False)
    monkeypatch.setenv("DIGITLAB_HOME", str(tmp_path / "a" / "b"))
    opened = open_store()
    try:
        assert opened.open_lab(opened.create_lab()) is not None
    finally:
        opened.close()
    assert (tmp_path / "a" / "b" / "digitlab.db").is_file()


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(sqlite_url):
    opened = open_store(sqlite_url)
    with opened.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    opened.close()


# -- labs ----------------------------------------------------------------------------------------

def test_lab_keys_open_their_lab_only(store):
    key_a, key_b = store.create_lab(), store.create_lab()
    assert len(key_a) == 32 and key_a != key_b
    lab_a, lab_b = store.open_lab(key_a), store.open_lab(key_b)
    assert lab_a is not None and lab_b is not None and lab_a != lab_b
    assert store.open_lab(key_a) == lab_a


GARBAGE_KEYS = [
    None, "", 123, b"bytes", ["list"], "' OR '1'='1", "x' OR 1=1 --", "'; DROP TABLE labs; --",
    "../../etc/passwd", "/etc/passwd", "%", "*", "A" * 32, "\x00" * 32, "A" * 10_000, "é" * 32,
]


@pytest.mark.parametrize("garbage", GARBAGE_KEYS, ids=range(len(GARBAGE_KEYS)))
def test_garbage_keys_open_nothing(store, garbage):
    key = store.create_lab()
    assert store.open_lab(garbage) is None
    assert store.open_shared_run(garbage) is None
    with pytest.raises(NotFound):
        store.load_shared_blob(garbage, "model")
    assert store.open_lab(key) is not None and count_rows(store, labs_table) == 1


def test_near_miss_keys_open_nothing(store):
    key = store.create_lab()
    for near in (key[:-1], key + "A", key[1:] + key[0], key.swapcase(), " " + key, key + "\n", hash_secret(key)):
        assert store.open_lab(near) is None, near


def test_opening_a_lab_marks_it_opened(store, lab):
    execute(store, update(labs_table).values(opened_at=0.0))
    key = store.create_lab()
    lab_id = store.open_lab(key)
    with store.engine.connect() as conn:
        assert conn.scalar(select(labs_table.c.opened_at).where(labs_table.c.id == lab_id)) > time.time() - 60


def test_the_database_file_never_holds_a_key_or_token(sqlite_url, tmp_path):
    opened = open_store(sqlite_url)
    key = opened.create_lab()
    lab_id = opened.open_lab(key)
    token = opened.share_run(lab_id, opened.save_run(lab_id, make_record(), {"model": b"m"}))
    opened.close()
    content = b"".join(path.read_bytes() for path in tmp_path.glob("digitlab.db*"))
    assert key.encode() not in content and token.encode() not in content
    assert hash_secret(key).encode() in content and hash_secret(token).encode() in content


def test_deleting_a_lab_deletes_everything_in_it(store, lab):
    run_id = store.save_run(lab, make_record(), {"model": b"m"})
    store.share_run(lab, run_id)
    store.add_digits(lab, [3], [np.zeros((4, 4), np.uint8)])
    other = store.open_lab(store.create_lab())
    store.save_run(other, make_record(), {"model": b"m"})
    assert store.delete_lab(lab) and not store.delete_lab(lab)
    for table, left in ((runs_table, 1), (blobs_table, 1), (shares_table, 0), (digits_table, 0)):
        assert count_rows(store, table) == left, table.name
    assert count_rows(store, blob_data_table) == 1  # both labs' blobs were b"m": stored once, kept for `other`


def test_ids_are_never_reused(store):
    """SQLite gave a new row the highest deleted id again: a new lab then was the deleted one to a stale job."""
    lab = store.open_lab(store.create_lab())
    run_id = store.save_run(lab, make_record(), {"model": b"m"})
    [digit_id] = store.add_digits(lab, [1], [np.zeros((2, 2), np.uint8)])
    assert store.delete_run(run_id, lab) and store.delete_digits(lab) == 1
    assert store.save_run(lab, make_record()) > run_id
    assert store.add_digits(lab, [1], [np.zeros((2, 2), np.uint8)])[0] > digit_id
    assert store.delete_lab(lab)
    assert store.open_lab(store.create_lab()) > lab


def test_a_new_key_opens_the_lab_and_the_old_one_nothing(store, lab):
    key = store.create_lab()
    lab_id = store.open_lab(key)
    run_id = store.save_run(lab_id, make_record(), {"model": b"m"})
    new_key = store.rekey_lab(lab_id)
    assert new_key != key and len(new_key) == 32
    assert store.open_lab(key) is None and store.open_lab(new_key) == lab_id
    assert store.load_blob(run_id, lab_id, "model") == b"m"
    assert store.delete_lab(lab_id)
    with pytest.raises(NotFound):
        store.rekey_lab(lab_id)


# -- runs ----------------------------------------------------------------------------------------

def test_runs_round_trip_with_json_fields_and_blobs(store, lab):
    spec = {"dataset": "digits", "network": {"hidden_layers": [32, 16], "dropout": 0.1}, "epochs": 5}
    history = {"loss": [np.float32(0.5), 0.25, float("nan")], "val_accuracy": [0.9, 0.95, 0.97]}
    record = make_record("Run 1 · Digits · 32-16 relu", source="uploaded", status="Finished 3 epochs.",
                         spec=spec, history=history, metrics={"val_accuracy": 0.97}, seconds=1.5,
                         epochs_done=3, sweep="lr sweep ✓")
    model = os.urandom(3000)
    run_id = store.save_run(lab, record, {"model": model, "epoch_predictions": b"\x00\x01"})
    [loaded] = store.list_runs(lab)
    assert loaded.run_id == run_id and loaded.lab_id == lab
    assert (loaded.name, loaded.source, loaded.status, loaded.sweep) == (record.name, "uploaded", record.status,
                                                                        "lr sweep ✓")
    assert loaded.spec == spec and loaded.metrics == {"val_accuracy": 0.97}
    assert loaded.history["loss"][:2] == [0.5, 0.25] and math.isnan(loaded.history["loss"][2])
    assert (loaded.seconds, loaded.epochs_done, loaded.state) == (1.5, 3, "finished")
    assert loaded.blob_bytes == 3002 and loaded.blob_names == ("epoch_predictions", "model")
    assert loaded.created_at > 0 and loaded.owner is None
    assert store.load_blob(run_id, lab, "model") == model
    assert store.get_run(run_id, lab) == loaded
    with pytest.raises(NotFound):
        store.load_blob(run_id, lab, "missing")


def test_text_is_stored_as_given(store, lab):
    names = ["'; DROP TABLE runs; --", "Robert'); --", '"quoted" \\ back', "emoji 🧪 and \n newline", "%_*"]
    ids = [store.save_run(lab, make_record(name), {}) for name in names]
    assert [r.name for r in store.list_runs(lab)] == names
    assert [store.get_run(i, lab).name for i in ids] == names


def test_update_run_checkpoints_fields_and_blobs(store, lab):
    run_id = store.save_run(lab, make_record(state="running"), {"model": b"epoch0", "keep": b"k"})
    before = store.get_run(run_id, lab)
    assert before.owner == owners.process_owner() and before.heartbeat_at is not None
    for epoch in (1, 2):
        store.update_run(run_id, lab, history={"loss": [1.0] * epoch}, epochs_done=epoch,
                         blobs={"model": f"epoch{epoch}-longer".encode()})
    store.update_run(run_id, lab, state="finished", status="Finished 2 epochs.", metrics={"loss": 1.0})
    record = store.get_run(run_id, lab)
    assert (record.state, record.status, record.epochs_done) == ("finished", "Finished 2 epochs.", 2)
    assert record.history == {"loss": [1.0, 1.0]} and record.metrics == {"loss": 1.0}
    assert record.blob_bytes == len(b"epoch2-longer") + 1 and record.updated_at >= before.updated_at
    assert store.load_blob(run_id, lab, "model") == b"epoch2-longer"
    assert store.load_blob(run_id, lab, "keep") == b"k"
    with pytest.raises(TypeError):
        store.update_run(run_id, lab, lab_id=99)
    with pytest.raises(ValueError):
        store.update_run(run_id, lab, state="exploded")
    assert store.get_run(run_id, lab).state == "finished"


def test_delete_run(store, lab):
    run_id = store.save_run(lab, make_record(), {"model": b"m"})
    token = store.share_run(lab, run_id)
    assert store.delete_run(run_id, lab) and not store.delete_run(run_id, lab)
    assert store.list_runs(lab) == [] and store.open_shared_run(token) is None
    assert count_rows(store, blobs_table) == 0 and count_rows(store, shares_table) == 0


def test_a_lab_reaches_nothing_of_another_lab(store, lab):
    other = store.open_lab(store.create_lab())
    run_id = store.save_run(lab, make_record(), {"model": b"mine"})
    [digit_id] = store.add_digits(lab, [7], [np.full((3, 3), 7, np.uint8)])
    assert store.list_runs(other) == [] and store.get_run(run_id, other) is None
    with pytest.raises(NotFound):
        store.load_blob(run_id, other, "model")
    with pytest.raises(NotFound):
        store.update_run(run_id, other, name="stolen", blobs={"model": b"theirs"})
    with pytest.raises(NotFound):
        store.share_run(other, run_id)
    assert not store.delete_run(run_id, other)
    assert store.unshare_run(other, run_id) == 0
    store.refresh_heartbeat(run_id, other)
    assert store.delete_digits(other, [digit_id]) == 0 and store.delete_digits(other) == 0
    assert store.list_digits(other)[0].size == 0
    assert store.get_run(run_id, lab).name == "Run 1" and store.load_blob(run_id, lab, "model") == b"mine"
    assert store.list_digits(lab)[0].tolist() == [digit_id]
    with pytest.raises(NotFound):
        store.save_run(12345, make_record())  # a lab id that does not exist


def test_runs_of_many_threads_are_all_saved(store, lab):
    def save_some(worker: int) -> None:
        for i in range(5):
            store.save_run(lab, make_record(f"w{worker}.{i}"), {"model": os.urandom(1000)})

    with ThreadPoolExecutor(4) as pool:
        for done in [pool.submit(save_some, w) for w in range(4)]:
            done.result()  # re-raises a thread's error
    assert len(store.list_runs(lab)) == 20


def test_listing_a_lab_of_100_runs_takes_two_queries_and_reads_no_blob(store, lab):
    """What keeps a big lab's listing fast: one query for the runs and one for their blob names, whatever
    their number, and no model bytes read (its time is bench/store.py's: no timings in tests)."""
    history = {k: [random.random() for _ in range(30)] for k in ("loss", "accuracy", "val_loss", "val_accuracy")}
    for i in range(100):
        store.save_run(lab, make_record(f"Run {i}", history=history, spec={"epochs": 30}), {"model": b"m" * 100})
    statements: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", note)
    try:
        listed = store.list_runs(lab)
    finally:
        event.remove(store.engine, "before_cursor_execute", note)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(listed) == 100 and listed[-1].history == history and listed[-1].blob_names == ("model",)
    assert len(selects) == 2, selects
    assert not any(blob_data_table.name in s for s in statements), statements


# -- limits --------------------------------------------------------------------------------------

def test_a_lab_holds_at_most_100_runs(store, lab):
    for i in range(100):
        store.save_run(lab, make_record(f"Run {i}"), {"model": b"m"})
    with pytest.raises(LabFullError) as raised:
        store.save_run(lab, make_record("one too many"), {"model": b"m"})
    assert str(raised.value) == ("This lab holds 100 runs, the most it can: delete some on the Train page "
                                 "to save more.")
    assert len(store.list_runs(lab)) == 100 and count_rows(store, blobs_table) == 100
    other = store.open_lab(store.create_lab())
    assert store.save_run(other, make_record(), {}) > 0  # the limit is per lab


def test_a_lab_holds_at_most_its_megabytes(store, lab, monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_LAB_MB", "0.5")
    first = store.save_run(lab, make_record(), {"model": b"a" * 300_000})
    with pytest.raises(LabFullError, match=r"0\.3 MB of the 0\.5 MB .* delete some runs"):
        store.save_run(lab, make_record("too big"), {"model": b"b" * 150_000, "extra": b"c" * 100_000})
    assert len(store.list_runs(lab)) == 1 and count_rows(store, blobs_table) == 1
    with pytest.raises(LabFullError):  # a checkpoint that grows past the cap changes nothing
        store.update_run(first, lab, epochs_done=5, history={"loss": [1.0]}, blobs={"model": b"d" * 600_000})
    record = store.get_run(first, lab)
    assert (record.epochs_done, record.history, record.blob_bytes) == (0, {}, 300_000)
    assert store.load_blob(first, lab, "model") == b"a" * 300_000
    store.update_run(first, lab, blobs={"model": b"e" * 400_000})  # replacing counts only the difference
    assert store.get_run(first, lab).blob_bytes == 400_000


def test_env_limits_must_be_numbers(store, lab, monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_RUNS", "lots")
    with pytest.raises(StoreError, match="DIGITLAB_MAX_RUNS must be a number above 0"):
        store.save_run(lab, make_record())
    monkeypatch.setenv("DIGITLAB_MAX_RUNS", "1")
    store.save_run(lab, make_record())
    with pytest.raises(LabFullError):
        store.save_run(lab, make_record())


# -- damaged blobs -------------------------------------------------------------------------------

def test_a_damaged_blob_raises_and_other_runs_still_load(store, lab):
    damaged = store.save_run(lab, make_record("damaged"), {"model": b"good bytes"})
    fine = store.save_run(lab, make_record("fine"), {"model": b"other bytes"})
    execute(store, update(blob_data_table).where(blob_data_table.c.sha256 == checksum(b"good bytes"))
            .values(data=b"good bytez"))
    with pytest.raises(DamagedBlob, match="damaged") as raised:
        store.load_blob(damaged, lab, "model")
    assert_plain(str(raised.value))
    assert store.load_blob(fine, lab, "model") == b"other bytes"
    assert [r.name for r in store.list_runs(lab)] == ["damaged", "fine"]
    assert store.delete_run(damaged, lab)


# -- interrupted trainings -----------------------------------------------------------------------

def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_interrupted_runs_are_recovered(store, lab):
    now = time.time()
    owners = {
        "mine": (f"{HOST}:{os.getpid()}:{BOOT_ID}", now),
        "dead pid": (f"{HOST}:{dead_pid()}:{uuid.uuid4().hex}", now),
        "my pid, earlier boot": (f"{HOST}:{os.getpid()}:{uuid.uuid4().hex}", now),
        "other host, fresh": ("elsewhere:1234:abc", now),
        "other host, stale": ("elsewhere:1234:abc", now - STALE_SECONDS - 5),
        "no owner": (None, None),
    }
    ids = {}
    for epochs, (name, (owner, heartbeat)) in enumerate(owners.items()):
        ids[name] = store.save_run(lab, make_record(name, state="running"), {"model": f"ckpt {name}".encode()})
        store.update_run(ids[name], lab, epochs_done=epochs)
        execute(store, update(runs_table).where(runs_table.c.id == ids[name])
                .values(owner=owner, heartbeat_at=heartbeat))
    finished = store.save_run(lab, make_record("finished"), {})
    recovered = store.recover_interrupted(lab)
    assert sorted(recovered) == sorted(ids[n] for n in ("dead pid", "my pid, earlier boot", "other host, stale",
                                                          "no owner"))
    states = {r.name: (r.state, r.status) for r in store.list_runs(lab)}
    assert states["mine"][0] == "running" and states["other host, fresh"][0] == "running"
    assert states["mine"][0] == "running" and states["finished"][0] == "finished"
    assert states["dead pid"] == ("interrupted", "Interrupted after epoch 1")
    assert states["my pid, earlier boot"] == ("interrupted", "Interrupted after epoch 2")
    assert states["no owner"] == ("interrupted", "Interrupted after epoch 5")
    execute(store, update(runs_table).where(runs_table.c.id == ids["mine"]).values(
        epochs_done=0, owner=f"{HOST}:{dead_pid()}:x"))
    store.recover_interrupted(lab)
    assert store.get_run(ids["mine"], lab).status == "Interrupted before the first epoch ended"
    assert store.load_blob(ids["dead pid"], lab, "model") == b"ckpt dead pid"
    assert store.recover_interrupted(lab) == [] and store.get_run(finished, lab).state == "finished"


# -- shares --------------------------------------------------------------------------------------

def test_shares_open_a_run_read_only_and_copy_it(store, lab, monkeypatch):
    run_id = store.save_run(lab, make_record("shared", history={"loss": [0.5]}), {"model": b"weights"})
    token = store.share_run(lab, run_id)
    second = store.share_run(lab, run_id)
    assert token != second and len(token) == 32
    shared = store.open_shared_run(token)
    assert (shared.name, shared.history, shared.lab_id, shared.owner) == ("shared", {"loss": [0.5]}, None, None)
    assert store.load_shared_blob(token, "model") == b"weights"
    with pytest.raises(NotFound):
        store.update_run(run_id, shared.lab_id, name="changed by a viewer")
    with pytest.raises(NotFound):
        store.load_shared_blob(token, "missing")

    visitor = store.open_lab(store.create_lab())
    copy_id = store.copy_shared_run(token, visitor)
    copied = store.get_run(copy_id, visitor)
    assert copied.name == "shared" and copied.history == {"loss": [0.5]} and copied.blob_bytes == 7
    assert store.load_blob(copy_id, visitor, "model") == b"weights"
    store.update_run(copy_id, visitor, name="my copy")
    assert store.get_run(run_id, lab).name == "shared"

    assert store.unshare_run(lab, run_id) == 2
    assert store.open_shared_run(token) is None and store.open_shared_run(second) is None
    with pytest.raises(NotFound):
        store.copy_shared_run(token, visitor)
    assert store.delete_run(run_id, lab)
    assert store.load_blob(copy_id, visitor, "model") == b"weights"  # the copy is the visitor's own


def test_copies_count_against_the_receiving_lab(store, lab, monkeypatch):
    token = store.share_run(lab, store.save_run(lab, make_record(state="running"), {"model": b"w"}))
    visitor = store.open_lab(store.create_lab())
    store.save_run(visitor, make_record("own"), {})
    monkeypatch.setenv("DIGITLAB_MAX_RUNS", "1")
    with pytest.raises(LabFullError):
        store.copy_shared_run(token, visitor)
    assert len(store.list_runs(visitor)) == 1
    monkeypatch.setenv("DIGITLAB_MAX_RUNS", "2")
    copied = store.get_run(store.copy_shared_run(token, visitor), visitor)
    assert (copied.state, copied.status, copied.owner) == ("interrupted", "Interrupted before the first epoch ended",
                                                           None)


def stored_blobs(store: Store) -> int:
    return count_rows(store, blob_data_table)


def test_copies_of_a_shared_run_share_its_stored_bytes(store, lab):
    model = os.urandom(200_000)
    run_id = store.save_run(lab, make_record("shared"), {"model": model, "epoch_predictions": b"e" * 1000})
    token = store.share_run(lab, run_id)
    before = store.database_bytes()
    visitors = [store.open_lab(store.create_lab()) for _ in range(3)]
    copies = [store.copy_shared_run(token, visitor) for visitor in visitors for _ in range(3)]
    assert len(copies) == 9 and stored_blobs(store) == 2
    assert store.database_bytes() - before < 100_000  # nine copies of 201 kB: rows only, not the bytes
    for visitor in visitors:  # each lab counts what it holds, the shared bytes too
        assert store.lab_bytes(visitor) > 3 * 201_000
    assert store.load_blob(copies[0], visitors[0], "model") == model
    assert store.delete_run(run_id, lab) and stored_blobs(store) == 2  # the copies still hold them
    for visitor in visitors[:2]:
        assert store.delete_lab(visitor)
    assert stored_blobs(store) == 2
    for copy in copies[6:8]:
        assert store.delete_run(copy, visitors[2])
    assert stored_blobs(store) == 2 and store.load_blob(copies[8], visitors[2], "model") == model
    assert store.delete_run(copies[8], visitors[2])
    assert stored_blobs(store) == 0 and count_rows(store, blobs_table) == 0


def test_saves_and_deletes_of_the_same_bytes_at_once_lose_nothing(store):
    """Writers that store and free the same blob at the same moment: every run kept loads, nothing is left over."""
    data = os.urandom(50_000)
    labs = [store.open_lab(store.create_lab()) for _ in range(4)]

    def churn(lab_id: int) -> list[int]:
        kept = []
        for i in range(15):
            run_id = store.save_run(lab_id, make_record(f"r{i}"), {"model": data})
            if i % 3:
                assert store.delete_run(run_id, lab_id)
            else:
                kept.append(run_id)
        return kept

    with ThreadPoolExecutor(4) as pool:
        kept = dict(zip(labs, pool.map(churn, labs), strict=True))
    for lab_id, run_ids in kept.items():
        assert [store.load_blob(r, lab_id, "model") == data for r in run_ids] == [True] * 5
    assert stored_blobs(store) == 1
    for lab_id in labs:
        store.delete_lab(lab_id)
    store.sweep_blob_data()  # what a race between two deletes may leave
    assert stored_blobs(store) == 0


def test_replaced_and_dropped_blobs_free_their_bytes(store, lab):
    run_id = store.save_run(lab, make_record(state="running"), {"checkpoint": b"c1", "epoch_predictions": b"p1"})
    store.update_run(run_id, lab, blobs={"checkpoint": b"c2", "epoch_predictions": b"p2"})
    assert stored_blobs(store) == 2
    store.update_run(run_id, lab, blobs={"model": b"m"}, drop_blobs=["checkpoint"], state="finished")
    with store.engine.connect() as conn:
        held = set(conn.scalars(select(blob_data_table.c.sha256)))
    assert held == {checksum(b"p2"), checksum(b"m")}
    other = store.save_run(lab, make_record("same bytes"), {"model": b"m"})  # identical bytes: stored once
    assert stored_blobs(store) == 2 and store.get_run(other, lab).blob_bytes == 1
    assert store.delete_run(run_id, lab) and stored_blobs(store) == 1


def test_housekeeping_sweeps_bytes_no_run_holds(store, lab):
    store.save_run(lab, make_record(), {"model": b"kept"})
    execute(store, blob_data_table.insert().values(sha256=checksum(b"orphan"), size=6, data=b"orphan"))
    assert stored_blobs(store) == 2
    assert store.sweep_blob_data(batch=1) == 1
    assert stored_blobs(store) == 1 and store.load_blob(store.list_runs(lab)[0].run_id, lab, "model") == b"kept"


def test_everything_a_lab_holds_counts_against_its_cap(store, lab, monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_LAB_MB", "0.02")  # 20 kB
    history = {"loss": [0.123456789] * 2000}  # about 26 kB of JSON, no blob at all
    with pytest.raises(LabFullError):
        store.save_run(lab, make_record(history=history))
    with pytest.raises(LabFullError):
        store.add_digits(lab, [1] * 3, np.zeros((3, 100, 100), np.uint8))  # 30 kB of pixels
    run_id = store.save_run(lab, make_record(history={"loss": [0.5]}))
    with pytest.raises(LabFullError):
        store.update_run(run_id, lab, history=history)
    assert store.get_run(run_id, lab).history == {"loss": [0.5]} and store.list_digits(lab)[0].size == 0
    used = store.lab_bytes(lab)
    store.share_run(lab, run_id)
    store.add_digits(lab, [1], np.zeros((1, 10, 10), np.uint8))
    assert store.lab_bytes(lab) == used + records.SHARE_ROW_BYTES + 100 + records.DIGIT_ROW_BYTES


def test_the_whole_database_has_a_cap_with_a_plain_message(store, lab, monkeypatch):
    first = store.save_run(lab, make_record("kept"), {"model": os.urandom(100_000)})
    token = store.share_run(lab, first)
    used = store.database_bytes()
    monkeypatch.setenv("DIGITLAB_MAX_DB_MB", str((used + 150_000) / 1_000_000))
    other = store.open_lab(store.create_lab())
    with pytest.raises(StorageFull) as raised:
        store.save_run(other, make_record("too big"), {"model": os.urandom(200_000)})
    assert str(raised.value).startswith("The app's storage is full") and "DIGITLAB_MAX_DB_MB" in str(raised.value)
    assert_plain(str(raised.value))
    assert store.list_runs(other) == []
    copy = store.copy_shared_run(token, other)  # a copy adds no stored bytes: it still fits
    assert store.load_blob(copy, other, "model") == store.load_blob(first, lab, "model")
    with pytest.raises(StorageFull):
        store.add_digits(other, [1] * 20, np.zeros((20, 100, 100), np.uint8))


def test_share_links_are_listed_and_stopped_one_by_one(store, lab, monkeypatch):
    first = store.save_run(lab, make_record("first"), {"model": b"m"})
    second = store.save_run(lab, make_record("second"), {"model": b"n"})
    tokens = [store.share_run(lab, first), store.share_run(lab, first), store.share_run(lab, second)]
    shares = store.list_shares(lab)
    assert [(s.run_id, s.run_name) for s in shares] == [(first, "first"), (first, "first"), (second, "second")]
    assert all(len(s.share_id) == 16 and s.share_id not in tokens and s.created_at > 0 for s in shares)
    assert [s.run_id for s in store.list_shares(lab, second)] == [second]
    other = store.open_lab(store.create_lab())
    assert store.list_shares(other) == [] and not store.delete_share(other, shares[0].share_id)
    for garbage in (None, "", "x" * 16, tokens[0], shares[0].share_id + "0", "%", 42):
        assert not store.delete_share(lab, garbage)
    stopped = next(s for s in shares if s.run_id == first)
    assert store.delete_share(lab, stopped.share_id) and not store.delete_share(lab, stopped.share_id)
    still = [t for t in tokens if store.open_shared_run(t) is not None]
    assert len(still) == 2 and hash_secret(next(t for t in tokens if t not in still))[:16] == stopped.share_id
    monkeypatch.setenv("DIGITLAB_MAX_SHARES_PER_RUN", "2")
    store.share_run(lab, first)
    with pytest.raises(LabFullError, match="stop sharing one"):
        store.share_run(lab, first)
    assert len(store.list_shares(lab, first)) == 2


# -- digits --------------------------------------------------------------------------------------

def test_digits_round_trip_all_or_nothing(store, lab):
    images = np.random.default_rng(0).integers(0, 256, (3, 56, 56), dtype=np.uint8)
    ids = store.add_digits(lab, [1, 2, 9], images)
    got_ids, labels, got_images, times = store.list_digits(lab)
    assert got_ids.tolist() == ids and labels.tolist() == [1, 2, 9] and labels.dtype == np.uint8
    assert np.array_equal(got_images, images) and times.shape == (3,) and times.dtype == np.float64
    for labels_in, images_in in (([1, 10], images[:2]), ([1], images[:2]), ([1, 2], [images[0], images[0][:5]]),
                                 ([1], [images[0].astype(np.float32)]), ([1], [np.zeros((28, 28), np.uint8)])):
        with pytest.raises(ValueError):
            store.add_digits(lab, labels_in, images_in)
    assert len(store.list_digits(lab)[0]) == 3
    assert store.delete_digits(lab, [ids[0]]) == 1
    assert store.list_digits(lab)[0].tolist() == ids[1:]
    assert store.delete_digits(lab) == 2
    empty = store.list_digits(lab)
    assert [a.shape[0] for a in empty] == [0, 0, 0, 0]


# -- housekeeping --------------------------------------------------------------------------------

def test_stale_labs_are_removed(store, lab, monkeypatch):
    store.save_run(lab, make_record(), {"model": b"m"})
    store.add_digits(lab, [1], [np.zeros((2, 2), np.uint8)])
    recent = store.open_lab(store.create_lab())
    execute(store, update(labs_table).where(labs_table.c.id == lab).values(opened_at=time.time() - 40 * 86_400))
    assert store.remove_stale_labs(50) == 0
    assert store.remove_stale_labs(30) == 1
    assert count_rows(store, runs_table) == 0 and count_rows(store, blobs_table) == 0
    assert count_rows(store, digits_table) == 0
    assert store.list_runs(recent) == []
    assert count_rows(store, blob_data_table) == 0

    monkeypatch.setenv("DIGITLAB_LAB_DAYS", "1")
    execute(store, update(labs_table).values(opened_at=time.time() - 2 * 86_400))
    assert store.housekeep() == (1, 0)
    assert count_rows(store, labs_table) == 0


def test_stale_labs_are_removed_in_batches(store, monkeypatch):
    labs = [store.open_lab(store.create_lab()) for _ in range(7)]
    for lab_id in labs:
        store.save_run(lab_id, make_record(), {"model": f"model of {lab_id}".encode()})
    fresh = store.open_lab(store.create_lab())
    store.save_run(fresh, make_record(), {"model": b"fresh"})
    execute(store, update(labs_table).where(labs_table.c.id.in_(labs)).values(opened_at=time.time() - 40 * 86_400))
    commits = []
    event.listen(store.engine, "commit", lambda conn: commits.append(1))
    assert store.remove_stale_labs(30, batch=3) == 7
    assert len(commits) >= 3  # 3 + 3 + 1: no transaction deleted more than a batch
    assert count_rows(store, labs_table) == 1 and count_rows(store, runs_table) == 1 and stored_blobs(store) == 1
    assert store.load_blob(store.list_runs(fresh)[0].run_id, fresh, "model") == b"fresh"


# -- schema --------------------------------------------------------------------------------------

def index_names(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        inspector = inspect(conn)
        tables = ("runs", "digits", "shares", "labs")
        return {index["name"] for table in tables for index in inspector.get_indexes(table)}


def make_version2_database(url: str, steps: int = 2) -> dict:
    """A database as today's app (schema version 2) leaves it, made by MIGRATIONS[:steps] and raw rows.

    Two labs (the third, highest, deleted: SQLite would give its id again), runs whose blobs
    repeat (a copy of a shared run), a share, digits. Ids come from the database, as the app's
    did. What it holds, to compare after an upgrade.
    """
    old = Store(create_store_engine(url))
    assert old.upgrade_schema(MIGRATIONS[:steps]) == steps
    tables = schema._version2.tables
    now = time.time()
    model, other = b"model bytes" * 100, b"other bytes"
    history = '{"loss": [0.5, 0.25]}'
    run = {"dataset": "digits", "source": "trained", "state": "finished", "status": "Finished 2 epochs.",
           "spec": None, "history": history, "metrics": "{}", "seconds": 1.0, "epochs_done": 2, "sweep": None,
           "created_at": now, "updated_at": now, "owner": None, "heartbeat_at": None}
    with old.engine.begin() as conn:
        for lab_id in (1, 2, 3):
            conn.execute(tables["labs"].insert().values(key_hash=hash_secret(f"key {lab_id}"),
                                                        created_at=now, opened_at=now))
        for run_id, lab_id, name, blobs in ((1, 1, "original", {"model": model, "epoch_predictions": other}),
                                            (2, 2, "copy", {"model": model}), (3, 3, "gone", {"model": b"x"})):
            assert conn.execute(tables["runs"].insert().values(lab_id=lab_id, name=name,
                                                        blob_bytes=sum(map(len, blobs.values())), **run)
                                ).inserted_primary_key[0] == run_id  # a new database's ids: 1, 2, 3
            for blob, data in blobs.items():
                conn.execute(tables["blobs"].insert().values(run_id=run_id, name=blob, data=data, size=len(data),
                                                             sha256=checksum(data)))
        conn.execute(tables["shares"].insert().values(token_hash=hash_secret("t" * 32), run_id=1, created_at=now))
        conn.execute(tables["digits"].insert().values(lab_id=2, label=7, height=2, width=2,
                                                      image=bytes([1, 2, 3, 4]), created_at=now))
        for name in ("runs", "labs"):  # the highest lab and run deleted: their ids must not come back
            conn.execute(tables[name].delete().where(tables[name].c.id == 3))
    old.close()
    return {"model": model, "other": other, "history": history, "now": now}


def test_schema_is_upgraded_from_an_older_version(url):
    make_version2_database(url, steps=1)
    upgraded = open_store(url)
    with upgraded.engine.connect() as conn:
        assert conn.scalar(select(schema_version.c.version)) == len(MIGRATIONS)
    assert {"ix_runs_lab_id", "ix_digits_lab_id", "ix_shares_run_id", "ix_labs_opened_at"} <= index_names(upgraded)
    assert upgraded.load_blob(1, 1, "model") == b"model bytes" * 100
    upgraded.close()
    open_store(url).close()  # nothing left to do: opens again


def test_a_version2_database_is_upgraded_with_nothing_lost(url):
    made = make_version2_database(url)
    upgraded = open_store(url)
    assert upgraded.open_lab("key 1") is None  # (not a well-formed key: looked up by hash below)
    with upgraded.engine.connect() as conn:
        assert conn.scalar(select(schema_version.c.version)) == len(MIGRATIONS)
        labs = conn.execute(select(labs_table.c.id, labs_table.c.key_hash).order_by(labs_table.c.id)).all()
        assert [tuple(row) for row in labs] == [(1, hash_secret("key 1")), (2, hash_secret("key 2"))]
        digits = conn.execute(select(digits_table)).one()
        assert (digits.id, digits.lab_id, digits.label, bytes(digits.image)) == (1, 2, 7, bytes([1, 2, 3, 4]))
        shares = conn.execute(select(shares_table)).one()
        assert (shares.token_hash, shares.run_id) == (hash_secret("t" * 32), 1)
        stored = dict(conn.execute(select(blob_data_table.c.sha256, blob_data_table.c.size)).all())
    assert stored == {checksum(made["model"]): len(made["model"]), checksum(made["other"]): len(made["other"])}
    original, copy = upgraded.get_run(1, 1), upgraded.get_run(2, 2)
    assert original.blob_names == ("epoch_predictions", "model") and copy.blob_names == ("model",)
    assert original.history == {"loss": [0.5, 0.25]} and original.blob_bytes == len(made["model"] + made["other"])
    assert upgraded.load_blob(1, 1, "model") == upgraded.load_blob(2, 2, "model") == made["model"]
    assert upgraded.load_blob(1, 1, "epoch_predictions") == made["other"]
    with upgraded.engine.connect() as conn:
        record_bytes = conn.scalar(select(runs_table.c.record_bytes).where(runs_table.c.id == 1))
    assert record_bytes == len("original") + len("Finished 2 epochs.") + len(made["history"]) + len("{}")
    # Ids never come back, not even the highest one deleted before the upgrade on PostgreSQL
    # (SQLite cannot know it: its sequence starts at the highest id left).
    new_lab = upgraded.open_lab(upgraded.create_lab())
    new_run = upgraded.save_run(new_lab, make_record())
    assert new_lab > 2 and new_run > 2
    assert upgraded.delete_run(1, 1) and upgraded.load_blob(2, 2, "model") == made["model"]
    assert upgraded.delete_lab(2)
    with upgraded.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(blob_data_table)) == 0
    upgraded.close()


def test_a_newer_schema_is_refused(url):
    open_store(url).close()
    engine = create_store_engine(url)
    with engine.begin() as conn:
        conn.execute(update(schema_version).values(version=99))
    engine.dispose()
    with pytest.raises(StoreError, match="newer version of Digit Lab") as raised:
        open_store(url)
    assert_plain(str(raised.value))


# -- failures in plain words ---------------------------------------------------------------------

def test_a_locked_database_gives_a_plain_error(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_SECONDS", 0.2)
    opened = open_store(sqlite_url)
    lab_id = opened.open_lab(opened.create_lab())
    blocker = sqlite3.connect(tmp_path / "digitlab.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        with pytest.raises(StoreBusy, match="busy") as raised:
            opened.save_run(lab_id, make_record(), {"model": b"m"})
        assert_plain(str(raised.value))
        assert opened.list_runs(lab_id) == []  # reads still work while another program writes (WAL)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert opened.save_run(lab_id, make_record(), {"model": b"m"}) > 0
    opened.close()


def test_a_file_that_is_not_a_database_gives_a_plain_error(tmp_path):
    (tmp_path / "digitlab.db").write_bytes(b"This is my shopping list, not a database.\n" * 200)
    with pytest.raises(StoreDamaged, match="damaged or is not a database") as raised:
        open_store(f"sqlite:///{tmp_path / 'digitlab.db'}")
    assert_plain(str(raised.value))


def test_a_full_disk_gives_a_plain_error_and_keeps_earlier_work(sqlite_url):
    opened = open_store(sqlite_url)
    lab_id = opened.open_lab(opened.create_lab())
    kept = opened.save_run(lab_id, make_record("kept"), {"model": b"k" * 10_000})
    with opened.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
    # SQLite's max_page_count makes the file "full", as a full disk does.
    event.listen(opened.engine, "connect", lambda dbapi, _: dbapi.execute(f"PRAGMA max_page_count = {pages + 2}"))
    opened.engine.dispose()
    with pytest.raises(StoreFull) as raised:
        opened.save_run(lab_id, make_record("too big"), {"model": os.urandom(200_000)})
    assert str(raised.value) == ("The lab's database is full (no disk space left); your work so far is kept but "
                                 "new runs cannot be saved.")
    assert [r.name for r in opened.list_runs(lab_id)] == ["kept"]
    assert opened.load_blob(kept, lab_id, "model") == b"k" * 10_000
    opened.close()


def test_an_unreachable_server_gives_a_plain_error():
    with pytest.raises(StoreUnavailable, match="cannot be reached") as raised:
        open_store(f"postgresql://nobody:secret-password@127.0.0.1:{free_port()}/digitlab")
    assert_plain(str(raised.value))
    assert "secret-password" not in str(raised.value)


def test_a_url_that_is_not_a_database_url_gives_a_plain_error():
    with pytest.raises(StoreUnavailable, match="not a database URL"):
        open_store("no-such-driver://somewhere/db")


def test_an_unwritable_folder_gives_a_plain_error(tmp_path):
    (tmp_path / "file").write_text("a file where a folder should be")
    with pytest.raises(StoreUnavailable) as raised:
        open_store(f"sqlite:///{tmp_path / 'file' / 'sub' / 'digitlab.db'}")
    assert_plain(str(raised.value))


# -- crash safety --------------------------------------------------------------------------------

CHILD = """
import random, sys
from core.storage.records import RunRecord
from core.storage.store import open_store

def model(tag):
    return tag.encode().ljust(32, b"-") + random.Random(tag).randbytes(200_000)

store = open_store(sys.argv[1])
lab, seed = int(sys.argv[2]), sys.argv[3]
print("ready", flush=True)
for k in range(10_000):
    tag = f"{seed}.{k}"
    run_id = store.save_run(lab, RunRecord(f"child {tag}", "digits", state="running"), {"model": model(tag + ".0")})
    print("saved", run_id, flush=True)
    for epoch in (1, 2, 3):
        store.update_run(run_id, lab, history={"loss": [1.0] * epoch}, epochs_done=epoch,
                         blobs={"model": model(f"{tag}.{epoch}")})
        print("checkpoint", run_id, epoch, flush=True)
    store.update_run(run_id, lab, state="finished", status="Finished 3 epochs.")
"""


def child_model(tag: str) -> bytes:
    return tag.encode().ljust(32, b"-") + random.Random(tag).randbytes(200_000)


def test_killed_writers_never_leave_half_a_run(sqlite_url, tmp_path):
    opened = open_store(sqlite_url)
    lab_id = opened.open_lab(opened.create_lab())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DIGITLAB_MAX_RUNS": "100000", "DIGITLAB_MAX_LAB_MB": "100000"}
    rng = random.Random(1234)
    checked = 0
    for kill in range(20):
        child = subprocess.Popen([sys.executable, "-c", CHILD, sqlite_url, str(lab_id), str(kill)], cwd=ROOT,
                                 env=env, stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.4))  # a real wait is the point: the kill lands at a random moment
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate(timeout=30)  # also reaps the child: its pid is dead, not a zombie
        printed = [line.split() for line in out.split("\n")[:-1]]  # whole lines only
        epochs = {int(p[1]): 0 for p in printed if p[0] == "saved"}
        epochs.update({int(p[1]): int(p[2]) for p in printed if p[0] == "checkpoint"})

        with sqlite3.connect(tmp_path / "digitlab.db") as check:
            assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        opened.recover_interrupted(lab_id)
        runs = {r.run_id: r for r in opened.list_runs(lab_id)}
        assert set(epochs) <= set(runs)
        for run_id, record in runs.items():
            model = opened.load_blob(run_id, lab_id, "model")
            tag = model[:32].rstrip(b"-").decode()
            assert model == child_model(tag), "the blob is not one the child wrote"
            assert int(tag.rsplit(".", 1)[1]) == record.epochs_done, "blob and record are from different commits"
            assert record.epochs_done >= epochs.get(run_id, 0)
            assert record.state in ("finished", "interrupted")
            assert record.blob_bytes == len(model)
            checked += 1
    assert checked >= 20
    opened.close()


def test_the_current_run_and_dropped_blobs(store):
    lab = store.open_lab(store.create_lab())
    run_id = store.save_run(lab, RunRecord(name="r", dataset="digits", state="running"),
                            {"checkpoint": b"c" * 100})
    assert store.current_run(lab) is None
    store.set_current_run(lab, run_id)
    assert store.current_run(lab) == run_id
    store.update_run(run_id, lab, blobs={"model": b"m" * 40}, drop_blobs=["checkpoint"], state="finished")
    record = store.get_run(run_id, lab)
    assert record.blob_names == ("model",) and record.blob_bytes == 40


def test_store_messages_translate_in_spanish_and_german(store, lab, monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_LAB_MB", "0.5")
    store.save_run(lab, make_record(), {"model": b"a" * 300_000})
    with pytest.raises(LabFullError) as full:
        store.save_run(lab, make_record("too big"), {"model": b"b" * 300_000})
    assert translate("es", message_of(full.value)).startswith("El trabajo guardado de este laboratorio")
    assert "0,3 MB von den 0,5 MB" in translate("de", message_of(full.value))
    with pytest.raises(NotFound) as gone:
        store.copy_shared_run("x" * 43, lab)
    assert translate("de", message_of(gone.value)).startswith("Dieser Link zum Teilen funktioniert nicht")
    with pytest.raises(NotFound) as lab_gone:
        store.rekey_lab(lab + 1000)
    assert translate("es", message_of(lab_gone.value)).startswith("Este laboratorio ya no existe")
    monkeypatch.setenv("DIGITLAB_MAX_RUNS", "lots")
    with pytest.raises(StoreError) as setting:
        store.save_run(lab, make_record())
    assert translate("es", message_of(setting.value)) == (
        "DIGITLAB_MAX_RUNS debe ser un número mayor que 0, no 'lots'; corrígelo y vuelve a arrancar la app.")

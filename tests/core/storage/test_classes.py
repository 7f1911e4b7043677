"""Tests for core.storage.classes: classes, joins, names, leaving, removal, expiry, the challenge's ranking,
and the upgrade of a database made by main before classes existed. SQLite and a real PostgreSQL.
"""

import shutil
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update

from core.i18n import message_of, translate
from core.model.spec import NetworkSpec, count_weights, spec_to_dict
from core.storage.classes import (
    CODE_ALPHABET,
    CODE_LENGTH,
    UNKNOWN_CODE,
    Challenge,
    ClassError,
    Student,
    clean_name,
    normalize_code,
    rank_students,
)
from core.storage.engine import NotFound
from core.storage.records import RunRecord
from core.storage.schema import MIGRATIONS, classes_table, memberships_table, runs_table
from core.storage.store import open_store
from tests.harness.specs import tiny_spec

MAIN_DB = Path(__file__).parent / "data" / "main-schema.db"
MAIN_DB_LAB_KEY = "ivMAUDlW-7XzmhQZB_59ICXJgJGb4Ehn"  # the lab that file holds: one run "run one", shared once


def new_lab(store) -> int:
    return store.open_lab(store.create_lab())


def class_with(store, *names: str) -> tuple[int, dict[str, int]]:
    """A class ("A") and a new lab per name, joined under that name: (class id, {name: lab id})."""
    key, code = store.classes.create_class("A")
    labs = {name: new_lab(store) for name in names}
    for name, lab in labs.items():
        store.classes.join(lab, code, name)
    return store.classes.open_board(key).class_id, labs


def save(store, lab, *, val=0.5, test=None, dataset="digits", source="trained", state="finished", hidden=(8,),
         created=None, seconds=1.0):
    """A scripted run: its spec, validation and (app-computed) test accuracy."""
    spec = spec_to_dict(tiny_spec(dataset=dataset, network=NetworkSpec(hidden_layers=hidden)))
    metrics = {"val_accuracy": val} | ({} if test is None else {"test_accuracy": test})
    run_id = store.save_run(lab, RunRecord(f"run {val}", dataset, source=source, state=state, spec=spec,
                                           history={"loss": [1.0, 0.5], "val_accuracy": [val / 2, val]},
                                           metrics=metrics, seconds=seconds), {"model": b"m" * 10})
    if created is not None:
        with store.engine.begin() as conn:
            conn.execute(update(runs_table).where(runs_table.c.id == run_id).values(created_at=created))
    return run_id


# -- making and opening -------------------------------------------------------------------------

def test_a_class_has_a_secret_teacher_key_and_a_short_code(store):
    key, code = store.classes.create_class("  Year 9   <b>maths</b> ")
    assert len(key) >= 22 and len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
    info = store.classes.open_board(key)
    assert info.name == "Year 9 <b>maths</b>" and info.code == code and not info.closed
    with store.engine.connect() as conn:
        stored = conn.execute(select(classes_table)).one()
    assert key not in stored.teacher_hash and len(stored.teacher_hash) == 64  # only the hash is kept
    assert store.classes.open_board(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    for wrong in (None, "", code, "x" * 32, 12, "' OR 1=1 --"):
        assert store.classes.open_board(wrong) is None  # a join code is no teacher key


def test_codes_are_typed_loosely_and_checked_strictly():
    assert normalize_code(" ace-fhj ") == "ACEFHJ"
    for bad in ("ACEFH", "ACEFHJK", "ACEFH0", "ACEFHO", "ACEFH1", None, 123, "A" * 1000):
        assert normalize_code(bad) is None


def test_names_are_plain_text_trimmed_and_bounded():
    assert clean_name("  Ada \n Lovelace\x00 ") == "Ada Lovelace"
    assert clean_name("<script>alert(1)</script>"[:30]) == "<script>alert(1)</script>"
    with pytest.raises(ClassError, match="at most 30"):
        clean_name("x" * 31)
    for empty in ("", "   ", "\x00\x01"):
        with pytest.raises(ClassError, match="at least one"):
            clean_name(empty)


# -- joining ---------------------------------------------------------------------------------------

def test_join_names_unique_in_the_class_and_one_class_per_lab(store):
    _, code = store.classes.create_class("A")
    _, other_code = store.classes.create_class("B")
    ada, bob, cy = new_lab(store), new_lab(store), new_lab(store)
    member = store.classes.join(ada, code.lower(), "Ada")
    assert member.class_name == "A" and member.name == "Ada"
    with pytest.raises(ClassError, match="has that name"):
        store.classes.join(bob, code, " ADA ")  # case and spaces do not make a new name
    with pytest.raises(ClassError, match="in a class already"):
        store.classes.join(ada, other_code, "Ada")
    store.classes.join(bob, other_code, "Ada")  # another class: the name is free there
    sql = "Bo'); DROP TABLE memberships;--"[:30]
    store.classes.join(cy, code, sql)
    assert store.classes.membership(cy).name == sql  # stored as typed, a bound parameter
    assert [s.name for s in store.classes.students(member.class_id)] == ["Ada", sql]


def test_wrong_and_unknown_codes_get_one_message(store):
    lab = new_lab(store)
    _, code = store.classes.create_class("A")
    wrong = next(c for c in CODE_ALPHABET if c != code[0]) + code[1:]
    for bad in (wrong, "ZZZZZZ", "", "' OR 1=1"):
        with pytest.raises(NotFound) as raised:
            store.classes.join(lab, bad, "Ada")
        assert str(raised.value) == UNKNOWN_CODE
    assert store.classes.membership(lab) is None


def test_a_closed_class_takes_no_one_and_a_deleted_one_leaves_labs_alone(store):
    key, code = store.classes.create_class("A")
    info = store.classes.open_board(key)
    ada, bob = new_lab(store), new_lab(store)
    store.classes.join(ada, code, "Ada")
    run = save(store, ada)
    store.classes.set_closed(info.class_id)
    with pytest.raises(ClassError, match="closed"):
        store.classes.join(bob, code, "Bob")
    assert store.classes.delete_class(info.class_id)
    assert store.classes.membership(ada) is None and store.classes.open_board(key) is None
    assert [r.run_id for r in store.list_runs(ada)] == [run]  # the student's lab stays theirs
    with pytest.raises(NotFound):
        store.classes.join(bob, code, "Bob")


def test_leave_and_remove_touch_only_the_membership(store):
    class_id, labs = class_with(store, "Ada", "Bob")
    ada, bob = labs["Ada"], labs["Bob"]
    ada_run = save(store, ada)
    assert store.classes.remove_student(class_id, bob)
    assert not store.classes.remove_student(class_id + 1, ada)  # another class's teacher reaches nothing
    assert store.classes.leave(ada) and not store.classes.leave(ada)
    assert store.classes.students(class_id) == []
    assert store.classes.student_run(class_id, ada, ada_run) is None  # gone from the board with the membership
    assert store.get_run(ada_run, ada) is not None


def test_the_class_size_is_bounded(store, monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_CLASS_STUDENTS", "2")
    _, code = store.classes.create_class("A")
    store.classes.join(new_lab(store), code, "one")
    store.classes.join(new_lab(store), code, "two")
    with pytest.raises(ClassError, match="2 students, the most"):
        store.classes.join(new_lab(store), code, "three")


# -- the board: what the teacher reads ---------------------------------------------------------------

def test_the_teacher_reads_runs_made_since_joining_of_their_class_only(store):
    key, code = store.classes.create_class("A")
    class_id = store.classes.open_board(key).class_id
    ada, stranger = new_lab(store), new_lab(store)
    before = save(store, ada, val=0.9, created=time.time() - 3600)
    store.classes.join(ada, code, "Ada")
    after = save(store, ada, val=0.7)
    theirs = save(store, stranger, val=0.99)
    [student] = store.classes.students(class_id)
    assert [r.run_id for r in student.runs] == [after] and student.best().run_id == after
    assert store.classes.student_run(class_id, ada, after).history["loss"] == [1.0, 0.5]
    assert store.classes.student_run(class_id, ada, before) is None
    assert store.classes.student_run(class_id, stranger, theirs) is None
    assert store.classes.load_student_blob(class_id, after, "model") == b"m" * 10
    for run in (before, theirs):
        with pytest.raises(NotFound):
            store.classes.load_student_blob(class_id, run, "model")
    assert set(store.classes.student_histories(class_id, [before, after, theirs])) == {after}


# -- the challenge ---------------------------------------------------------------------------------

def test_the_leaderboard_ranks_best_eligible_runs_by_test_accuracy_ties_to_the_first(store):
    class_id, labs = class_with(store, "Ada", "Bob", "Cy", "Di", "Ed")
    small = count_weights(tiny_spec())[0]
    store.classes.set_challenge(class_id, "digits", small)
    now = time.time()
    save(store, labs["Ada"], val=0.9, test=0.91, created=now + 10)
    save(store, labs["Ada"], val=0.8, test=0.95, created=now + 20)  # best by test, not by validation
    save(store, labs["Bob"], val=0.9, test=0.95, created=now + 5)  # same score, got there first
    save(store, labs["Cy"], val=0.99, test=0.99, hidden=(32,))  # too many parameters
    save(store, labs["Di"], val=0.99, test=0.99, source="uploaded")  # uploads do not count
    save(store, labs["Ed"], val=0.5)  # not tested yet
    board = store.classes.leaderboard(class_id)
    assert [(s.rank, s.name, s.test_accuracy) for s in board[:2]] == [(1, "Bob", 0.95), (2, "Ada", 0.95)]
    reasons = {s.name: s.reason for s in board[2:]}
    assert reasons["Cy"] == f"it has {count_weights(tiny_spec(network=NetworkSpec(hidden_layers=(32,))))[0]:,} " \
                            f"parameters, the rule allows at most {small:,}"
    assert reasons["Di"] == "uploaded, not trained here"
    assert reasons["Ed"] == "not tested yet"
    assert all(s.rank is None for s in board[2:])
    assert translate("es", reasons["Ed"]) == "todavía no se ha probado"
    assert f"{small:,}".replace(",", ".") in translate("es", reasons["Cy"])  # the number as Spanish writes it


def test_a_copy_of_another_students_shared_run_does_not_count(store):
    """The best run of the class, shared and copied into another student's lab, counts only for its trainer."""
    class_id, labs = class_with(store, "Ada", "Bob")
    ada, bob = labs["Ada"], labs["Bob"]
    store.classes.set_challenge(class_id, "digits", None)
    token = store.share_run(ada, save(store, ada, val=0.97, test=0.98))
    copy = store.get_run(store.copy_shared_run(token, bob), bob)
    assert copy.source == "copied" and copy.metrics["test_accuracy"] == 0.98
    board = store.classes.leaderboard(class_id)
    assert [(s.rank, s.name, s.test_accuracy) for s in board] == [(1, "Ada", 0.98), (None, "Bob", None)]
    assert board[1].reason == "copied from someone's share link"
    save(store, bob, val=0.6, test=0.61)  # Bob's own run counts, below the copy's score
    assert [(s.rank, s.name, s.test_accuracy) for s in store.classes.leaderboard(class_id)] == [
        (1, "Ada", 0.98), (2, "Bob", 0.61)]


def test_rank_students_on_another_dataset_and_without_runs():
    challenge = Challenge("mnist", None, 0.0)
    spec = spec_to_dict(tiny_spec())
    run = RunRecord("r", "digits", spec=spec, metrics={"val_accuracy": 0.9, "test_accuracy": 0.9}, run_id=1)
    standings = rank_students([Student(1, "Ada", 0.0, [run]), Student(2, "Bob", 0.0)], challenge)
    assert [(s.name, s.reason) for s in standings] == [("Ada", "trained on Digits (8x8), the challenge is on MNIST"),
                                                       ("Bob", "no finished run yet")]
    assert translate("de", standings[0].reason).endswith("MNIST") and translate("de", standings[1].reason) != \
        "no finished run yet"


def test_the_app_records_a_runs_test_accuracy(store):
    lab = new_lab(store)
    run = save(store, lab)
    before = store.lab_bytes(lab)
    assert store.classes.record_test_accuracy(run, 0.875)
    assert store.get_run(run, lab).metrics["test_accuracy"] == 0.875
    assert store.lab_bytes(lab) > before  # the longer metrics count against the lab
    assert not store.classes.record_test_accuracy(run + 100, 0.5)


# -- expiry and upgrade ----------------------------------------------------------------------------

def test_classes_not_opened_for_class_days_go_with_their_memberships(store, monkeypatch):
    monkeypatch.setenv("DIGITLAB_CLASS_DAYS", "10")
    old_key, old_code = store.classes.create_class("old")
    new_key, _ = store.classes.create_class("new")
    lab = new_lab(store)
    store.classes.join(lab, old_code, "Ada")
    with store.engine.begin() as conn:
        conn.execute(update(classes_table).where(classes_table.c.code == old_code)
                     .values(opened_at=time.time() - 11 * 86_400))
    assert store.classes.remove_stale_classes() == 1
    assert store.classes.open_board(old_key) is None and store.classes.open_board(new_key) is not None
    assert store.classes.membership(lab) is None
    with store.engine.connect() as conn:
        assert conn.execute(select(memberships_table)).all() == []
    assert store.list_runs(lab) == []  # the lab itself is still there, empty as it was


def test_a_database_made_by_main_upgrades_in_place_with_nothing_lost(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(MAIN_DB, path)
    upgraded = open_store(f"sqlite:///{path}")
    try:
        with upgraded.engine.connect() as conn:
            assert upgraded.read_schema_version(conn) == len(MIGRATIONS)
        lab = upgraded.open_lab(MAIN_DB_LAB_KEY)
        [run] = upgraded.list_runs(lab)
        assert run.name == "run one" and upgraded.load_blob(run.run_id, lab, "model") == b"x" * 100
        assert len(upgraded.list_shares(lab)) == 1
        _, code = upgraded.classes.create_class("after the upgrade")
        assert upgraded.classes.join(lab, code, "Ada").name == "Ada"
    finally:
        upgraded.close()


def test_main_schema_upgrades_on_both_databases(url):
    """The steps main shipped (the first three: shipped steps never change), then today's on top."""
    from core.storage.engine import create_store_engine
    from core.storage.store import Store

    store = Store(create_store_engine(url))
    try:
        store.upgrade_schema(MIGRATIONS[:3])
        lab = new_lab(store)
        run = store.save_run(lab, RunRecord("kept", "digits"), {"model": b"kept"})
        assert store.upgrade_schema() == len(MIGRATIONS)
        assert store.load_blob(run, lab, "model") == b"kept"
        _, code = store.classes.create_class("A")
        store.classes.join(lab, code, "Ada")
        assert store.classes.membership(lab).name == "Ada"
    finally:
        store.close()


def test_the_boards_csv_keeps_names_as_typed_but_never_as_formulas(store):
    from core.storage.classes import board_csv, board_rows

    class_id, labs = class_with(store, "=HYPERLINK(\"http://x\")", "Ada, \"the\" 1st")
    for lab in labs.values():
        save(store, lab, val=0.75, test=0.5)
    students = store.classes.students(class_id)
    rows = board_rows(students, {students[1].lab_id: "waiting in the queue"})
    assert [(r["Student"], r["Runs"], r["Now"]) for r in rows] == [
        ("=HYPERLINK(\"http://x\")", 1, ""), ("Ada, \"the\" 1st", 1, "waiting in the queue")]
    assert [r["Best run's recipe"] for r in rows] == ["Digits (8x8) · 8 relu · Adam 0.01"] * 2
    text = board_csv(rows)
    lines = text.splitlines()
    assert lines[1].startswith('"\'=HYPERLINK') and not any(line.lstrip('"').startswith("=") for line in lines)
    assert '"Ada, ""the"" 1st"' in text  # quoted as CSV, not split


def test_step_4_builds_the_class_tables_the_code_uses(store):
    from sqlalchemy import inspect

    from core.storage.schema import CLASS_INDEXES, CLASS_TABLES

    inspector = inspect(store.engine)
    for table in CLASS_TABLES:  # the frozen step and today's Table objects agree, column by column
        assert [c["name"] for c in inspector.get_columns(table.name)] == [c.name for c in table.columns]
    indexes = {i["name"] for t in ("classes", "memberships") for i in inspector.get_indexes(t)}
    assert {index.name for index in CLASS_INDEXES} <= indexes


def test_class_refusals_translate_in_spanish_and_german(store):
    with pytest.raises(ClassError) as long_name:
        clean_name("x" * 31)
    assert translate("es", message_of(long_name.value)) == (
        "Un nombre puede tener como mucho 30 caracteres (este tiene 31).")
    _, code = store.classes.create_class("A")
    store.classes.join(new_lab(store), code, "Ada")
    with pytest.raises(ClassError) as taken:
        store.classes.join(new_lab(store), code, "ada")
    assert translate("de", message_of(taken.value)) == (
        "Jemand in dieser Klasse hat diesen Namen schon: Wähle einen anderen.")
    with pytest.raises(NotFound) as unknown:
        store.classes.join(new_lab(store), "ZZZZZZ", "Bo")
    assert translate("es", message_of(unknown.value)) == "Este código no abre ninguna clase: compruébalo con tu profe."

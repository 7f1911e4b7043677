"""AppTests of labs: settings links, unknown keys, shared runs, limits, and a database that cannot open."""

import pytest
from streamlit.testing.v1 import AppTest

from core import persistence
from core.store import open_store
from ui import lab as labs
from ui.text import plain

TIMEOUT = 60


def open_with(page: str | None, **params) -> AppTest:
    """An AppTest of `pages/<page>.py` (None: the home page) opened with these query parameters."""
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.query_params.update(params)
    at.run()
    if page is not None:
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception
    return at


@pytest.fixture
def shared_run(digits_run):
    """A lab holding `digits_run`, and a share link's token to it."""
    store = open_store()
    lab_id = store.open_lab(store.create_lab())
    run_id = store.save_run(lab_id, persistence.record_of(digits_run),
                            {persistence.MODEL_BLOB: persistence.model_bytes(digits_run)})
    yield store, lab_id, run_id, store.share_run(lab_id, run_id)
    store.close()


def test_a_settings_link_fills_the_form_names_bad_values_and_starts_nothing():
    at = open_with("train", dataset="digits", hidden="64, 32", optimizer="adam", lr="0.003", epochs="900",
                   activation="<b>swish</b>")
    assert at.text_input(key="hidden").value == "64, 32" and at.selectbox(key="optimizer").value == "adam"
    assert at.select_slider(key="lr").value == 0.003 and at.number_input(key="epochs").value == 200
    assert at.selectbox(key="activation").value == "sigmoid"  # the bad value's default
    warnings = " ".join(w.value for w in at.warning)
    assert plain("epochs='900'") in warnings and plain("activation='<b>swish</b>'") in warnings
    assert any("Nothing has started" in i.value for i in at.info)
    assert at.session_state["training_job"] is None and "dataset" not in at.query_params


def test_an_unknown_or_guessed_lab_key_opens_nothing_and_says_so():
    for key in ("x" * 32, "'; DROP TABLE labs;--", "../../etc/passwd"):
        at = open_with(None, lab=key)
        assert any("This link does not open any lab" in w.value for w in at.warning), key
        assert "lab" not in at.query_params and not at.session_state["runs"]


def test_a_shared_run_is_read_only_and_can_be_copied_into_my_lab(shared_run, digits_run):
    store, lab_id, run_id, token = shared_run
    at = open_with("shared", run=token)
    assert at.title[0].value == plain(digits_run.name)
    assert {m.label for m in at.metric} == {"Validation accuracy", "Training accuracy", "Validation loss"}
    assert [b.label for b in at.button if b.label in ("Evaluate it", "Copy into my lab")] == [
        "Evaluate it", "Copy into my lab"]  # nothing there changes or deletes the owner's run
    next(b for b in at.button if b.label == "Copy into my lab").click().run()
    assert any("Copied into your lab" in s.value for s in at.success)
    mine = at.session_state[labs.LAB]
    assert mine.lab_id != lab_id and [r.name for r in store.list_runs(mine.lab_id)] == [digits_run.name]
    assert [r.run_id for r in store.list_runs(lab_id)] == [run_id]  # the owner's lab is unchanged


def test_an_unknown_share_link_says_so():
    at = open_with("shared", run="y" * 32)
    assert any("does not open any run" in e.value for e in at.error)


def test_a_full_lab_refuses_an_upload_with_a_message(digits_run, monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_RUNS", "1")
    data = persistence.model_bytes(digits_run)
    at = open_with("evaluate")
    at.file_uploader(key="evaluate_upload").upload("first.keras", data).run()
    assert not at.error
    at.file_uploader(key="evaluate_upload").upload("second.keras", data).run()
    assert any("second" in e.value and "100" not in e.value and "1 run" in e.value for e in at.error), [
        e.value for e in at.error]
    assert len(at.session_state["runs"]) == 1


def test_a_database_that_cannot_open_leaves_the_app_usable(tmp_path, monkeypatch):
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("DIGITLAB_DATABASE_URL", f"sqlite:///{broken}")
    labs.shared_store.clear()
    try:
        at = open_with("train")
        assert any("Your work is not being saved" in w.value for w in at.warning)
        at.number_input(key="epochs").set_value(1)
        next(b for b in at.button if b.label == "Start training").click().run()
        job = at.session_state["training_job"]
        job.join(60)
        at.run()
        assert job.state == "finished" and len(at.session_state["runs"]) == 1  # kept in the tab
    finally:
        labs.shared_store.clear()


def test_your_lab_shows_its_link_only_when_opened(shared_run):
    store, lab_id, run_id, token = shared_run
    key = store.create_lab()  # a lab of its own, opened by its key
    at = open_with("train", lab=key)
    assert any(e.label == "Your lab" for e in at.sidebar.expander)
    assert not at.sidebar.code  # closed: nothing made, nothing for the browser to draw
    at.session_state["lab_box"] = True  # as a click on "Your lab" does
    at.run()
    assert not at.exception
    assert at.sidebar.code[0].value.endswith(f"/?lab={key}")

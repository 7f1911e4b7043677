"""AppTests of labs: settings links, unknown keys, shared runs, limits, and a database that cannot open."""

import pytest
from streamlit.testing.v1 import AppTest

from core.storage import sink as persistence
from core.storage.store import open_store
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
    assert not at.exception
    assert any("Copied" in s.value and "into your lab" in s.value for s in at.sidebar.success)
    mine = at.session_state[labs.LAB]
    assert mine.lab_id != lab_id and [r.name for r in store.list_runs(mine.lab_id)] == [digits_run.name]
    assert [r.run_id for r in store.list_runs(lab_id)] == [run_id]  # the owner's lab is unchanged
    # The tab is on the lab's own page, its address holding the lab's key only (not the share's).
    assert dict(at.query_params) == {"lab": [mine.key]} or dict(at.query_params) == {"lab": mine.key}
    assert any(h.value == "Your runs" for h in at.subheader)


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


@pytest.fixture
def lab_with_a_shared_run(digits_run):
    """A lab's key, id and run holding `digits_run`, and two share links' tokens to it."""
    store = open_store()
    key = store.create_lab()
    lab_id = store.open_lab(key)
    run_id = store.save_run(lab_id, persistence.record_of(digits_run),
                            {persistence.MODEL_BLOB: persistence.model_bytes(digits_run)})
    yield store, key, lab_id, run_id, [store.share_run(lab_id, run_id) for _ in range(2)]
    store.close()


def open_lab_box(at: AppTest) -> AppTest:
    at.session_state["lab_box"] = True  # as a click on "Your lab" does
    at.run()
    assert not at.exception
    return at


def test_changing_the_labs_link_moves_the_tab_and_the_old_link_opens_nothing(lab_with_a_shared_run):
    store, key, lab_id, run_id, tokens = lab_with_a_shared_run
    at = open_lab_box(open_with("train", lab=key))
    next(b for b in at.sidebar.button if b.label == "Change this lab's link").click().run()
    assert not at.exception
    new_key = at.session_state[labs.LAB].key
    assert new_key != key and at.query_params["lab"] in (new_key, [new_key])
    assert store.open_lab(key) is None and store.open_lab(new_key) == lab_id
    assert any("new link" in s.value for s in at.sidebar.success)
    assert store.open_shared_run(tokens[0]) is not None  # share links of runs keep working
    again = open_with(None, lab=key)  # the old link, in another tab
    assert any("This link does not open any lab" in w.value for w in again.warning)


def test_stop_sharing_one_link_of_a_run(lab_with_a_shared_run):
    store, key, lab_id, run_id, tokens = lab_with_a_shared_run
    at = open_with("train", lab=key)
    stop = [b for b in at.button if b.label == "Stop sharing"]
    assert len(stop) == 2
    stop[0].click().run()
    assert not at.exception
    assert [store.open_shared_run(t) is not None for t in tokens] == [False, True]
    assert len([b for b in at.button if b.label == "Stop sharing"]) == 1
    assert [s.run_id for s in store.list_shares(lab_id)] == [run_id]


def test_new_labs_per_hour_are_bounded_with_a_message(shared_run, monkeypatch):
    store, lab_id, run_id, token = shared_run
    monkeypatch.setenv("DIGITLAB_MAX_NEW_LABS_PER_HOUR", "1")
    monkeypatch.setattr(labs, "NEW_LABS", labs.NewLabCounter())
    at = open_with("shared", run=token)
    next(b for b in at.button if b.label == "Copy into my lab").click().run()
    first = at.session_state[labs.LAB]
    assert first is not None and len(store.list_runs(first.lab_id)) == 1  # the first new lab of the hour
    open_lab_box(at.switch_page("pages/train.py"))  # AppTest stays on its own page: go where the copy went
    next(b for b in at.sidebar.button if b.label == "Start a new lab").click().run()
    assert not at.exception
    assert any("started 1 new labs in the last hour" in w.value for w in at.sidebar.warning)
    assert at.session_state[labs.LAB] == first  # refused: the tab keeps its lab
    # A tab that lost its lab otherwise (the lab deleted elsewhere) cannot make another one either.
    at.session_state[labs.LAB] = None
    at.query_params.clear()
    at.switch_page("pages/shared.py")
    at.query_params["run"] = token
    at.run()
    next(b for b in at.button if b.label == "Copy into my lab").click().run()
    assert any("cannot be copied" in e.value and "new labs in the last hour" in e.value for e in at.error)
    assert at.session_state[labs.LAB] is None


def test_deleting_a_lab_leaves_nothing_of_it_on_the_server(lab_with_a_shared_run):
    store, key, lab_id, run_id, tokens = lab_with_a_shared_run
    at = open_lab_box(open_with("train", lab=key))
    assert labs._PRESENCE.get(lab_id)  # this tab counts as open in the lab
    at.sidebar.toggle(key="delete_lab_armed").set_value(True).run()
    next(b for b in at.sidebar.button if b.label == "Delete this lab for good").click().run()
    assert not at.exception
    assert lab_id not in labs._PRESENCE and store.open_lab(key) is None
    assert store.open_shared_run(tokens[0]) is None

"""AppTest of the Train page: a short training on Digits, from the button to the run."""

import json

import numpy as np
from streamlit.testing.v1 import AppTest

from core.analysis.evaluation import most_confused_pairs
from core.analysis.history import confusion_per_epoch, rank_changed_mind, select_cell_at
from core.data.datasets import load_dataset
from core.figures.epochs import caption_changes
from core.words import MY_DIGITS_WORDS, SETTING_WORDS
from tests.conftest import open_page, open_tab
from tests.harness.polling import poll_until

TIMEOUT = 60
HISTORY_TAB = "Learning history of the current model"


def open_train_page() -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT).run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    return at


def wait_for_job(at: AppTest, timeout: float = 120) -> None:
    """AppTest does not simulate the fragment's run_every: wait for the thread, then rerun."""
    job = at.session_state["training_job"]
    job.join(timeout)
    assert job.done, job.snapshot()
    at.run()


def test_train_page_shows_the_dataset_and_the_settings():
    at = open_train_page()
    assert at.selectbox(key="dataset").value == "digits"
    assert any("1,294" in m.value for m in at.markdown)
    assert at.selectbox(key="preset").value is None  # a recipe is applied when chosen, no extra button
    labels = [b.label for b in at.button]
    assert "Start training" in labels and "Stop training" in labels
    assert any("Model summary" in e.label for e in at.expander)


def test_closed_expanders_make_nothing_and_open_ones_show_their_content():
    at = open_train_page()
    assert not at.code and not at.dataframe  # the settings link and the model summary wait to be opened
    at.session_state["share_settings"] = True  # as a click on "Share these settings" does
    at.session_state["model_summary"] = True
    at.run()
    assert not at.exception
    link = at.code[0].value
    assert "/train?" in link and "dataset=digits" in link
    assert "conv" not in str(at.dataframe[0].value).lower() and len(at.dataframe[0].value) >= 2  # the layer table


def test_short_training_on_digits_shows_curves_progress_and_the_current_model():
    at = open_train_page()
    at.number_input(key="epochs").set_value(3)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception
    assert at.session_state["training_job"] is not None
    wait_for_job(at)
    assert not at.exception
    # The live section: a progress bar at 100% and the two learning curves.
    assert at.get("progress")[0].value == 100
    assert "Epoch 3 of 3" in at.get("progress")[0].proto.text
    keys = [c.key for c in at.get("plotly_chart")]
    assert keys[:2] == ["live_loss", "live_accuracy"]
    # The run is the session's current model, in the runs table (the runs' first tab).
    run = next(r for r in at.session_state["runs"] if r.run_id == at.session_state["current_run_id"])
    assert run.dataset == "digits" and len(run.history["loss"]) == 3
    assert run.metrics["val_accuracy"] > 0.5
    assert any("Run 1" in str(df.value) for df in at.dataframe)
    open_tab(at, "runs_view", "Compare runs")  # its two charts are made
    keys = [c.key for c in at.get("plotly_chart")]
    assert keys[:2] == ["live_loss", "live_accuracy"] and {"compare_loss", "compare_accuracy"} <= set(keys)


def test_bad_hidden_layers_are_explained_and_start_is_disabled():
    at = open_train_page()
    at.text_input(key="hidden").input("64, many").run()
    assert any(SETTING_WORDS["hidden"].label in e.value for e in at.error)
    assert next(b for b in at.button if b.label == "Start training").disabled


def start_button(at: AppTest):
    return next(b for b in at.button if b.label == "Start training")


def test_a_recipe_applies_at_once_and_undo_restores_the_settings_before():
    at = open_train_page()
    at.number_input(key="epochs").set_value(7).run()
    at.selectbox(key="preset").select("mnist_dense").run()  # no other click: the form is the recipe now
    assert not at.exception
    assert at.selectbox(key="dataset").value == "mnist"
    assert at.text_input(key="hidden").value == "512, 512"
    assert at.selectbox(key="optimizer").value == "adam" and at.number_input(key="epochs").value == 20
    assert any("669,706 parameters" in e.label for e in at.expander)  # the summary is the recipe's, what Start trains
    at.session_state["model_summary"] = True
    at.run()
    assert "512" in str(at.dataframe[0].value)
    next(b for b in at.button if b.label == "Undo").click().run()
    assert at.selectbox(key="dataset").value == "digits" and at.text_input(key="hidden").value == "15"
    assert at.number_input(key="epochs").value == 7  # what was typed before the recipe, back
    assert at.selectbox(key="preset").value is None and not any(b.label == "Undo" for b in at.button)


def test_each_choice_widget_is_sent_with_its_current_value_as_its_default():
    """A browser that draws the form afresh falls back to the default sent with each widget: it must be the
    current value, not the first option (bench/classroom: 23 of 30 runs trained at learning rate 0.0001)."""
    at = open_train_page()
    at.selectbox(key="preset").select("mnist_dense").run()  # every setting away from its first option
    at.selectbox(key="activation").select("tanh").run()
    at.select_slider(key="lr").set_value(0.003).run()
    at.select_slider(key="batch").set_value(256).run()
    at.slider(key="dropout").set_value(0.35).run()
    at.text_input(key="hidden").input("64").run()  # a rerun that sets nothing through the session's state
    assert not at.exception
    for key in ("lr", "batch", "l2"):
        widget = at.select_slider(key=key)
        assert list(widget.proto.default) == [widget.options.index(widget.format_func(widget.value))], key
    assert at.select_slider(key="lr").value == 0.003 and at.select_slider(key="batch").value == 256
    assert list(at.slider(key="dropout").proto.default) == [0.35]
    for key in ("dataset", "activation", "optimizer"):
        widget = at.selectbox(key=key)
        assert widget.proto.default == widget.index and widget.index > 0, key
    assert at.radio(key="kind").proto.default == at.radio(key="kind").index


def field_errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def assert_plain(message: str) -> None:
    """A message for people: no spec path, index or Python repr."""
    assert "network." not in message and "[" not in message and "]" not in message and "got" not in message, message


def test_epochs_out_of_range_stays_as_typed_disables_start_and_is_explained_by_the_field():
    at = open_train_page()
    at.number_input(key="epochs").set_value(100000).run()
    assert not at.exception
    assert at.number_input(key="epochs").value == 100000  # never clamped
    label = SETTING_WORDS["epochs"].label
    errors = field_errors(at)
    assert len(errors) == 1 and errors[0].startswith(f"**{label}**") and "from 1 to 200" in errors[0], errors
    assert_plain(errors[0])
    assert start_button(at).disabled


def test_hidden_layers_0_disables_start_with_one_message_by_the_field():
    at = open_train_page()
    at.text_input(key="hidden").input("0").run()
    label = SETTING_WORDS["hidden"].label
    errors = field_errors(at)
    assert len(errors) == 1 and errors[0].startswith(f"**{label}**") and "1 to 2048" in errors[0], errors
    assert_plain(errors[0])
    assert start_button(at).disabled
    at.radio(key="train_mode").set_value("compare").run()  # Start sweep too, and the problem is said once
    assert field_errors(at) == errors
    assert next(b for b in at.button if b.label == "Start sweep").disabled
    at.text_input(key="hidden").input("15").run()
    assert not field_errors(at) and not next(b for b in at.button if b.label == "Start sweep").disabled


def test_each_mode_shows_only_its_own_controls():
    at = open_train_page()
    assert at.radio(key="train_mode").value == "train"
    buttons = {b.label for b in at.button}
    assert {"Start training", "Stop training"} <= buttons and "Start sweep" not in buttons
    at.radio(key="train_mode").set_value("compare").run()
    buttons = {b.label for b in at.button}
    assert {"Start sweep", "Stop sweep"} <= buttons and "Start training" not in buttons
    at.radio(key="train_mode").set_value("fine_tune").run()
    assert not at.exception
    buttons = {b.label for b in at.button}
    assert MY_DIGITS_WORDS["fine_tune"].label in buttons and not buttons & {"Start training", "Start sweep"}
    assert not any(s.key == "dataset" for s in at.selectbox)  # the fine-tuning has no training settings


def test_a_link_sets_the_mode_and_the_sweep_and_says_what_it_could_not_use():
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.query_params.update({"mode": "compare", "vary": "kind", "values": "dense,cnn", "epochs": "3"})
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert at.radio(key="train_mode").value == "compare" and at.selectbox(key="sweep_setting").value == "kind"
    assert at.multiselect(key="sweep_values_kind").value == ["dense", "cnn"]
    assert at.number_input(key="epochs").value == 3 and not at.warning
    bad = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    bad.query_params.update({"mode": "sweep", "vary": "lr", "values": "0.1"})
    bad.run()
    bad.switch_page("pages/train.py").run()
    assert not bad.exception and bad.radio(key="train_mode").value == "compare"  # vary= says compare
    warnings = [w.value for w in bad.warning]
    assert any("mode='sweep'" in w for w in warnings) and any("at least 2 values" in w for w in warnings), warnings


def test_stop_keeps_the_model_trained_so_far():
    at = open_train_page()
    at.number_input(key="epochs").set_value(200)
    at.select_slider(key="batch").set_value(8)
    next(b for b in at.button if b.label == "Start training").click().run()
    job = at.session_state["training_job"]
    poll_until(lambda: len(job.snapshot().epoch_logs) >= 2, 60, "two epochs", 0.1)
    at.run()
    # Live: the confusion over the epochs done so far, while it trains.
    live = figure_of(at, "live_history_matrix")
    assert len(live["frames"]) >= 2
    assert any(c.value.startswith("The images that changed their mind show when") for c in at.caption)
    next(b for b in at.button if b.label == "Stop training").click().run()
    wait_for_job(at)
    assert job.state == "stopped"
    open_tab(at, "runs_view", HISTORY_TAB)
    run = at.session_state["runs"][-1]
    assert run.status == "Stopped by you."
    # What exists: every epoch it got to, the one cut short included.
    epochs = len(run.history["loss"])
    assert run.epoch_predictions.epochs == epochs >= 2
    assert any(f"Stopped during epoch {epochs} of 200" in c.value for c in at.caption)


def test_unavailable_dataset_is_a_message_not_a_traceback(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITLAB_DATA_DIR", str(tmp_path / "missing"))
    at = open_train_page()
    at.selectbox(key="dataset").select("mnist").run()
    assert not at.exception
    assert any("DIGITLAB_DATA_DIR" in e.value and "not a folder" in e.value for e in at.error)
    assert next(b for b in at.button if b.label == "Start training").disabled
    at.selectbox(key="dataset").select("digits").run()  # the way forward: the offline set
    assert not at.error and not next(b for b in at.button if b.label == "Start training").disabled


def test_mnist_offline_is_the_shipped_sample_and_the_page_says_so(mnist_sample):
    at = open_train_page()
    at.selectbox(key="dataset").select("mnist").run()
    assert not at.exception and not at.error
    assert any("**9,000** training · **1,000** validation · **10,000** test images" in m.value for m in at.markdown)
    written = [m.value for m in at.markdown]  # the source sentence is full-colour text (it may hold a link)
    assert any(c.startswith("MNIST: the sample that ships with the app, 10,000 test images and 10,000 training")
               for c in written), written
    assert not next(b for b in at.button if b.label == "Start training").disabled


def test_start_twice_runs_one_training():
    at = open_train_page()
    at.number_input(key="epochs").set_value(2)
    next(b for b in at.button if b.label == "Start training").click().run()
    first = at.session_state["training_job"]
    assert next(b for b in at.button if b.label == "Start training").disabled
    # AppTest cannot click a disabled button; the browser test double-clicks Start for real
    # (tests/e2e/test_app_browser.py), which a browser that has not redrawn yet can send.
    first.join(60)
    at.run()
    assert at.session_state["training_job"] is first and len(at.session_state["runs"]) == 1


def current_pick(at):
    return next(s for s in at.selectbox if s.label == "Current model (used by Evaluate and Draw)")


def test_a_new_run_becomes_current_even_after_picking_another(digits_run):
    at = open_page("train", [digits_run])
    assert current_pick(at).value == digits_run.run_id
    at.number_input(key="epochs").set_value(2)
    next(b for b in at.button if b.label == "Start training").click().run()
    wait_for_job(at)
    job = at.session_state["training_job"]
    assert job.state == "finished", job.message
    old, newest = at.session_state["runs"]  # the run made before the lab existed moved into it
    assert old.name == digits_run.name and newest.name.startswith("Run 2 · ")
    assert at.session_state["current_run_id"] == newest.run_id == current_pick(at).value
    current_pick(at).select(old.run_id).run()  # the user picks the old one
    assert at.session_state["current_run_id"] == old.run_id == current_pick(at).value


def figure_of(at, key: str) -> dict:
    """The plotly figure (as JSON) of the chart drawn with `key`."""
    return next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if key in c.proto.id)


def test_learning_history_of_a_short_training():
    at = open_train_page()
    at.number_input(key="epochs").set_value(3)
    next(b for b in at.button if b.label == "Start training").click().run()
    wait_for_job(at)
    assert not at.exception
    assert not any(c for c in at.get("plotly_chart") if "run_history_" in c.proto.id)  # its tab is closed
    open_tab(at, "runs_view", HISTORY_TAB)
    run = next(r for r in at.session_state["runs"] if r.run_id == at.session_state["current_run_id"])
    record = run.epoch_predictions  # read back from the lab by the page
    spec = run.spec
    y_val = load_dataset(spec.dataset, spec.validation_fraction, spec.train_limit, spec.seed).y_val
    assert record.preds.shape == (3, len(y_val)) and (record.y == y_val).all()
    assert np.mean(record.preds[-1] == y_val) == run.history["val_accuracy"][-1]
    prefix = f"run_history_{run.run_id}"
    figure = figure_of(at, f"{prefix}_matrix")
    assert [f["name"] for f in figure["frames"]] == ["1", "2", "3"]
    assert any(m.value == "#### Images that changed their mind" for m in at.markdown)
    flipped = rank_changed_mind(record.preds, record.y)
    assert any(m.value == f"**Most changes first** — {len(flipped):,} validation images" for m in at.markdown)

    # A click on a cell of epoch 1 (what st.plotly_chart hands the page): that cell's images then.
    truth, pred, _ = most_confused_pairs(confusion_per_epoch(record.preds, record.y, 10)[0], 1)[0]
    at.session_state[f"{prefix}_matrix"] = {"selection": {"points": [{"customdata": [truth, pred, 1]}],
                                                          "point_indices": [0], "box": [], "lasso": []}}
    at.run()
    assert not at.exception
    expected = select_cell_at(record.preds, record.y, 1, truth, pred)
    title = f"**Truth {truth}, predicted {pred} after epoch 1** — {len(expected):,} validation image"
    assert any(m.value.startswith(title) for m in at.markdown)
    assert at.slider(key=f"{prefix}_epoch").value == 1
    # Exactly that cell's images, each captioned with its answers over the epochs.
    tab = next(t for t in at.tabs if t.label == HISTORY_TAB)  # (the finished run's history above has its own)
    grid = next(g for g in tab.image if g.captions and g.captions[0].startswith("Over the epochs: "))
    assert grid.captions == [f"Over the epochs: {caption_changes(record.preds[:, i], [str(c) for c in range(10)])}"
                             for i in expected[:24]]
    assert figure_of(at, f"{prefix}_matrix")["layout"]["sliders"][0]["active"] == 0  # opens at epoch 1


def test_a_reload_after_the_end_shows_the_runs_not_the_old_curves():
    at = open_train_page()
    at.number_input(key="epochs").set_value(2)
    next(b for b in at.button if b.label == "Start training").click().run()
    wait_for_job(at)
    assert any("live_loss" in c.proto.id for c in at.get("plotly_chart"))  # the tab that watched it keeps them
    again = AppTest.from_file("../app.py", default_timeout=TIMEOUT)  # the same lab, reloaded
    again.query_params["lab"] = at.session_state["lab"].key
    again.run()
    again.switch_page("pages/train.py").run()
    assert not again.exception
    assert again.session_state["training_job"] is at.session_state["training_job"]  # the lab's job, found
    assert not any("live_" in c.proto.id for c in again.get("plotly_chart"))
    assert not again.get("progress")
    assert any("Run 1" in str(df.value) for df in again.dataframe)


def test_a_queued_training_polls_slowly_until_it_gets_its_slot(monkeypatch):
    from core.training import local as training

    monkeypatch.setattr(training, "SLOTS", training.TrainingSlots(1))  # this test's own server line
    assert training.SLOTS.acquire(lambda: False)  # every slot taken
    at = open_train_page()
    at.number_input(key="epochs").set_value(2)
    next(b for b in at.button if b.label == "Start training").click().run()
    job = at.session_state["training_job"]
    assert job.state == "waiting"
    assert at.session_state["polled_queue"]  # the queue's slow rate
    assert any("this one is next" in w.value or "1st in line" in w.value for w in at.warning)
    training.SLOTS.release()  # a slot frees up
    poll_until(lambda: job.state != "waiting", 60, "the job to take the freed slot", 0.05)
    at.run()
    assert not at.session_state["polled_queue"] and not at.exception  # the curves' rate again
    wait_for_job(at)
    assert len(at.session_state["runs"]) == 1


def test_a_full_server_line_is_a_message_and_starts_nothing(monkeypatch):
    from core.training import local as training

    monkeypatch.setenv("DIGITLAB_MAX_QUEUED", "1")
    monkeypatch.setattr(training, "SLOTS", training.TrainingSlots(1))
    assert training.SLOTS.acquire(lambda: False)  # the slot is taken
    training.SLOTS.take_ticket()  # and another visitor waits: the line is full
    at = open_train_page()
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception
    assert any("The server is busy" in e.value and "try again in a few minutes" in e.value.lower() for e in at.error)
    assert at.session_state["training_job"] is None and training.SLOTS.waiting == 1


def test_a_run_that_is_still_training_can_be_deleted_and_its_job_stops():
    from core.model.spec import NetworkSpec, TrainSpec
    from core.server.board import JOBS, lab_owner
    from core.storage.records import RunRecord
    from core.storage.sink import StoreSink
    from core.storage.store import open_store
    from core.training.local import TrainingJob

    store = open_store()
    key = store.create_lab()
    lab_id = store.open_lab(key)
    spec = TrainSpec(dataset="digits", network=NetworkSpec(hidden_layers=(8,)), batch_size=8, epochs=200)
    job = TrainingJob(spec, sink=StoreSink(store, lab_id), name="still training").start()
    JOBS.put(lab_owner(lab_id), job)
    poll_until(lambda: job.run_id is not None, 60, "the run to be saved", 0.05)
    store.save_run(lab_id, RunRecord(name="failed one", dataset="digits", state="failed", status="It failed."))
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.query_params["lab"] = key
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    at.selectbox(key="delete_other_pick").set_value(job.run_id).run()
    next(b for b in at.button if b.label == "Delete this run").click().run()
    assert not at.exception
    job.join(60)
    assert job.state == "stopped" and [r.name for r in store.list_runs(lab_id)] == ["failed one"]
    JOBS.drop(lab_owner(lab_id))


def test_reopened_mid_training_the_form_shows_the_running_training_not_the_defaults():
    at = open_train_page()
    at.text_input(key="hidden").input("32")
    at.number_input(key="epochs").set_value(200)
    at.select_slider(key="batch").set_value(8).run()
    start_button(at).click().run()
    job = at.session_state["training_job"]
    try:
        again = AppTest.from_file("../app.py", default_timeout=TIMEOUT)  # the lab's link, in a new tab
        again.query_params["lab"] = at.session_state["lab"].key
        again.run()
        again.switch_page("pages/train.py").run()
        assert not again.exception
        assert again.radio(key="train_mode").value == "train"
        assert again.text_input(key="hidden").value == "32" and again.number_input(key="epochs").value == 200
        assert again.select_slider(key="batch").value == 8
        again.text_input(key="hidden").input("64").run()  # and then the form is the visitor's again
        assert again.text_input(key="hidden").value == "64"
    finally:
        job.stop()
        job.join(60)

"""AppTest of the Train page's Compare mode: a sweep of three optimizers on Digits, ranked, one made current."""

import json

from streamlit.testing.v1 import AppTest

from core.figures.style import color_of
from core.server.board import SWEEPS
from core.words import SETTING_WORDS
from tests.conftest import open_page, open_tab
from tests.harness.polling import poll_until

TIMEOUT = 60


def open_train_page() -> AppTest:
    """The Train page in its Compare mode."""
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT).run()
    at.switch_page("pages/train.py").run()
    at.radio(key="train_mode").set_value("compare").run()
    assert not at.exception
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def the_sweep(at: AppTest):
    return SWEEPS.get(f"lab:{at.session_state['lab'].lab_id}")


def results_table(at: AppTest):
    """The sweep's results table (AppTest does not keep a dataframe's key): the one with 'best epoch'."""
    return next(df.value for df in at.dataframe if "best epoch" in df.value.columns)


def wait_for_sweep(at: AppTest, timeout: float = 180) -> None:
    """AppTest does not simulate the fragment's run_every: join the members' jobs, then rerun."""
    sweep = the_sweep(at)
    for member in sweep.members:
        member.job.join(timeout)
        assert member.job.done, member.job.snapshot()
    at.run()


def test_a_sweep_of_three_optimizers_is_ranked_saved_and_any_member_can_become_current(digits_run):
    at = open_page("train", [digits_run])  # a run from before the sweep: "Compare runs" shows it first
    at.radio(key="train_mode").set_value("compare").run()
    at.number_input(key="epochs").set_value(3)
    assert at.selectbox(key="sweep_setting").value == "optimizer"
    assert at.multiselect(key="sweep_values_optimizer").value == ["sgd", "rmsprop", "adam", "adamax", "nadam"]
    at.multiselect(key="sweep_values_optimizer").set_value(["sgd", "adam", "nadam"])
    button(at, "Start sweep").click().run()
    assert not at.exception
    sweep = the_sweep(at)
    assert [m.label for m in sweep.members] == ["optimizer=SGD", "optimizer=Adam", "optimizer=Nadam"]
    assert all(m.job.spec.epochs == 3 for m in sweep.members)
    # While it runs, a single training cannot start, and the page says why.
    at.radio(key="train_mode").set_value("train").run()
    assert button(at, "Start training").disabled and any("sweep is running" in c.value for c in at.caption)
    at.radio(key="train_mode").set_value("compare").run()
    assert button(at, "Stop sweep").disabled is False
    wait_for_sweep(at)
    assert not at.exception

    # Results, best validation accuracy first; every member an ordinary run of the lab, tagged.
    results = results_table(at)
    accuracies = list(results["best val. accuracy"])
    assert len(accuracies) == 3 and accuracies == sorted(accuracies, reverse=True)
    assert list(results["state"]) == ["finished"] * 3
    runs = {r.run_id: r for r in at.session_state["runs"] if r.name != digits_run.name}
    assert sorted(runs) == sorted(m.job.run_id for m in sweep.members)
    assert all(r.sweep == sweep.tag and len(r.history["loss"]) == 3 for r in runs.values())
    runs_table = next(df.value for df in at.dataframe if "sweep" in df.value.columns)
    assert list(runs_table["sweep"]) == [""] + [sweep.tag] * 3
    assert len(at.get("plotly_chart")) == 2  # the sweep's loss and accuracy: "Compare runs" waits for its tab
    open_tab(at, "runs_view", "Compare runs")
    # its test accuracies as bars, loss and accuracy; the runs table's tab is not made meanwhile
    assert [c.key for c in at.get("plotly_chart")][2:] == ["compare_test", "compare_loss", "compare_accuracy"]
    assert not any("how it ended" in df.value.columns for df in at.dataframe)
    # One colour per member, the same in the sweep's charts and in "Compare runs".
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    sweep_loss = next(f for f in figures if any(t.get("legendgroup") == "optimizer=Adam" for t in f["data"]))
    compare_loss = next(f for f in figures if any(t.get("name", "").endswith("(validation)") for t in f["data"]))
    for member in sweep.members:
        in_sweep = {t["line"]["color"] for t in sweep_loss["data"] if t.get("legendgroup") == member.label}
        name = runs[member.job.run_id].name
        in_compare = {t["line"]["color"] for t in compare_loss["data"] if t["name"].startswith(name + " (")}
        assert in_sweep == in_compare == {color_of(member.index)}, member.label
    assert not button(at, "Start sweep").disabled and button(at, "Stop sweep").disabled

    # The worst member becomes the current model.
    worst = sweep.ranked()[-1]
    pick = at.selectbox(key=f"sweep_pick_{sweep.tag}_3")
    pick.set_value(worst.job.run_id).run()
    button(at, "Make it current").click().run()
    assert not at.exception
    assert at.session_state["current_run_id"] == worst.job.run_id
    assert button(at, "Current model").disabled


def test_stop_sweep_stops_every_member():
    at = open_train_page()
    at.number_input(key="epochs").set_value(200)
    at.selectbox(key="sweep_setting").set_value("batch").run()
    assert at.multiselect(key="sweep_values_batch").value == [16, 32, 128]
    button(at, "Start sweep").click().run()
    sweep = the_sweep(at)
    poll_until(lambda: any(m.job.snapshot().batch_logs for m in sweep.members), 60, "a member's first batch", 0.1)
    at.run()
    assert "waiting" in sweep.counts()  # the server's cap (2) holds the third back, like any training
    button(at, "Stop sweep").click().run()
    wait_for_sweep(at)
    assert not at.exception
    assert sweep.counts() == {"stopped": 3}
    assert all(m.job.message == "The sweep was stopped." for m in sweep.members)
    states = list(results_table(at)["state"])
    assert states == ["stopped"] * 3


def test_a_bad_value_is_named_beside_the_values_and_start_sweep_is_off():
    at = open_train_page()
    at.selectbox(key="sweep_setting").set_value("hidden").run()
    at.text_input(key="sweep_values_hidden").input("64; many").run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "many" in errors[0] and SETTING_WORDS["hidden"].label in errors[0], errors
    assert button(at, "Start sweep").disabled
    assert "lab" not in at.session_state or at.session_state["lab"] is None or the_sweep(at) is None


def test_a_sweep_over_the_kind_of_network_trains_a_dense_network_and_a_cnn():
    at = open_train_page()
    for key, value in (("epochs", 2), ("limit", 256)):
        at.number_input(key=key).set_value(value)
    at.text_input(key="hidden").input("8")
    at.selectbox(key="sweep_setting").set_value("kind").run()
    assert at.multiselect(key="sweep_values_kind").value == ["dense", "cnn"]
    assert at.text_input(key="filters").value == "32"  # the CNN's settings show: a member uses them
    button(at, "Start sweep").click().run()
    assert not at.exception
    sweep = the_sweep(at)
    assert [m.job.spec.network.kind for m in sweep.members] == ["dense", "cnn"]
    wait_for_sweep(at)
    assert not at.exception
    assert list(results_table(at)["state"]) == ["finished"] * 2
    runs = [r for r in at.session_state["runs"] if r.sweep == sweep.tag]
    assert sorted(r.spec.network.kind for r in runs) == ["cnn", "dense"]
    assert all(len(r.history["loss"]) == 2 and r.spec.train_limit == 256 for r in runs)

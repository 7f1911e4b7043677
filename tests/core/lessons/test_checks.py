"""core.lessons.checks: each check kind on scripted lab states, failing with a specific message, then passing."""

import pytest

from core.lessons.checks import CHECKS, FIGURES, judge
from tests.core.lessons.scripted import lab, run_facts

EMPTY = lab()


def test_every_check_kind_has_a_judge_and_declares_its_required_params():
    for name, kind in CHECKS.items():
        assert set(kind.required) <= set(kind.params), name
        assert set(kind.choices) <= set(kind.params), name


def test_a_run_check_names_what_is_missing_at_each_stage():
    params = {"dataset": "mnist", "network": "hidden", "dropout": True, "min_accuracy": 0.9}
    assert "no finished run yet" in judge(EMPTY, "run", params).message
    assert "still running" in judge(lab(run_facts(state="running")), "run", params).message
    digits = run_facts(dataset="digits", hidden="15")
    assert "None of your runs used the MNIST" in judge(lab(digits), "run", params).message
    line = run_facts(dataset="mnist", hidden="")
    assert judge(lab(line), "run", params).message.startswith("Your run has no hidden layer yet")
    hidden = run_facts(dataset="mnist", hidden="128", dropout=0.0)
    assert "no dropout yet" in judge(lab(line, hidden), "run", params).message
    low = run_facts(dataset="mnist", hidden="128", dropout=0.2, accuracy=0.851)
    verdict = judge(lab(line, hidden, low), "run", params)
    assert not verdict.passed and "85.1%" in verdict.message and "90%" in verdict.message
    good = run_facts(name="Run 4", dataset="mnist", hidden="128", dropout=0.2, accuracy=0.912)
    verdict = judge(lab(line, hidden, low, good), "run", {**params, "reference": "the tutorial reached about 98%"})
    assert verdict.passed and verdict.message == "Done: Run 4 reached 91.2%; the tutorial reached about 98%."


def test_a_run_check_for_a_straight_line_or_a_cnn():
    hidden = run_facts(dataset="mnist", hidden="128")
    assert "empty the Hidden layers" in judge(lab(hidden), "run", {"network": "softmax"}).message
    assert "not a CNN yet" in judge(lab(hidden), "run", {"network": "cnn"}).message
    assert judge(lab(hidden, run_facts(dataset="mnist", kind="cnn")), "run", {"network": "cnn"}).passed
    assert judge(lab(run_facts(dataset="mnist", hidden="")), "run", {"network": "softmax"}).passed


def test_a_run_check_for_early_stopping_that_stopped_early():
    params = {"early_stopping": True, "stopped_early": True}
    assert "early stopping off" in judge(lab(run_facts(patience=0)), "run", params).message
    used_all = run_facts(patience=3, epochs=5, val_loss=[0.5, 0.4, 0.3, 0.2, 0.1])
    assert "did not stop early" in judge(lab(used_all), "run", params).message
    stopped = run_facts(patience=3, epochs=20, val_loss=[0.5, 0.4, 0.45, 0.46, 0.47])
    assert judge(lab(used_all, stopped), "run", params).passed


def test_a_run_check_counts_runs_and_fine_tunings():
    assert "needs 3 runs of this kind; you have 1" in judge(lab(run_facts()), "run", {"min_runs": 3}).message
    assert judge(lab(run_facts(), run_facts(), run_facts()), "run", {"min_runs": 3}).passed
    assert "no fine-tuned run yet" in judge(lab(run_facts()), "run", {"source": "fine-tuned"}).message
    assert judge(lab(run_facts(source="fine-tuned")), "run", {"source": "fine-tuned"}).passed


def optimizer_sweep(state: str = "finished", tag: str = "sweep 1", **first_epoch) -> list:
    return [run_facts(name=f"Run {o}", optimizer=o, sweep=tag, state=state, accuracy=final,
                      val_accuracy=[first_epoch.get(o, 0.5), final])
            for o, final in (("sgd", 0.80), ("adam", 0.95), ("nadam", 0.93))]


def test_a_sweep_check_wants_the_setting_varied_and_every_run_ended():
    params = {"vary": "optimizer", "min_members": 3}
    assert "not run a comparison yet" in judge(EMPTY, "sweep", params).message
    by_rate = [run_facts(lr=lr, sweep="s") for lr in (0.1, 0.01, 0.001)]
    assert "did not change this setting: How it learns from mistakes (optimizer)" in judge(
        lab(*by_rate), "sweep", params).message
    running = optimizer_sweep(state="running")
    assert "still running" in judge(lab(*running), "sweep", params).message
    assert "needs 5 finished runs in your comparison; it has 3" in judge(lab(*optimizer_sweep()), "sweep",
                                                          {**params, "min_members": 5}).message
    verdict = judge(lab(*by_rate, *optimizer_sweep()), "sweep", params)
    assert verdict.passed and "Run adam" in verdict.message and "95%" in verdict.message


def test_an_event_check_wants_the_event_and_its_value():
    params = {"event": "drawing_read", "value": "7"}
    assert "No drawing read yet" in judge(EMPTY, "event", params).message
    verdict = judge(lab(events=(("drawing_read", "1"),)), "event", params)
    assert not verdict.passed and "read as 1, not 7" in verdict.message
    assert judge(lab(events=(("drawing_read", "1"), ("drawing_read", "7"))), "event", params).passed
    assert "click the square" in judge(EMPTY, "event", {"event": "cell_opened"}).message
    verdict = judge(lab(events=(("cell_opened", "4>9"),)), "event", {"event": "cell_opened"})
    assert verdict.passed and "4s read as 9" in verdict.message


def test_a_digits_check_counts_them():
    assert "You have 3 of your own digits; this step asks for 10" in judge(lab(digits=3), "digits", {"min": 10}).message
    assert judge(lab(digits=10), "digits", {"min": 10}).passed


def test_figures_come_from_the_learners_own_runs():
    assert FIGURES["newest_accuracy"](EMPTY)[0] is None
    assert FIGURES["newest_accuracy"](lab(run_facts(accuracy=0.5), run_facts(accuracy=0.9123)))[0] == 91.2
    overfit = run_facts(epochs=6, val_loss=[0.5, 0.3, 0.25, 0.3, 0.4, 0.5])
    assert FIGURES["lowest_loss_epoch"](lab(overfit)) == (3, None)
    sweep = optimizer_sweep(sgd=0.9, adam=0.6, nadam=0.7)
    assert FIGURES["fastest_optimizer"](lab(*sweep)) == ("SGD", None)
    assert FIGURES["best_optimizer"](lab(*sweep)) == ("Adam", None)
    cnn, dense = run_facts(dataset="mnist", kind="cnn", accuracy=0.97), run_facts(dataset="mnist", accuracy=0.95)
    assert FIGURES["best_network"](lab(cnn, dense)) == ("cnn", None)
    assert FIGURES["best_network"](lab(run_facts(dataset="mnist", kind="cnn", accuracy=0.9), dense))[0] == "hidden"
    line = run_facts(dataset="mnist", hidden="", accuracy=0.99)
    assert FIGURES["best_network"](lab(cnn, dense, line))[0] == "softmax"
    assert FIGURES["best_network"](lab(cnn, dense, line), ("cnn", "hidden"))[0] == "cnn"  # the question's choices


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_a_figure_without_runs_says_what_to_do_first(name):
    value, why = FIGURES[name](EMPTY, ())
    assert value is None and why


def test_a_check_message_translates_with_the_languages_percentages():
    from core.i18n import translate

    low = judge(lab(run_facts(dataset="mnist", hidden="128", accuracy=0.851)), "run",
                {"dataset": "mnist", "min_accuracy": 0.9})
    assert "85.1%" in low.message and "90%" in low.message
    assert "85,1\xa0%" in translate("es", low.message) and "Todavía no" in translate("es", low.message)
    assert "85,1\xa0%" in translate("de", low.message) and "Noch nicht" in translate("de", low.message)

"""AppTest of the end of a training on Train (ui/outcome.py): its result in words, the next steps, its history."""

from streamlit.testing.v1 import AppTest

from core.analysis.evaluation import most_confused_pairs, predict_probabilities, summarize_predictions
from core.data.datasets import load_dataset, to_model_input
from core.words import RESULTS_WORDS

TIMEOUT = 60


def train_to_the_end(epochs: int = 3) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT).run()
    at.switch_page("pages/train.py").run()
    at.number_input(key="epochs").set_value(epochs)
    next(b for b in at.button if b.label == "Start training").click().run()
    job = at.session_state["training_job"]
    job.join(120)  # AppTest does not simulate the fragment's run_every: wait for the thread, then rerun
    assert job.done, job.snapshot()
    at.run()
    assert not at.exception
    return at


def test_the_end_of_a_training_says_its_test_accuracy_and_most_confused_pair_and_offers_next_steps():
    at = train_to_the_end()
    run = next(r for r in at.session_state["runs"] if r.run_id == at.session_state["current_run_id"])
    # The figures the sentence says, computed here from the run's model on the whole test set.
    spec = run.spec
    data = load_dataset(spec.dataset, spec.validation_fraction, spec.train_limit, spec.seed)
    result = summarize_predictions(data.y_test, predict_probabilities(at.session_state["training_job"].model,
                                                                      to_model_input(data.x_test, data.info)))
    truth, predicted, count = most_confused_pairs(result.cm, 1)[0]
    [sentence] = [s.value for s in at.success if s.value.startswith("Your network reads")]
    assert sentence.startswith(f"Your network reads {result.accuracy:.1%} of digits it has never seen. "
                               f"It confuses {truth} and {predicted} most: it read a {truth} as {predicted} ")
    assert f"in {len(data.y_test):,} test images." in sentence
    labels = [b.label for b in at.button]
    assert "See its mistakes" in labels and RESULTS_WORDS["compare_it"].label in labels
    # The confusion over epochs stays, as the finished run's history.
    assert any(c.proto.id and f"finished_history_{run.run_id}_matrix" in c.proto.id
               for c in at.get("plotly_chart"))

    # "Compare it": the runs' views open on the comparison.
    next(b for b in at.button if b.label == RESULTS_WORDS["compare_it"].label).click().run()
    assert not at.exception and at.session_state["runs_view"] == "Compare runs"
    assert any("compare_accuracy" in c.proto.id for c in at.get("plotly_chart"))

    # "See its mistakes": Evaluate, on this run, its matrix tab with the most confused cell chosen.
    next(b for b in at.button if b.label == "See its mistakes").click().run()
    assert not at.exception
    assert at.session_state["evaluate_tab"] == "Confusion matrix"
    assert (at.selectbox(key="cell_truth").value, at.selectbox(key="cell_pred").value) == (truth, predicted)
    assert any(m.value.startswith(f"**Truth {truth}, predicted {predicted}") for m in at.markdown)


def test_a_tab_that_did_not_watch_the_training_shows_no_result_sentence():
    at = train_to_the_end(2)
    again = AppTest.from_file("../app.py", default_timeout=TIMEOUT)  # the same lab, reloaded
    again.query_params["lab"] = at.session_state["lab"].key
    again.run()
    again.switch_page("pages/train.py").run()
    assert not again.exception
    assert not [s for s in again.success if s.value.startswith("Your network reads")]

"""AppTest of Train's runs (ui/runs_view.py): test accuracy as a percentage beside validation, runs compared."""

import json

from core.model.run import Run
from tests.conftest import open_page, open_tab


def scored_run(run_id: int, test: float | None, val: float) -> Run:
    metrics = {"accuracy": val + 0.01, "val_accuracy": val, "val_loss": 0.1}
    if test is not None:
        metrics["test_accuracy"] = test
    return Run(run_id=run_id, name=f"Run {run_id} · Digits", dataset="digits", model=None,
               history={"loss": [0.5, 0.2], "accuracy": [0.9, val + 0.01], "val_loss": [0.3, 0.1],
                        "val_accuracy": [0.9, val]}, metrics=metrics, status="Finished 2 epochs.")


RUNS = [scored_run(-1, 0.970, 0.961), scored_run(-2, 0.986, 0.975), scored_run(-3, None, 0.9)]


def test_the_runs_table_shows_test_accuracy_as_a_percentage_beside_validation():
    at = open_page("train", RUNS)
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table.columns[:4]) == ["run", "epochs", "test", "validation"]
    assert table["test"].tolist()[:2] == [97.0, 98.6] and table["validation"].tolist() == [96.1, 97.5, 90.0]
    assert table["test"].isna().tolist() == [False, False, True]


def test_compare_runs_shows_test_accuracy_as_bars_and_zooms_the_curves():
    at = open_page("train", RUNS)
    open_tab(at, "runs_view", "Compare runs")
    charts = {c.key: c for c in at.get("plotly_chart")}
    assert {"compare_test", "compare_loss", "compare_accuracy"} <= set(charts)
    bars = json.loads(charts["compare_test"].proto.spec)["data"][0]
    assert bars["x"] == ["Run -1 · Digits", "Run -2 · Digits"] and bars["text"] == ["97.0%", "98.6%"]
    accuracy = json.loads(charts["compare_accuracy"].proto.spec)["layout"]["yaxis"]["range"]
    assert accuracy[0] > 0.85  # zoomed to the runs' values, not from 0
    [note] = [c.value for c in at.caption if c.value.startswith("No test score kept for")]
    assert "3 · Digits" in note and "1 · Digits" not in note


def test_the_current_models_result_in_words_stays_under_it_after_a_reload():
    at = open_page("train", RUNS[:2])
    assert any(c.value.endswith("Your network reads 98.6% of digits it has never seen.") for c in at.caption)

"""Runs compared (core.figures.curves): axes zoomed to the data, test accuracy as bars side by side."""

import pytest

from core.figures.curves import plot_run_comparison, plot_test_accuracies, zoomed_range
from core.figures.style import color_of


def test_a_zoomed_range_holds_the_values_with_a_margin_and_stays_inside_its_bounds():
    low, high = zoomed_range([0.970, 0.986])
    assert low < 0.970 and high > 0.986
    assert high - low == pytest.approx(0.016 * 1.3)  # the spread and 15% of it on each side
    assert zoomed_range([0.2, 1.0]) == [pytest.approx(0.08), 1.0]  # clamped at 1 for accuracy
    assert zoomed_range([0.98, 0.98]) == pytest.approx([0.9735, 0.9865])  # equal values: one point wide
    assert zoomed_range([]) == [0.0, 1.0]
    assert zoomed_range([2.0, 3.0], 0.0, None)[1] == pytest.approx(3.15)  # a loss has no top bound


def test_compared_accuracy_curves_of_close_runs_are_apart_on_the_axis():
    histories = {"Run 1": {"val_accuracy": [0.95, 0.970], "accuracy": [0.96, 0.975]},
                 "Run 2": {"val_accuracy": [0.97, 0.986], "accuracy": [0.975, 0.99]}}
    figure = plot_run_comparison(histories, "accuracy")
    low, high = figure.layout.yaxis.range
    assert 0.95 < low < 0.970 and 0.99 < high <= 1.0
    # The two runs' last validation values are more than a tenth of the axis apart (on 0..1: 1.6%).
    assert (0.986 - 0.970) / (high - low) > 0.1
    loss = plot_run_comparison({"Run 1": {"loss": [0.5, 0.3], "val_loss": [0.6, 0.35]}}, "loss")
    assert loss.layout.yaxis.range[0] > 0.2 and loss.layout.yaxis.range[1] < 0.7


def test_test_accuracies_are_bars_side_by_side_with_their_percentages():
    figure = plot_test_accuracies(["Run 1", "Run 2"], [0.970, 0.986], colors=[3, 0])
    [bars] = figure.data
    assert list(bars.x) == ["Run 1", "Run 2"] and list(bars.y) == [0.970, 0.986]
    assert list(bars.text) == ["97.0%", "98.6%"]
    assert list(bars.marker.color) == [color_of(3), color_of(0)]
    low, high = figure.layout.yaxis.range
    assert low < 0.970 and high > 0.986 and high - low < 0.05
    assert 0.3 < (0.970 - low) / (high - low) < 0.6  # the lower bar keeps a fair part of the height


def test_the_curves_zoom_on_the_last_epochs_not_on_the_first_ones():
    histories = {"Run 1": {"val_accuracy": [0.30, 0.90, 0.96, 0.970]},
                 "Run 2": {"val_accuracy": [0.40, 0.92, 0.975, 0.986]}}
    low, high = plot_run_comparison(histories, "accuracy").layout.yaxis.range
    assert 0.94 < low < 0.96 and 0.986 < high < 0.995  # epoch 1's 30% is off the axis, by design

"""Tests for core.figures: assert on the figures' data, not on pixels."""

import json

import numpy as np
import pytest

from core.figures.confusion import (
    CELLS_TRACE,
    CORRECT_TRACE,
    ERRORS_TRACE,
    normalize_rows,
    plot_class_metrics,
    plot_confusion_matrix,
    read_selected_cell,
)
from core.figures.images import caption_prediction, to_thumbnails
from core.figures.probabilities import plot_probabilities
from core.figures.style import assign_colors

CM = np.array(
    [
        [95, 3, 2],
        [1, 80, 19],
        [0, 4, 50],
    ]
)
NAMES = ["zero", "one", "two"]


def trace(fig, name):
    """The single trace with this name."""
    (found,) = [t for t in fig.data if t.name == name]
    return found


@pytest.mark.parametrize("normalize", [False, True])
def test_cell_markers_cover_every_cell_exactly_once(normalize):
    fig = plot_confusion_matrix(CM, NAMES, normalize)
    cells = trace(fig, CELLS_TRACE)
    pairs = [tuple(c) for c in cells.customdata]
    assert sorted(pairs) == [(t, p) for t in range(3) for p in range(3)]
    assert len(set(pairs)) == 9
    # Each marker sits on its own cell: x = predicted, y = truth.
    assert list(cells.x) == [p for _, p in pairs]
    assert list(cells.y) == [t for t, _ in pairs]
    assert cells.marker.symbol == "square"
    assert cells.marker.opacity <= 0.05


def test_cell_customdata_serialises_as_plain_lists():
    # Streamlit sends the figure as JSON; typed arrays would come back as {"0": .., "1": ..}.
    data = json.loads(plot_confusion_matrix(CM, NAMES, False).to_json())["data"]
    (cells,) = [t for t in data if t.get("name") == CELLS_TRACE]
    assert cells["customdata"][5] == [1, 2]


def test_diagonal_does_not_set_colour_scale():
    fig = plot_confusion_matrix(CM, NAMES, normalize=False)
    errors = trace(fig, ERRORS_TRACE)
    z = np.array(errors.z, dtype=float)  # None -> nan
    assert np.isnan(np.diag(z)).all()
    assert errors.zmax == 19  # largest mistake, not the 95 on the diagonal
    assert errors.zmin == 0
    correct = trace(fig, CORRECT_TRACE)
    assert correct.showscale is False
    np.testing.assert_array_equal(np.diag(np.array(correct.z, dtype=float)), [95, 80, 50])


def test_normalized_matrix_uses_row_rates():
    fig = plot_confusion_matrix(CM, NAMES, normalize=True)
    errors = trace(fig, ERRORS_TRACE)
    assert errors.zmax == pytest.approx(0.19)
    assert errors.text[1][2] == "19%"
    assert errors.text[0][1] == "3.0%"
    assert trace(fig, CORRECT_TRACE).text[0][0] == "95%"
    np.testing.assert_allclose(normalize_rows(CM).sum(axis=1), 1.0)


def test_counts_written_in_cells():
    fig = plot_confusion_matrix(CM, NAMES, normalize=False)
    errors_text = np.array(trace(fig, ERRORS_TRACE).text)
    correct_text = np.array(trace(fig, CORRECT_TRACE).text)
    # Every cell is labelled by exactly one of the two heatmaps.
    combined = np.where(errors_text == "", correct_text, errors_text)
    np.testing.assert_array_equal(combined, CM.astype(str))


def test_axes_titles_and_truth_axis_reversed():
    fig = plot_confusion_matrix(CM, NAMES, normalize=False)
    assert fig.layout.xaxis.title.text == "Predicted"
    assert fig.layout.yaxis.title.text == "Truth"
    assert fig.layout.yaxis.range[0] > fig.layout.yaxis.range[1]  # class 0 at the top
    assert list(fig.layout.xaxis.ticktext) == NAMES


def test_perfect_model_keeps_a_valid_scale_and_empty_rows_are_zero():
    cm = np.diag([10, 0, 5])
    fig = plot_confusion_matrix(cm, NAMES, normalize=True)
    assert trace(fig, ERRORS_TRACE).zmax == 1.0
    assert normalize_rows(cm)[1].tolist() == [0.0, 0.0, 0.0]


def test_selected_cell_is_outlined():
    fig = plot_confusion_matrix(CM, NAMES, normalize=False, selected=(1, 2))
    (shape,) = fig.layout.shapes
    assert (shape.x0, shape.x1, shape.y0, shape.y1) == (1.5, 2.5, 0.5, 1.5)


def test_read_selected_cell_from_streamlit_event():
    event = {
        "selection": {
            "points": [
                {"curve_number": 2, "point_number": 5, "point_index": 5, "x": 2, "y": 1,
                 "customdata": [1, 2]}
            ],
            "point_indices": [5],
            "box": [],
            "lasso": [],
        }
    }
    assert read_selected_cell(event) == (1, 2)


@pytest.mark.parametrize(
    "event",
    [
        None,
        {},
        {"selection": {"points": [], "point_indices": [], "box": [], "lasso": []}},
        {"selection": {"points": [{"x": 1, "y": 1}]}},  # e.g. a heatmap point, no customdata
        {"selection": {"points": [{"customdata": ["a", "b"]}]}},
    ],
)
def test_read_selected_cell_without_a_cell_is_none(event):
    assert read_selected_cell(event) is None


def test_read_selected_cell_tolerates_floats_and_typed_array_objects():
    assert read_selected_cell({"selection": {"points": [{"customdata": [3.0, 7.0]}]}}) == (3, 7)
    typed_array = {"selection": {"points": [{"customdata": {"0": 4, "1": 9}}]}}
    assert read_selected_cell(typed_array) == (4, 9)
    # Several points (box select): the first one with a cell wins.
    points = [{"x": 0}, {"customdata": [2, 0]}, {"customdata": [1, 1]}]
    assert read_selected_cell({"selection": {"points": points}}) == (2, 0)


def test_class_metrics_chart_has_three_groups_in_unit_range():
    metrics = {
        "precision": np.array([1.0, 0.5, 0.0]),
        "recall": np.array([0.9, 0.4, 0.0]),
        "f1": np.array([0.95, 0.44, 0.0]),
        "support": np.array([10, 5, 0]),
    }
    fig = plot_class_metrics(metrics, NAMES)
    assert [t.name for t in fig.data] == ["Precision", "Recall", "F1"]
    assert fig.layout.barmode == "group"
    assert tuple(fig.layout.yaxis.range) == (0, 1)
    np.testing.assert_allclose(fig.data[1].y, metrics["recall"])
    assert list(fig.data[0].x) == NAMES


def test_probability_chart_has_one_bar_per_class_and_highlight():
    probs = np.array([0.05, 0.8, 0.15])
    fig = plot_probabilities(probs, NAMES, highlight=1)
    (bars,) = fig.data
    assert len(bars.y) == 3
    assert tuple(fig.layout.yaxis.range) == (0, 1)
    colors = list(bars.marker.color)
    assert colors[1] != colors[0] and colors[0] == colors[2]
    plain = plot_probabilities(probs, NAMES, highlight=None)
    assert len(set(plain.data[0].marker.color)) == 1


def test_probability_chart_rejects_wrong_length():
    with pytest.raises(ValueError):
        plot_probabilities(np.array([0.5, 0.5]), NAMES, highlight=0)


def test_thumbnails_are_nearest_neighbour_upscales():
    images = np.arange(2 * 8 * 8, dtype=np.uint8).reshape(2, 8, 8)
    thumbs = to_thumbnails(images, size=84)
    assert len(thumbs) == 2
    assert thumbs[0].shape == (84, 84) and thumbs[0].dtype == np.uint8
    assert set(np.unique(thumbs[1])) == set(np.unique(images[1]))  # no blended values
    assert thumbs[0][0, 0] == images[0, 0, 0] and thumbs[0][-1, -1] == images[0, -1, -1]
    big = to_thumbnails(np.zeros((1, 28, 28, 1), dtype=np.uint8), size=56)[0]
    assert big.shape == (56, 56)


def test_thumbnails_from_float_images():
    images = np.array([[[0.0, 1.0], [0.5, 2.0]]])  # out-of-range values are clipped
    (thumb,) = to_thumbnails(images, size=4)
    assert thumb.dtype == np.uint8
    assert thumb[0, 0] == 0 and thumb[0, 3] == 255 and thumb[3, 0] == 128 and thumb[3, 3] == 255


def test_caption_format():
    assert caption_prediction("7", 0.9712, "1") == "Predicted 7 (97%) · Truth 1"
    assert caption_prediction("Sneaker", 0.5, "Sandal") == "Predicted Sneaker (50%) · Truth Sandal"


def test_digit_counts_are_one_bar_per_digit_labelled_with_its_count():
    from core.figures.handwriting import plot_digit_counts

    fig = plot_digit_counts(np.array([3, 0, 1, 0, 0, 0, 0, 0, 0, 12]))
    bar = fig.data[0]
    assert list(bar.x) == [str(d) for d in range(10)] and list(bar.y) == [3, 0, 1, 0, 0, 0, 0, 0, 0, 12]
    assert list(bar.text)[:3] == ["3", "0", "1"] and fig.layout.yaxis.range[1] > 12
    assert plot_digit_counts(np.zeros(10)).layout.yaxis.range[1] > 0  # none yet: still an axis


def test_sweep_members_keep_their_colour_and_other_runs_take_the_free_ones():
    assert assign_colors([7, 8, 9], {}) == [0, 1, 2]
    # Runs 8 and 9 are members 0 and 2 of a sweep; 5 and 7 are not.
    assert assign_colors([5, 8, 7, 9], {8: 0, 9: 2}) == [1, 0, 3, 2]


EVIL_NAME = '<a href="https://evil.example">click</a> **bold**'


def strings_in(value) -> list[str]:
    """Every string anywhere in a figure's JSON (names, hover texts, titles, annotations...)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings_in(v)]
    return []


def test_a_run_name_is_plain_text_in_every_figure_that_shows_it():
    from core.figures.curves import plot_run_comparison
    from core.figures.sweeps import MemberCurve, plot_sweep_curves

    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]}
    epochs = [{"epoch": 1, "val_loss": 0.6}]
    batches = [{"epoch": 0, "batch": 1, "loss": 0.9}]
    figures = [plot_run_comparison({EVIL_NAME: history}, "loss"),
               plot_sweep_curves([MemberCurve(EVIL_NAME, 0, steps=2, batch_logs=batches, epoch_logs=epochs)], "loss")]
    for fig in figures:
        texts = strings_in(json.loads(fig.to_json()))
        assert not [t for t in texts if "<a" in t or "</a>" in t]
        assert any(t.startswith('&lt;a href="https://evil.example"&gt;click&lt;/a&gt; **bold**') for t in texts)


def test_the_pixel_histogram_labels_only_powers_of_ten_and_its_titles_fit_a_narrow_column():
    from core.figures.images import plot_pixel_histogram

    images = np.random.default_rng(0).integers(0, 17, size=(50, 8, 8), dtype=np.uint8)
    fig = plot_pixel_histogram(images, 16)
    assert list(fig.data[0].y) == list(np.bincount(images.reshape(-1), minlength=17))
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.dtick == 1  # 1, 10, 100: no "2, 5" between
    titles = [fig.layout.title.text, fig.layout.xaxis.title.text, fig.layout.yaxis.title.text]
    assert all(len(title) <= 32 for title in titles), titles  # the chart's column is ~300 px wide

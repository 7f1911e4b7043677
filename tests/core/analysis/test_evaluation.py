"""Tests for core.analysis.evaluation: hand-computed tiny cases, orderings and edge cases."""

import numpy as np
import pytest

from core.analysis.evaluation import (
    EvaluationResult,
    compute_class_metrics,
    compute_confusion_matrix,
    compute_loss,
    most_confused_pairs,
    paginate,
    predict_probabilities,
    rank_correct,
    rank_mistakes,
    select_cell,
    summarize_predictions,
)

# Tiny hand-checked case, 3 classes, 10 images.
Y_TRUE = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 2])
Y_PRED = np.array([0, 0, 1, 1, 1, 2, 2, 0, 0, 2])
EXPECTED_CM = np.array(
    [
        [2, 1, 0],  # truth 0: two right, one called 1
        [0, 2, 0],  # truth 1: both right
        [2, 0, 3],  # truth 2: three right, two called 0
    ]
)


def make_probs(y_pred: np.ndarray, confidence: np.ndarray, num_classes: int) -> np.ndarray:
    """Probabilities whose argmax is y_pred with max value `confidence` (rest spread evenly)."""
    n = len(y_pred)
    rest = (1.0 - confidence) / (num_classes - 1)
    probs = np.repeat(rest[:, None], num_classes, axis=1)
    probs[np.arange(n), y_pred] = confidence
    return probs.astype(np.float32)


def test_confusion_matrix_matches_hand_count():
    cm = compute_confusion_matrix(Y_TRUE, Y_PRED, num_classes=3)
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, EXPECTED_CM)


def test_confusion_matrix_keeps_unused_classes():
    cm = compute_confusion_matrix(np.array([0, 1]), np.array([0, 1]), num_classes=4)
    assert cm.shape == (4, 4)
    assert cm.sum() == 2


def test_confusion_matrix_rejects_out_of_range_labels():
    with pytest.raises(ValueError, match="outside"):
        compute_confusion_matrix(np.array([0, 3]), np.array([0, 1]), num_classes=3)


def test_class_metrics_match_hand_computation():
    metrics = compute_class_metrics(EXPECTED_CM)
    # precision = diagonal / column sums (4, 3, 3); recall = diagonal / row sums (3, 2, 5)
    np.testing.assert_allclose(metrics["precision"], [2 / 4, 2 / 3, 3 / 3])
    np.testing.assert_allclose(metrics["recall"], [2 / 3, 2 / 2, 3 / 5])
    np.testing.assert_allclose(metrics["f1"], [4 / 7, 0.8, 0.75])
    np.testing.assert_array_equal(metrics["support"], [3, 2, 5])


def test_class_metrics_zero_division_gives_zero():
    # Class 2 is never true, class 1 is never predicted, class 3 never appears.
    cm = np.array([[3, 0, 1, 0], [2, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    metrics = compute_class_metrics(cm)
    np.testing.assert_allclose(metrics["precision"], [3 / 5, 0, 0, 0])
    np.testing.assert_allclose(metrics["recall"], [3 / 4, 0, 0, 0])
    assert metrics["f1"][1:].tolist() == [0, 0, 0]
    assert np.isfinite(metrics["f1"]).all()


def test_summary_fields_are_consistent():
    confidence = np.linspace(0.5, 0.95, len(Y_PRED))
    probs = make_probs(Y_PRED, confidence, 3)
    result = summarize_predictions(Y_TRUE, probs)
    assert isinstance(result, EvaluationResult)
    np.testing.assert_array_equal(result.y_pred, Y_PRED)
    np.testing.assert_allclose(result.confidence, confidence, rtol=1e-6)
    np.testing.assert_array_equal(result.cm, EXPECTED_CM)
    assert result.n_correct == 7 and result.n_wrong == 3
    assert result.accuracy == pytest.approx(0.7)
    assert result.num_classes == 3
    assert result.probs.dtype == np.float32


def test_loss_matches_keras_including_clipping():
    keras = pytest.importorskip("keras")
    y_true = np.array([0, 1, 2, 1])
    probs = np.array(
        [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.5, 0.5, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32
    )  # image 2 gives its true class probability 0 -> clipped, not infinite
    expected = float(np.mean(keras.losses.sparse_categorical_crossentropy(y_true, probs)))
    assert compute_loss(y_true, probs) == pytest.approx(expected, rel=1e-5)
    assert summarize_predictions(y_true, probs).loss == pytest.approx(expected, rel=1e-5)


def test_rank_mistakes_orders_by_confidence_and_is_stable():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([1, 0, 0, 1, 0, 1])  # wrong: 0, 2, 4, 5
    confidence = np.array([0.6, 0.99, 0.9, 0.5, 0.6, 0.95])
    result = summarize_predictions(y_true, make_probs(y_pred, confidence, 3))
    # 5 (0.95), 2 (0.9), then the 0.6 tie in index order: 0, 4
    np.testing.assert_array_equal(rank_mistakes(result), [5, 2, 0, 4])
    np.testing.assert_array_equal(rank_correct(result), [1, 3])


def test_select_cell_returns_that_cell_most_confident_first():
    confidence = np.array([0.5, 0.6, 0.7, 0.8, 0.9, 0.55, 0.65, 0.75, 0.85, 0.95])
    result = summarize_predictions(Y_TRUE, make_probs(Y_PRED, confidence, 3))
    np.testing.assert_array_equal(select_cell(result, 2, 0), [8, 7])  # truth 2 called 0
    np.testing.assert_array_equal(select_cell(result, 2, 2), [9, 6, 5])  # diagonal = correct
    assert select_cell(result, 1, 0).size == 0
    for truth in range(3):
        for predicted in range(3):
            assert len(select_cell(result, truth, predicted)) == result.cm[truth, predicted]


def test_paginate_regular_and_last_page():
    indices = np.arange(10) * 10
    page, n_pages = paginate(indices, 1, 4)
    assert n_pages == 3
    np.testing.assert_array_equal(page, [0, 10, 20, 30])
    page, _ = paginate(indices, 3, 4)
    np.testing.assert_array_equal(page, [80, 90])


def test_paginate_clamps_page_into_range():
    indices = np.arange(10)
    np.testing.assert_array_equal(paginate(indices, 0, 4)[0], [0, 1, 2, 3])
    np.testing.assert_array_equal(paginate(indices, -5, 4)[0], [0, 1, 2, 3])
    np.testing.assert_array_equal(paginate(indices, 99, 4)[0], [8, 9])


def test_paginate_exact_multiple_and_empty():
    assert paginate(np.arange(8), 2, 4)[1] == 2
    page, n_pages = paginate(np.array([], dtype=np.int64), 3, 24)
    assert n_pages == 1  # documented: no indices -> one empty page
    assert page.size == 0


def test_paginate_rejects_bad_page_size():
    with pytest.raises(ValueError):
        paginate(np.arange(3), 1, 0)


def test_most_confused_pairs_largest_first_without_zeros():
    cm = np.array(
        [
            [50, 3, 0, 7],
            [0, 40, 0, 0],
            [3, 9, 30, 0],
            [0, 0, 1, 20],
        ]
    )
    # The diagonal (50, 40, ...) is never a "pair"; ties (3) are ordered by (truth, predicted).
    assert most_confused_pairs(cm, k=4) == [(2, 1, 9), (0, 3, 7), (0, 1, 3), (2, 0, 3)]
    assert most_confused_pairs(cm, k=10) == [(2, 1, 9), (0, 3, 7), (0, 1, 3), (2, 0, 3), (3, 2, 1)]
    assert most_confused_pairs(np.diag([5, 5, 5])) == []
    assert all(isinstance(v, int) for pair in most_confused_pairs(cm) for v in pair)


def test_predict_probabilities_matches_model_over_batches():
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    x = np.random.default_rng(0).random((37, 8, 8, 1), dtype=np.float32)  # model-ready
    seen = []
    probs = predict_probabilities(model, x, batch_size=16, progress=seen.append)  # last partial
    assert seen == [16 / 37, 32 / 37, 1.0]
    expected = np.asarray(model(x))
    assert probs.shape == (37, 10) and probs.dtype == np.float32
    np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-6)
    assert predict_probabilities(model, x[:0]).shape == (0, 10)

"""A training's result in words (core.analysis.outcome), on scripted numbers."""

import numpy as np
import pytest

from core.analysis.outcome import (
    CONFUSED_COUNT,
    CONFUSED_PREDICTED,
    CONFUSED_TRUTH,
    TEST_ACCURACY,
    TEST_IMAGES,
    Outcome,
    count_confusion,
    describe_outcome,
    measure_test,
    outcome_of,
)
from core.i18n import translate

DIGITS = tuple(str(d) for d in range(10))


def scripted_probs(y_pred: list[int], num_classes: int = 10) -> np.ndarray:
    """One-hot-ish probabilities (0.9 on the predicted class) for the given answers: (N, C) float32."""
    probs = np.full((len(y_pred), num_classes), 0.1 / (num_classes - 1), dtype=np.float32)
    probs[np.arange(len(y_pred)), y_pred] = 0.9
    return probs


def test_the_test_figures_name_the_accuracy_and_the_most_confused_pair():
    # 10 images: eight right, two 4s read as 9, none other wrong.
    y_true = np.array([4, 4, 4, 9, 9, 1, 2, 3, 4, 5])
    y_pred = [9, 9, 4, 9, 9, 1, 2, 3, 4, 5]
    metrics = measure_test(y_true, scripted_probs(y_pred))
    assert metrics[TEST_ACCURACY] == pytest.approx(0.8) and metrics[TEST_IMAGES] == 10
    assert (metrics[CONFUSED_TRUTH], metrics[CONFUSED_PREDICTED], metrics[CONFUSED_COUNT]) == (4, 9, 2)
    assert metrics["test_loss"] == pytest.approx(-np.log(0.9) * 0.8 - np.log(0.1 / 9) * 0.2, rel=1e-5)


def test_the_sentence_says_the_test_accuracy_and_the_pair_in_words():
    metrics = {TEST_ACCURACY: 0.9723, TEST_IMAGES: 10000.0, CONFUSED_TRUTH: 4.0, CONFUSED_PREDICTED: 9.0,
               CONFUSED_COUNT: 12.0, "val_accuracy": 0.5}
    sentence = describe_outcome(outcome_of(metrics, 10), DIGITS)
    assert sentence == ("Your network reads 97.2% of digits it has never seen. It confuses 4 and 9 most: "
                        "it read a 4 as 9 12 times in 10,000 test images.")


def test_without_test_figures_the_sentence_says_it_is_validation():
    outcome = outcome_of({"val_accuracy": 0.923, "accuracy": 0.95}, 10)
    assert outcome == Outcome(0.923, False, 0, None)
    assert describe_outcome(outcome, DIGITS) == \
        "Your network reads 92.3% of the digits kept aside to check it (validation)."
    assert outcome_of({"accuracy": 0.95}, 10) is None


def test_a_pair_outside_the_classes_is_dropped_not_the_outcome():
    metrics = {TEST_ACCURACY: 0.5, CONFUSED_TRUTH: 12.0, CONFUSED_PREDICTED: 1.0, CONFUSED_COUNT: 3.0}
    assert outcome_of(metrics, 10) == Outcome(0.5, True, 0, None)


def test_a_perfect_score_says_no_mistake_and_one_mistake_says_once():
    assert describe_outcome(Outcome(1.0, True, 20, None), DIGITS).endswith("It made no mistake on them.")
    assert "read a Shirt as Coat once in the test images" in \
        describe_outcome(Outcome(0.99, True, 0, (0, 1, 1)), ("Shirt", "Coat"), "pieces of clothing")


def test_no_test_images_gives_no_figures_and_the_matrix_counts_rows_as_truth():
    assert measure_test(np.array([], dtype=np.int64), np.zeros((0, 10), np.float32)) == {}
    cm = count_confusion(np.array([0, 0, 1]), np.array([1, 1, 1]), 3)
    assert cm.tolist() == [[0, 2, 0], [0, 1, 0], [0, 0, 0]]


def test_the_outcome_translates_whole_with_its_share_written_the_languages_way():
    sentence = describe_outcome(Outcome(0.972, True, 10_000, (4, 9, 23)), DIGITS)
    assert translate("es", sentence) == ("Tu red lee bien el 97,2\xa0% de los dígitos que nunca ha visto. Lo que más "
                                         "confunde es 4 y 9: leyó un 4 como 9 23 veces en 10.000 imágenes de prueba.")
    assert translate("de", describe_outcome(Outcome(1.0, True, 0, None), DIGITS)) == (
        "Dein Netz liest 100,0\xa0% der Ziffern richtig, die es nie gesehen hat. Es hat sich bei keinem geirrt.")
    assert sentence.startswith("Your network reads 97.2% of digits")

"""A training's result in words: its score on the test set and the pair of classes it confuses most.

At the end of a training the job measures the test set once (`measure_test`) and keeps the figures
in the run's metrics (`test_accuracy`, `test_loss`, the most confused pair); `describe_outcome`
turns them into the sentence the Train page shows ("Your network reads 97.2% of digits it has
never seen. It confuses 4 and 9 most: ..."). Pure numpy, no TensorFlow, no Streamlit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.analysis.evaluation import compute_loss, most_confused_pairs
from core.i18n import N_, Number, Percent1, message, term

# The run metrics this module writes (floats: a run's metrics are a JSON dict of numbers).
TEST_ACCURACY = "test_accuracy"
TEST_LOSS = "test_loss"
TEST_IMAGES = "test_images"
CONFUSED_TRUTH = "test_confused_truth"  # class index of the truth of the most confused pair
CONFUSED_PREDICTED = "test_confused_predicted"  # class index it was read as
CONFUSED_COUNT = "test_confused_count"  # how many test images of that truth were read so


@dataclass(frozen=True)
class Outcome:
    """What a run's metrics say about its result; `test` False when only validation figures exist."""

    accuracy: float  # 0..1
    test: bool  # True: on the test set; False: on the validation images (no test figures kept)
    images: int  # how many images the accuracy counts (0 when unknown)
    pair: tuple[int, int, int] | None  # (truth, predicted, count) of the most confused pair, if any


def count_confusion(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(C, C) int64 counts, rows = truth, columns = predicted (numpy, so no TensorFlow here)."""
    flat = np.asarray(y_true, dtype=np.int64) * num_classes + np.asarray(y_pred, dtype=np.int64)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def measure_test(y_true: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """The run metrics of a model's test-set probabilities (N, C): accuracy, loss, most confused pair."""
    if len(y_true) == 0:
        return {}
    y_pred = probs.argmax(axis=1)
    metrics = {TEST_ACCURACY: float(np.mean(y_pred == y_true)), TEST_LOSS: compute_loss(y_true, probs),
               TEST_IMAGES: float(len(y_true))}
    pairs = most_confused_pairs(count_confusion(y_true, y_pred, probs.shape[1]), 1)
    if pairs:
        truth, predicted, count = pairs[0]
        metrics.update({CONFUSED_TRUTH: float(truth), CONFUSED_PREDICTED: float(predicted),
                        CONFUSED_COUNT: float(count)})
    return metrics


def outcome_of(metrics: dict[str, float], num_classes: int) -> Outcome | None:
    """The outcome a run's metrics hold: test figures first, else validation; None when neither is there.

    Class indices outside 0..num_classes-1 (a damaged or foreign record) drop the pair, not the outcome.
    """
    if TEST_ACCURACY in metrics:
        pair = None
        if CONFUSED_TRUTH in metrics and CONFUSED_PREDICTED in metrics and CONFUSED_COUNT in metrics:
            truth, predicted = int(metrics[CONFUSED_TRUTH]), int(metrics[CONFUSED_PREDICTED])
            if 0 <= truth < num_classes and 0 <= predicted < num_classes and truth != predicted:
                pair = (truth, predicted, int(metrics[CONFUSED_COUNT]))
        return Outcome(float(metrics[TEST_ACCURACY]), True, int(metrics.get(TEST_IMAGES, 0)), pair)
    if "val_accuracy" in metrics:
        return Outcome(float(metrics["val_accuracy"]), False, 0, None)
    return None


def describe_outcome(outcome: Outcome, class_names: Sequence[str], things: str = "digits") -> str:
    """One or two sentences a 14-year-old reads: how many it gets right, and what it mixes up most.

    `things`: what the images show, "digits" or "images". The percentage has one decimal, the way the
    runs table shows it. A Message: the page translates it (`_()`), class names too when they have one.
    """
    share = Percent1(outcome.accuracy)
    digits = things == "digits"
    if outcome.test:
        template = (N_("Your network reads {share} of digits it has never seen.") if digits
                    else N_("Your network reads {share} of images it has never seen."))
    else:
        template = (N_("Your network reads {share} of the digits kept aside to check it (validation).") if digits
                    else N_("Your network reads {share} of the images kept aside to check it (validation)."))
    sentence = message(template, share=share)
    if outcome.pair is not None:
        truth, predicted, count = outcome.pair
        names = {"a": term(class_names[truth]), "b": term(class_names[predicted])}
        if count == 1 and outcome.images:
            more = message("It confuses {a} and {b} most: it read a {a} as {b} once in {images} test images.",
                           images=Number(outcome.images), **names)
        elif count == 1:
            more = message("It confuses {a} and {b} most: it read a {a} as {b} once in the test images.", **names)
        elif outcome.images:
            more = message("It confuses {a} and {b} most: it read a {a} as {b} {count} times in {images} test images.",
                           count=Number(count), images=Number(outcome.images), **names)
        else:
            more = message("It confuses {a} and {b} most: it read a {a} as {b} {count} times in the test images.",
                           count=Number(count), **names)
        sentence = message("{sentence} {more}", sentence=sentence, more=more)
    elif outcome.test and outcome.accuracy >= 1.0:
        sentence = message("{sentence} {more}", sentence=sentence, more=message("It made no mistake on them."))
    return sentence

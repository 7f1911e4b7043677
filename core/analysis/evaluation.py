"""Evaluate a trained classifier on a test set: predictions, confusion matrix, metrics.

Pure compute, no streamlit. The Evaluate page calls `predict_probabilities` and
`summarize_predictions` once per (model, dataset) and caches the result; every
click afterwards (a confusion-matrix cell, a gallery page) only indexes into the
cached `EvaluationResult`, which is cheap.

TensorFlow is imported lazily so that importing this module stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

# Same clipping as Keras' cross-entropy on probabilities, so our loss matches model.evaluate.
_LOSS_EPSILON = 1e-7


@dataclass(frozen=True)
class EvaluationResult:
    """Everything the Evaluate page shows, computed once from labels and probabilities."""

    y_true: np.ndarray  # (N,) int64, 0..C-1
    y_pred: np.ndarray  # (N,) int64, argmax of probs
    confidence: np.ndarray  # (N,) float32, max prob = prob of the predicted class
    probs: np.ndarray  # (N, C) float32 softmax outputs
    cm: np.ndarray  # (C, C) int64, rows = truth, cols = predicted
    accuracy: float  # 0..1
    loss: float  # mean sparse categorical cross-entropy
    n_correct: int
    n_wrong: int

    @property
    def num_classes(self) -> int:
        """Number of classes C."""
        return int(self.probs.shape[1])


def predict_probabilities(
    model: Any,
    x: np.ndarray,
    batch_size: int | None = None,
    *,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """Predict class probabilities for every image: (N, C) float32.

    `x` is model-ready: (N, H, W, 1) float32 in 0..1, as `core.data.datasets.to_model_input` makes it.
    Uses `predict_on_batch` per batch: one traced graph without `model.predict`'s dataset
    and callback machinery. On 2 CPU cores (bench/evaluate_speed.py) it matched
    `model.predict` on the default CNN, beat it on the 512-512 MLP (about 0.2 s vs
    0.37 s for 10,000 images), and eager `model(x)` was the slowest on the CNN.
    `progress`, if given, is called with the fraction done (0..1] after each batch,
    e.g. to drive a progress bar while a CNN takes a couple of seconds. `batch_size` None: as many
    images per step as core.model.network.inference_batch_size allows this model.
    """
    if len(x) == 0:
        num_classes = int(model.output_shape[-1])
        return np.zeros((0, num_classes), dtype=np.float32)
    if batch_size is None:  # the network's own: its largest activation times the batch stays bounded
        from core.model.network import inference_batch_size  # imports TensorFlow (light path: the home page)

        batch_size = min(1024, inference_batch_size(model))  # 1024: the size bench/evaluate_speed.py timed
    batches = []
    for start in range(0, len(x), batch_size):
        batches.append(np.asarray(model.predict_on_batch(x[start : start + batch_size])))
        if progress is not None:
            progress(min(start + batch_size, len(x)) / len(x))
    return np.concatenate(batches).astype(np.float32, copy=False)


def compute_confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int
) -> np.ndarray:
    """Count (truth, predicted) pairs: (C, C) int64, rows = truth, cols = predicted."""
    import tensorflow as tf  # light path: the home page imports this module

    y_true = np.asarray(y_true, dtype=np.int64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.int64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels but y_pred has {y_pred.size}")
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"{name} has labels outside 0..{num_classes - 1}")
    cm = tf.math.confusion_matrix(y_true, y_pred, num_classes=num_classes, dtype=tf.int64)
    return cm.numpy()


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise numerator / denominator, 0 where the denominator is 0."""
    numerator = numerator.astype(np.float64)
    denominator = denominator.astype(np.float64)
    out = np.zeros_like(numerator)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def compute_class_metrics(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class precision, recall, F1 (float64, 0..1) and support (int64) from a confusion matrix.

    A class never predicted has precision 0, a class absent from the truth has
    recall 0, and F1 is 0 when precision + recall is 0 (zero division -> 0, as
    scikit-learn's zero_division=0).
    """
    cm = np.asarray(cm, dtype=np.int64)
    true_positives = np.diag(cm)
    support = cm.sum(axis=1)  # how many images truly are of each class
    predicted = cm.sum(axis=0)  # how many images were predicted as each class
    precision = _safe_divide(true_positives, predicted)
    recall = _safe_divide(true_positives, support)
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def compute_loss(y_true: np.ndarray, probs: np.ndarray) -> float:
    """Mean sparse categorical cross-entropy of probabilities, clipped like Keras."""
    if len(y_true) == 0:
        return 0.0
    picked = probs[np.arange(len(y_true)), y_true].astype(np.float64)
    picked = np.clip(picked, _LOSS_EPSILON, 1.0 - _LOSS_EPSILON)
    return float(-np.log(picked).mean())


def summarize_predictions(y_true: np.ndarray, probs: np.ndarray) -> EvaluationResult:
    """Compute predictions, confidences, confusion matrix, accuracy and loss once."""
    y_true = np.asarray(y_true, dtype=np.int64).ravel()
    probs = np.asarray(probs, dtype=np.float32)
    if probs.ndim != 2 or probs.shape[0] != y_true.shape[0]:
        raise ValueError(f"probs must be (N, C) with N = {y_true.shape[0]}, got {probs.shape}")
    num_classes = probs.shape[1]
    y_pred = probs.argmax(axis=1).astype(np.int64)
    confidence = probs.max(axis=1)
    n_correct = int(np.count_nonzero(y_pred == y_true))
    n_total = int(y_true.shape[0])
    return EvaluationResult(
        y_true=y_true,
        y_pred=y_pred,
        confidence=confidence,
        probs=probs,
        cm=compute_confusion_matrix(y_true, y_pred, num_classes),
        accuracy=n_correct / n_total if n_total else 0.0,
        loss=compute_loss(y_true, probs),
        n_correct=n_correct,
        n_wrong=n_total - n_correct,
    )


def _sort_by_confidence(result: EvaluationResult, indices: np.ndarray) -> np.ndarray:
    """Indices ordered by confidence, most confident first; ties keep index order."""
    order = np.argsort(-result.confidence[indices], kind="stable")
    return indices[order]


def rank_mistakes(result: EvaluationResult) -> np.ndarray:
    """Indices of misclassified images, most confident (in the wrong answer) first."""
    return _sort_by_confidence(result, np.flatnonzero(result.y_pred != result.y_true))


def rank_correct(result: EvaluationResult) -> np.ndarray:
    """Indices of correctly classified images, most confident first."""
    return _sort_by_confidence(result, np.flatnonzero(result.y_pred == result.y_true))


def select_cell(result: EvaluationResult, truth: int, predicted: int) -> np.ndarray:
    """Indices of images with this truth and this prediction, most confident first.

    These are exactly the images counted in cell `result.cm[truth, predicted]`.
    """
    in_cell = (result.y_true == truth) & (result.y_pred == predicted)
    return _sort_by_confidence(result, np.flatnonzero(in_cell))


def paginate(indices: np.ndarray, page: int, per_page: int) -> tuple[np.ndarray, int]:
    """Return the indices on `page` and the number of pages.

    Pages are numbered from 1 (what the user sees). `page` is clamped into
    1..n_pages, so a stale page number after switching cells still shows something.
    With no indices there is 1 (empty) page, so a page selector always has a valid range.
    """
    if per_page < 1:
        raise ValueError(f"per_page must be at least 1, got {per_page}")
    indices = np.asarray(indices)
    n_pages = max(1, -(-len(indices) // per_page))  # ceil division, at least 1
    page = min(max(int(page), 1), n_pages)
    start = (page - 1) * per_page
    return indices[start : start + per_page], n_pages


def most_confused_pairs(cm: np.ndarray, k: int = 5) -> list[tuple[int, int, int]]:
    """The k largest off-diagonal cells as (truth, predicted, count), largest first.

    Cells with a zero count are left out, so fewer than k pairs may come back.
    Ties are ordered by (truth, predicted).
    """
    off_diagonal = np.array(cm, dtype=np.int64)
    np.fill_diagonal(off_diagonal, 0)
    flat = off_diagonal.ravel()
    order = np.argsort(-flat, kind="stable")[: max(k, 0)]
    num_classes = off_diagonal.shape[1]
    return [
        (int(i // num_classes), int(i % num_classes), int(flat[i])) for i in order if flat[i] > 0
    ]

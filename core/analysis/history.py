"""The per-epoch validation record (which class each validation image got, epoch by epoch) and its analysis.

A training job records it with `core.training.callbacks.ValidationRecorder` (one prediction pass over the
validation set per epoch, which also gives `val_loss` and `val_accuracy`). Here: the record as
data, what it says, and its bytes for the store. No TensorFlow: pages and the store read records
without it.

The analysis functions take a plain record, `preds` (E, N) uint8 (row e = predictions after
epoch e + 1), and the labels `y` (N,). Epochs are 1-based in this module's API, as the page
shows them.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass
from typing import overload

import numpy as np

NEVER_LEARNED = -1  # learned_after() of an image still wrong after the last epoch
_RECORD_KEY = "preds"  # the predictions' name inside a packed record
_LABELS_KEY = "y"  # the validation labels' name inside a packed record (optional)


@dataclass(frozen=True)
class EpochRecord:
    """A run's record: `preds` (E, N) uint8, row e = the classes after epoch e + 1; `y` (N,) int64 labels.

    The images are those of the run's validation split, rebuilt from its spec
    (`core.data.datasets.load_dataset(spec.dataset, spec.validation_fraction, spec.train_limit, spec.seed).x_val`).
    """

    preds: np.ndarray
    y: np.ndarray

    def __post_init__(self):
        preds, y = check_record(self.preds, self.y)
        if y is None or (preds.size and (preds.min() < 0 or preds.max() > 255)):
            raise ValueError("a record needs its labels, and classes 0..255")
        object.__setattr__(self, "preds", np.asarray(self.preds).astype(np.uint8, copy=False))
        object.__setattr__(self, "y", y)

    @property
    def epochs(self) -> int:
        return int(self.preds.shape[0])


# --- Analysis of a record ---------------------------------------------------------------------


@overload
def check_record(preds: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...
@overload
def check_record(preds: np.ndarray, y: None = None) -> tuple[np.ndarray, None]: ...
@overload
def check_record(preds: np.ndarray, y: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]: ...


def check_record(preds: np.ndarray, y: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """`preds` as a 2-D int64 array (E, N), and `y` as (N,) int64; ValueError when they do not fit."""
    preds = np.asarray(preds)
    if preds.ndim != 2 or not np.issubdtype(preds.dtype, np.integer):
        raise ValueError(f"a record is an (epochs, images) integer array, got {preds.dtype} {preds.shape}")
    preds = preds.astype(np.int64, copy=False)
    if y is not None:
        y = np.asarray(y).astype(np.int64, copy=False).ravel()
        if y.shape[0] != preds.shape[1]:
            raise ValueError(f"{y.shape[0]} labels for a record of {preds.shape[1]} images")
    return preds, y


def count_changes(preds: np.ndarray) -> np.ndarray:
    """How many times each image's predicted class changed from one epoch to the next: (N,) int64."""
    preds, _ = check_record(preds)
    return np.count_nonzero(preds[1:] != preds[:-1], axis=0).astype(np.int64)  # 0 when E < 2


def learned_after(preds: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The epoch after which each image stayed correct to the end: (N,) int64.

    k >= 1: wrong after epoch k, right after every epoch from k + 1 to the last (E).
    0: right after every epoch, the first included (learned during epoch 1).
    NEVER_LEARNED (-1): wrong after the last epoch (and for every image of an empty record).
    """
    preds, y = check_record(preds, y)
    epochs = preds.shape[0]
    if epochs == 0:
        return np.full(preds.shape[1], NEVER_LEARNED, dtype=np.int64)
    wrong = preds != y  # (E, N)
    # Last wrong epoch (1-based): E - (index of the first True in the reversed rows); 0 if none.
    last_wrong = np.where(wrong.any(axis=0), epochs - np.argmax(wrong[::-1], axis=0), 0)
    return np.where(last_wrong == epochs, NEVER_LEARNED, last_wrong).astype(np.int64)


def rank_by(score: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Indices where `keep`, highest `score` first; ties in index order."""
    indices = np.flatnonzero(keep)
    return indices[np.argsort(-score[indices], kind="stable")]


def rank_changed_mind(preds: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Images whose prediction changed at least once, most changes first; ties in index order.

    `y` is only checked against the record: the ranking depends on the predictions alone.
    """
    preds, y = check_record(preds, y)
    changes = count_changes(preds)
    return rank_by(changes, changes > 0)


def rank_learned_last(preds: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Images learned after epoch 1 and kept to the end, the latest learned first; ties in index order.

    Left out: images right from epoch 1 on (learned_after 0) and those never learned (-1).
    """
    after = learned_after(preds, y)
    return rank_by(after, after > 0)


def confusion_per_epoch(preds: np.ndarray, y: np.ndarray, num_classes: int) -> np.ndarray:
    """The validation confusion matrix after every epoch: (E, C, C) int64, rows = truth, cols = predicted."""
    preds, y = check_record(preds, y)
    for name, labels in (("preds", preds), ("y", y)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"{name} has labels outside 0..{num_classes - 1}")
    epochs = preds.shape[0]
    flat = (np.arange(epochs)[:, None] * num_classes + y[None, :]) * num_classes + preds  # (E, N)
    counts = np.bincount(flat.ravel(), minlength=epochs * num_classes * num_classes)
    return counts.reshape(epochs, num_classes, num_classes)


def select_cell_at(preds: np.ndarray, y: np.ndarray, epoch: int, truth: int, predicted: int) -> np.ndarray:
    """Indices (ascending) of the images in cell (truth, predicted) after `epoch` (1-based)."""
    preds, y = check_record(preds, y)
    if not 1 <= epoch <= preds.shape[0]:
        raise ValueError(f"epoch {epoch} is outside 1..{preds.shape[0]}")
    return np.flatnonzero((y == truth) & (preds[epoch - 1] == predicted))


# --- Persistence ------------------------------------------------------------------------------


def pack_record(preds: np.ndarray, y: np.ndarray | None = None) -> bytes:
    """The record (and, given, its labels) as compressed .npz bytes of uint8 arrays, for saving beside a run."""
    preds, y = check_record(preds, y)
    arrays = {_RECORD_KEY: preds, **({_LABELS_KEY: y} if y is not None else {})}
    for name, array in arrays.items():
        if array.size and (array.min() < 0 or array.max() > 255):
            raise ValueError(f"a record holds classes 0..255, {name} has others")
    buffer = io.BytesIO()
    packed = {name: array.astype(np.uint8) for name, array in arrays.items()}
    np.savez_compressed(buffer, **packed)  # type: ignore[arg-type]  # stubs: a **dict key might be allow_pickle
    return buffer.getvalue()


def read_packed(data: bytes) -> tuple[np.ndarray, np.ndarray | None]:
    """(preds (E, N) uint8, labels (N,) uint8 or None) from `pack_record`'s bytes; ValueError for anything else."""
    try:
        archive = np.load(io.BytesIO(data), allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise TypeError("not an .npz archive")
        with archive:
            names = sorted(archive.keys())
            if names not in ([_RECORD_KEY], sorted([_RECORD_KEY, _LABELS_KEY])):
                raise ValueError(f"expected the array {_RECORD_KEY!r} (and {_LABELS_KEY!r}), found {names}")
            preds = archive[_RECORD_KEY]
            y = archive[_LABELS_KEY] if _LABELS_KEY in names else None
    except (OSError, EOFError, KeyError, TypeError, ValueError, zipfile.BadZipFile, zlib.error) as error:
        raise ValueError(f"not a packed record: {error}") from None
    if preds.dtype != np.uint8 or preds.ndim != 2:
        raise ValueError(f"not a packed record: {preds.dtype} {preds.shape}")
    if y is not None and (y.dtype != np.uint8 or y.shape != preds.shape[1:]):
        raise ValueError(f"not a packed record: labels {y.dtype} {y.shape} for {preds.shape[1]} images")
    return preds, y


def unpack_record(data: bytes) -> np.ndarray:
    """The (E, N) uint8 record back from `pack_record`'s bytes; ValueError for anything else."""
    return read_packed(data)[0]


def pack_epoch_record(record: EpochRecord) -> bytes:
    """A run's record with its labels, as bytes (`unpack_epoch_record` reads them)."""
    return pack_record(record.preds, record.y)


def unpack_epoch_record(data: bytes) -> EpochRecord:
    """The EpochRecord `pack_epoch_record` wrote; ValueError for anything else (labels included)."""
    preds, y = read_packed(data)
    if y is None:
        raise ValueError("not a run's record: it has no labels")
    return EpochRecord(preds, y)

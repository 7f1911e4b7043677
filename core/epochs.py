"""The per-epoch validation record (which class each validation image got, epoch by epoch) and its analysis.

`ValidationRecorder` replaces `model.fit(validation_data=...)`: at each epoch end it runs one
prediction pass over the validation set, keeps the predicted classes, and writes `val_loss` and
`val_accuracy` into the epoch's logs from that same pass. Fit WITHOUT `validation_data`, or the
validation set is gone through twice.

Callback order matters. Keras 3's `CallbackList.on_epoch_end` makes one dict from the epoch's
logs (`pythonify_logs`) and hands that same dict to every callback in list order; the `History`
that `fit` returns is appended at the end of the list. So the recorder must come BEFORE every
callback that reads `val_loss` (EarlyStopping, ModelCheckpoint, the app's LiveHistory):

    recorder = ValidationRecorder(x_val, y_val)
    model.fit(x, y, epochs=..., callbacks=[recorder, live, EarlyStopping("val_loss", ...)])

Put after them, EarlyStopping only warns that `val_loss` is missing and never stops. The logs
that `fit` passes to `on_train_end` are its own copy and lack the `val_` keys.

The analysis functions take a plain record, `preds` (E, N) uint8 (row e = predictions after
epoch e + 1), and the labels `y` (N,). Epochs are 1-based in this module's API, as the page
shows them.
"""

from __future__ import annotations

import io
import threading
import zipfile
import zlib

import keras
import numpy as np
import tensorflow as tf

NEVER_LEARNED = -1  # learned_after() of an image still wrong after the last epoch
_RECORD_KEY = "preds"  # the array's name inside a packed record


class ValidationRecorder(keras.callbacks.Callback):
    """Predicts the validation set once per epoch: keeps the classes, logs val_loss and val_accuracy.

    `val_loss` is what Keras' own validation reports: the mean sparse categorical cross-entropy
    plus the model's regularization losses (`sum(model.losses)`, e.g. L2). The cross-entropy is
    computed in a compiled graph by `keras.losses.sparse_categorical_crossentropy`, exactly as
    `evaluate` does: from the softmax's logits when the output layer is a softmax, else from the
    probabilities clipped to [1e-7, 1 - 1e-7]. Assumes the model was compiled with that loss and
    the "accuracy" metric, as `core.network.build_model` does. Dropout is off (training=False).

    `read()` may be called from any thread while `fit` runs in another. A second `fit` with the
    same recorder appends to the record.
    """

    def __init__(self, x_val: np.ndarray, y_val: np.ndarray, batch_size: int = 2048):
        super().__init__()
        self.x_val = np.asarray(x_val, dtype=np.float32)  # (N, H, W, 1)
        self.y_val = np.asarray(y_val, dtype=np.int64).ravel()  # (N,)
        if len(self.x_val) == 0 or len(self.x_val) != len(self.y_val):
            raise ValueError(f"need a non-empty validation set with one label per image, "
                             f"got {len(self.x_val)} images and {len(self.y_val)} labels")
        self.batch_size = batch_size
        self._rows: list[np.ndarray] = []  # one (N,) uint8 per epoch
        self._lock = threading.Lock()
        self._step = None
        self._step_model = None

    def on_train_begin(self, logs=None):
        num_classes = int(self.model.output_shape[-1])
        if num_classes > 256:
            raise ValueError(f"a uint8 record holds at most 256 classes, the model has {num_classes}")
        if self._step_model is not self.model:
            self._step, self._step_model = make_validation_step(self.model, self.x_val.shape[1:]), self.model

    def on_epoch_end(self, epoch, logs=None):
        predicted, loss_sum = [], 0.0
        for start in range(0, len(self.x_val), self.batch_size):
            classes, losses = self._step(self.x_val[start:start + self.batch_size],
                                         self.y_val[start:start + self.batch_size])
            predicted.append(classes.numpy())
            loss_sum += float(losses)
        row = np.concatenate(predicted)  # (N,) uint8
        with self._lock:
            self._rows.append(row)
        if logs is not None:
            regularization = sum(float(keras.ops.convert_to_numpy(loss)) for loss in self.model.losses)
            logs["val_loss"] = loss_sum / len(row) + regularization
            logs["val_accuracy"] = float(np.mean(row == self.y_val))

    def read(self) -> np.ndarray:
        """A copy of the record so far: (E, N) uint8, row e = the classes after epoch e + 1."""
        with self._lock:
            rows = list(self._rows)
        if not rows:
            return np.zeros((0, len(self.y_val)), dtype=np.uint8)
        return np.stack(rows)


def make_validation_step(model: keras.Model, image_shape: tuple[int, ...]):
    """A compiled `step(x (B, *image_shape), y (B,)) -> (classes (B,) uint8, summed loss float64)`.

    One graph for every chunk size (the batch dimension is None), so the last, shorter chunk
    does not trace a second one.
    """
    signature = [tf.TensorSpec((None, *image_shape), tf.float32), tf.TensorSpec((None,), tf.int64)]

    @tf.function(input_signature=signature)
    def step(x, y):
        probs = model(x, training=False)  # (B, C)
        losses = keras.losses.sparse_categorical_crossentropy(y, probs)  # (B,), Keras' own path
        classes = tf.cast(tf.argmax(probs, axis=-1), tf.uint8)  # (B,)
        return classes, tf.reduce_sum(tf.cast(losses, tf.float64))

    return step


# --- Analysis of a record ---------------------------------------------------------------------


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


def pack_record(preds: np.ndarray) -> bytes:
    """The record as compressed .npz bytes (one uint8 array), for saving beside a run."""
    preds, _ = check_record(preds)
    if preds.size and (preds.min() < 0 or preds.max() > 255):
        raise ValueError("a record holds classes 0..255")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{_RECORD_KEY: preds.astype(np.uint8)})
    return buffer.getvalue()


def unpack_record(data: bytes) -> np.ndarray:
    """The (E, N) uint8 record back from `pack_record`'s bytes; ValueError for anything else."""
    try:
        archive = np.load(io.BytesIO(data), allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise TypeError("not an .npz archive")
        with archive:
            if list(archive.keys()) != [_RECORD_KEY]:
                raise ValueError(f"expected one array {_RECORD_KEY!r}, found {list(archive.keys())}")
            preds = archive[_RECORD_KEY]
    except (OSError, EOFError, KeyError, TypeError, ValueError, zipfile.BadZipFile, zlib.error) as error:
        raise ValueError(f"not a packed record: {error}") from None
    if preds.dtype != np.uint8 or preds.ndim != 2:
        raise ValueError(f"not a packed record: {preds.dtype} {preds.shape}")
    return preds

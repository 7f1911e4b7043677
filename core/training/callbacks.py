"""The Keras callbacks of a local training: `LiveHistory` hands every batch's and epoch's logs to
the job; `ValidationRecorder` predicts the validation set once per epoch, keeps each image's
class (the run's learning history) and writes `val_loss` and `val_accuracy` from that same pass.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from core.model.network import inference_batch_size
from core.training.job import ThinnedLog


class LiveHistory(keras.callbacks.Callback):
    """Collects each batch's and epoch's `logs` for another thread to read; stops on request.

    `stop_requested()` is checked after every batch, so Stop takes effect at the next batch and
    the weights trained so far are kept (Keras breaks out of the epoch when `stop_training`).
    `epoch_ended()` runs after each epoch's logs are recorded (the job's checkpoint).
    """

    def __init__(self, stop_requested: Callable[[], bool], epoch_ended: Callable[[], None] = lambda: None,
                 max_points: int | None = None):
        super().__init__()
        self.stop_requested = stop_requested
        self.epoch_ended = epoch_ended
        # {"epoch", "batch", "loss", "accuracy"} per batch, at most `max_points` (DIGITLAB_MAX_BATCH_POINTS)
        # of them: thinned evenly past that, the newest always last (core.training.job.ThinnedLog).
        self.log = ThinnedLog(max_points)
        self.epochs: list[dict] = []  # {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
        self.epoch = 0  # 0-based epoch in progress
        self.batch = 0  # batches finished in that epoch
        self._lock = threading.Lock()

    @property
    def batches(self) -> list[dict]:
        """The batch logs kept (see `log`)."""
        return self.log.points

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.batch = epoch, 0

    def on_train_batch_end(self, batch, logs=None):
        with self._lock:
            self.batch = batch + 1
            self.log.append({"epoch": self.epoch, "batch": batch + 1, **(logs or {})})
        if self.stop_requested():
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        with self._lock:
            self.epochs.append({"epoch": epoch + 1, **(logs or {})})
        self.epoch_ended()

    def read(self) -> tuple[list[dict], list[dict], int, int]:
        """Copies of (batches, epochs) and the (epoch, batch) in progress, taken together."""
        with self._lock:
            return list(self.log.points), list(self.epochs), self.epoch, self.batch

    def release(self) -> None:
        """Drop the batch logs and the model (the epochs' logs stay: they are the run's history)."""
        with self._lock:
            self.log.clear()
        self.set_model(None)


class ValidationRecorder(keras.callbacks.Callback):
    """Predicts the validation set once per epoch: keeps the classes, logs val_loss and val_accuracy.

    `val_loss` is what Keras' own validation reports: the mean sparse categorical cross-entropy
    plus the model's regularization losses (`sum(model.losses)`, e.g. L2). The cross-entropy is
    computed in a compiled graph by `keras.losses.sparse_categorical_crossentropy`, exactly as
    `evaluate` does: from the softmax's logits when the output layer is a softmax, else from the
    probabilities clipped to [1e-7, 1 - 1e-7]. Assumes the model was compiled with that loss and
    the "accuracy" metric, as `core.model.network.build_model` does. Dropout is off (training=False).

    It replaces `model.fit(validation_data=...)`: fit WITHOUT `validation_data`, or the
    validation set is gone through twice. Callback order matters: Keras 3's
    `CallbackList.on_epoch_end` hands one logs dict to every callback in list order (the
    `History` that `fit` returns comes last), so the recorder must come BEFORE every callback
    that reads `val_loss` (EarlyStopping, LiveHistory); put after them, EarlyStopping only warns
    that `val_loss` is missing and never stops:

        recorder = ValidationRecorder(x_val, y_val)
        model.fit(x, y, epochs=..., callbacks=[recorder, live, EarlyStopping("val_loss", ...)])

    `read()` may be called from any thread while `fit` runs in another. A second `fit` with the
    same recorder appends to the record.
    """

    def __init__(self, x_val: np.ndarray, y_val: np.ndarray, batch_size: int | None = None):
        super().__init__()
        self.x_val = np.asarray(x_val, dtype=np.float32)  # (N, H, W, 1)
        self.y_val = np.asarray(y_val, dtype=np.int64).ravel()  # (N,)
        if len(self.x_val) == 0 or len(self.x_val) != len(self.y_val):
            raise ValueError(f"need a non-empty validation set with one label per image, "
                             f"got {len(self.x_val)} images and {len(self.y_val)} labels")
        self.batch_size = batch_size  # None: the model's own (core.model.network.inference_batch_size), at train begin
        self._rows: list[np.ndarray] = []  # one (N,) uint8 per epoch
        self._lock = threading.Lock()
        self._step: Callable[[Any, Any], tuple[Any, Any]] | None = None  # made at train begin
        self._step_model = None
        self.chunk = batch_size or 32  # images per validation step (set again at train begin)

    def on_train_begin(self, logs=None):
        num_classes = int(self.model.output_shape[-1])
        if num_classes > 256:
            raise ValueError(f"a uint8 record holds at most 256 classes, the model has {num_classes}")
        if self._step_model is not self.model:
            self._step, self._step_model = make_validation_step(self.model, self.x_val.shape[1:]), self.model
            self.chunk = self.batch_size or inference_batch_size(self.model)

    def on_epoch_end(self, epoch, logs=None):
        step = self._step
        assert step is not None, "on_train_begin makes the step"
        predicted, loss_sum = [], 0.0
        for start in range(0, len(self.x_val), self.chunk):
            classes, losses = step(self.x_val[start:start + self.chunk], self.y_val[start:start + self.chunk])
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


def make_validation_step(model: keras.Model, image_shape: tuple[int, ...]) -> Callable[[Any, Any], tuple[Any, Any]]:
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

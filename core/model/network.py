"""Build a compiled Keras model from a spec, describe it as a table, and size its inference batches."""

from __future__ import annotations

import math

import keras
import tensorflow as tf
from keras import layers

from core.data.datasets import get_info
from core.limits import read_limit
from core.model.optimizers import make_optimizer
from core.model.spec import TrainSpec, spec_to_dict, validate_spec


def build_model(spec: TrainSpec) -> keras.Model:
    """A compiled model for `spec`: input (H, W, 1) floats in 0..1, softmax over the classes.

    The CNN follows keras-io's mnist_convnet: each block is a 'valid' conv and a 2x2 max-pool.
    Weights are seeded from `spec.seed`.
    """
    validate_spec(spec)
    info = get_info(spec.dataset)
    net = spec.network
    keras.utils.set_random_seed(spec.seed)
    l2 = keras.regularizers.L2(net.l2) if net.l2 else None

    # Explicit layer names: Keras' automatic ones come from global state, which is not safe to
    # rely on while other threads of the server build models; and they read better in the summary.
    inputs = keras.Input(shape=info.input_shape, name="image")  # (H, W, 1)
    x = inputs
    if net.kind == "cnn":
        for i, filters in enumerate(net.conv_filters, start=1):
            x = layers.Conv2D(filters, net.kernel_size, activation=net.activation,
                              kernel_regularizer=l2, name=f"conv_{i}")(x)
            x = layers.MaxPooling2D(pool_size=2, name=f"pool_{i}")(x)
    x = layers.Flatten(name="flatten")(x)  # (H * W * channels,)
    if net.kind == "cnn" and net.dropout:
        x = layers.Dropout(net.dropout, name="dropout_0")(x)
    for i, units in enumerate(net.hidden_layers, start=1):
        x = layers.Dense(units, activation=net.activation, kernel_regularizer=l2, name=f"hidden_{i}")(x)
        if net.dropout:
            x = layers.Dropout(net.dropout, name=f"dropout_{i}")(x)
    outputs = layers.Dense(info.num_classes, activation="softmax", kernel_regularizer=l2, name="output")(x)

    model = keras.Model(inputs, outputs, name="digitlab")
    model.compile(
        optimizer=make_optimizer(spec.optimizer, spec.learning_rate, spec_to_dict(spec)),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def build_training_state(model: keras.Model, x_batch, y_batch) -> None:
    """Create the optimizer's and the metrics' variables now, before `fit`, from one batch (x, y).

    Why: Keras creates them inside the first traced train step, and the graphs that leaves (its
    variables' initial-value conditions) are never freed by TensorFlow: measured with
    bench/job_memory.py, ~4 MB of the ~5 MB a new model's `fit` left in the process for good.
    `_symbolic_build` is Keras 3's own step for this (private: when it is gone, the optimizer
    alone is built, the larger half).
    """
    skip_one_replica_all_reduce(model.optimizer)
    build = getattr(model, "_symbolic_build", None)
    if build is not None:
        try:
            build(data_batch=(x_batch, y_batch))
            return
        except Exception:  # a Keras that changed it: fit builds the metrics itself, as before
            pass
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def skip_one_replica_all_reduce(optimizer) -> None:
    """Let `optimizer` skip the gradients' all-reduce when one replica trains (the server's case).

    Why: Keras' TensorFlow optimizer sums the gradients over replicas through
    `tf.distribute.get_replica_context().all_reduce`, a `tf.custom_gradient`; each trace of a
    train step registers its gradient function under a new name in TensorFlow's process-wide
    gradient registry, never removed, and that function's closure holds the whole traced step
    (its graphs, their functions in the eager context, the variables it captured): ~4 MB per
    new model of Keras' plain fit, ~1.3 MB per training in bench/soak.py, for good. One replica's
    sum is its own gradients, so nothing changes but the leak. Per optimizer (private Keras
    method, shadowed on this instance only): other trainings, in other threads, are untouched;
    under a real distribution strategy the all-reduce runs as before.
    """
    reduce = getattr(optimizer, "_all_reduce_sum_gradients", None)
    if reduce is None or getattr(reduce, "one_replica_skip", False):
        return

    def all_reduce_sum_gradients(grads_and_vars):
        if tf.distribute.has_strategy() and tf.distribute.get_strategy().num_replicas_in_sync > 1:
            return reduce(grads_and_vars)
        return list(grads_and_vars)

    all_reduce_sum_gradients.one_replica_skip = True  # type: ignore[attr-defined]  # a mark: patched already
    optimizer._all_reduce_sum_gradients = all_reduce_sum_gradients


def summarize_model(model: keras.Model) -> list[dict]:
    """One row per layer: name, type, output shape, parameters (as `model.summary()` shows)."""
    rows = []
    for layer in model.layers:
        shape = tuple(layer.output.shape)[1:]  # drop the batch dimension
        rows.append({
            "layer": layer.name,
            "type": type(layer).__name__,
            "output shape": str(shape),
            "parameters": layer.count_params(),
        })
    return rows


MIN_INFERENCE_BATCH = 32
MAX_INFERENCE_BATCH = 2048  # more images per step gains nothing on a CPU


def largest_activation(model: keras.Model) -> int:
    """The most floats any one layer outputs for one image (from the built model's output shapes)."""
    largest = 1
    for layer in model.layers:
        try:
            outputs = layer.output
        except (AttributeError, ValueError):  # a layer never called on a symbolic input
            continue
        for output in outputs if isinstance(outputs, list | tuple) else [outputs]:
            shape = tuple(getattr(output, "shape", ()))[1:]  # drop the batch dimension
            if shape and all(isinstance(d, int) for d in shape):
                largest = max(largest, math.prod(shape))
    return largest


def inference_batch_size(model: keras.Model, budget_mb: float | None = None) -> int:
    """Images per predict step so that the largest activation stays under `budget_mb`
    (DIGITLAB_INFERENCE_BATCH_MB, default 64): batch x floats x 4 bytes; from 32 to 2048.

    A CNN of 256 filters on MNIST (~200,000 floats an image) gets 80, a dense network 2048.
    """
    budget = (budget_mb if budget_mb is not None else read_limit("inference_mb")) * 1_000_000
    fits = int(budget // (4 * largest_activation(model)))
    return max(MIN_INFERENCE_BATCH, min(MAX_INFERENCE_BATCH, fits))

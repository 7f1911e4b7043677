"""Build a compiled Keras model from a spec, and describe it as a table."""

from __future__ import annotations

import keras
from keras import layers

from core.datasets import get_info
from core.optimizers import make_optimizer
from core.spec import TrainSpec, spec_to_dict, validate_spec


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

"""Inside the network: the first layer's weights as pictures, the first convolution's filters, and
the feature maps each block makes of one image. Keras is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from core.analysis.explain.attribution import cached_part, compile_call, input_shape_of, producer_of


def top_layers(model: Any) -> list:
    """The model's layers in order (functional models include the InputLayer; nested models stay whole)."""
    return list(getattr(model, "layers", []))


def is_conv(layer: Any) -> bool:
    """True for 2-D convolution layers (plain, separable or depthwise)."""
    import keras  # light: the Draw page opens before any prediction

    return isinstance(layer, (keras.layers.Conv2D, keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D))


def first_layer_weights(
    model: Any, limit: int = 64, class_names: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """What each unit of the first Dense layer looks for: (images (K, H, W) float32, labels).

    Each image is one unit's input weights laid out like the image (> 0: ink there raises the
    unit, < 0: lowers it). Hidden units come strongest first (by L2 norm of the weights), at most
    `limit`, labelled "unit 17" (1-based position in the layer). For softmax regression (the
    first Dense is the output) these are the class templates in class order, labelled with
    class_names. Empty ((0, H, W), []) when a convolution comes first or the first Dense does
    not read the pixels directly.
    """
    import keras  # light: the Draw page opens before any prediction

    shape = input_shape_of(model)  # (H, W, 1)
    empty: tuple[np.ndarray, list[str]] = np.zeros((0, shape[0], shape[1]), dtype=np.float32), []
    try:
        output_layer = producer_of(model.outputs[0])[0]
    except (AttributeError, IndexError, TypeError, ValueError):
        output_layer = None
    for layer in top_layers(model):
        if is_conv(layer) or isinstance(layer, keras.Model):
            return empty
        if not isinstance(layer, keras.layers.Dense):
            continue
        kernel = keras.ops.convert_to_numpy(layer.kernel)  # (H * W * 1, units)
        if kernel.shape[0] != int(np.prod(shape)):
            return empty
        # Flatten is row-major over (H, W, 1), so each column reshapes back to the image.
        images = kernel.T.reshape(-1, *shape).sum(axis=-1).astype(np.float32)  # (units, H, W)
        if layer is output_layer:
            names = class_names or [str(i) for i in range(len(images))]
            return images[:limit], [str(n) for n in names[: min(limit, len(images))]]
        order = np.argsort(-np.linalg.norm(images.reshape(len(images), -1), axis=1), kind="stable")[:limit]
        return images[order], [f"unit {i + 1}" for i in order]
    return empty


def first_conv_filters(model: Any) -> np.ndarray:
    """Kernels (F, k, k) float32 of the first convolution layer (input channel 0); (0, 0, 0) if none."""
    import keras  # light: the Draw page opens before any prediction

    for layer in top_layers(model):
        if isinstance(layer, keras.Model):
            break
        if is_conv(layer):
            kernel = getattr(layer, "kernel", None)
            if kernel is None:  # separable convs keep a depthwise and a pointwise kernel
                kernel = layer.depthwise_kernel
            kernel = keras.ops.convert_to_numpy(kernel)  # (k, k, channels in, F)
            return np.ascontiguousarray(kernel[:, :, 0, :].transpose(2, 0, 1), dtype=np.float32)
    return np.zeros((0, 0, 0), dtype=np.float32)


def output_shape_of(layer: Any) -> tuple:
    """A layer's output shape in its model, batch axis included."""
    return tuple(layer.output.shape)


def choose_block_layers(model: Any) -> list:
    """The layers whose outputs show each convolution block.

    Each pooling layer that follows a convolution, when there are any; otherwise each
    convolution's output after the layers that keep its shape (batch norm, activation).
    """
    import keras  # light: the Draw page opens before any prediction

    layers = top_layers(model)
    conv_at = [i for i, layer in enumerate(layers) if is_conv(layer)]
    if not conv_at:
        return []
    pooling = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
    pools = [layer for layer in layers[conv_at[0]:] if isinstance(layer, pooling)]
    if pools:
        return pools
    chosen = []
    for i in conv_at:
        last = layers[i]
        for layer in layers[i + 1:]:
            if is_conv(layer) or isinstance(layer, keras.Model):
                break
            if output_shape_of(layer) != output_shape_of(last):
                break
            last = layer
        chosen.append(last)
    return chosen


def block_names(model: Any, chosen: list) -> list[str]:
    """'conv_1 → pool_1' for each chosen layer: the convolutions since the previous one, then it."""
    layers = top_layers(model)
    names, start = [], 0
    for layer in chosen:
        end = layers.index(layer)
        parts = [lyr.name for lyr in layers[start:end + 1] if is_conv(lyr)]
        if not is_conv(layer):
            parts.append(layer.name)
        names.append(" → ".join(parts))
        start = end + 1
    return names


def build_feature_call(model: Any) -> tuple[list[str], Callable[[Any], Any] | None]:
    """(block names, compiled batch -> list of (N, h, w, C) outputs), or ([], None) without convs."""
    import keras  # light: the Draw page opens before any prediction

    chosen = choose_block_layers(model)
    if not chosen:
        return [], None
    probe = keras.Model(model.inputs, [layer.output for layer in chosen], name=f"{model.name}_blocks")

    def call(batch: Any) -> Any:
        return probe(batch, training=False)

    return block_names(model, chosen), compile_call(call)


def feature_maps(model: Any, image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """What each convolution block outputs for one image (H, W, 1): [(block name, (C, h, w) float32)].

    One block per pooling layer after a convolution (or per convolution when there is no
    pooling), in order; [] for a network without convolution layers. One forward pass through
    a cached sub-model.
    """
    import keras  # light: the Draw page opens before any prediction

    names, call = cached_part(model, "features", build_feature_call)
    if call is None:
        return []
    batch = np.asarray(image, dtype=np.float32).reshape(1, *input_shape_of(model))  # (1, H, W, 1)
    outputs = call(batch)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    # (1, h, w, C) -> (C, h, w)
    maps = [np.ascontiguousarray(keras.ops.convert_to_numpy(o)[0].transpose(2, 0, 1)) for o in outputs]
    return [(name, m.astype(np.float32)) for name, m in zip(names, maps, strict=True)]

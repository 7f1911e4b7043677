"""Why did the network say that? Class scores, integrated gradients, and a look inside the network.

Compute here, draw in core.figures.explain. No Streamlit, and Keras / TensorFlow are imported
inside the functions that need them (like core.drawing), so importing this module stays cheap.

- class_scores: the pre-softmax scores (logits) of any model the app can hold.
- integrated_gradients / explain: how much each pixel pushed a class score up or down, measured
  along the straight path from a black image to the image (Sundararajan et al., 2017), with one
  plain-language sentence that reads the map.
- first_layer_weights, first_conv_filters, feature_maps: what the first layer looks for, and what
  each convolution block sees in one image.

Everything built per model (sub-models, compiled functions) is cached with a weak key, so a
dropped model frees its entry; the compiled functions read the model's variables, so they
follow later training of the same model object.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# Steps of integrated gradients (the path has steps + 1 images, both ends included). With 48
# the attributions add up to the score change within 4% (median 0.5%) for the bundled CNN on
# 200 MNIST test digits (tests/test_explain.py checks 5%); see path_alphas.
DEFAULT_STEPS = 48
# Share of the positive (or negative) mass that a part of the digit holds to be named outright.
MAJORITY_SHARE = 0.5
# A cell with at least this share, and this many times the runner-up's, has a clear lead.
LEAD_SHARE = 0.3
LEAD_RATIO = 1.5
# Negative mass below this fraction of the positive mass is "almost nothing against".
AGAINST_SMALL = 0.1
# Negative mass at least this fraction of the positive mass is named as counting against.
AGAINST_NAMED = 0.25
# Pixels at least this fraction of the brightest one are ink (they set the digit's box).
INK_LEVEL = 0.1
# Where a majority sits, on a 3x3 grid: (row band, column band) -> words; then whole bands.
CELL_WORDS = {
    (0, 0): "in the upper left", (0, 1): "at the top", (0, 2): "in the upper right",
    (1, 0): "on the left", (1, 1): "in the centre", (1, 2): "on the right",
    (2, 0): "in the lower left", (2, 1): "at the bottom", (2, 2): "in the lower right",
}
ROW_WORDS = ("along the top", "across the middle", "along the bottom")
COLUMN_WORDS = ("down the left side", "down the middle", "down the right side")

# Explanations remembered per model (explain_cached): enough for every class of a few images.
REMEMBERED = 64

# model -> {"scores": ..., "ig": ..., "features": ..., "remembered": ...}; weak keys so a dropped
# model frees its entry.
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_REMEMBER_LOCK = threading.Lock()


@dataclass(frozen=True)
class Explanation:
    """Integrated-gradients attributions of one image for one class, and a sentence reading them."""

    target: int
    class_name: str
    attributions: np.ndarray  # (H, W) float32, in units of the class score; sums to ~score_delta
    score: float  # class score (logit) of the image
    baseline_score: float  # class score of the all-black image
    sentence: str

    @property
    def score_delta(self) -> float:
        """How much the image raised the class score over a black image."""
        return self.score - self.baseline_score

    @property
    def completeness_error(self) -> float:
        """|sum(attributions) - score_delta| relative to |score_delta| (0 is exact)."""
        gap = abs(float(self.attributions.sum(dtype=np.float64)) - self.score_delta)
        return gap / max(abs(self.score_delta), 1e-6)


# ---------------------------------------------------------------------------------------------
# Per-model cache


def cached_part(model: Any, key: str, build: Callable[[Any], Any]) -> Any:
    """The cached build(model) stored under `key` for this model object (built on first use)."""
    try:
        parts = _CACHE.get(model)
        if parts is None:
            parts = _CACHE[model] = {}
    except TypeError:  # not weak-referenceable: no caching
        return build(model)
    if key not in parts:
        # Two sessions racing here just build it twice; the last one is kept.
        parts[key] = build(model)
    return parts[key]


def compile_call(function: Callable) -> Callable:
    """function, graph-compiled on TensorFlow (one trace per input signature); as is elsewhere."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return function
    import tensorflow as tf

    return tf.function(function, reduce_retracing=True, autograph=False)


# ---------------------------------------------------------------------------------------------
# Class scores (logits)


def producer_of(tensor: Any) -> tuple[Any, Any]:
    """(layer that made a symbolic tensor, that layer's first input tensor)."""
    layer, node_index, _ = tensor._keras_history
    node = layer._inbound_nodes[node_index]
    return layer, node.input_tensors[0]


def activation_name(layer: Any) -> str:
    """'softmax', 'relu', ... for a layer with an `activation`; '' otherwise."""
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", "") if callable(activation) else ""


def find_softmax(model: Any) -> tuple[str, Any, Any] | None:
    """How the model's output applies its final softmax: (kind, layer, tensor before it), or None.

    kind is "dense" for a Dense layer with activation softmax (its input is the tensor), or
    "layer" for a separate Softmax / Activation("softmax") layer (its input holds the logits).
    """
    import keras

    try:
        layer, before = producer_of(model.outputs[0])
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    if isinstance(layer, keras.layers.Dense) and activation_name(layer) == "softmax":
        return "dense", layer, before
    if isinstance(layer, keras.layers.Softmax) or (
        isinstance(layer, keras.layers.Activation) and activation_name(layer) == "softmax"
    ):
        return "layer", layer, before
    return None


def build_class_scores(model: Any) -> Callable[[Any], Any]:
    """The uncached class_scores(model): a compiled batch (N, H, W, 1) -> logits (N, C)."""
    import keras
    from keras import ops

    found = find_softmax(model)
    if found is None:
        # No softmax to undo: log-probabilities differ from the logits by one constant per
        # image, so they explain the same way and never saturate like the probabilities do.
        model_ref = weakref.ref(model)

        def scores(batch: Any) -> Any:
            probabilities = model_ref()(batch, training=False)
            return ops.log(ops.maximum(probabilities, 1e-30))

        return compile_call(scores)

    kind, layer, before = found
    # The model up to the softmax's input; it shares the model's layers (not the model itself).
    inputs = model.inputs
    head = keras.Model(inputs, before, name=f"{model.name}_logits")

    if kind == "layer":
        def scores(batch: Any) -> Any:
            return head(batch, training=False)
    else:
        def scores(batch: Any) -> Any:
            features = head(batch, training=False)  # (N, units of the layer before)
            logits = ops.matmul(features, layer.kernel)  # (N, C)
            return logits + layer.bias if layer.use_bias else logits

    return compile_call(scores)


def class_scores(model: Any) -> Callable[[Any], Any]:
    """A callable giving the pre-softmax class scores: batch (N, H, W, 1) float32 -> (N, C) tensor.

    Works for functional and Sequential models whose last layer is a Dense with softmax or a
    separate Softmax / Activation("softmax") layer; otherwise it gives log-probabilities.
    softmax(class_scores(model)(x)) equals model.predict(x). Cached per model (weakly); always
    runs in inference mode (batch norm uses its moving statistics, dropout is off).
    """
    return cached_part(model, "scores", build_class_scores)


# ---------------------------------------------------------------------------------------------
# Integrated gradients


def build_path_gradients(model: Any) -> Callable[..., Any]:
    """Compiled (image (H, W, 1), target, alphas (S,), weights (S,)) -> (attributions, scores (S,))."""
    import tensorflow as tf

    scores = class_scores(model)

    @tf.function(reduce_retracing=True, autograph=False)
    def path_gradients(image: tf.Tensor, target: tf.Tensor, alphas: tf.Tensor, weights: tf.Tensor):
        path = alphas[:, None, None, None] * image[None]  # (S, H, W, 1): black -> image
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(path)
            picked = tf.gather(scores(path), target, axis=1)  # (S,) score of the target class
        gradients = tape.gradient(picked, path)  # (S, H, W, 1)
        mean_gradient = tf.tensordot(weights, gradients, axes=1)  # (H, W, 1) path average
        return image * mean_gradient, picked

    return path_gradients


def input_shape_of(model: Any) -> tuple[int, ...]:
    """The model's input shape without the batch axis, e.g. (28, 28, 1)."""
    return tuple(int(d) for d in model.inputs[0].shape[1:])


def path_alphas(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Path positions (steps + 1,) in 0..1, both ends included, and their trapezoid weights.

    The positions are spaced quadratically, denser near the black end: there the class score
    climbs steeply (ReLUs and batch norm switch on), and a uniform grid needs twice the steps
    for the same accuracy (bundled CNN, 200 MNIST test digits: 32 uniform steps miss the score
    change by up to 20%, 32 quadratic ones by up to 5%, 48 by up to 4%).
    """
    t = np.linspace(0.0, 1.0, max(1, int(steps)) + 1)
    alphas = t**2
    gaps = np.diff(alphas)
    weights = np.zeros_like(alphas)
    weights[:-1] += gaps / 2
    weights[1:] += gaps / 2
    return alphas.astype(np.float32), weights.astype(np.float32)


def run_integrated_gradients(
    model: Any, image: np.ndarray, target: int, steps: int
) -> tuple[np.ndarray, float, float]:
    """(attributions (H, W) float32, score of the image, score of the black image)."""
    import keras

    shape = input_shape_of(model)
    x = np.asarray(image, dtype=np.float32).reshape(shape)  # (H, W) or (H, W, 1) -> (H, W, 1)
    alphas, weights = path_alphas(steps)
    call = cached_part(model, "ig", build_path_gradients)
    attributions, picked = call(x, np.int32(target), alphas, weights)
    attributions = keras.ops.convert_to_numpy(attributions).reshape(shape[0], shape[1], -1).sum(axis=-1)
    picked = keras.ops.convert_to_numpy(picked)
    return attributions.astype(np.float32), float(picked[-1]), float(picked[0])


def integrated_gradients(model: Any, image: np.ndarray, target: int, steps: int = DEFAULT_STEPS) -> np.ndarray:
    """Attributions (H, W) float32 of class `target` for one image (H, W, 1) float32 in 0..1.

    Baseline: the black image. The whole path (steps + 1 images) goes through the network in
    one batched forward and backward pass; the trapezoid rule averages the gradients (path_alphas). The
    attributions add up to score(image) - score(black) of the class score (logit), so a pixel's
    value says how much it raised (> 0) or lowered (< 0) that score. Black pixels get 0.
    """
    return run_integrated_gradients(model, image, target, steps)[0]


# ---------------------------------------------------------------------------------------------
# The sentence


def ink_box(image: np.ndarray | None, attributions: np.ndarray) -> tuple[slice, slice]:
    """Rows and columns of the digit's bounding box: the ink of the image, else the non-zero map."""
    mask = None
    if image is not None:
        ink = np.asarray(image, dtype=np.float64).reshape(attributions.shape)
        mask = ink > INK_LEVEL * max(float(ink.max()), 1e-12)
    if mask is None or not mask.any():
        mask = attributions != 0
    if not mask.any():
        return slice(None), slice(None)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def band_edges(size: int) -> list[int]:
    """Edges of three bands along an axis: 8 -> [0, 3, 5, 8], 20 -> [0, 7, 13, 20]."""
    return [round(size * k / 3) for k in range(4)]


def region_sums(values: np.ndarray) -> np.ndarray:
    """Sums (3, 3) of an (h, w) array over each cell of a 3x3 grid (thirds of rows and columns)."""
    rows, cols = band_edges(values.shape[0]), band_edges(values.shape[1])
    return np.array([
        [values[rows[i]:rows[i + 1], cols[j]:cols[j + 1]].sum() for j in range(3)] for i in range(3)
    ], dtype=np.float64)


def locate_mass(cells: np.ndarray) -> str | None:
    """Words for where a non-negative mass on a 3x3 grid (3, 3) is; None when it is spread out.

    In this order: a cell holding more than half ("in the upper right"); a row or column band
    holding more than half ("along the bottom"); a cell with a clear lead (at least LEAD_SHARE,
    and LEAD_RATIO times the runner-up). Otherwise no one place counted most.
    """
    shares = cells / max(float(cells.sum()), 1e-300)
    row, col = (int(i) for i in np.unravel_index(int(np.argmax(shares)), shares.shape))
    if shares[row, col] > MAJORITY_SHARE:
        return CELL_WORDS[(row, col)]
    rows, cols = shares.sum(axis=1), shares.sum(axis=0)
    if max(rows.max(), cols.max()) > MAJORITY_SHARE:
        if rows.max() >= cols.max():
            return ROW_WORDS[int(np.argmax(rows))]
        return COLUMN_WORDS[int(np.argmax(cols))]
    runner_up = np.sort(shares, axis=None)[-2]
    if shares[row, col] >= LEAD_SHARE and shares[row, col] >= LEAD_RATIO * runner_up:
        return CELL_WORDS[(row, col)]
    return None


def describe_attributions(attributions: np.ndarray, class_name: str, image: np.ndarray | None = None) -> str:
    """One plain sentence reading an attribution map (H, W) for class `class_name`.

    Places are the cells of a 3x3 grid over the digit (the ink's bounding box in `image`, else
    the non-zero map), so "at the top" means the top of the digit ("ink": the bright pixels).
    Each cell's attributions are summed first: integrated gradients speckle pixel by pixel,
    and what a cell does on balance is the robust reading. The words rest only on the shares
    of the cells' positive (and negative) sums, see locate_mass; the part against the class is
    placed when it is at least a quarter of the part for it, called "a little" below that, and
    "no part" under a tenth.
    """
    attributions = np.nan_to_num(np.asarray(attributions, dtype=np.float64))
    rows, cols = ink_box(image, attributions)
    cells = region_sums(attributions[rows, cols])  # (3, 3) over the digit's bounding box
    positive, negative = np.maximum(cells, 0), np.maximum(-cells, 0)
    pos_total, neg_total = positive.sum(), negative.sum()
    if pos_total + neg_total <= 1e-12 * max(np.abs(attributions).sum(), 1.0):
        if np.abs(attributions).sum() <= 1e-12:
            return f"Nothing in this image counted for or against {class_name}."
        return f"The parts of this image that counted for and against {class_name} cancel out."
    if pos_total <= AGAINST_SMALL * neg_total:
        where = locate_mass(negative)
        place = f"the ink {where}" if where else "ink all over the image"
        return f"Almost nothing counted for {class_name}; {place} counted against it."
    where = locate_mass(positive)
    if where:
        first = f"The ink {where} counted most for {class_name}"
    else:
        first = f"Ink all over the image counted for {class_name}, no one part most"
    if neg_total < AGAINST_SMALL * pos_total:
        return f"{first}; on balance no part of the image counted against it."
    if neg_total < AGAINST_NAMED * pos_total:
        return f"{first}; a little ink counted against it."
    against = locate_mass(negative)
    if against is None:
        return f"{first}; ink in several places counted against it."
    return f"{first}; the ink {against} counted against it."


def explain(
    model: Any,
    image: np.ndarray,
    target: int,
    class_names: Sequence[str] | None = None,
    steps: int = DEFAULT_STEPS,
) -> Explanation:
    """Integrated gradients of class `target` for one image (H, W, 1) in 0..1, and a sentence.

    class_names maps class indices to the words the sentence uses ("7", "Ankle boot");
    without it the index is used.
    """
    attributions, score, baseline = run_integrated_gradients(model, image, target, steps)
    name = str(class_names[target]) if class_names is not None else str(target)
    return Explanation(
        target=int(target), class_name=name, attributions=attributions, score=score,
        baseline_score=baseline, sentence=describe_attributions(attributions, name, image),
    )


def training_steps(model: Any) -> int:
    """How many optimizer steps the model has taken (0 when it has no optimizer): its weights' version."""
    iterations = getattr(getattr(model, "optimizer", None), "iterations", None)
    try:
        return int(iterations) if iterations is not None else 0
    except (TypeError, ValueError):
        return 0


def explain_cached(
    model: Any,
    image: np.ndarray,
    target: int,
    class_names: Sequence[str] | None = None,
    steps: int = DEFAULT_STEPS,
) -> Explanation:
    """explain(...), remembered per model for the last REMEMBERED (image, class) pairs.

    For pages that rerun often with the same image (the Draw page after every widget change,
    the Evaluate page's "Look closer"): a repeat costs a dictionary look-up. Shared by every
    session holding the same model object (the bundled one); the answers are the same for all.
    Training the model further (its optimizer's step count) starts afresh; weights set by hand
    with set_weights are not noticed: call explain() then.
    """
    x = np.ascontiguousarray(image, dtype=np.float32)
    names = tuple(str(n) for n in class_names) if class_names is not None else None
    key = (x.shape, x.tobytes(), int(target), names, int(steps), training_steps(model))
    remembered = cached_part(model, "remembered", lambda _: OrderedDict())
    with _REMEMBER_LOCK:
        found = remembered.get(key)
        if found is not None:
            remembered.move_to_end(key)
            return found
    explanation = explain(model, x, target, class_names=names, steps=steps)
    with _REMEMBER_LOCK:
        remembered[key] = explanation
        while len(remembered) > REMEMBERED:
            remembered.popitem(last=False)
    return explanation


# ---------------------------------------------------------------------------------------------
# Inside the network


def top_layers(model: Any) -> list:
    """The model's layers in order (functional models include the InputLayer; nested models stay whole)."""
    return list(getattr(model, "layers", []))


def is_conv(layer: Any) -> bool:
    """True for 2-D convolution layers (plain, separable or depthwise)."""
    import keras

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
    import keras

    shape = input_shape_of(model)  # (H, W, 1)
    empty = np.zeros((0, shape[0], shape[1]), dtype=np.float32), []
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
    import keras

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
    import keras

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
    import keras

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
    import keras

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

"""Why did the network say that? Class scores, integrated gradients, and a look inside the network.

Compute here, draw in core.figures.explain. No Streamlit, and Keras / TensorFlow are imported
inside the functions that need them (like core.data.drawing), so importing this module stays cheap.

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

from core.analysis.explain.sentence import describe_attributions

# Steps of integrated gradients (the path has steps + 1 images, both ends included). With 48
# the attributions add up to the score change within 4% (median 0.5%) for the bundled CNN on
# 200 MNIST test digits (tests/core/analysis/test_explain.py checks 5%); see path_alphas.
DEFAULT_STEPS = 48


# Explanations remembered per model (explain(..., remember=True)): enough for every class of a few images.
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
    import keras  # light: the Draw page opens before any prediction

    if keras.backend.backend() != "tensorflow":
        return function
    import tensorflow as tf  # light: the Draw page opens before any prediction

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
    import keras  # light: the Draw page opens before any prediction

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
    import keras  # light: the Draw page opens before any prediction
    from keras import ops  # light: the Draw page opens before any prediction

    found = find_softmax(model)
    if found is None:
        # No softmax to undo: log-probabilities differ from the logits by one constant per
        # image, so they explain the same way and never saturate like the probabilities do.
        model_ref: Callable[[], Any] = weakref.ref(model)  # never None in a call: the caller holds the model

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
    import tensorflow as tf  # light: the Draw page opens before any prediction

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
    import keras  # light: the Draw page opens before any prediction

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


def explain(
    model: Any,
    image: np.ndarray,
    target: int,
    class_names: Sequence[str] | None = None,
    steps: int = DEFAULT_STEPS,
    remember: bool = False,
) -> Explanation:
    """Integrated gradients of class `target` for one image (H, W, 1) in 0..1, and a sentence.

    class_names maps class indices to the words the sentence uses ("7", "Ankle boot");
    without it the index is used. remember=True: see remembered_explanation.
    """
    if remember:
        return remembered_explanation(model, image, target, class_names, steps)
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


def remembered_explanation(model: Any, image: np.ndarray, target: int, class_names: Sequence[str] | None,
                           steps: int) -> Explanation:
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

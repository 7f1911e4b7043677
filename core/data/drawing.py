"""Turn a canvas drawing into a model-ready image and classify it.

Pure numpy/Pillow; no Streamlit and no TensorFlow import at module level.

Two preprocessing recipes, chosen by the model's input size:
- MNIST-like (side >= 16, e.g. 28x28): crop to the ink, fit into a 20x20 box
  (20/28 of the side) keeping the aspect ratio, then place it so the centre of
  mass is at the centre of the frame -- what LeCun et al. did for MNIST.
- Digits-like (side < 16, e.g. 8x8, the UCI/scikit-learn set): crop to the ink,
  fit the longer side to the whole frame at 4x resolution (32x32 for 8x8),
  centre the box, thicken the strokes like the UCI pens, binarise and average
  4x4 blocks (the UCI counts "on" pixels per 4x4 block, 0..16; the app divides
  by 16, so our block fractions k/16 are on the same scale).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

# The Draw page's canvas (px). A digit ~200 px tall is shrunk to 20 px for MNIST, so a
# 22 px stroke becomes ~2.2 px: the thickness of a typical MNIST pen stroke.
CANVAS_SIZE = 280
STROKE_WIDTH = 22

# A pixel is ink when it is at least this bright (0..255); lower is anti-alias haze.
INK_THRESHOLD = 8
# Fewer ink pixels than this (canvas pixels) is an empty canvas, e.g. a stray click.
MIN_INK_PIXELS = 10
# MNIST fits the digit into a 20x20 box inside the 28x28 frame.
MNIST_BOX_FRACTION = 20 / 28
# Frames smaller than this use the Digits (block-average) recipe.
SMALL_FRAME_SIDE = 16
# The UCI Digits bitmaps are 4x the final resolution (32x32 -> 8x8).
DIGITS_BLOCK = 4

# model -> compiled forward pass; weak keys so a dropped model frees its entry.
_FAST_CALLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def extract_ink(rgba: np.ndarray) -> np.ndarray:
    """Return the ink intensity (H, W) float32 in 0..255 of a canvas image.

    Accepts (H, W, 4) RGBA, (H, W, 3) RGB or (H, W) grey. When the image uses
    transparency (any alpha < 255) the strokes are wherever alpha is, whatever
    their colour ("white on transparent"); otherwise the ink is the luminance
    ("white on opaque black").
    """
    image = np.asarray(rgba)
    if image.ndim == 2:
        return image.astype(np.float32)
    rgb = image[..., :3].astype(np.float32)
    luminance = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # (H, W)
    if image.shape[-1] < 4:
        return luminance
    alpha = image[..., 3].astype(np.float32)
    if alpha.min() >= 255:
        return luminance
    # Premultiplied luminance keeps white strokes; alpha alone keeps coloured ones.
    return np.maximum(luminance * (alpha / 255.0), alpha)


def center_of_mass(image: np.ndarray) -> tuple[float, float]:
    """Intensity-weighted (row, col) centre of a 2-D image; the frame centre if it is blank."""
    image = np.asarray(image, dtype=np.float64)
    total = image.sum()
    if total <= 0:
        return (image.shape[0] - 1) / 2, (image.shape[1] - 1) / 2
    rows = np.arange(image.shape[0])
    cols = np.arange(image.shape[1])
    return float(image.sum(axis=1) @ rows / total), float(image.sum(axis=0) @ cols / total)


def crop_to_ink(ink: np.ndarray) -> np.ndarray | None:
    """Crop (H, W) ink to its bounding box; None when there is (almost) no ink."""
    mask = ink >= INK_THRESHOLD
    if np.count_nonzero(mask) < MIN_INK_PIXELS:
        return None
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def fit_into_box(crop: np.ndarray, box_side: int) -> Image.Image:
    """Scale the crop so its longer side is box_side, keeping the aspect ratio.

    Returns an anti-aliased 8-bit greyscale image; the shorter side is at least
    1 px so a thin "1" or a dot never collapses to nothing.
    """
    height, width = crop.shape
    scale = box_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))  # PIL: (w, h)
    # Stretch contrast so the darkest stroke pixel is full white (MNIST ink is 255).
    peak = float(crop.max())
    grey = np.clip(crop * (255.0 / peak), 0, 255).astype(np.uint8)
    return Image.fromarray(grey).resize(size, Image.Resampling.LANCZOS)


def place_at(glyph: np.ndarray, frame: tuple[int, int], top: int, left: int) -> np.ndarray:
    """Paste a (gh, gw) glyph into a black (h, w) frame with its top-left corner at (top, left).

    Whole-pixel placement keeps the glyph sharp (a subpixel shift would blur it).
    The caller keeps the glyph inside the frame.
    """
    placed = np.zeros(frame, dtype=np.float32)
    placed[top : top + glyph.shape[0], left : left + glyph.shape[1]] = glyph
    return placed


def preprocess_mnist_like(crop: np.ndarray, frame: tuple[int, int]) -> np.ndarray:
    """Fit into the 20/28 box and centre the centre of mass: (h, w) float32 in 0..1."""
    frame_h, frame_w = frame
    box_side = max(1, round(min(frame_h, frame_w) * MNIST_BOX_FRACTION))
    glyph = np.asarray(fit_into_box(crop, box_side), dtype=np.float32)  # (gh, gw) 0..255
    # Thin pens fade when shrunk; MNIST strokes always peak at full white.
    glyph /= max(float(glyph.max()), 1.0)
    com_row, com_col = center_of_mass(glyph)
    # Put the glyph's centre of mass at the frame centre ((14, 14) for 28x28, where
    # MNIST's is), to the nearest pixel, never pushing the glyph out of the frame.
    top = int(np.clip(round(frame_h / 2 - com_row), 0, frame_h - glyph.shape[0]))
    left = int(np.clip(round(frame_w / 2 - com_col), 0, frame_w - glyph.shape[1]))
    return place_at(glyph, frame, top, left)


def preprocess_digits_like(crop: np.ndarray, frame: tuple[int, int]) -> np.ndarray:
    """Fit into the frame at 4x, centre the box, thicken, binarise, block-average: (h, w) 0..1."""
    frame_h, frame_w = frame
    big_h, big_w = frame_h * DIGITS_BLOCK, frame_w * DIGITS_BLOCK  # (32, 32) for 8x8
    # Leave a 1 px margin for the thickening below, so the digit still touches the
    # top and bottom rows like the UCI bitmaps do.
    glyph = np.asarray(fit_into_box(crop, max(1, min(big_h, big_w) - 2)), dtype=np.float32)
    glyph *= 255.0 / max(float(glyph.max()), 1.0)  # thin pens fade when shrunk
    # Centre the bounding box, like the UCI bitmaps (rounding down when odd).
    top = (big_h - glyph.shape[0]) // 2
    left = (big_w - glyph.shape[1]) // 2
    big = np.zeros((big_h, big_w), dtype=np.uint8)
    big[top : top + glyph.shape[0], left : left + glyph.shape[1]] = glyph.astype(np.uint8)
    # UCI pens are thicker than the canvas pen: grow strokes by 1 px each side. With
    # the binarising below this matches the UCI ink per image (about 20 of 64 blocks).
    thick = Image.fromarray(big).filter(ImageFilter.MaxFilter(3))
    on = (np.asarray(thick) >= 128).astype(np.float32)  # (32, 32) binary, as in the UCI bitmaps
    # (32, 32) -> (8, 4, 8, 4) -> fraction of "on" pixels per 4x4 block -> (8, 8)
    blocks = on.reshape(frame_h, DIGITS_BLOCK, frame_w, DIGITS_BLOCK)
    return blocks.mean(axis=(1, 3)).astype(np.float32)


def preprocess_drawing(rgba: np.ndarray, input_shape: tuple[int, int]) -> np.ndarray | None:
    """Canvas image (H, W, 4) uint8 -> model-ready (h, w) float32 in 0..1, or None if empty.

    input_shape is the model's (h, w), e.g. model.input_shape[1:3]. The canvas has
    white strokes on black (opaque) or on transparent; see extract_ink.
    """
    frame = (int(input_shape[0]), int(input_shape[1]))
    crop = crop_to_ink(extract_ink(rgba))
    if crop is None:
        return None
    if min(frame) < SMALL_FRAME_SIDE:
        image = preprocess_digits_like(crop, frame)
    else:
        image = preprocess_mnist_like(crop, frame)
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def build_fast_call(model: Any) -> Callable[[np.ndarray], Any]:
    """A forward pass model(batch, training=False), graph-compiled on TensorFlow.

    Eager Keras runs layer by layer (~10 ms for the default CNN on 2 CPU cores);
    the tf.function runs the same call in ~1 ms after a one-off trace (~0.3 s).
    It holds only a weak reference, so caching it never keeps a model alive, and it
    reads the model's variables, so it follows later training of the same model.
    """
    import keras  # lazy: keeps TensorFlow out of pages that never predict

    model_ref: Callable[[], Any] = weakref.ref(model)  # never None in a call: the caller holds the model
    if keras.backend.backend() != "tensorflow":
        return lambda batch: model_ref()(batch, training=False)
    import tensorflow as tf  # light path: the home page imports this module

    @tf.function(reduce_retracing=True, autograph=False)
    def call(batch: tf.Tensor) -> tf.Tensor:
        return model_ref()(batch, training=False)

    return call


def get_fast_call(model: Any) -> Callable[[np.ndarray], Any]:
    """The cached build_fast_call(model) for this model object."""
    try:
        call = _FAST_CALLS.get(model)
    except TypeError:  # not hashable / weak-referenceable: no caching
        return build_fast_call(model)
    if call is None:
        # Two sessions racing here just build it twice; the last one is kept.
        call = _FAST_CALLS[model] = build_fast_call(model)
    return call


def predict_drawing(model: Any, image: np.ndarray) -> np.ndarray:
    """Class probabilities (C,) float32 for one preprocessed (h, w) image.

    Calls the model directly (through a cached tf.function, see build_fast_call),
    never model.predict, which costs tens of ms of set-up per call.
    """
    import keras  # light path: the home page imports this module

    batch = np.asarray(image, dtype=np.float32)[None, ..., None]  # (h, w) -> (1, h, w, 1)
    probabilities = get_fast_call(model)(batch)
    return np.asarray(keras.ops.convert_to_numpy(probabilities), dtype=np.float32)[0]

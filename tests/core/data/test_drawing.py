"""Tests of canvas preprocessing (core.data.drawing) and of the bundled default model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.data.drawing import center_of_mass, predict_drawing, preprocess_drawing
from tests.harness.drawings import (
    CANVAS_SIZE,
    STROKE_WIDTH,
    make_drawings,
    render_drawing,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
MNIST_NPZ = REPO_ROOT / "data" / "mnist-sample.npz"  # ships with the app: the whole official test set

# A "3" drawn as one stroke in a 100x160 box whose top-left corner is (0, 0).
THREE = [[(10, 20), (50, 0), (90, 20), (80, 60), (40, 80), (90, 100), (95, 140), (50, 160), (5, 140)]]


def shifted(strokes: list, dx: float, dy: float, scale: float = 1.0) -> list:
    """Scale strokes about (0, 0) and move them by (dx, dy) canvas pixels."""
    return [[(x * scale + dx, y * scale + dy) for x, y in stroke] for stroke in strokes]


def ink_bbox(image: np.ndarray) -> tuple[int, int]:
    """(height, width) of the bounding box of the non-zero pixels."""
    rows = np.flatnonzero(image.max(axis=1) > 0)
    cols = np.flatnonzero(image.max(axis=0) > 0)
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def assert_mnist_like(image: np.ndarray | None) -> None:
    """28x28 float32 in 0..1, centre of mass at (14, 14), longer bbox side 20 px."""
    assert image is not None
    assert image.shape == (28, 28)
    assert image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert image.max() > 0.5
    row, col = center_of_mass(image)
    assert abs(row - 14) <= 1.0 and abs(col - 14) <= 1.0
    assert max(ink_bbox(image)) == 20


@pytest.mark.parametrize(
    ("name", "strokes", "width"),
    [
        ("off-centre top-left", shifted(THREE, 15, 15), STROKE_WIDTH),
        ("off-centre bottom-right", shifted(THREE, 170, 100), STROKE_WIDTH),
        ("tiny", shifted(THREE, 200, 30, scale=0.2), 6),
        ("huge", shifted(THREE, 30, 5, scale=1.65), STROKE_WIDTH),
        ("thin pen", shifted(THREE, 60, 50), 3),
        ("thick pen", shifted(THREE, 60, 50), 45),
    ],
)
def test_preprocess_centres_and_scales_like_mnist(name: str, strokes: list, width: int) -> None:
    """Wherever and however big the digit is drawn, it ends up MNIST-framed."""
    canvas = render_drawing(strokes, stroke_width=width)
    assert_mnist_like(preprocess_drawing(canvas, (28, 28)))


def test_thin_one_keeps_its_aspect_ratio() -> None:
    """A vertical "1" fills the 20 px height but stays narrow (no stretching, no crash)."""
    canvas = render_drawing([[(200, 40), (200, 250)]], stroke_width=STROKE_WIDTH)
    image = preprocess_drawing(canvas, (28, 28))
    assert_mnist_like(image)
    height, width = ink_bbox(image)
    assert height == 20 and width <= 5


def test_hairline_one_does_not_vanish() -> None:
    """A 1 px wide line still gives a visible glyph at least 1 px wide."""
    canvas = np.zeros((CANVAS_SIZE, CANVAS_SIZE, 4), dtype=np.uint8)
    canvas[..., 3] = 255
    canvas[30:250, 100, :3] = 255
    image = preprocess_drawing(canvas, (28, 28))
    assert image is not None and image.max() > 0
    assert ink_bbox(image)[0] == 20


def test_transparent_background_matches_opaque_black() -> None:
    """White strokes on transparent give the same image as white strokes on black."""
    strokes = shifted(THREE, 40, 60)
    opaque = preprocess_drawing(render_drawing(strokes), (28, 28))
    clear = preprocess_drawing(render_drawing(strokes, transparent=True), (28, 28))
    np.testing.assert_allclose(opaque, clear, atol=1e-6)


def test_strokes_only_in_alpha_are_ink() -> None:
    """Black-RGB strokes that exist only in the alpha channel still count as ink."""
    canvas = render_drawing(shifted(THREE, 40, 60), transparent=True)
    alpha_only = canvas.copy()
    alpha_only[..., :3] = 0
    expected = preprocess_drawing(canvas, (28, 28))
    np.testing.assert_allclose(preprocess_drawing(alpha_only, (28, 28)), expected, atol=1e-6)


@pytest.mark.parametrize("transparent", [False, True])
def test_empty_canvas_gives_none(transparent: bool) -> None:
    """No ink at all: black opaque or fully transparent canvas."""
    canvas = render_drawing([], transparent=transparent)
    assert preprocess_drawing(canvas, (28, 28)) is None
    assert preprocess_drawing(canvas, (8, 8)) is None


def test_negligible_ink_gives_none() -> None:
    """A couple of stray pixels (or faint haze) is not a drawing."""
    canvas = render_drawing([])
    canvas[100, 100, :3] = 255
    canvas[150, 30, :3] = 255
    canvas[200:210, 200:210, :3] = 3  # below the ink threshold
    assert preprocess_drawing(canvas, (28, 28)) is None


def test_fully_transparent_zeros_gives_none() -> None:
    """All-zero RGBA (what an untouched transparent canvas returns)."""
    assert preprocess_drawing(np.zeros((280, 280, 4), dtype=np.uint8), (28, 28)) is None


def test_single_dot_does_not_crash() -> None:
    """One click makes a round dot: a centred blob, not an error."""
    canvas = render_drawing([[(60.0, 220.0)]])
    image = preprocess_drawing(canvas, (28, 28))
    assert image is not None and image.shape == (28, 28)
    row, col = center_of_mass(image)
    assert abs(row - 14) <= 1.0 and abs(col - 14) <= 1.0
    small = preprocess_drawing(canvas, (8, 8))
    assert small is not None and small.shape == (8, 8)


def test_fully_filled_canvas_does_not_crash() -> None:
    """An all-white canvas becomes a centred 20x20 square."""
    canvas = np.full((CANVAS_SIZE, CANVAS_SIZE, 4), 255, dtype=np.uint8)
    image = preprocess_drawing(canvas, (28, 28))
    assert_mnist_like(image)
    assert ink_bbox(image) == (20, 20)
    small = preprocess_drawing(canvas, (8, 8))
    assert small is not None and small.min() > 0.9


def test_rgb_and_grey_inputs_are_accepted() -> None:
    """Without an alpha channel the ink is the luminance."""
    canvas = render_drawing(shifted(THREE, 40, 60))
    expected = preprocess_drawing(canvas, (28, 28))
    np.testing.assert_allclose(preprocess_drawing(canvas[..., :3], (28, 28)), expected, atol=1e-6)
    np.testing.assert_allclose(preprocess_drawing(canvas[..., 0], (28, 28)), expected, atol=1e-6)


@pytest.mark.parametrize("offset", [(10, 10), (170, 110)])
def test_preprocess_for_8x8_digits(offset: tuple[int, int]) -> None:
    """8x8 target: float32 0..1, fills the frame's height, horizontally centred."""
    canvas = render_drawing(shifted(THREE, *offset))
    image = preprocess_drawing(canvas, (8, 8))
    assert image is not None
    assert image.shape == (8, 8) and image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() <= 1.0 and image.max() > 0.5
    height, width = ink_bbox(image)
    assert height == 8 and 4 <= width <= 8
    cols = np.flatnonzero(image.max(axis=0) > 0)
    assert abs((cols[0] + cols[-1]) / 2 - 3.5) <= 0.5


def test_8x8_thin_one_stays_narrow() -> None:
    """A "1" on the 8x8 grid is a narrow column, not a stretched block."""
    canvas = render_drawing([[(140, 40), (140, 250)]])
    image = preprocess_drawing(canvas, (8, 8))
    height, width = ink_bbox(image)
    assert height == 8 and width <= 3


def test_center_of_mass_of_blank_and_point() -> None:
    """Blank image -> frame centre (no division by zero); a point -> that point."""
    assert center_of_mass(np.zeros((28, 28))) == (13.5, 13.5)
    point = np.zeros((28, 28))
    point[3, 20] = 1
    assert center_of_mass(point) == (3.0, 20.0)


def test_drawings_are_deterministic_and_complete() -> None:
    """make_drawings gives 10 of each digit, the same every time for a seed."""
    drawings = make_drawings()
    assert [label for label, _ in drawings] == [d for d in range(10) for _ in range(10)]
    assert drawings == make_drawings(seed=0)
    assert drawings != make_drawings(seed=1)
    for _, strokes in drawings:
        assert 1 <= len(strokes) <= 3
        for stroke in strokes:
            assert all(0 <= x < CANVAS_SIZE and 0 <= y < CANVAS_SIZE for x, y in stroke)


def test_render_drawing_format() -> None:
    """render_drawing gives (size, size, 4) uint8 with white ink on opaque black."""
    _, strokes = make_drawings()[0]
    canvas = render_drawing(strokes)
    assert canvas.shape == (CANVAS_SIZE, CANVAS_SIZE, 4) and canvas.dtype == np.uint8
    assert set(np.unique(canvas[..., 3])) == {255}
    assert canvas[..., 0].max() == 255 and canvas[..., 0].min() == 0


# --- predict_drawing with a tiny seeded model ---------------------------------------


def make_tiny_model(side: int, classes: int):
    """A seeded (side, side, 1) -> softmax(classes) dense model."""
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input(shape=(side, side, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(classes, activation="softmax"),
        ]
    )


@pytest.mark.parametrize(("side", "classes"), [(28, 10), (8, 10), (28, 3)])
def test_predict_drawing_returns_probabilities(side: int, classes: int) -> None:
    """One image in, (C,) probabilities summing to 1 out."""
    model = make_tiny_model(side, classes)
    image = preprocess_drawing(render_drawing(shifted(THREE, 40, 60)), (side, side))
    probabilities = predict_drawing(model, image)
    assert probabilities.shape == (classes,)
    assert probabilities.dtype == np.float32
    assert np.all(probabilities >= 0)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    expected = np.asarray(model.predict(image[None, ..., None], verbose=0))[0]
    np.testing.assert_allclose(probabilities, expected, atol=1e-6)


def test_predict_drawing_follows_weight_changes() -> None:
    """The cached compiled call reads the live weights (e.g. after more training)."""
    model = make_tiny_model(28, 4)
    image = preprocess_drawing(render_drawing(shifted(THREE, 40, 60)), (28, 28))
    before = predict_drawing(model, image)
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    after = predict_drawing(model, image)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, np.full(4, 0.25), atol=1e-6)


def test_predict_drawing_does_not_keep_models_alive() -> None:
    """Caching the compiled call per model must not leak discarded models."""
    import gc
    import weakref

    model = make_tiny_model(8, 10)
    predict_drawing(model, np.zeros((8, 8), dtype=np.float32))
    model_ref = weakref.ref(model)
    del model
    gc.collect()
    assert model_ref() is None


# --- the bundled default model -------------------------------------------------------


@pytest.fixture(scope="module")
def default_model():
    """The bundled default model, or skip when its file is absent."""
    from core.model.default_model import DEFAULT_MODEL_PATH, load_default_model

    if not DEFAULT_MODEL_PATH.is_file():
        pytest.skip(f"default model missing: {DEFAULT_MODEL_PATH}")
    return load_default_model()


def test_default_model_file_and_shape(default_model) -> None:
    """Loads with safe_mode, (None, 28, 28, 1) -> 10 probabilities, file at most 2 MB."""
    from core.model.default_model import DEFAULT_MODEL_INFO, DEFAULT_MODEL_PATH

    assert DEFAULT_MODEL_PATH.stat().st_size <= 2 * 1024 * 1024
    assert tuple(default_model.input_shape) == (None, 28, 28, 1)
    assert tuple(default_model.output_shape) == (None, 10)
    assert DEFAULT_MODEL_INFO["dataset"] == "mnist"
    assert getattr(default_model, "optimizer", None) is None


def test_default_model_reads_plain_drawings(default_model) -> None:
    """At least 98 of the 100 synthetic canvas drawings are read correctly."""
    drawings = make_drawings()
    images = np.stack(
        [preprocess_drawing(render_drawing(strokes), (28, 28)) for _, strokes in drawings]
    )
    labels = np.array([label for label, _ in drawings])
    predicted = np.asarray(default_model(images[..., None], training=False)).argmax(axis=1)
    wrong = [(int(t), int(p)) for t, p in zip(labels, predicted) if t != p]
    assert len(wrong) <= 2, f"misread (true, predicted): {wrong}"


def test_default_model_mnist_test_accuracy(default_model) -> None:
    """At least 99.0% on the official MNIST test set."""
    with np.load(MNIST_NPZ) as data:
        x_test, y_test = data["x_test"], data["y_test"]
    x = (x_test.astype(np.float32) / 255.0)[..., None]  # (N, 28, 28) uint8 -> (N, 28, 28, 1)
    probabilities = np.concatenate(
        [np.asarray(default_model(x[i : i + 1000], training=False)) for i in range(0, len(x), 1000)]
    )
    accuracy = float((probabilities.argmax(axis=1) == y_test).mean())
    assert accuracy >= 0.99, f"MNIST test accuracy {accuracy:.4f}"

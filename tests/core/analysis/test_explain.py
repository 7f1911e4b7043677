"""Tests of the explanations (core.analysis.explain.attribution) and their images (core.figures.explain)."""

from __future__ import annotations

import gc
import weakref

import keras
import numpy as np
import pytest

from core.analysis.explain.attribution import class_scores, explain, integrated_gradients
from core.analysis.explain.inside import feature_maps, first_conv_filters, first_layer_weights
from core.analysis.explain.sentence import describe_attributions
from core.data.datasets import get_info, load_dataset, load_test_set, to_model_input
from core.data.drawing import preprocess_drawing
from core.figures.explain import (
    NEGATIVE_RGB,
    POSITIVE_RGB,
    framed,
    legend_html,
    render_attribution,
    render_feature_maps,
    render_filters,
    render_weight_grid,
)
from core.i18n import translate
from core.model.default_model import load_default_model
from core.model.network import build_model
from core.model.spec import NetworkSpec, TrainSpec
from tests.harness.drawings import make_drawings, render_drawing

DIGIT_NAMES = get_info("digits").class_names
TOLERANCE = 0.05  # completeness: |sum(attr) - score change| <= 5% of the score change


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (N, C) scores."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def scores_of(model, x: np.ndarray) -> np.ndarray:
    """class_scores(model) of a batch, as numpy."""
    return np.asarray(class_scores(model)(np.asarray(x, dtype=np.float32)))


def train_digits(network: NetworkSpec, epochs: int = 8):
    """An app-built model trained for a few seconds on Digits (seeded)."""
    spec = TrainSpec(dataset="digits", network=network, optimizer="adam", learning_rate=0.01,
                     batch_size=32, epochs=epochs, seed=0)
    data = load_dataset("digits")
    model = build_model(spec)
    model.fit(to_model_input(data.x_train, data.info), data.y_train, epochs=epochs, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="module")
def digits_model():
    """A 64-32-10 ReLU network trained on Digits for a few seconds."""
    return train_digits(NetworkSpec(hidden_layers=(32,)))


@pytest.fixture(scope="module")
def digits_test():
    """The first 20 Digits test images (20, 8, 8, 1) float32 and labels."""
    x_test, y_test = load_test_set("digits")
    return to_model_input(x_test[:20], get_info("digits")), y_test[:20]


@pytest.fixture(scope="module")
def cnn():
    """The bundled default CNN (batch norm, two conv blocks)."""
    return load_default_model()


def assert_complete(model, images: np.ndarray, targets) -> None:
    """Attributions add up to the class score change from black, within TOLERANCE, for each image."""
    for image, target in zip(images, targets, strict=True):
        result = explain(model, image, int(target))
        assert result.attributions.shape == image.shape[:2]
        assert result.attributions.dtype == np.float32
        assert abs(result.score_delta) > 1.0, "the test needs images that change the score"
        assert result.completeness_error <= TOLERANCE, (int(target), result.completeness_error)


# ---------------------------------------------------------------------------------------------
# Completeness


def test_completeness_on_a_trained_digits_model(digits_model, digits_test):
    images, labels = digits_test
    assert_complete(digits_model, images, labels)


def test_completeness_on_the_bundled_cnn_with_real_mnist(cnn, mnist_sample):
    x_test, y_test = load_test_set("mnist")
    images = to_model_input(x_test[:20], get_info("mnist"))
    assert_complete(cnn, images, y_test[:20])


def test_completeness_on_the_bundled_cnn_with_drawn_digits(cnn):
    drawings = make_drawings(seed=0)[::10]  # one of each digit
    images = np.stack([preprocess_drawing(render_drawing(strokes), (28, 28)) for _, strokes in drawings])
    assert_complete(cnn, images[..., None], [label for label, _ in drawings])


def test_integrated_gradients_matches_explain_and_accepts_2d_images(digits_model, digits_test):
    image, label = digits_test[0][0], int(digits_test[1][0])
    attributions = integrated_gradients(digits_model, image[..., 0], label)
    np.testing.assert_allclose(attributions, explain(digits_model, image, label).attributions, rtol=1e-5, atol=1e-6)


def test_black_image_has_zero_attributions(digits_model):
    result = explain(digits_model, np.zeros((8, 8, 1), np.float32), 3, DIGIT_NAMES)
    assert not result.attributions.any()
    assert result.score_delta == pytest.approx(0.0, abs=1e-5)
    assert "3" in result.sentence


# ---------------------------------------------------------------------------------------------
# Sanity: the map follows the evidence, and the weights


def test_attributions_sit_where_the_label_is():
    # Only the left 3 columns tell the class (a fixed random pattern per class); the rest is noise.
    rng = np.random.default_rng(0)
    patterns = rng.random((10, 8, 3)) > 0.5  # (classes, rows, columns) on/off
    labels = rng.integers(0, 10, 3000)
    images = rng.random((3000, 8, 8)).astype(np.float32) * 0.6
    images[:, :, :3] = patterns[labels] * rng.uniform(0.7, 1.0, (3000, 1, 1))
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((8, 8, 1)), keras.layers.Flatten(),
        keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(images[..., None], labels, epochs=5, batch_size=64, verbose=0)
    assert model.evaluate(images[..., None], labels, verbose=0)[1] > 0.95

    left_shares = []
    for image, label in zip(images[:20], labels[:20], strict=True):
        result = explain(model, image[..., None], int(label), DIGIT_NAMES)
        positive = np.maximum(result.attributions, 0)
        left_shares.append(positive[:, :3].sum() / positive.sum())
        assert "left" in result.sentence, result.sentence
    assert np.mean(left_shares) > 0.7, left_shares


def test_new_weights_change_the_map_of_the_same_model(digits_model, digits_test):
    image, label = digits_test[0][1], int(digits_test[1][1])
    model = keras.models.clone_model(digits_model)
    model.set_weights(digits_model.get_weights())
    before = integrated_gradients(model, image, label)
    np.testing.assert_allclose(before, integrated_gradients(digits_model, image, label), rtol=1e-5, atol=1e-6)
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in model.get_weights()])
    after = integrated_gradients(model, image, label)  # the cached function reads the new weights
    correlation = np.corrcoef(before.ravel(), after.ravel())[0, 1]
    assert correlation < 0.5, correlation


def test_a_remembered_explanation_remembers_per_image_and_class_and_follows_training(digits_model, digits_test):
    (first, second), label = digits_test[0][:2], int(digits_test[1][0])
    model = keras.models.clone_model(digits_model)
    model.set_weights(digits_model.get_weights())
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    names = [str(d) for d in range(10)]
    found = explain(model, first, label, names, remember=True)
    assert explain(model, first.copy(), label, names, remember=True) is found  # same pixels: remembered
    np.testing.assert_allclose(found.attributions, explain(model, first, label, names).attributions, rtol=1e-5)
    assert explain(model, first, (label + 1) % 10, names, remember=True) is not found
    assert explain(model, second, label, names, remember=True) is not found
    model.fit(first[None], np.array([label]), epochs=1, verbose=0)  # a training step: new weights
    assert explain(model, first, label, names, remember=True) is not found


# ---------------------------------------------------------------------------------------------
# Class scores for every kind of model


def test_scores_are_the_logits_of_predict(digits_model, digits_test, cnn):
    images = digits_test[0]
    np.testing.assert_allclose(softmax(scores_of(digits_model, images)), digits_model.predict(images, verbose=0),
                               atol=1e-5)
    drawn = np.stack([preprocess_drawing(render_drawing(s), (28, 28)) for _, s in make_drawings(seed=2)[::10]])
    np.testing.assert_allclose(softmax(scores_of(cnn, drawn[..., None])), cnn.predict(drawn[..., None], verbose=0),
                               atol=1e-5)


def test_scores_undo_the_softmax_of_a_dense_layer(digits_model, digits_test):
    images = digits_test[0]
    head = keras.Model(digits_model.inputs, digits_model.get_layer("hidden_1").output)
    output = digits_model.get_layer("output")
    expected = head.predict(images, verbose=0) @ output.get_weights()[0] + output.get_weights()[1]
    np.testing.assert_allclose(scores_of(digits_model, images), expected, rtol=1e-4, atol=1e-4)


def sequential(last: list) -> keras.Sequential:
    """A small 8x8 Sequential network whose layers after the hidden one are `last`."""
    keras.utils.set_random_seed(3)
    return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(16, activation="relu"), *last])


@pytest.mark.parametrize("last", [
    lambda: [keras.layers.Dense(10, activation="softmax")],
    lambda: [keras.layers.Dense(10), keras.layers.Softmax()],
    lambda: [keras.layers.Dense(10), keras.layers.Activation("softmax")],
    lambda: [keras.layers.Dense(10, activation="softmax"), keras.layers.Identity()],  # log-probability
], ids=["dense-softmax", "softmax-layer", "activation-layer", "no-softmax-found"])
def test_sequential_models_saved_and_loaded(last, tmp_path, digits_test):
    images, labels = digits_test
    model = sequential(last())
    path = tmp_path / "uploaded.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    for m in (model, loaded):
        scores = scores_of(m, images)
        assert np.isfinite(scores).all()
        np.testing.assert_allclose(softmax(scores), m.predict(images, verbose=0), atol=1e-5)
        result = explain(m, images[0], int(labels[0]), DIGIT_NAMES)
        assert result.completeness_error <= TOLERANCE
    np.testing.assert_allclose(scores_of(model, images), scores_of(loaded, images), rtol=1e-5, atol=1e-5)


def test_sequential_without_an_input_layer():
    model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    model.build((None, 8, 8, 1))
    x = np.random.default_rng(0).random((4, 8, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(softmax(scores_of(model, x)), model.predict(x, verbose=0), atol=1e-5)
    weights, labels = first_layer_weights(model)
    assert weights.shape == (10, 8, 8) and labels == [str(d) for d in range(10)]


def test_the_cache_is_reused_and_lets_models_go():
    model = sequential([keras.layers.Dense(10, activation="softmax")])
    assert class_scores(model) is class_scores(model)
    integrated_gradients(model, np.ones((8, 8, 1), np.float32), 0)
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


# ---------------------------------------------------------------------------------------------
# Inside the network


def test_first_layer_weights_of_a_dense_network(digits_model):
    images, labels = first_layer_weights(digits_model)
    assert images.shape == (32, 8, 8) and images.dtype == np.float32 and len(labels) == 32
    norms = np.linalg.norm(images.reshape(32, -1), axis=1)
    assert (np.diff(norms) <= 1e-6).all(), "strongest first"
    kernel = digits_model.get_layer("hidden_1").get_weights()[0]  # (64, 32)
    unit = int(labels[0].split()[-1]) - 1
    np.testing.assert_allclose(images[0], kernel[:, unit].reshape(8, 8))
    assert first_layer_weights(digits_model, limit=5)[0].shape == (5, 8, 8)


def test_softmax_regression_gives_ten_class_templates():
    model = build_model(TrainSpec(dataset="digits", network=NetworkSpec(hidden_layers=())))
    images, labels = first_layer_weights(model, class_names=DIGIT_NAMES)
    assert images.shape == (10, 8, 8) and labels == list(DIGIT_NAMES)
    kernel = model.get_layer("output").get_weights()[0]  # (64, 10)
    np.testing.assert_allclose(images[7], kernel[:, 7].reshape(8, 8))


def test_cnn_filters_and_feature_maps(cnn, digits_model):
    filters = first_conv_filters(cnn)
    assert filters.shape == (32, 3, 3) and filters.dtype == np.float32
    image = np.zeros((28, 28, 1), np.float32)
    image[6:22, 12:16] = 1.0
    maps = feature_maps(cnn, image)
    assert [m.shape for _, m in maps] == [(32, 12, 12), (64, 4, 4)]
    assert maps[0][0].endswith("max_pooling2d_2") and all(m.dtype == np.float32 for _, m in maps)
    # A convolution first: no image-shaped first-layer weights; a dense network: no filters, no maps.
    assert first_layer_weights(cnn)[0].shape == (0, 28, 28) and first_layer_weights(cnn)[1] == []
    assert first_conv_filters(digits_model).shape == (0, 0, 0)
    assert feature_maps(digits_model, np.zeros((8, 8, 1), np.float32)) == []


def test_app_built_cnn_and_a_cnn_without_pooling():
    model = build_model(TrainSpec(dataset="digits", network=NetworkSpec(kind="cnn", conv_filters=(8,),
                                                                          hidden_layers=())))
    image = np.full((8, 8, 1), 0.5, np.float32)
    assert [(n, m.shape) for n, m in feature_maps(model, image)] == [("conv_1 → pool_1", (8, 3, 3))]
    assert first_conv_filters(model).shape == (8, 3, 3)
    plain = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, name="c1"),
                              keras.layers.BatchNormalization(name="bn"), keras.layers.ReLU(name="act"),
                              keras.layers.Conv2D(6, 3, activation="relu", name="c2"), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    assert [(n, m.shape) for n, m in feature_maps(plain, image)] == [("c1 → act", (4, 6, 6)), ("c2", (6, 4, 4))]
    assert explain(model, image, 2).completeness_error <= TOLERANCE


# ---------------------------------------------------------------------------------------------
# The sentence


def test_sentence_names_the_class_and_the_places():
    attributions = np.zeros((8, 8), np.float32)
    attributions[0:2, 6:8] = 1.0  # upper right, for
    attributions[6:8, 3:5] = -0.5  # bottom, against
    sentence = describe_attributions(attributions, "7", image=np.ones((8, 8)))  # places: thirds of the ink's box
    assert sentence == "The ink in the upper right counted most for 7; the ink at the bottom counted against it."


def test_sentence_places_are_parts_of_the_digit():
    image = np.zeros((28, 28))
    image[4:24, 10:18] = 1.0  # a tall narrow digit in the middle of the frame
    attributions = np.zeros((28, 28))
    attributions[4:10, 10:18] = 1.0  # its top third
    assert describe_attributions(attributions, "1", image).startswith("The ink along the top counted most for 1")


def test_sentence_does_not_overclaim():
    rng = np.random.default_rng(0)
    spread = rng.uniform(0.9, 1.0, (8, 8))  # for, everywhere alike
    assert "no one part most" in describe_attributions(spread, "Ankle boot")
    assert "Ankle boot" in describe_attributions(spread, "Ankle boot")
    against = -spread
    against[0, 0] = 0.01
    assert describe_attributions(against, "3").startswith("Almost nothing counted for 3")
    small = np.zeros((8, 8))
    small[2:6, 2:6] = 1.0
    small[2, 2] = -0.5  # 3% of the mass for: not worth placing
    assert describe_attributions(small, "0").endswith("no part of the image counted against it.")


def test_sentence_of_an_all_zero_map():
    sentence = describe_attributions(np.zeros((28, 28)), "T-shirt/top", np.zeros((28, 28)))
    assert sentence == "Nothing in this image counted for or against T-shirt/top."


def test_explanation_sentence_uses_the_class_name(digits_model, digits_test):
    images, labels = digits_test
    names = [f"class {name}" for name in DIGIT_NAMES]
    result = explain(digits_model, images[0], int(labels[0]), names)
    assert result.class_name == names[int(labels[0])] and names[int(labels[0])] in result.sentence
    assert result.sentence.endswith(".") and len(result.sentence) < 160


# ---------------------------------------------------------------------------------------------
# Images


@pytest.mark.parametrize("side,size", [(8, 168), (28, 168), (28, 100)])
def test_render_attribution_shapes_and_colours(side, size):
    image = np.zeros((side, side), np.float32)
    image[1:4, 1:4] = 1.0
    attributions = np.zeros((side, side), np.float32)
    attributions[1, 1], attributions[3, 3] = 2.0, -2.0
    rgb = render_attribution(image, attributions, size=size)
    assert rgb.shape == (size, size, 3) and rgb.dtype == np.uint8
    scale = size / side
    at = lambda r, c: rgb[int((r + 0.5) * scale), int((c + 0.5) * scale)].astype(float)  # noqa: E731
    np.testing.assert_allclose(at(1, 1), POSITIVE_RGB, atol=2)  # full orange
    np.testing.assert_allclose(at(3, 3), NEGATIVE_RGB, atol=2)  # full blue
    assert at(2, 2)[0] == at(2, 2)[1] == at(2, 2)[2] < 255  # faint grey ink, no colour
    assert (at(side - 1, side - 1) == 255).all()  # white background
    blank = render_attribution(np.zeros((side, side)), np.zeros((side, side)), size=size)
    assert (blank == 255).all()


def test_framed_and_the_legend():
    rgb = np.full((4, 5, 3), 7, np.uint8)
    out = framed(rgb)
    assert out.shape == (6, 7, 3) and (out[1:-1, 1:-1] == 7).all() and (out[0] != 7).all()
    legend = legend_html("7")
    assert "pushed towards 7" in legend and "pushed against it" in legend
    assert "rgb({},{},{})".format(*(int(v) for v in POSITIVE_RGB)) in legend
    assert "&lt;b&gt;" in legend_html("<b>")  # class names are text, never markup


def test_render_grids(cnn, digits_model):
    images, labels = first_layer_weights(digits_model)
    grid = render_weight_grid(images, labels)
    assert grid.dtype == np.uint8 and grid.ndim == 3 and grid.shape[2] == 3
    assert render_weight_grid(np.zeros((0, 8, 8)), []) is None
    assert render_filters(first_conv_filters(cnn)).dtype == np.uint8
    assert render_filters(first_conv_filters(digits_model)) is None
    blocks = render_feature_maps(feature_maps(cnn, np.ones((28, 28, 1), np.float32)))
    assert [name for name, _ in blocks] == [name for name, _ in feature_maps(cnn, np.ones((28, 28, 1), np.float32))]
    assert all(rgb.dtype == np.uint8 and rgb.shape[2] == 3 for _, rgb in blocks)
    assert render_feature_maps([]) == []


def test_the_why_sentence_translates_with_its_place_and_class():
    attributions = np.full((9, 9), 1e-3)  # the box: the whole image
    attributions[0:3, 6:9] = 1.0  # nearly all the push in the upper right
    sentence = describe_attributions(attributions, "7")
    assert sentence == ("The ink in the upper right counted most for 7; on balance no part of the image counted "
                        "against it.")
    assert translate("es", sentence) == ("La tinta arriba a la derecha es la que más contó a favor de 7; en conjunto, "
                                         "ninguna parte de la imagen contó en contra.")
    assert translate("de", describe_attributions(-attributions, "7")) == (
        "Fast nichts zählte für 7; die Tinte oben rechts zählte dagegen.")

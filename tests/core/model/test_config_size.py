"""Tests for core.model.config_size: a model config's sizes, followed without building it, match what Keras builds."""

import json
import math
import zipfile

import h5py
import pytest

keras = pytest.importorskip("keras")
layers = keras.layers

from core.i18n import message_of, translate  # noqa: E402
from core.model.config_size import (  # noqa: E402  (after importorskip)
    UPLOAD_LIMITS,
    ConfigError,
    check_config_size,
    measure_config,
)
from core.model.network import build_model  # noqa: E402
from core.model.spec import MAX_PARAMS, PRESETS, NetworkSpec, TrainSpec, count_weights  # noqa: E402
from tests.harness import hostile_models  # noqa: E402


def functional(inputs, outputs):
    return keras.Model(inputs, outputs)


def residual_cnn():
    inputs = keras.Input((28, 28, 1))
    x = layers.Rescaling(1 / 255)(inputs)
    x = layers.ZeroPadding2D(((1, 2), (3, 0)))(x)
    x = layers.Cropping2D(1)(x)
    a = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    b = layers.SeparableConv2D(8, (3, 5), padding="same", depth_multiplier=2)(x)
    x = layers.Add()([a, b])
    x = layers.BatchNormalization()(x)
    c = layers.DepthwiseConv2D(3, strides=2, depth_multiplier=3)(x)
    d = layers.AveragePooling2D(3, strides=2)(x)
    x = layers.Concatenate()([c, layers.Conv2D(24, 1)(d)])
    x = layers.PReLU(shared_axes=[1, 2])(x)
    x = layers.GlobalMaxPooling2D(keepdims=True)(x)
    x = layers.LayerNormalization()(layers.Flatten()(x))
    return functional(inputs, layers.Dense(10, activation="softmax")(x))


def nested_and_shared():
    augment = keras.Sequential([keras.Input((28, 28, 1)), layers.RandomFlip(), layers.RandomRotation(0.1)])
    inputs = keras.Input((28, 28, 1))
    shared = layers.Conv2D(1, 3, padding="same")
    x = shared(augment(inputs))
    x = shared(x)  # one layer, two calls: its weights count once
    features = keras.Sequential([layers.MaxPooling2D(), layers.Flatten(), layers.Dense(32), layers.ReLU()])
    return functional(inputs, layers.Dense(10)(features(x)))


MODELS = {
    "student dense": lambda: keras.Sequential([
        keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dropout(0.2),
        layers.Dense(10, activation="softmax")]),
    "student cnn": lambda: keras.Sequential([
        keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(64, (3, 3), strides=(2, 1), dilation_rate=1), layers.SpatialDropout2D(0.1),
        layers.UpSampling2D(2), layers.GlobalAveragePooling2D(), layers.Dense(10), layers.Softmax()]),
    "reshape and normalization": lambda: keras.Sequential([
        keras.Input((8, 8, 1)), layers.Reshape((-1,)), layers.Normalization(), layers.Reshape((4, 16)),
        layers.Dense(5), layers.Flatten(), layers.Activation("relu"), layers.Dense(10, use_bias=False)]),
    "residual cnn": residual_cnn,
    "nested and shared": nested_and_shared,
}


def largest_activation(model) -> int:
    """The largest tensor one image makes in `model`, from the built model's own shapes (nested models opened)."""
    sizes = [math.prod(model.input_shape[1:])]
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            sizes.append(largest_activation(layer))
        sizes.append(math.prod(layer.output.shape[1:]))
    return max(sizes)


def keras_config(model, tmp_path) -> dict:
    model.save(tmp_path / "model.keras")
    with zipfile.ZipFile(tmp_path / "model.keras") as archive:
        return json.loads(archive.read("config.json"))


def h5_config(model, tmp_path) -> dict:
    model.save(tmp_path / "model.h5")
    with h5py.File(tmp_path / "model.h5") as handle:
        return json.loads(handle.attrs["model_config"])


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("read", [keras_config, h5_config])
def test_sizes_followed_from_the_config_are_those_keras_builds(name, read, tmp_path):
    keras.utils.set_random_seed(0)
    model = MODELS[name]()
    size = measure_config(read(model, tmp_path))
    assert size.params == model.count_params()
    assert size.outputs == (tuple(model.output_shape[1:]),)
    assert size.largest_activation == largest_activation(model)


def test_every_network_the_train_page_can_build_is_accepted(tmp_path):
    widest = TrainSpec(dataset="mnist", network=NetworkSpec(kind="cnn", conv_filters=(256, 256, 256, 256),
                                                            kernel_size=1, hidden_layers=(2048,) * 2, dropout=0.5),
                       epochs=1, train_limit=100)
    deepest = TrainSpec(dataset="mnist", network=NetworkSpec(hidden_layers=(1024, 1024, 512, 512, 256, 128, 64, 32),
                                                             dropout=0.1))
    heaviest = TrainSpec(dataset="mnist", network=NetworkSpec(hidden_layers=(2048, 1536)))
    assert 0.9 * MAX_PARAMS < count_weights(heaviest)[0] <= MAX_PARAMS
    for spec in (widest, deepest, heaviest, *PRESETS.values()):
        model = build_model(spec)
        size = check_config_size(keras_config(model, tmp_path))
        assert size.params == model.count_params() == count_weights(spec)[0]
        assert size.largest_activation == largest_activation(model)
    assert check_config_size(keras_config(build_model(widest), tmp_path)).largest_activation == 28 * 28 * 256


def refusal(config) -> str:
    with pytest.raises(ConfigError) as info:
        check_config_size(config)
    return str(info.value)


def test_the_dense_bomb_is_refused_by_its_parameters():
    assert refusal(hostile_models.DENSE_BOMB) == (
        "This model has 557 million parameters; the most this app accepts is 20 million. Use fewer or smaller "
        "layers (the Train page builds at most 5,000,000).")


def test_the_upsampling_bomb_is_refused_by_its_activation():
    message = refusal(hostile_models.UPSAMPLING_BOMB)
    assert message.startswith("This model has 103 million numbers per image in one layer's output (layer 'conv')")
    assert "the most this app accepts is 802,816" in message


def test_limits_follow_their_environment_settings(monkeypatch):
    small = hostile_models.TINY_MODEL  # 650 parameters, 64 numbers per image, 2 layers
    check_config_size(small)
    for key, value in {"params": "649", "activation": "63", "layers": "1"}.items():
        monkeypatch.setenv(UPLOAD_LIMITS[key].env, value)
        assert f"the most this app accepts is {value}." in refusal(small)
        monkeypatch.delenv(UPLOAD_LIMITS[key].env)


@pytest.mark.parametrize("class_name", ["LSTM", "Embedding", "Conv2DTranspose", "Resizing", "MyLayer"])
def test_a_layer_class_outside_the_table_is_refused_by_name(class_name):
    config = hostile_models.sequential(hostile_models.layer(class_name, name="x", units=4),
                                       hostile_models.layer("Dense", name="out", units=10))
    message = refusal(config)
    assert message.startswith(f"This model uses a {class_name} layer, which this app does not accept.")
    assert "Conv2D, Cropping2D, Dense" in message


def with_layer(**changes) -> dict:
    """TINY_MODEL with its Dense layer's serialized dict updated by `changes`."""
    config = json.loads(json.dumps(hostile_models.TINY_MODEL))
    config["config"]["layers"][-1].update(changes)
    return config


def test_a_saved_build_shape_other_than_the_one_the_layer_gets_is_refused():
    # Keras builds a layer from its build_config before it is called: a Dense(10) "built" on 10 million inputs.
    good = with_layer(build_config={"input_shape": [None, 64]})
    assert check_config_size(good).params == 650
    assert "saved input shape" in refusal(with_layer(build_config={"input_shape": [None, 10_000_000]}))
    assert "saved input shape" in refusal(with_layer(build_config={"shapes_dict": {"a": [None, 9], "b": [None, 9]}}))


@pytest.mark.parametrize("options", [{"lora_rank": 1_000_000}, {"quantization_config": {"mode": "int8"}},
                                     {"dtype": {"class_name": "QuantizedDTypePolicy", "config": {}}}])
def test_options_that_add_uncounted_weights_are_refused(options):
    config = with_layer()
    config["config"]["layers"][-1]["config"].update(options)
    assert "could not be checked" in refusal(config)


@pytest.mark.parametrize("config", [
    None, [], {"class_name": "Dense", "config": {}},
    {"class_name": "Sequential", "config": {"layers": "many"}},
    hostile_models.sequential(hostile_models.layer("Dense", name="d", units=-5)),
    hostile_models.sequential(hostile_models.layer("Dense", name="d", units=True)),
    hostile_models.sequential(hostile_models.layer("Conv2D", name="c", filters=4, kernel_size=40)),
    hostile_models.sequential(hostile_models.layer("Conv2D", name="c", filters=4, kernel_size=3), input_shape=(784,)),
    hostile_models.sequential(hostile_models.layer("Reshape", name="r", target_shape=[5, 5])),
    {"class_name": "Sequential", "config": {"layers": [hostile_models.layer("Dense", name="d", units=4)]}},  # no input
    {"class_name": "Functional", "config": {"layers": [], "input_layers": [["nowhere", 0, 0]],
                                            "output_layers": [["nowhere", 0, 0]]}},
])
def test_a_config_that_cannot_be_followed_is_refused_not_passed(config):
    assert "could not be checked" in refusal(config) or "not a Sequential or Functional" in refusal(config)


def test_a_functional_config_in_any_order_or_with_a_cycle(tmp_path):
    model = MODELS["residual cnn"]()
    config = keras_config(model, tmp_path)
    config["config"]["layers"].reverse()  # Keras saves them in order; followed in any order all the same
    assert measure_config(config).params == model.count_params()
    first, second = config["config"]["layers"][1], config["config"]["layers"][2]
    first["inbound_nodes"], second["inbound_nodes"] = (
        [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": [other["name"], 0, 0]}}]}]
        for other in (second, first))
    assert "connections cannot be followed" in refusal(config)


def test_too_many_layers_are_refused_before_they_are_followed():
    dense = [hostile_models.layer("Dense", name=f"d{i}", units=2) for i in range(100_000)]
    message = refusal(hostile_models.sequential(*dense))
    assert message.startswith("This model has 100,000 layers; the most this app accepts is 108.")


def test_configs_saved_by_tf_keras_2_are_followed():
    # As model.save("mnist.h5") wrote them with TensorFlow 2.x: no modules, shapes in batch_input_shape,
    # a Functional model's inputs as nested lists.
    sequential = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 28, 28], "dtype": "float32",
                                                "name": "flatten_input"}},
        {"class_name": "Flatten", "config": {"name": "flatten", "dtype": "float32",
                                             "batch_input_shape": [None, 28, 28]}},
        {"class_name": "Dense", "config": {"name": "dense", "units": 128, "activation": "relu", "use_bias": True}},
        {"class_name": "Dense", "config": {"name": "dense_1", "units": 10, "activation": "softmax"}}]}}
    assert measure_config(sequential).params == 784 * 128 + 128 + 1290
    functional = {"class_name": "Functional", "config": {"name": "model", "layers": [
        {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 28, 28, 1], "name": "input_1"}},
        {"class_name": "Conv2D", "name": "conv2d", "inbound_nodes": [[["input_1", 0, 0, {}]]],
         "config": {"name": "conv2d", "filters": 8, "kernel_size": [3, 3], "padding": "valid"}},
        {"class_name": "GlobalAveragePooling2D", "name": "pool", "inbound_nodes": [[["conv2d", 0, 0, {}]]],
         "config": {"name": "pool"}},
        {"class_name": "Dense", "name": "dense", "inbound_nodes": [[["pool", 0, 0, {}]]],
         "config": {"name": "dense", "units": 10}}],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["dense", 0, 0]]}}
    size = measure_config(functional)
    assert (size.params, size.largest_activation, size.outputs) == (8 * 9 + 8 + 90, 26 * 26 * 8, ((10,),))


def test_a_size_refusal_is_told_in_each_language():
    with pytest.raises(ConfigError) as info:
        check_config_size(hostile_models.DENSE_BOMB)
    refused = message_of(info.value)
    assert translate("es", refused) == (
        "La cantidad de parámetros de este modelo es 557 millones; lo máximo que acepta esta app es 20 millones. Usa "
        "menos capas o capas más pequeñas (la página Entrenar construye como mucho 5.000.000).")
    assert translate("de", refused).startswith("Dieses Modell hat 557 Millionen Parameter; diese App nimmt höchstens "
                                               "20 Millionen an.")
    assert str(info.value).startswith("This model has 557 million parameters")  # English stays as it was

"""Tests for core.model.files: hostile uploads are refused with clear messages, good ones load."""

import io
import json
import zipfile

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from core.i18n import message_of, translate  # noqa: E402
from core.model.files import (  # noqa: E402  (after importorskip)
    METADATA_ENTRY,
    ModelFileError,
    check_config_is_safe,
    check_file_size,
    check_model_fits,
    check_outputs_are_probabilities,
    load_model_file,
    read_model_metadata,
    write_model_file,
)
from tests.harness import hostile_models  # noqa: E402

MAX_BYTES = 5_000_000
MARKER_ENV = "DIGITLAB_TEST_MARKER"


def build_tiny_model(height: int = 8, width: int = 8, classes: int = 10, activation="softmax"):
    """Input(H, W, 1) -> Flatten -> Dense(classes), seeded."""
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((height, width, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(classes, activation=activation),
        ]
    )


def save_to_bytes(model, tmp_path, name: str = "model.keras") -> bytes:
    path = tmp_path / name
    model.save(path)
    return path.read_bytes()


def zip_bytes(entries: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def tiny_bytes(tmp_path_factory) -> bytes:
    return save_to_bytes(build_tiny_model(), tmp_path_factory.mktemp("tiny"))


# --- good files ---------------------------------------------------------------------


def test_valid_model_loads_and_predicts(tiny_bytes):
    model = load_model_file(tiny_bytes, MAX_BYTES)
    assert isinstance(model, keras.Model)
    out = np.asarray(model(np.zeros((2, 8, 8, 1), dtype=np.float32)))
    assert out.shape == (2, 10)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_written_file_loads_in_safe_mode_and_metadata_round_trips(tmp_path):
    model = build_tiny_model()
    metadata = {"dataset": "digits", "name": "tiny run", "spec": {"layers": [16], "epochs": 3}}
    data = write_model_file(model, metadata)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert METADATA_ENTRY in archive.namelist()
    # Keras itself, in safe mode, ignores the extra entry.
    path = tmp_path / "with_meta.keras"
    path.write_bytes(data)
    direct = keras.saving.load_model(path, safe_mode=True, compile=False)
    loaded = load_model_file(data, MAX_BYTES)
    x = np.random.default_rng(0).random((3, 8, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(direct(x)), np.asarray(model(x)), rtol=1e-6)
    assert read_model_metadata(data) == metadata


def test_write_model_file_rejects_unserialisable_metadata():
    with pytest.raises(TypeError):
        write_model_file(build_tiny_model(), {"bad": object()})


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"random bytes, not a zip",
        zip_bytes({"hello.txt": b"hi"}),
        zip_bytes({METADATA_ENTRY: b"{not json"}),
        zip_bytes({METADATA_ENTRY: b"[1, 2, 3]"}),  # JSON, but not an object
    ],
)
def test_metadata_absent_or_invalid_is_none(data):
    assert read_model_metadata(data) is None


def test_metadata_absent_in_plain_keras_file(tiny_bytes):
    assert read_model_metadata(tiny_bytes) is None


# --- hostile or broken uploads ------------------------------------------------------


def refuse(data: bytes, max_bytes: int = MAX_BYTES) -> str:
    """Load and return the ModelFileError message (fails if nothing is raised)."""
    with pytest.raises(ModelFileError) as info:
        load_model_file(data, max_bytes)
    return str(info.value)


def test_empty_file_is_refused():
    assert "empty" in refuse(b"")


def test_file_over_size_cap_is_refused(tiny_bytes):
    message = refuse(tiny_bytes, max_bytes=1_000)
    assert "the limit is 1 kB" in message


def test_random_bytes_are_refused():
    data = np.random.default_rng(0).integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    assert "not a Keras model file" in refuse(data)


@pytest.fixture(scope="module")
def h5_bytes(tmp_path_factory) -> bytes:
    """A legacy HDF5 model saved by Keras 3, as the classic tutorials do: model.save('mnist.h5')."""
    return save_to_bytes(build_tiny_model(), tmp_path_factory.mktemp("h5"), "tiny.h5")


def test_legacy_h5_model_loads_and_predicts_like_the_original(h5_bytes):
    model = load_model_file(h5_bytes, MAX_BYTES)
    x = np.random.default_rng(0).random((3, 8, 8, 1), dtype=np.float32)
    np.testing.assert_allclose(model.predict_on_batch(x), build_tiny_model().predict_on_batch(x), atol=1e-6)


def test_h5_upload_is_vetted_like_a_keras_one(h5_bytes):
    from core.model.files import vet_upload

    vetted = vet_upload(h5_bytes, "mnist.h5", MAX_BYTES)
    assert vetted.dataset == "digits" and vetted.name == "mnist.h5" and vetted.metrics == {}


def test_h5_with_weights_only_is_refused_with_what_to_do(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "weights.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("weights", data=np.arange(10.0))
    message = refuse(path.read_bytes())
    assert "weights only" in message and "model.save('name.keras')" in message


def rewrite_h5_config(data: bytes, tmp_path, edit) -> bytes:
    """The same .h5 file with its model_config attribute passed through `edit` (a str -> str)."""
    import h5py

    path = tmp_path / "edited.h5"
    path.write_bytes(data)
    with h5py.File(path, "r+") as handle:
        handle.attrs["model_config"] = edit(handle.attrs["model_config"])
    return path.read_bytes()


def test_h5_with_a_custom_class_is_refused(h5_bytes, tmp_path):
    data = rewrite_h5_config(h5_bytes, tmp_path, lambda config: config.replace('"Dense"', '"MyDense"'))
    message = refuse(data)
    assert "MyDense" in message and "save it again" in message


def test_truncated_and_junk_h5_files_are_refused(h5_bytes):
    assert "damaged" in refuse(h5_bytes[: len(h5_bytes) // 3])
    assert "damaged" in refuse(b"\x89HDF\r\n\x1a\n" + b"junk" * 1000)


def test_truncated_keras_file_is_refused(tiny_bytes):
    message = refuse(tiny_bytes[: len(tiny_bytes) // 2])
    assert "damaged" in message


def test_corrupted_keras_file_is_refused(tiny_bytes):
    data = bytearray(tiny_bytes)
    start = data.index(b"\x89HDF")  # the model.weights.h5 entry, stored uncompressed
    middle = start + (len(data) - start) // 2
    for i in range(middle, middle + 64):
        data[i] ^= 0xFF  # flip bits: the entry's CRC no longer matches
    assert "damaged" in refuse(bytes(data))


def test_zip_of_junk_is_refused():
    message = refuse(zip_bytes({"notes.txt": b"hello", "image.png": b"\x89PNG junk"}))
    assert "no config.json" in message


def test_zip_with_broken_config_is_refused():
    assert "not valid JSON" in refuse(zip_bytes({"config.json": b"{oops"}))


def test_zip_bomb_is_refused():
    data = zip_bytes({"config.json": b"{}", "big": b"\0" * 50_000_000}, zipfile.ZIP_DEFLATED)
    assert len(data) < 1_000_000
    assert "unpacks" in refuse(data, max_bytes=1_000_000)


def build_lambda_model(nested: bool = False):
    # A real Python lambda (serialised as bytecode); it reads the marker path at call
    # time, so building and saving here writes nothing.
    payload = lambda x: (  # noqa: E731
        __import__("pathlib").Path(__import__("os").environ["DIGITLAB_TEST_MARKER"]).touch()
        if "DIGITLAB_TEST_MARKER" in __import__("os").environ
        else None,
        x,
    )[1]
    if nested:  # hidden inside a sub-model of a functional model
        inner = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Lambda(payload)])
        inputs = keras.Input((8, 8, 1))
        flat = keras.layers.Flatten()(inner(inputs))
        outputs = keras.layers.Dense(10, activation="softmax")(flat)
        return keras.Model(inputs, outputs)
    return keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Lambda(payload), keras.layers.Flatten(),
         keras.layers.Dense(10, activation="softmax")]
    )


@pytest.fixture
def marker(tmp_path, monkeypatch):
    monkeypatch.delenv(MARKER_ENV, raising=False)
    path = tmp_path / "code_ran.marker"
    yield path, lambda: monkeypatch.setenv(MARKER_ENV, str(path))


@pytest.mark.parametrize("nested, suffix", [(False, ".keras"), (True, ".keras"), (False, ".h5")])
def test_lambda_layer_is_refused_and_its_code_never_runs(tmp_path, marker, nested, suffix):
    marker_path, arm = marker
    data = save_to_bytes(build_lambda_model(nested), tmp_path, "lambda" + suffix)
    assert not marker_path.exists()
    arm()  # from now on the payload would write the marker if it ever ran
    message = refuse(data)
    assert "Lambda" in message and "safety" in message
    assert not marker_path.exists()


def test_keras_safe_mode_alone_also_blocks_the_lambda(tmp_path, marker):
    # Second line of defence: even without our config scan, safe_mode refuses it.
    marker_path, arm = marker
    path = tmp_path / "lambda.keras"
    build_lambda_model().save(path)
    arm()
    with pytest.raises(ValueError, match="lambda"):
        keras.saving.load_model(path, safe_mode=True, compile=False)
    assert not marker_path.exists()


def test_lambda_payload_is_live_when_loaded_unsafely(tmp_path, marker):
    # Control: proves the marker test above can detect code execution. Only this test
    # ever loads unsafely, and only a file it just made itself.
    marker_path, arm = marker
    path = tmp_path / "lambda.keras"
    build_lambda_model().save(path)
    arm()
    keras.saving.load_model(path, safe_mode=False, compile=False)
    assert marker_path.exists()


@keras.saving.register_keras_serializable(package="digitlab_test")
class ScaleLayer(keras.layers.Layer):
    """A custom layer: its code lives in this test module, not in Keras."""

    def call(self, x):
        return x * 2.0


class UnregisteredLayer(keras.layers.Layer):
    def call(self, x):
        return x + 1.0


@pytest.mark.parametrize("layer_class", [ScaleLayer, UnregisteredLayer])
def test_custom_layer_class_is_refused(tmp_path, layer_class):
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), layer_class(), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    message = refuse(save_to_bytes(model, tmp_path, "custom.keras"))
    assert "custom class" in message


def test_config_scan_accepts_builtin_keras_and_refuses_others():
    check_config_is_safe(
        {"module": "keras.layers", "class_name": "Dense", "config": {
            "activation": {"module": "builtins", "class_name": "function", "config": "relu"}}}
    )
    with pytest.raises(ModelFileError, match="custom class"):
        check_config_is_safe({"module": "evil.module", "class_name": "Dense", "config": {}})
    with pytest.raises(ModelFileError, match="TFSMLayer"):
        check_config_is_safe({"module": "keras.layers", "class_name": "TFSMLayer", "config": {}})


# --- does the model fit the dataset? -------------------------------------------------


def test_model_of_wrong_shape_is_refused_with_clear_message():
    model = build_tiny_model(28, 28, 10)
    with pytest.raises(ModelFileError) as info:
        check_model_fits(model, (8, 8), 10, dataset_name="digits")
    assert str(info.value) == (
        "This model expects input (28, 28, 1) and gives 10 classes; "
        "the digits set needs input (8, 8, 1) and 10 classes."
    )


def test_model_with_wrong_class_count_is_refused():
    with pytest.raises(ModelFileError, match="gives 5 classes"):
        check_model_fits(build_tiny_model(28, 28, 5), (28, 28), 10, dataset_name="mnist")


def test_flat_input_model_is_refused():
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
    with pytest.raises(ModelFileError, match=r"expects input \(784,\)"):
        check_model_fits(model, (28, 28), 10, dataset_name="mnist")


def test_fitting_models_pass(tiny_bytes):
    check_model_fits(load_model_file(tiny_bytes, MAX_BYTES), (8, 8), 10)
    # A fully convolutional model with free height/width fits any size.
    inputs = keras.Input((None, None, 1))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(inputs))
    free = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
    check_model_fits(free, (28, 28), 10)


def test_outputs_must_be_probabilities():
    check_outputs_are_probabilities(build_tiny_model(), (8, 8))
    with pytest.raises(ModelFileError, match="softmax"):
        check_outputs_are_probabilities(build_tiny_model(activation=None), (8, 8))


# --- hostile configs and HDF5 that reads other files (tests/harness/hostile_models.py) ----------------------


@pytest.mark.parametrize("attack, says", [
    ("Dense(700000) after a Flatten (.keras)", "This model has 557 million parameters; the most this app accepts is"),
    ("UpSampling2D(64) before a convolution (.keras)", "This model has 103 million numbers per image"),
])
def test_a_tiny_file_asking_for_gigabytes_is_refused_with_memory_unharmed(attack, says):
    # In a fresh Python with its address space capped: on the unchanged code the Dense file grew it by 2.2 GB
    # and the UpSampling one was accepted after 0.8 GB, and this process must not pay for that.
    report = hostile_models.vet_in_subprocess(attack, cap_mb=1500)
    assert report["outcome"] == "refused", report
    assert report["message"].startswith(says)
    assert report["peak_growth_mb"] < 200


@pytest.fixture
def keras_never_loads(monkeypatch):
    """Fail the test if Keras is asked to load the file: our own checks must refuse it first."""
    def fail(*args, **kwargs):
        raise AssertionError("keras.saving.load_model was reached")
    monkeypatch.setattr(keras.saving, "load_model", fail)


@pytest.mark.parametrize("attack", [name for name in hostile_models.ATTACKS if "Flatten" not in name
                                    and "UpSampling" not in name])
def test_hdf5_that_reads_other_files_is_refused_by_our_own_check(attack, tmp_path, keras_never_loads):
    data = hostile_models.ATTACKS[attack](tmp_path)
    message = refuse(data)
    assert "would read files of this server" in message and attack.split(" (")[0].split(" in ")[0] in message


def test_the_same_hdf5_with_its_own_bias_loads(tmp_path):
    model = load_model_file(hostile_models.h5_model(tmp_path, hostile_models.plain_bias), MAX_BYTES)
    np.testing.assert_array_equal(model.layers[-1].get_weights()[1], np.zeros(10))


def test_hdf5_declaring_far_more_data_than_it_holds_is_refused(tmp_path, keras_never_loads):
    def bomb(group, folder):  # 400 MB of fill value, stored as almost nothing
        group.create_dataset("bias", shape=(10, 10_000_000), dtype=np.float32, chunks=(1, 100_000), compression="gzip")

    assert "unpacks to far more than its size" in refuse(hostile_models.h5_model(tmp_path, bomb))


def test_an_oversized_config_is_refused_before_it_is_parsed():
    config = {**hostile_models.TINY_MODEL, "padding": "x" * 3_000_000}
    assert "config is over 2 MB" in refuse(hostile_models.keras_file(config), max_bytes=10_000_000)


def test_a_layer_the_app_does_not_accept_is_refused_before_keras_builds_it(keras_never_loads):
    config = hostile_models.sequential(hostile_models.layer("LSTM", name="memory", units=4))
    assert refuse(hostile_models.keras_file(config)).startswith("This model uses a LSTM layer")


def test_a_layer_name_tensorflow_cannot_run_is_refused_with_a_message():
    from core.model.files import vet_upload

    config = json.loads(json.dumps(hostile_models.TINY_MODEL))
    config["config"]["layers"][-1]["config"]["name"] = "my output <b>"  # TensorFlow runs only [A-Za-z0-9_.\->]
    with pytest.raises(ModelFileError, match="layer name"):
        vet_upload(hostile_models.keras_file(config, hostile_models.TINY_WEIGHTS), "names.keras", MAX_BYTES)


def test_an_upload_refusal_is_told_in_each_language():
    with pytest.raises(ModelFileError) as too_big:
        check_file_size(b"x" * 2_500_000, 1_000_000)
    assert translate("es", message_of(too_big.value)) == (
        "El archivo ocupa 2,5 MB; el límite es 1 MB. Sube un modelo más pequeño.")
    assert translate("de", message_of(too_big.value)) == (
        "Die Datei ist 2,5 MB groß; die Grenze ist 1 MB. Lade ein kleineres Modell hoch.")
    with pytest.raises(ModelFileError) as bomb:  # a refusal of core.model.config_size, passed on whole
        load_model_file(hostile_models.upsampling_bomb(), 10**8)
    assert translate("de", message_of(bomb.value)).startswith(
        "Dieses Modell hat 103 Millionen Zahlen pro Bild in der Ausgabe einer Schicht (Schicht 'conv'); diese App "
        "nimmt höchstens 802.816 an.")
    assert "103 million numbers per image" in str(bomb.value)

import gzip
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from core.data import datasets, readers
from core.data.datasets import DatasetUnavailable, get_info, load_dataset, load_test_set, to_model_input
from core.i18n import translate

KERAS_DATASETS = Path(os.environ["KERAS_HOME"]) / "datasets"  # set by conftest, empty


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    """Each test reads files anew, with no DIGITLAB_DATA_DIR and an empty Keras cache."""
    datasets.read_raw.cache_clear()
    monkeypatch.delenv("DIGITLAB_DATA_DIR", raising=False)
    yield
    datasets.read_raw.cache_clear()
    shutil.rmtree(KERAS_DATASETS, ignore_errors=True)


def test_every_dataset_describes_itself():
    for key, info in datasets.DATASETS.items():
        assert info.key == key
        assert info.num_classes == len(info.class_names) == 10
        assert info.input_shape == (*info.image_shape, 1)
    assert get_info("digits").image_shape == (8, 8) and get_info("digits").value_max == 16
    assert get_info("fashion_mnist").class_names[9] == "Ankle boot"
    with pytest.raises(KeyError, match="Unknown dataset"):
        get_info("cifar")


def test_digits_ship_with_the_app_and_split_three_ways():
    data = load_dataset("digits", validation_fraction=0.1, seed=0)
    assert data.sizes() == {"train": 1294, "validation": 144, "test": 359}
    assert data.x_train.dtype == np.uint8 and data.x_train.shape[1:] == (8, 8)
    assert data.x_train.max() <= 16
    # No image is in two splits: the three splits together are the 1,797 images exactly.
    total = len(data.y_train) + len(data.y_val) + len(data.y_test)
    assert total == 1797


def test_validation_split_is_seeded():
    a, b, c = load_dataset("digits", seed=1), load_dataset("digits", seed=1), load_dataset("digits", seed=2)
    assert np.array_equal(a.y_val, b.y_val)
    assert not np.array_equal(a.x_val, c.x_val)
    assert np.array_equal(a.x_test, c.x_test)  # the test set never moves


def test_train_limit_caps_training_images_only():
    data = load_dataset("digits", train_limit=100)
    assert len(data.y_train) == 100 and len(data.y_val) == 144


def test_model_input_is_scaled_to_unit_range():
    x = np.array([[[0, 16], [8, 4]]], dtype=np.uint8)
    out = to_model_input(x, get_info("digits"))
    assert out.shape == (1, 2, 2, 1) and out.dtype == np.float32
    assert out.max() == 1.0 and out[0, 1, 0, 0] == 0.5


def offline(*args, **kwargs):
    """Keras' loaders on a machine with no internet (what get_file raises there)."""
    raise Exception("URL fetch failure on https://storage.googleapis.com/x: None -- Name or service not known")


def never_called(*args, **kwargs):
    raise AssertionError("the download was tried although an earlier source has the dataset")


def tiny_arrays(seed: int, n_train: int = 30, n_test: int = 12) -> readers.Arrays:
    """Random MNIST-shaped uint8 arrays (x_train, y_train, x_test, y_test), seeded."""
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8), rng.integers(0, 10, n_train, dtype=np.uint8),
            rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8), rng.integers(0, 10, n_test, dtype=np.uint8))


def downloads(arrays: readers.Arrays):
    """A stand-in for keras.datasets.*.load_data that returns `arrays` (a download, or Keras' cache)."""
    x_train, y_train, x_test, y_test = arrays
    return lambda *args, **kwargs: ((x_train, y_train), (x_test, y_test))


def test_failed_download_names_the_file_and_the_way_out(monkeypatch):
    import keras

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)  # no sample ships for it
    with pytest.raises(DatasetUnavailable) as error:
        load_dataset("fashion_mnist")
    message = str(error.value)
    assert "train-images-idx3-ubyte.gz" in message and "DIGITLAB_DATA_DIR" in message and "Digits" in message


def test_the_shipped_mnist_sample_is_the_whole_test_set_and_some_training_images():
    info = get_info("mnist")
    x_train, y_train, x_test, y_test = readers.read_npz_arrays(datasets.SHIPPED_DIR / info.sample_file)
    assert x_test.shape == (10_000, 28, 28) and x_train.shape == (datasets.SAMPLE_TRAIN_IMAGES, 28, 28)
    assert x_train.dtype == x_test.dtype == y_train.dtype == np.uint8
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4] and y_train[:5].tolist() == [5, 0, 4, 1, 9]  # MNIST's own order
    assert np.bincount(y_train, minlength=10).min() >= 800  # every digit, for fine-tuning's balanced replay
    assert (datasets.SHIPPED_DIR / info.sample_file).stat().st_size < 3_000_000
    assert get_info("fashion_mnist").sample_file is None


def test_offline_mnist_falls_back_to_the_shipped_sample_and_says_why(monkeypatch):
    import keras

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    data = load_dataset("mnist", validation_fraction=0.1)
    assert data.sizes() == {"train": 9_000, "validation": 1_000, "test": 10_000}
    assert data.source.kind == "sample"
    sentence = data.source.sentence
    assert "sample" in sentence and "10,000 test images and 10,000 training images" in sentence
    assert "Name or service not known" in sentence  # the reason
    x_test, y_test = load_test_set("mnist")
    assert len(y_test) == 10_000 and datasets.data_source("mnist") == data.source


def test_data_dir_comes_before_keras_and_the_sample(monkeypatch, tmp_path):
    import keras

    arrays = tiny_arrays(seed=1)
    np.savez(tmp_path / "mnist.npz", **dict(zip(("x_train", "y_train", "x_test", "y_test"), arrays)))
    monkeypatch.setenv("DIGITLAB_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(keras.datasets.mnist, "load_data", never_called)
    data = load_dataset("mnist", validation_fraction=0.1)
    assert np.array_equal(data.x_test, arrays[2]) and data.sizes()["train"] == 27
    assert data.source.kind == "local" and "DIGITLAB_DATA_DIR" in data.source.sentence


def test_keras_cache_or_download_comes_before_the_sample(monkeypatch):
    import keras

    arrays = tiny_arrays(seed=2)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", downloads(arrays))
    data = load_dataset("mnist", validation_fraction=0.1)
    assert np.array_equal(data.x_test, arrays[2]) and data.sizes()["test"] == 12
    assert data.source.kind == "download" and "Keras" in data.source.sentence


def test_a_damaged_keras_cache_offline_falls_back_to_the_sample_and_says_so(monkeypatch):
    import keras

    (KERAS_DATASETS).mkdir(parents=True, exist_ok=True)
    (KERAS_DATASETS / "mnist.npz").write_bytes(b"PK\x03\x04 truncated")
    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)  # Keras re-downloads a file that fails its hash
    data = load_dataset("mnist")
    assert data.source.kind == "sample" and "damaged" in data.source.sentence
    assert str(KERAS_DATASETS) in data.source.sentence  # what to delete


def test_a_download_that_hangs_falls_back_to_the_sample_at_its_deadline(monkeypatch):
    import threading

    import keras

    release = threading.Event()
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda *a, **k: release.wait(60))  # a stalled socket
    monkeypatch.setenv("DIGITLAB_DOWNLOAD_SECONDS", "0.5")
    try:
        data = load_dataset("mnist")
    finally:
        release.set()
    assert data.source.kind == "sample" and "did not finish within 0.5 s" in data.source.sentence


def test_a_bad_download_deadline_is_named(monkeypatch):
    import keras

    monkeypatch.setattr(keras.datasets.mnist, "load_data", never_called)
    monkeypatch.setenv("DIGITLAB_DOWNLOAD_SECONDS", "soon")
    data = load_dataset("mnist")
    assert data.source.kind == "sample" and "DIGITLAB_DOWNLOAD_SECONDS" in data.source.sentence


def test_descriptions_do_not_contradict_a_sample_or_a_subset():
    for info in datasets.DATASETS.values():
        assert "70,000" not in info.description, info.description  # the sizes shown are the real counts


def test_data_dir_that_does_not_exist(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITLAB_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DatasetUnavailable, match="not a folder"):
        load_dataset("mnist")


def test_data_dir_without_the_file(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITLAB_DATA_DIR", str(tmp_path))
    with pytest.raises(DatasetUnavailable, match="mnist.npz is not there"):
        load_dataset("mnist")


def test_data_dir_with_a_corrupt_file(monkeypatch, tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"PK\x03\x04 this is not really a zip")
    monkeypatch.setenv("DIGITLAB_DATA_DIR", str(tmp_path))
    with pytest.raises(DatasetUnavailable, match="not a readable Keras `mnist.npz`"):
        load_dataset("mnist")


def test_data_dir_with_the_wrong_dataset(monkeypatch, tmp_path):
    # Digits saved under MNIST's name: 8x8 images are refused, not trained on.
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 17, (20, 8, 8), dtype=np.uint8), rng.integers(0, 10, 20, dtype=np.uint8)
    np.savez(tmp_path / "mnist.npz", x_train=x, y_train=y, x_test=x, y_test=y)
    monkeypatch.setenv("DIGITLAB_DATA_DIR", str(tmp_path))
    with pytest.raises(DatasetUnavailable, match=r"expected \(N, 28, 28\)"):
        load_dataset("mnist")


def write_idx(path, array, header_bytes):
    with gzip.open(path, "wb") as f:
        f.write(b"\0" * header_bytes + array.tobytes())


def test_fashion_from_data_dir(monkeypatch, tmp_path):
    rng = np.random.default_rng(0)
    x_train, y_train = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8), rng.integers(0, 10, 50, dtype=np.uint8)
    x_test, y_test = rng.integers(0, 256, (20, 28, 28), dtype=np.uint8), rng.integers(0, 10, 20, dtype=np.uint8)
    names = readers.FASHION_FILES
    write_idx(tmp_path / names[0], y_train, 8)
    write_idx(tmp_path / names[1], x_train, 16)
    write_idx(tmp_path / names[2], y_test, 8)
    write_idx(tmp_path / names[3], x_test, 16)
    monkeypatch.setenv("DIGITLAB_DATA_DIR", str(tmp_path))
    data = load_dataset("fashion_mnist", validation_fraction=0.2)
    assert data.sizes() == {"train": 40, "validation": 10, "test": 20}
    assert np.array_equal(data.x_test, x_test) and np.array_equal(data.y_test, y_test)


def test_truncated_fashion_file_is_refused(monkeypatch, tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 10, dtype=np.uint8)
    x = rng.integers(0, 256, (10, 28, 28), dtype=np.uint8)
    names = readers.FASHION_FILES
    for labels, images in ((names[0], names[1]), (names[2], names[3])):
        write_idx(tmp_path / labels, y, 8)
        write_idx(tmp_path / images, x.reshape(-1)[:-100], 16)  # 100 pixels short
    monkeypatch.setenv("DIGITLAB_DATA_DIR", str(tmp_path))
    with pytest.raises(DatasetUnavailable, match="truncated"):
        load_dataset("fashion_mnist")


def test_real_mnist_from_data_dir(mnist_dir):
    data = load_dataset("mnist", validation_fraction=0.1)
    assert data.sizes() == {"train": 20429, "validation": 2270, "test": 10000}
    x_test, y_test = load_test_set("mnist")
    assert x_test.shape == (10000, 28, 28) and y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert datasets.is_downloaded("mnist")


def test_damaged_keras_cache_says_so():
    folder = KERAS_DATASETS / "fashion-mnist"
    folder.mkdir(parents=True)
    for name in readers.FASHION_FILES:
        (folder / name).write_bytes(b"\x1f\x8b\x08\x00 truncated")
    assert datasets.is_downloaded("fashion_mnist")
    with pytest.raises(DatasetUnavailable, match="damaged or truncated") as error:
        load_dataset("fashion_mnist")
    assert "Delete" in str(error.value) and str(folder) in str(error.value)


def test_a_datasets_name_description_and_source_read_in_each_language():
    data = load_dataset("digits")
    assert translate("es", data.source.sentence) == "Dígitos (8x8): viene con la app."
    assert translate("de", get_info("digits").description).startswith("1797 kleine handgeschriebene Ziffern")
    assert [translate("de", name) for name in get_info("fashion_mnist").class_names[:2]] == ["T-Shirt/Top", "Hose"]

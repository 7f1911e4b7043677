"""core/export/formats.py: LiteRT and SavedModel exports predict as the Keras model does; each zip is usable."""

import io
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from core.data.datasets import get_info, load_test_set, to_model_input
from core.export import formats
from core.export.formats import FORMATS, ExportBusy, export_run, labels_text

IMAGES = 200
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def run_and_images(digits_run):
    x_test, _ = load_test_set("digits")
    return digits_run, to_model_input(x_test[:IMAGES], get_info("digits"))


def unzip(data: bytes, folder):
    zipfile.ZipFile(io.BytesIO(data)).extractall(folder)
    return folder


def assert_agrees(expected: np.ndarray, got: np.ndarray):
    assert got.shape == expected.shape
    assert np.array_equal(got.argmax(axis=1), expected.argmax(axis=1))
    assert np.abs(got - expected).max() <= TOLERANCE


def test_litert_predicts_as_keras_on_200_test_images(run_and_images, tmp_path):
    import tensorflow as tf

    run, x = run_and_images
    folder = unzip(export_run(run, "litert"), tmp_path)
    assert (folder / "labels.txt").read_text() == labels_text("digits")
    interpreter = tf.lite.Interpreter(model_path=str(folder / "model.tflite"))
    source = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(source["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], x)
    interpreter.invoke()
    got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    assert_agrees(run.model.predict(x, verbose=0), got)


def test_saved_model_reloads_and_agrees(run_and_images, tmp_path):
    import tensorflow as tf

    run, x = run_and_images
    folder = unzip(export_run(run, "saved_model"), tmp_path)
    reloaded = tf.saved_model.load(str(folder / "saved_model"))
    assert_agrees(run.model.predict(x, verbose=0), reloaded.serve(x).numpy())


@pytest.mark.parametrize("key", list(FORMATS))
def test_each_zip_holds_the_model_labels_and_a_use_it_script_that_runs(run_and_images, tmp_path, key):
    run, _ = run_and_images
    folder = unzip(export_run(run, key), tmp_path)
    assert (folder / "labels.txt").read_text().splitlines() == list(get_info("digits").class_names)
    done = subprocess.run([sys.executable, "use_it.py"], cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    label, _, share = done.stdout.strip().rpartition(" ")
    assert label in get_info("digits").class_names and share.endswith("%)")


def test_an_export_waits_its_turn_then_says_so(run_and_images, monkeypatch):
    run, _ = run_and_images
    monkeypatch.setattr(formats, "EXPORT_WAIT_SECONDS", 0.05)
    monkeypatch.setattr(formats, "_EXPORTS", __import__("threading").BoundedSemaphore(1))
    formats._EXPORTS.acquire()
    try:
        with pytest.raises(ExportBusy, match="DIGITLAB_MAX_EXPORTS"):
            export_run(run, "keras")
    finally:
        formats._EXPORTS.release()
    assert export_run(run, "keras")[:2] == b"PK"  # free again: it exports

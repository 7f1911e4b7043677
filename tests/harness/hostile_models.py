"""Hostile model files, written by hand as an attacker would (tests and bench/abuse.py use them).

`keras_file(config)` writes a `.keras` zip the way Keras does (config.json, metadata.json and a
model.weights.h5), but with nearly nothing in it: a few kB whose config alone tells Keras what to
allocate. `DENSE_BOMB` asks for Dense(700000) after a Flatten (784 x 700,000 weights: 2.2 GB of
float32 before Keras has read a single weight); `UPSAMPLING_BOMB` for UpSampling2D(64) before a
convolution (28x28 images become 1792x1792, 32 channels of them). The `h5_with_*` functions
write HDF5 files that point outside themselves (an external link, a virtual dataset, external
raw storage): reading them reads some other file of the server.
"""

from __future__ import annotations

import functools
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np


def layer(class_name: str, **config) -> dict:
    """A built-in Keras layer as a .keras config names it."""
    return {"module": "keras.layers", "class_name": class_name, "config": config, "registered_name": None}


def sequential(*layers: dict, input_shape: tuple = (28, 28, 1)) -> dict:
    """A Sequential model's config: an InputLayer of `input_shape`, then `layers`."""
    first = layer("InputLayer", batch_shape=[None, *input_shape], dtype="float32", name="image")
    return {"module": "keras", "class_name": "Sequential", "registered_name": None,
            "config": {"name": "sequential", "layers": [first, *layers]}}


DENSE_BOMB = sequential(layer("Flatten", name="flatten"), layer("Dense", name="huge", units=700_000),
                        layer("Dense", name="out", units=10, activation="softmax"))
TINY_MODEL = sequential(layer("Flatten", name="flatten"), layer("Dense", name="out", units=10, activation="softmax"),
                        input_shape=(8, 8, 1))  # 650 parameters; a model the app accepts
UPSAMPLING_BOMB = sequential(
    layer("UpSampling2D", name="up", size=[64, 64]),
    layer("Conv2D", name="conv", filters=32, kernel_size=[3, 3]),
    layer("GlobalAveragePooling2D", name="pool"),
    layer("Dense", name="out", units=10, activation="softmax"),
)


TINY_WEIGHTS = {"flatten": [], "dense": [(64, 10), (10,)]}
# The weights of UPSAMPLING_BOMB, as Keras lays them out: layers/<snake_case class>/vars/<i>.
UPSAMPLING_WEIGHTS = {"up_sampling2d": [], "conv2d": [(3, 3, 1, 32), (32,)], "global_average_pooling2d": [],
                      "dense": [(32, 10), (10,)]}


def weights_h5(weights: dict[str, list[tuple]]) -> bytes:
    """A model.weights.h5 with zeros of each shape (`weights`: Keras' layer path -> variable shapes)."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        handle.create_group("vars")
        for path, shapes in weights.items():
            group = handle.create_group(f"layers/{path}/vars")
            for i, shape in enumerate(shapes):
                group[str(i)] = np.zeros(shape, dtype=np.float32)
    return buffer.getvalue()


def keras_file(config: dict, weights: dict[str, list[tuple]] | None = None, weights_file: bytes | None = None) -> bytes:
    """A .keras zip holding `config` and zero `weights` (none by default) or `weights_file`, as Keras writes it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.1", "date_saved": "2026-01-01@00:00:00"}))
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", weights_file if weights_file is not None else weights_h5(weights or {}))
    return buffer.getvalue()


def tiny_file() -> bytes:
    """TINY_MODEL as a .keras file the app accepts (zero weights: every output is 1/10)."""
    return keras_file(TINY_MODEL, TINY_WEIGHTS)


def dense_bomb() -> bytes:
    """The .keras file of DENSE_BOMB (Keras allocates its 2.2 GB kernel while building, before weights)."""
    return keras_file(DENSE_BOMB)


def upsampling_bomb() -> bytes:
    """The .keras file of UPSAMPLING_BOMB with weights that load (its cost comes at the first prediction)."""
    return keras_file(UPSAMPLING_BOMB, UPSAMPLING_WEIGHTS)


SECRET = np.arange(1, 11, dtype=np.float32)  # what the attacker reads: it becomes the output layer's bias


def h5_model(folder: Path, bias) -> bytes:
    """A legacy .h5 of TINY_MODEL laid out as Keras writes it, whose bias `bias(group, folder)` writes; its bytes."""
    path = folder / "model.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = json.dumps(TINY_MODEL)
        weights = handle.create_group("model_weights")
        weights.attrs.update({"backend": "tensorflow", "keras_version": "3.15.1", "layer_names": ["flatten", "out"]})
        weights.create_group("flatten").attrs["weight_names"] = np.array([], dtype=np.float64)
        group = weights.create_group("out/sequential/out")
        weights["out"].attrs["weight_names"] = ["sequential/out/kernel", "sequential/out/bias"]
        group["kernel"] = np.zeros((64, 10), dtype=np.float32)
        bias(group, folder)
    return path.read_bytes()


def secret_file(folder: Path) -> Path:
    """A server file the attacker wants to read: an HDF5 file with one dataset, 'secret'."""
    path = folder / "secret.h5"
    with h5py.File(path, "w") as handle:
        handle["secret"] = SECRET
    return path


def plain_bias(group: h5py.Group, folder: Path) -> None:
    group["bias"] = np.zeros(10, dtype=np.float32)


def external_link(group: h5py.Group, folder: Path) -> None:
    group["bias"] = h5py.ExternalLink(str(secret_file(folder)), "/secret")


def virtual_dataset(group: h5py.Group, folder: Path) -> None:
    layout = h5py.VirtualLayout(shape=(10,), dtype=np.float32)
    layout[:] = h5py.VirtualSource(str(secret_file(folder)), "secret", shape=(10,))
    group.create_virtual_dataset("bias", layout)


def external_storage(group: h5py.Group, folder: Path) -> None:
    raw = folder / "secret.bin"
    raw.write_bytes(SECRET.tobytes())
    group.create_dataset("bias", shape=(10,), dtype=np.float32, external=[(str(raw), 0, SECRET.nbytes)])


H5_ATTACKS = {"external link": external_link, "virtual dataset": virtual_dataset, "external storage": external_storage}


def keras_weights_attack(folder: Path, bias) -> bytes:
    """TINY_MODEL as a .keras file whose weights file gets its output bias from `bias(group, folder)`."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        handle.create_group("vars")
        handle.create_group("layers/flatten/vars")
        group = handle.create_group("layers/dense/vars")
        group["0"] = np.zeros((64, 10), dtype=np.float32)
        bias(group, folder)
        group.move("bias", "1")
    return keras_file(TINY_MODEL, weights_file=buffer.getvalue())


# Every hostile upload, by what it tries: name -> its bytes (given a folder for the files it points to).
ATTACKS: dict[str, Callable[[Path], bytes]] = {
    "Dense(700000) after a Flatten (.keras)": lambda folder: dense_bomb(),
    "UpSampling2D(64) before a convolution (.keras)": lambda folder: upsampling_bomb(),
    **{f"{name} (.h5)": functools.partial(h5_model, bias=bias) for name, bias in H5_ATTACKS.items()},
    "external link in model.weights.h5 (.keras)": functools.partial(keras_weights_attack, bias=external_link),
}


def read_memory() -> dict[str, int]:
    """This process's VmRSS, VmHWM (peak) and VmSize in MB, from /proc."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return {key: int(fields[key].split()[0]) // 1024 for key in ("VmRSS", "VmHWM", "VmSize")}


def vet_here(attack: str, cap_mb: int) -> dict:
    """Vet the upload `attack` in this process, its address space capped at `cap_mb` more than now: what happened.

    A good file is vetted first, so that TensorFlow's start and lazy imports are not counted; the peak is
    then reset (Linux' clear_refs) and its growth measured.
    """
    import resource
    import tempfile
    import time

    from core.model.files import ModelFileError, vet_upload

    vet_upload(tiny_file(), "tiny.keras", 20 * 1024 * 1024)
    data = ATTACKS[attack](Path(tempfile.mkdtemp(prefix="digitlab-attack-")))
    Path("/proc/self/clear_refs").write_text("5")  # peak RSS := RSS now
    before = read_memory()
    limit = (before["VmSize"] + cap_mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    started = time.monotonic()
    try:
        vet_upload(data, "upload", 20 * 1024 * 1024)
        outcome, message = "accepted", ""
    except ModelFileError as error:
        outcome, message = "refused", str(error)
    except Exception as error:  # noqa: BLE001  (out of memory shows as many types)
        outcome, message = "failed", f"{type(error).__name__}: {str(error)[:300]}"
    after = read_memory()
    return {"attack": attack, "bytes": len(data), "outcome": outcome, "message": message,
            "seconds": round(time.monotonic() - started, 2), "rss_before_mb": before["VmRSS"],
            "peak_growth_mb": after["VmHWM"] - before["VmRSS"], "rss_growth_mb": after["VmRSS"] - before["VmRSS"]}


def vet_in_subprocess(attack: str, cap_mb: int = 1500, timeout: float = 300) -> dict:
    """`vet_here` in a fresh Python (so a blow-up harms only it); its report, or outcome 'crashed'."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-m", "tests.harness.hostile_models", attack, str(cap_mb)], cwd=root,
                          env=env, capture_output=True, text=True, timeout=timeout)
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        return {"attack": attack, "outcome": "crashed", "message": done.stderr[-500:], "returncode": done.returncode}
    return json.loads(lines[-1])


if __name__ == "__main__":
    print(json.dumps(vet_here(sys.argv[1], int(sys.argv[2]))), flush=True)

"""The dataset file readers: Keras' `mnist.npz`, Fashion-MNIST's gzipped IDX files, the shipped 8x8
Digits, each as (x_train, y_train, x_test, y_test), and a clear `DatasetUnavailable` when a file
is damaged. A new file format is one reader here, named by its entry in core.data.datasets.
numpy only.
"""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import numpy as np

FASHION_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)


Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # x_train, y_train, x_test, y_test


class DatasetUnavailable(RuntimeError):
    """A dataset could not be read or downloaded; the message says what to do instead."""


def read_mnist_folder(folder: Path) -> Arrays:
    """x_train, y_train, x_test, y_test from the Keras-format `mnist.npz` in `folder`."""
    return read_npz_arrays(folder / "mnist.npz")


def read_npz_arrays(path: Path) -> Arrays:
    """x_train, y_train, x_test, y_test from a Keras-format `mnist.npz`."""
    try:
        with np.load(path, allow_pickle=False) as f:
            x_train, y_train, x_test, y_test = (np.asarray(f[k]) for k in ("x_train", "y_train", "x_test", "y_test"))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
        raise DatasetUnavailable(
            f"`{path}` is not a readable Keras `mnist.npz` (it needs the arrays x_train, y_train, "
            f"x_test, y_test): {error}. Replace it with a fresh copy, or delete it to download again."
        ) from error
    return x_train, y_train, x_test, y_test


def read_idx_gz(path: Path, offset: int) -> np.ndarray:
    """The bytes of a gzipped IDX file after its header (8 bytes for labels, 16 for images)."""
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as error:
        raise DatasetUnavailable(
            f"`{path}` is not a readable gzip file ({error}). Replace it with a fresh copy, "
            "or delete it to download again."
        ) from error
    return np.frombuffer(data, np.uint8, offset=offset)


def read_fashion_files(folder: Path) -> Arrays:
    """x_train, y_train, x_test, y_test from the four Fashion-MNIST `.gz` files in `folder`."""
    y_train = read_idx_gz(folder / FASHION_FILES[0], 8)
    x_train = read_idx_gz(folder / FASHION_FILES[1], 16)
    y_test = read_idx_gz(folder / FASHION_FILES[2], 8)
    x_test = read_idx_gz(folder / FASHION_FILES[3], 16)
    images = []
    for x, y, name in ((x_train, y_train, FASHION_FILES[1]), (x_test, y_test, FASHION_FILES[3])):
        if x.size != len(y) * 28 * 28:
            raise DatasetUnavailable(
                f"`{folder / name}` holds {x.size} pixels, not {len(y)} images of 28x28: "
                "the file is truncated or does not match its labels file. Replace both."
            )
        images.append(x.reshape(len(y), 28, 28))
    return images[0], y_train, images[1], y_test


def read_digits_folder(folder: Path) -> Arrays:
    """The 8x8 Digits (`digits.npz`, as scikit-learn's load_digits) with a seeded 20% test split."""
    with np.load(folder / "digits.npz") as f:
        images, labels = f["images"], f["target"]
    # The Digits set has no official test split: hold out a seeded 20%.
    return split_off(images, labels, 0.2, seed=0)


def split_off(
    x: np.ndarray, y: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A seeded random split: (x_keep, y_keep, x_part, y_part) with `fraction` in the part."""
    order = np.random.default_rng(seed).permutation(len(y))
    n_part = int(round(len(y) * fraction))
    keep, part = order[n_part:], order[:n_part]
    return x[keep], y[keep], x[part], y[part]

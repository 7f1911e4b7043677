"""Your own handwriting: keep drawn digits, rebuild model images from them, and move them in .npz files.

What is kept per digit is its label (0-9), its time (the store stamps it) and the canvas's ink,
area-averaged down to KEEP_SIDE x KEEP_SIDE uint8 (0..255, white ink on black). Not a model's
input: both of core.data.drawing's recipes (the 28x28 MNIST-like one and the 8x8 Digits-like one) are
re-run on the kept ink whenever a model needs the digits, so a digit drawn today serves any model.

The download is Keras' MNIST layout (x (N, 28, 28) uint8 0..255, y (N,) uint8), so a notebook
reads it like `mnist.npz`. An uploaded file is untrusted: `import_npz` reads the .npy headers
itself and never unpickles anything; every refusal is a `DigitsFileError` whose message can be
shown as is, and nothing is returned unless every image passed.

Pure numpy/Pillow: no Streamlit, no TensorFlow.
"""

from __future__ import annotations

import io
import math
import zipfile
from typing import IO

import numpy as np
from PIL import Image

from core.data.datasets import DatasetInfo
from core.data.drawing import crop_to_ink, extract_ink, preprocess_drawing
from core.i18n import Number, message, term

# 280 px canvas -> 56x56, each pixel the mean of a 5x5 block. 56 is twice MNIST's side: the
# 28x28 recipe shrinks the ink to a 20 px box (from ~40 px here, so nothing is lost that a
# 28x28 image could show) and the 8x8 recipe works at 32x32, also below 56; a 280x280 RGBA
# canvas is 314 kB, the kept ink 3 kB.
KEEP_SIDE = 56
EXPORT_SHAPE = (28, 28)  # Keras' MNIST
NUM_CLASSES = 10
MIN_EVALUATE_DIGITS = 10  # Evaluate offers "My digits" from this many on
MAX_IMAGES = 5_000  # per file, as many as a lab may hold (core.storage.records.MAX_DIGITS)
MAX_FILE_BYTES = 20_000_000  # 20 MB
# What MAX_IMAGES 28x28 images and int64 labels unpack to, plus room for the .npy headers.
# A zip entry is never read past its declared size, so this bounds what a zip bomb can make.
MAX_UNPACKED_BYTES = MAX_IMAGES * (28 * 28 + 8) + 64_000
# The key sets an uploaded file may hold: ours (x, y), or Keras' mnist.npz (train, and test).
KEY_LAYOUTS = ({"x", "y"}, {"x_train", "y_train"}, {"x_train", "y_train", "x_test", "y_test"})
_ZIP_SIGNATURE = b"PK\x03\x04"


class DigitsFileError(ValueError):
    """An uploaded digits file that cannot be used; the message is meant for the user."""


def keep_drawing(rgba: np.ndarray) -> np.ndarray | None:
    """Canvas image (H, W, 4|3) or (H, W) -> kept ink (KEEP_SIDE, KEEP_SIDE) uint8 0..255; None if empty.

    Empty follows core.data.drawing's rules (fewer than MIN_INK_PIXELS canvas pixels of ink), the
    very rule that makes the Draw page read nothing; a speck that vanishes when shrunk (too few
    ink pixels left at 56x56 to preprocess) is empty too. A non-square canvas is padded to a
    square first, so the digit keeps its proportions.
    """
    ink = extract_ink(rgba)  # (H, W) float32 0..255
    if crop_to_ink(ink) is None:
        return None
    side = max(ink.shape)
    square = np.zeros((side, side), dtype=np.float32)
    top, left = (side - ink.shape[0]) // 2, (side - ink.shape[1]) // 2
    square[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    # BOX = the mean of the canvas pixels under each kept pixel (5x5 blocks for 280 -> 56).
    small = Image.fromarray(square).resize((KEEP_SIDE, KEEP_SIDE), Image.Resampling.BOX)
    kept = np.clip(np.rint(np.asarray(small)), 0, 255).astype(np.uint8)
    return kept if crop_to_ink(kept) is not None else None


def to_model_images(kept: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """Kept ink (N, 56, 56) uint8 -> model images (N, H, W) float32 0..1, as the Draw page makes them.

    Each goes through core.data.drawing.preprocess_drawing, so a model sees a kept digit exactly as
    it saw it drawn (MNIST-like for 28x28, Digits-like for 8x8). A blank image (never kept, but
    possible in principle) becomes a black frame.
    """
    frame = (int(image_shape[0]), int(image_shape[1]))
    out = np.zeros((len(kept), *frame), dtype=np.float32)
    for i, ink in enumerate(kept):
        image = preprocess_drawing(ink, frame)
        if image is not None:
            out[i] = image
    return out


def to_dataset_images(kept: np.ndarray, info: DatasetInfo) -> np.ndarray:
    """Kept ink (N, 56, 56) -> (N, H, W) uint8 in 0..info.value_max: raw images like the dataset's test set.

    For Evaluate, which scales raw test images with core.data.datasets.to_model_input. The 8x8
    recipe's k/16 values are exact; 28x28 ones are rounded to 1/255, as MNIST's are.
    """
    images = to_model_images(kept, info.image_shape)
    return np.rint(images * info.value_max).astype(np.uint8)


def can_evaluate_on_mine(info: DatasetInfo, labels: np.ndarray) -> str | None:
    """Why Evaluate cannot offer "My digits" for a model of `info` (None when it can)."""
    if not info.is_digits:
        return message("Your digits can only test a model that reads digits, not {dataset}.", dataset=term(info.name))
    if len(labels) < MIN_EVALUATE_DIGITS:
        return message("Add at least {least} digits to test a model on them (you have {count}).",
                       least=Number(MIN_EVALUATE_DIGITS), count=Number(len(labels)))
    return None


def count_per_digit(labels: np.ndarray) -> np.ndarray:
    """How many digits of each class: (10,) int64, index = digit."""
    labels = np.asarray(labels, dtype=np.int64).ravel()
    return np.bincount(labels, minlength=NUM_CLASSES)[:NUM_CLASSES]


def export_npz(labels: np.ndarray, kept: np.ndarray) -> bytes:
    """The digits as an .npz in Keras' MNIST layout: x (N, 28, 28) uint8 0..255 (MNIST-like), y (N,) uint8.

    Keys `x` and `y` (not x_train...: they are one set, not a split); compressed.
    """
    x = np.rint(to_model_images(kept, EXPORT_SHAPE) * 255).astype(np.uint8)  # (N, 28, 28)
    y = np.asarray(labels, dtype=np.uint8).ravel()  # (N,)
    if len(x) != len(y):
        raise ValueError(f"{len(y)} labels for {len(x)} images")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=x, y=y)
    return buffer.getvalue()


def import_npz(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """An uploaded .npz -> (labels (N,) uint8 0..9, kept (N, 56, 56) uint8); DigitsFileError otherwise.

    Accepted: a zip of .npy arrays (what np.savez writes) holding exactly the keys x and y (our
    download), or x_train and y_train, optionally with x_test and y_test (Keras' mnist.npz; the
    parts are joined). x (N, 28, 28) uint8, y (N,) integers 0..9, 1 <= N <= 5,000 in all, at most
    20 MB, no blank image. Refused: anything else, including pickles and object arrays (their
    headers are read and they are never loaded), float images, zip bombs and damaged files.
    Each 28x28 image is enlarged 2x to be kept like a drawing.
    """
    archive = open_archive(data)
    with archive:
        arrays = read_entries(archive)
    if "x" in arrays:
        x, y = arrays["x"], arrays["y"]
    else:
        parts = [p for p in ("train", "test") if f"x_{p}" in arrays]
        for part in parts:
            check_pair(arrays[f"x_{part}"], arrays[f"y_{part}"], f"x_{part}", f"y_{part}")
        x = np.concatenate([arrays[f"x_{p}"] for p in parts])
        y = np.concatenate([arrays[f"y_{p}"] for p in parts])
    check_pair(x, y, "x", "y")
    check_images(x, y)
    return y.astype(np.uint8), enlarge_images(x)


def open_archive(data: bytes) -> zipfile.ZipFile:
    """Check the size and that it is a sound zip whose entries are .npy arrays of an accepted layout."""
    if not data:
        raise DigitsFileError(message("The file is empty. Choose an .npz file downloaded from My digits."))
    if len(data) > MAX_FILE_BYTES:
        raise DigitsFileError(message("The file is {size} MB; the limit is {limit} MB.",
                                      size=Number(math.ceil(len(data) / 1e5) / 10),
                                      limit=Number(round(MAX_FILE_BYTES / 1e6))))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        if data.startswith(_ZIP_SIGNATURE):
            raise DigitsFileError(message("The file is damaged (truncated or corrupted): download it again.")) \
                from error
        raise DigitsFileError(message(
            "This is not an .npz file. Upload one saved with numpy.savez, with the arrays x and y "
            "(as My digits downloads them)."
        )) from error
    names = archive.namelist()
    keys = [name.removesuffix(".npy") for name in names]
    if len(set(keys)) != len(keys) or not all(name.endswith(".npy") for name in names) \
            or set(keys) not in KEY_LAYOUTS:
        archive.close()
        found = ", ".join(sorted(names)) or message("nothing")
        raise DigitsFileError(message(
            "The file holds {found}; it needs exactly the arrays x and y (as My digits downloads "
            "them), or x_train and y_train (and x_test, y_test) as in Keras' mnist.npz.", found=found
        ))
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > MAX_UNPACKED_BYTES:
        archive.close()
        raise DigitsFileError(message(
            "The file unpacks to {size} MB, more than {most} digits can take: "
            "it is not a digits file (or holds too many).", size=Number(round(unpacked / 1e6, 1)),
            most=Number(MAX_IMAGES)
        ))
    return archive


def read_entries(archive: zipfile.ZipFile) -> dict[str, np.ndarray]:
    """Every array of the archive by key, each checked from its header before its data is read."""
    arrays = {}
    for name in archive.namelist():
        key = name.removesuffix(".npy")
        try:
            with archive.open(name) as fp:
                arrays[key] = read_npy(fp, key)
        except DigitsFileError:
            raise
        except (zipfile.BadZipFile, ValueError, EOFError, OSError, RuntimeError) as error:
            # zlib and CRC errors, a header numpy cannot parse, data shorter than its header says
            raise DigitsFileError(message("The array {key} in the file is damaged ({error}): download it again.",
                                          key=key, error=str(error))) from error
    return arrays


def read_npy(fp: IO[bytes], key: str) -> np.ndarray:
    """One .npy entry: its header checked (dtype, shape, no Python objects), then exactly its bytes."""
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version == (2, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise DigitsFileError(message("The array {key} is in .npy format {version}, which is not read here.",
                                      key=key, version=str(version)))
    check_header(key, shape, dtype)
    count = math.prod(shape)
    raw = fp.read(count * dtype.itemsize + 1)  # one more: reaching the end makes zipfile check the CRC
    if len(raw) != count * dtype.itemsize:
        raise DigitsFileError(message("The array {key} holds {found} bytes, not the {expected} its header says: "
                                      "the file is damaged.", key=key, found=Number(len(raw)),
                                      expected=Number(count * dtype.itemsize)))
    return np.frombuffer(raw, dtype=dtype).reshape(shape, order="F" if fortran_order else "C")


def check_header(key: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
    """Refuse what an entry's header declares unless it is x (N, 28, 28) uint8 or y (N,) integers."""
    if dtype.hasobject:
        raise DigitsFileError(message("The array {key} holds Python objects (a pickle), which are never loaded "
                                      "here.", key=key))
    if key.startswith("x"):
        if dtype != np.uint8:
            raise DigitsFileError(message("The images {key} are {dtype}; they must be uint8 pixels 0..255, as in "
                                          "MNIST.", key=key, dtype=str(dtype)))
        if len(shape) != 3 or tuple(shape[1:]) != EXPORT_SHAPE:
            raise DigitsFileError(message("The images {key} have shape {shape}; they must be (N, 28, 28).", key=key,
                                          shape=str(tuple(shape))))
    else:
        if dtype.kind not in "iu":
            raise DigitsFileError(message("The labels {key} are {dtype}; they must be whole numbers 0..9.", key=key,
                                          dtype=str(dtype)))
        if len(shape) != 1:
            raise DigitsFileError(message("The labels {key} have shape {shape}; they must be (N,), one per image.",
                                          key=key, shape=str(tuple(shape))))
    if shape and shape[0] > MAX_IMAGES:
        raise DigitsFileError(message("The file holds {count} digits; at most {most} can be added.",
                                      count=Number(shape[0]), most=Number(MAX_IMAGES)))


def check_pair(x: np.ndarray, y: np.ndarray, x_name: str, y_name: str) -> None:
    """Refuse images and labels of different lengths, none at all, or more than MAX_IMAGES."""
    if len(x) != len(y):
        raise DigitsFileError(message("{x_name} holds {images} images but {y_name} {labels} labels.", x_name=x_name,
                                      images=Number(len(x)), y_name=y_name, labels=Number(len(y))))
    if len(x) == 0:
        raise DigitsFileError(message("The file holds no digits."))
    if len(x) > MAX_IMAGES:
        raise DigitsFileError(message("The file holds {count} digits; at most {most} can be added.",
                                      count=Number(len(x)), most=Number(MAX_IMAGES)))


def check_images(x: np.ndarray, y: np.ndarray) -> None:
    """Refuse labels outside 0..9 and blank images, naming the first one."""
    bad = np.flatnonzero((y < 0) | (y > 9))
    if bad.size:
        raise DigitsFileError(message("Label {label} (digit {position}) is not a digit 0..9.",
                                      label=int(y[bad[0]]), position=Number(bad[0] + 1)))
    for i, image in enumerate(x):
        if crop_to_ink(image.astype(np.float32)) is None:
            raise DigitsFileError(message("Image {position} (a {label}) is blank: nothing was added.",
                                          position=Number(i + 1), label=int(y[i])))


def enlarge_images(x: np.ndarray) -> np.ndarray:
    """(N, 28, 28) uint8 -> (N, 56, 56) uint8, each enlarged 2x (bilinear) to be kept like a drawing."""
    out = np.empty((len(x), KEEP_SIDE, KEEP_SIDE), dtype=np.uint8)
    for i, image in enumerate(x):
        out[i] = np.asarray(Image.fromarray(np.ascontiguousarray(image)).resize(
            (KEEP_SIDE, KEEP_SIDE), Image.Resampling.BILINEAR))
    return out

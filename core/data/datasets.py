"""The three datasets: what each one is, and how to load it as train / validation / test splits.

MNIST and Fashion-MNIST come from Keras' own loaders (cached under `$KERAS_HOME/datasets`), or
from local copies in Keras' formats when `DIGITLAB_DATA_DIR` names a folder. The 8x8 Digits set
ships inside the repo (`data/digits.npz`), so the app works with no internet at all, and so does
a sample of MNIST (`data/mnist-sample.npz`: its 10,000 test images and 10,000 training images),
read when the full set cannot be had. The order: DIGITLAB_DATA_DIR (when set, only it), then
Keras' cache or its download (given DIGITLAB_DOWNLOAD_SECONDS), then the dataset's sample. Every
load says which it used (`DataSource`), in words the pages show.

TensorFlow is imported only inside the download path: describing a dataset stays cheap.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.readers import (
    FASHION_FILES,
    Arrays,
    DatasetUnavailable,
    read_digits_folder,
    read_fashion_files,
    read_mnist_folder,
    read_npz_arrays,
    split_off,
)
from core.i18n import N_, Message, Number, message
from core.limits import SettingError, env_number

DATA_DIR_ENV = "DIGITLAB_DATA_DIR"
DOWNLOAD_SECONDS_ENV = "DIGITLAB_DOWNLOAD_SECONDS"
DOWNLOAD_SECONDS = 60.0  # a download not done by then is left to finish unseen; the sample is used meanwhile
SHIPPED_DIR = Path(__file__).resolve().parents[2] / "data"  # datasets small enough to ship
SAMPLE_TRAIN_IMAGES = 10_000  # training images in data/mnist-sample.npz (scripts/make_mnist_sample.py)


FASHION_CLASSES = (
    N_("T-shirt/top"), N_("Trouser"), N_("Pullover"), N_("Dress"), N_("Coat"),
    N_("Sandal"), N_("Shirt"), N_("Sneaker"), N_("Bag"), N_("Ankle boot"),
)
DIGIT_CLASSES = tuple(str(d) for d in range(10))


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is, before anything is loaded."""

    key: str
    name: str
    image_shape: tuple[int, int]
    class_names: tuple[str, ...]
    value_max: int  # pixel values run 0..value_max in the raw uint8 images
    files: tuple[str, ...]  # the files it is read from (shipped, in DIGITLAB_DATA_DIR, or Keras' cache)
    read_files: Callable[[Path], Arrays]  # a folder holding `files` -> (x_train, y_train, x_test, y_test)
    train_size: int  # training images of the full set, before the validation split
    description: str
    keras_loader: str | None = None  # the keras.datasets module that downloads it; None: ships with the app
    cache_subdir: str = ""  # its folder under Keras' cache ($KERAS_HOME/datasets)
    sample_file: str | None = None  # a part of it in data/, Keras' npz format, read when the full set cannot be

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """The shape every model of this app takes: (H, W, 1) floats in 0..1."""
        return (*self.image_shape, 1)

    @property
    def is_digits(self) -> bool:
        """True when its classes are the digits 0-9 (a drawing can be read as one)."""
        return self.class_names == DIGIT_CLASSES

    @property
    def title(self) -> Message:
        """Its name as a value of a message, so that the message translates it too ("Digits (8x8)")."""
        return message(self.name)

    @property
    def ships(self) -> bool:
        return self.keras_loader is None



@dataclass(frozen=True)
class DataSource:
    """Where a dataset's images were read from, and that in one sentence a page can show."""

    kind: str  # shipped | local (DIGITLAB_DATA_DIR) | download (Keras' cache or download) | sample
    sentence: str

    @property
    def is_sample(self) -> bool:
        return self.kind == "sample"


@dataclass(frozen=True)
class Dataset:
    """Raw uint8 images (N, H, W) and uint8 labels, split three ways, and where they came from."""

    info: DatasetInfo
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: DataSource

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "validation": len(self.y_val), "test": len(self.y_test)}


def get_info(key: str) -> DatasetInfo:
    """The description of dataset `key`; a clear error for an unknown key."""
    if key not in DATASETS:
        raise KeyError(f"Unknown dataset {key!r}; choose one of {', '.join(DATASETS)}.")
    return DATASETS[key]


def datasets_of_shape(image_shape: tuple[int, int]) -> list[str]:
    """The keys of the datasets whose images have this (H, W)."""
    return [key for key, info in DATASETS.items() if info.image_shape == tuple(image_shape)]


def to_model_input(images: np.ndarray, info: DatasetInfo) -> np.ndarray:
    """Scale raw images for a model."""
    # (N, H, W) uint8 in 0..value_max -> (N, H, W, 1) float32 in 0..1
    return (images.astype("float32") / info.value_max)[..., np.newaxis]


def local_data_dir() -> Path | None:
    """The folder named by DIGITLAB_DATA_DIR, or None when the variable is unset or empty."""
    value = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(value).expanduser() if value else None


def keras_cache_dir() -> Path:
    """Where Keras keeps downloaded datasets (`$KERAS_HOME/datasets`, default `~/.keras`)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def is_downloaded(key: str) -> bool:
    """True when loading `key` needs no download (shipped, local copy, or already cached)."""
    info = get_info(key)
    if info.ships or local_data_dir() is not None:
        return True
    return all((keras_cache_folder(key) / name).is_file() for name in info.files)


def keras_cache_folder(key: str) -> Path:
    """The folder in Keras' cache that holds dataset `key`'s files."""
    return keras_cache_dir() / get_info(key).cache_subdir


def read_local_copy(info: DatasetInfo, folder: Path) -> Arrays:
    """The raw arrays of `info` from DIGITLAB_DATA_DIR; a clear error naming what is missing."""
    if not folder.is_dir():
        raise DatasetUnavailable(message(
            "{setting} is set to `{folder}`, which is not a folder. Create it and put "
            "{files} in it, or unset {setting} to download from the internet.",
            setting=DATA_DIR_ENV, folder=folder, files=", ".join(info.files)))
    missing = [name for name in info.files if not (folder / name).is_file()]
    if missing:
        raise DatasetUnavailable(message(
            "{setting} is `{folder}`, but {missing} is not there. Put the {name} files in Keras' format there "
            "({files}), or unset {setting} to download them.",
            setting=DATA_DIR_ENV, folder=folder, missing=", ".join(missing), name=info.title,
            files=", ".join(info.files)))
    return info.read_files(folder)


def download_seconds() -> float:
    """How long a download may take before the sample is used: DIGITLAB_DOWNLOAD_SECONDS, default 60."""
    try:
        return env_number(DOWNLOAD_SECONDS_ENV, DOWNLOAD_SECONDS)
    except SettingError as error:
        raise DatasetUnavailable(str(error)) from error


_DOWNLOADS: dict[str, Future] = {}  # dataset key -> its download in progress (one at a time per dataset)
_DOWNLOADS_LOCK = threading.Lock()


def start_download(info: DatasetInfo) -> Future:
    """The running Keras load of `info`, or a new one in a daemon thread; its result is ((x, y), (x, y)).

    A thread, so that the caller can stop waiting: Keras' urlretrieve has no timeout, and a
    firewall that drops packets would hold a visitor's page for minutes. A load left running
    finishes unseen (its file lands in Keras' cache for the next start); no second one starts meanwhile.
    """
    import keras  # slow import, only needed for a download; here, not in the thread (import lock)

    assert info.keras_loader is not None, f"{info.key} ships with the app: nothing to download"
    loader = getattr(keras.datasets, info.keras_loader).load_data
    with _DOWNLOADS_LOCK:
        future = _DOWNLOADS.get(info.key)
        if future is not None and not future.done():
            return future
        future = _DOWNLOADS[info.key] = Future()

    def load() -> None:
        try:
            future.set_result(loader())
        except BaseException as error:  # noqa: BLE001 -- handed to the waiting caller as it is
            future.set_exception(error)

    threading.Thread(target=load, name=f"download-{info.key}", daemon=True).start()
    return future


def download_arrays(info: DatasetInfo) -> Arrays:
    """The raw arrays through Keras' loader (downloads once, then reads Keras' cache)."""
    cached = is_downloaded(info.key)
    seconds = download_seconds()
    try:
        (x_train, y_train), (x_test, y_test) = start_download(info).result(timeout=seconds)
    except FutureTimeout:
        raise DatasetUnavailable(message(
            "Downloading {name} ({files}) did not finish within {seconds} s ({limit}). It goes on in the "
            "background; or put the files in a folder and set {setting} to it. "
            "The 8x8 Digits set works with no internet at all.",
            name=info.title, files=", ".join(info.files), seconds=Number(seconds), limit=DOWNLOAD_SECONDS_ENV,
            setting=DATA_DIR_ENV)) from None
    except Exception as error:  # Keras raises a plain Exception when offline
        folder = keras_cache_folder(info.key)
        if cached:
            raise DatasetUnavailable(message(
                "The copy of {name} in `{folder}` could not be read ({error}): it is damaged or truncated. "
                "Delete {files} there to download them again. The 8x8 Digits set works meanwhile.",
                name=info.title, folder=folder, error=error, files=", ".join(info.files))) from error
        raise DatasetUnavailable(message(
            "Could not download {name} ({files}): {error}. If this computer is offline or behind a firewall, "
            "put {files} in a folder and set {setting} to it, or place them in `{folder}`. "
            "The 8x8 Digits set works with no internet at all.",
            name=info.title, files=", ".join(info.files), error=error, setting=DATA_DIR_ENV,
            folder=folder)) from error
    return x_train, y_train, x_test, y_test


def check_arrays(info: DatasetInfo, arrays: Arrays) -> None:
    """Refuse arrays that are not images of this dataset (wrong file, wrong format)."""
    x_train, y_train, x_test, y_test = arrays
    for x, y, part in ((x_train, y_train, "training"), (x_test, y_test, "test")):
        if x.ndim != 3 or x.shape[1:] != info.image_shape or len(x) != len(y) or len(y) == 0:
            raise DatasetUnavailable(message(
                "The {name} {part} images have shape {shape} with {labels} labels; expected (N, {height}, "
                "{width}) with N labels. The file is probably another dataset's or damaged: replace it.",
                name=info.title, part=part, shape=x.shape, labels=len(y), height=info.image_shape[0],
                width=info.image_shape[1]))
        if y.min() < 0 or y.max() >= info.num_classes:
            raise DatasetUnavailable(message(
                "The {name} {part} labels run {low}..{high}, not 0..{last}: replace the file.",
                name=info.title, part=part, low=y.min(), high=y.max(), last=info.num_classes - 1))


def local_source(key: str) -> str | None:
    """The DIGITLAB_DATA_DIR folder to read `key` from, or None (shipped, or Keras' download)."""
    folder = local_data_dir()
    return str(folder) if folder is not None and not get_info(key).ships else None


def read_sample(info: DatasetInfo, reason: str | Message) -> tuple[Arrays, DataSource]:
    """The sample of `info` that ships in data/, and a source that gives `reason` (why not the full set)."""
    assert info.sample_file is not None, f"{info.key} has no sample in data/"
    arrays = read_npz_arrays(SHIPPED_DIR / info.sample_file)
    sentence = message("{name}: the sample that ships with the app, {test} test images and {train} training images, "
                       "because the full set could not be downloaded: {reason}",
                       name=info.title, test=Number(len(arrays[3])), train=Number(len(arrays[1])), reason=reason)
    return arrays, DataSource("sample", sentence)


def read_full_or_sample(info: DatasetInfo) -> tuple[Arrays, DataSource]:
    """Keras' cache or download of `info`; its shipped sample when that fails and there is one."""
    try:
        arrays = download_arrays(info)
        check_arrays(info, arrays)
    except DatasetUnavailable as error:
        if info.sample_file is None:
            raise
        return read_sample(info, error.args[0] if error.args else str(error))  # a Message keeps its template
    return arrays, DataSource("download", message(
        "{name}: the full set, from Keras' download (cached on this server).", name=info.title))


@functools.lru_cache(maxsize=4)
def read_raw(key: str, data_dir: str | None) -> tuple[Arrays, DataSource]:
    """Raw (x_train, y_train, x_test, y_test) and where they came from; cached per process (read-only, same
    for everyone). A sample read because the download failed stays until the app restarts."""
    info = get_info(key)
    if info.ships:
        arrays, source = info.read_files(SHIPPED_DIR), DataSource("shipped", message(
            "{name}: ships with the app.", name=info.title))
    elif data_dir is not None:
        arrays = read_local_copy(info, Path(data_dir))
        source = DataSource("local", message(
            "{name}: the local copy in {setting}.", name=info.title, setting=DATA_DIR_ENV))
    else:
        arrays, source = read_full_or_sample(info)
    check_arrays(info, arrays)
    for array in arrays:
        array.setflags(write=False)  # shared by all sessions: nobody may change it
    return arrays, source


DATASETS: dict[str, DatasetInfo] = {info.key: info for info in (
    DatasetInfo(
        key="digits",
        name=N_("Digits (8x8)"),
        image_shape=(8, 8),
        class_names=DIGIT_CLASSES,
        value_max=16,
        files=("digits.npz",),
        read_files=read_digits_folder,
        train_size=1438,
        description=N_("1,797 small 8x8 handwritten digits (UCI optical digits); ships with the app."),
    ),
    DatasetInfo(
        key="mnist",
        name="MNIST",
        image_shape=(28, 28),
        class_names=DIGIT_CLASSES,
        value_max=255,
        files=("mnist.npz",),
        read_files=read_mnist_folder,
        train_size=60_000,
        description=N_("Handwritten digits, 28x28 (LeCun, Cortes, Burges; CC BY-SA 3.0). The full set, 60,000 "
                       "training and 10,000 test images, is downloaded once (11 MB); a sample ships with the app."),
        keras_loader="mnist",
        sample_file="mnist-sample.npz",
    ),
    DatasetInfo(
        key="fashion_mnist",
        name="Fashion-MNIST",
        image_shape=(28, 28),
        class_names=FASHION_CLASSES,
        value_max=255,
        files=FASHION_FILES,
        read_files=read_fashion_files,
        train_size=60_000,
        description=N_("Photos of clothing in 10 classes, 28x28 (Zalando; MIT licence). The full set, 60,000 "
                       "training and 10,000 test images, is downloaded once (30 MB)."),
        keras_loader="fashion_mnist",
        cache_subdir="fashion-mnist",
    ),
)}


def load_dataset(
    key: str, validation_fraction: float = 0.1, train_limit: int | None = None, seed: int = 0
) -> Dataset:
    """Train / validation / test splits of dataset `key`.

    The validation split is carved from the training set (seeded); the test set is kept for
    Evaluate. `train_limit` caps the training images (after the validation split is taken),
    so that a shared CPU trains quickly. Raises DatasetUnavailable with a readable message.
    """
    info = get_info(key)
    (x_train, y_train, x_test, y_test), source = read_raw(key, local_source(key))
    x_train, y_train, x_val, y_val = split_off(x_train, y_train, validation_fraction, seed)
    if train_limit is not None:
        x_train, y_train = x_train[:train_limit], y_train[:train_limit]
    return Dataset(info, x_train, y_train, x_val, y_val, x_test, y_test, source)


def load_test_set(key: str) -> tuple[np.ndarray, np.ndarray]:
    """The test images (N, H, W) uint8 and labels of dataset `key`."""
    (_, _, x_test, y_test), _ = read_raw(key, local_source(key))
    return x_test, y_test


def data_source(key: str) -> DataSource:
    """Where dataset `key`'s images come from (loads it, like load_test_set, when not loaded yet)."""
    return read_raw(key, local_source(key))[1]

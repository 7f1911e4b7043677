"""Load uploaded model files safely, check they fit a dataset, and write downloadable ones.

An uploaded file is untrusted. `load_model_file` refuses anything that is not a plain
Keras model made of built-in Keras classes, before Keras sees it where it can (size,
format, zip integrity, a scan of the model's config for Lambda layers and non-Keras
classes, the layer classes, parameters and activation sizes the config asks for
(core.model.config_size), HDF5 that reads other files), then loads it with `safe_mode=True`
as a second line of defence. Two formats:
the `.keras` zip, and the legacy HDF5 `.h5` file the classic tutorials save
(`model.save("mnist.h5")`), whose config is read with h5py and checked the same way. Every
refusal is a `ModelFileError` whose message can be shown to the user as is.
`vet_upload` does everything an upload needs: load, guess the dataset, check the fit.

Keras is imported lazily so that importing this module stays fast (the home page imports it).

About 500 lines: every check of an untrusted file, in the order an upload meets them; split, the
order of the defences would be harder to read. A new check goes where it runs.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.data.datasets import DATASETS, datasets_of_shape, get_info
from core.i18n import N_, Message, Number, message, message_of, term
from core.model.config_size import ConfigError, ConfigSize, check_config_size

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_ZIP_SIGNATURE = b"PK\x03\x04"  # local file header, first bytes of any non-empty zip
METADATA_ENTRY = "digitlab.json"
_CONFIG_ENTRY = "config.json"
# Keras stores .keras entries uncompressed, so a genuine file unpacks to about its own
# size; anything that unpacks to much more is a zip bomb, not a model.
_MAX_UNPACK_RATIO = 4
_MAX_METADATA_BYTES = 1_000_000
# A model's config is about 2 kB per layer; a bigger one is not a model this app accepts, and
# parsing megabytes of JSON costs the server many times their size in memory.
_MAX_CONFIG_BYTES = 2_000_000
_TOO_BIG_CONFIG = N_("This model's config is over 2 MB; it is not a model this app accepts.")
# Layers that run code or read files named in the config: never accepted from an upload.
_FORBIDDEN_CLASSES = {
    "Lambda": N_("a Lambda layer (custom Python code)"),
    "__lambda__": N_("a Python lambda function (custom Python code)"),
    "TFSMLayer": N_("a TFSMLayer (it loads another model from disk)"),
}


class ModelFileError(ValueError):
    """A model file that cannot be used; its message (a core.i18n Message: pages show `_(message_of(error))`) is for
    the user."""


def _format_size(n_bytes: int) -> Message:
    """Human-readable size: '950 bytes', '12 kB', '12.3 MB' (the number written the reader's way)."""
    if n_bytes < 1_000:
        return message("{size} bytes", size=Number(n_bytes))
    if n_bytes < 1_000_000:
        return message("{size} kB", size=Number(round(n_bytes / 1_000)))
    return message("{size} MB", size=Number(round(n_bytes / 1_000_000, 1)))


def check_file_size(data: bytes, max_bytes: int) -> None:
    """Refuse empty and oversize files."""
    if not data:
        raise ModelFileError(message("The file is empty. Choose a model saved with model.save('name.keras')."))
    if len(data) > max_bytes:
        raise ModelFileError(message("The file is {size}; the limit is {limit}. Upload a smaller model.",
                                     size=_format_size(len(data)), limit=_format_size(max_bytes)))


def _open_model_zip(data: bytes) -> zipfile.ZipFile:
    """Check format and zip integrity; return the opened zip or raise ModelFileError."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        if data.startswith(_ZIP_SIGNATURE):  # a zip whose end (central directory) is missing
            raise ModelFileError(message(_DAMAGED)) from error
        raise ModelFileError(message(
            "This is not a Keras model file. Upload a .keras file saved with model.save('name.keras').")) from error
    names = archive.namelist()
    if _CONFIG_ENTRY not in names:
        raise ModelFileError(message("This zip file is not a Keras model: it has no config.json. Upload a .keras "
                                     "file saved with model.save('name.keras')."))
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > _MAX_UNPACK_RATIO * max(len(data), 1) + 1_000_000:
        raise ModelFileError(message(_UNPACKS_TOO_MUCH))
    try:
        broken = archive.testzip()  # reads every entry and checks its CRC
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, ValueError,
            NotImplementedError, RuntimeError) as error:
        raise ModelFileError(message(_DAMAGED)) from error
    if broken is not None:
        raise ModelFileError(message("The model file is damaged (entry {entry} is corrupted). Save it again and "
                                     "re-upload.", entry=repr(broken)))
    return archive


def _read_config(archive: zipfile.ZipFile) -> Any:
    """Parse config.json or raise ModelFileError."""
    if archive.getinfo(_CONFIG_ENTRY).file_size > _MAX_CONFIG_BYTES:
        raise ModelFileError(message(_TOO_BIG_CONFIG))
    try:
        return json.loads(archive.read(_CONFIG_ENTRY))
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise ModelFileError(message("The model file is damaged: its config.json is not valid JSON.")) from error


def _iter_serialized_objects(node: Any):
    """Yield every dict in a Keras config that describes a serialized object (has class_name)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("class_name"), str):
                yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _is_builtin_keras(obj: dict) -> bool:
    """True when a serialized object names a built-in Keras class or function."""
    module = obj.get("module")
    registered = obj.get("registered_name")
    if isinstance(registered, str) and ">" in registered:
        return False  # "package>Name" is how Keras names registered custom objects
    if module is None:
        return True  # internal markers such as __keras_tensor__, __numpy__
    if not isinstance(module, str):
        return False
    if module == "keras" or module.startswith("keras."):
        return True
    # Keras writes built-in functions (e.g. activations) as module "builtins".
    return module == "builtins" and obj.get("class_name") == "function"


def check_config_is_safe(config: Any) -> None:
    """Refuse configs with code-running layers or classes that are not built into Keras.

    This runs before Keras parses the file, so it holds even if some code in the
    process has called keras.config.enable_unsafe_deserialization().
    """
    for obj in _iter_serialized_objects(config):
        class_name = obj["class_name"]
        if class_name in _FORBIDDEN_CLASSES:
            raise ModelFileError(message("This model contains {what}, which this app never loads for safety. Use "
                                         "only built-in Keras layers.", what=term(_FORBIDDEN_CLASSES[class_name])))
        if not _is_builtin_keras(obj):
            name = obj.get("registered_name") or class_name
            raise ModelFileError(message("This model uses a custom class ({name}), which this app cannot load. Use "
                                         "only built-in Keras layers.", name=str(name)))


def _explain_keras_error(error: Exception) -> Message:
    """Turn a Keras loading error into a short message for the user (Keras' own words stay as they are)."""
    text = str(error)
    first_line = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    if "lambda" in text.lower() or "safe_mode" in text:
        return message("This model contains custom Python code (a lambda), which this app never loads for safety. "
                       "Use only built-in Keras layers.")
    if "Could not locate" in text or "Could not deserialize" in text or "Unknown layer" in text:
        return message("This model uses a custom class, which this app cannot load. Use only built-in Keras layers.")
    if len(first_line) > 200:
        first_line = first_line[:200] + "..."
    return message("Keras could not load this model: {problem}", problem=first_line)


_RESAVE_AS_KERAS = N_("Open it in Keras and save it again with model.save('name.keras'), then upload that.")
_DAMAGED = N_("The model file is damaged (truncated or corrupted). Save it again and re-upload.")
_UNPACKS_TOO_MUCH = N_("This file unpacks to far more than its size; it is not a Keras model.")


def read_h5_config(data: bytes) -> Any:
    """The model config of a legacy HDF5 (.h5) Keras file, parsed; ModelFileError if there is none."""
    import h5py  # only for .h5 uploads

    try:
        with h5py.File(io.BytesIO(data), "r") as handle:
            raw = handle.attrs.get("model_config")
    except (OSError, ValueError, RuntimeError, KeyError) as error:
        raise ModelFileError(message("This .h5 file is damaged (truncated or corrupted). {resave}",
                                     resave=term(_RESAVE_AS_KERAS))) from error
    if raw is None:
        raise ModelFileError(message("This .h5 file holds weights only, not a whole model (no model config). {resave}",
                                     resave=term(_RESAVE_AS_KERAS)))
    if len(raw) > _MAX_CONFIG_BYTES:
        raise ModelFileError(message(_TOO_BIG_CONFIG))
    try:
        return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else str(raw))
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise ModelFileError(message("This .h5 file's model config is not valid JSON. {resave}",
                                     resave=term(_RESAVE_AS_KERAS))) from error


def check_legacy_classes_are_keras(config: Any) -> None:
    """Refuse a legacy config naming a class that Keras does not have built in.

    Legacy (.h5) configs name classes without their module, so `check_config_is_safe` cannot tell a
    custom class from a Keras one there: every class must exist in Keras' own namespaces.
    """
    import keras  # light path: the home page imports this module

    namespaces = (keras.layers, keras.initializers, keras.regularizers, keras.constraints, keras.models,
                  keras.dtype_policies)
    for obj in _iter_serialized_objects(config):
        name = obj["class_name"]
        if name not in ("Functional", "Model") and not any(hasattr(ns, name) for ns in namespaces):
            raise ModelFileError(message("This .h5 model uses a class Keras does not have built in ({name}), which "
                                         "this app cannot load. {resave}", name=name, resave=term(_RESAVE_AS_KERAS)))


def check_model_size(config: Any) -> ConfigSize:
    """Refuse a config whose layers, parameters or activations this app does not accept (before Keras builds it)."""
    try:
        return check_config_size(config)
    except ConfigError as error:
        raise ModelFileError(message_of(error)) from None


def _h5_problem(handle: Any, name: str, link: Any, declared: list[int]) -> Message | None:
    """What makes one link of an HDF5 file read outside it, or None; adds a dataset's bytes to `declared`."""
    import h5py  # only for .h5 uploads

    if isinstance(link, h5py.ExternalLink):
        return message("an external link ({name})", name=name)
    if isinstance(link, h5py.SoftLink):
        return None  # a path inside the file, whose target is visited by its own hard link
    if not isinstance(link, h5py.HardLink):
        return message("a user-defined link ({name})", name=name)
    item = handle[name]
    if isinstance(item, h5py.Dataset):
        if item.is_virtual:
            return message("a virtual dataset ({name}, made of other files)", name=name)
        if item.external:
            return message("a dataset in external storage ({name}, kept in other files)", name=name)
        declared.append(int(item.size or 0) * item.dtype.itemsize)
    return None


def check_h5_is_self_contained(data: bytes) -> None:
    """Refuse HDF5 that reads other files (external links, virtual datasets, external storage) or declares far
    more data than it holds (a decompression bomb); walks every link without following any."""
    import h5py  # only for .h5 uploads

    declared: list[int] = []
    problems: list[Message] = []

    def visit(name: str, link: Any) -> None:
        if not problems and (problem := _h5_problem(handle, name, link, declared)):
            problems.append(problem)

    try:
        with h5py.File(io.BytesIO(data), "r") as handle:
            handle.visititems_links(visit)
    except (OSError, ValueError, RuntimeError, KeyError, TypeError) as error:
        raise ModelFileError(message("This model's HDF5 data is damaged (truncated or corrupted). {resave}",
                                     resave=term(_RESAVE_AS_KERAS))) from error
    if problems:
        raise ModelFileError(message("This model file holds {problem}: it would read files of this server, so it is "
                                     "refused. {resave}", problem=problems[0], resave=term(_RESAVE_AS_KERAS)))
    if sum(declared) > _MAX_UNPACK_RATIO * len(data) + 1_000_000:
        raise ModelFileError(message(_UNPACKS_TOO_MUCH))


def load_model_file(data: bytes, max_bytes: int) -> Any:
    """Load an uploaded .keras or .h5 file as a keras.Model, or raise ModelFileError.

    Refuses: empty files, files over `max_bytes`, anything that is neither a Keras zip nor
    HDF5, zips without config.json, truncated/corrupted files, Lambda layers and custom
    (non-Keras) classes, layer classes and sizes core.model.config_size does not accept, HDF5 that
    reads other files. The config is checked before Keras reads the file; then Keras loads it
    with safe_mode=True and compile=False (the app only predicts), from a temporary file that
    is removed afterwards.
    """
    check_file_size(data, max_bytes)
    if data.startswith(HDF5_SIGNATURE):
        config = read_h5_config(data)
        check_config_is_safe(config)
        check_legacy_classes_are_keras(config)
        check_model_size(config)
        check_h5_is_self_contained(data)
        suffix = ".h5"
    else:
        with _open_model_zip(data) as archive:
            config = _read_config(archive)
            check_config_is_safe(config)
            check_model_size(config)
            for entry in archive.namelist():
                if entry.endswith(".h5"):  # model.weights.h5: Keras checks it too, we do not rely on that
                    check_h5_is_self_contained(archive.read(entry))
        suffix = ".keras"

    import keras  # light path: the home page imports this module

    fd, path = tempfile.mkstemp(suffix=suffix, prefix="digitlab-upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        try:
            model = keras.saving.load_model(path, safe_mode=True, compile=False)
        except Exception as error:  # Keras raises many types; all mean "unusable file"
            raise ModelFileError(_explain_keras_error(error)) from error
    finally:
        os.remove(path)
    if not isinstance(model, keras.Model):
        raise ModelFileError(message("This file holds a Keras object that is not a model."))
    return model


def _describe_input(shape: tuple) -> str:
    """Input shape without the batch axis, e.g. '(28, 28, 1)'."""
    return str(tuple(shape[1:]))


def check_model_fits(
    model: Any,
    input_shape: tuple[int, int],
    num_classes: int,
    dataset_name: str = "chosen",
) -> None:
    """Raise ModelFileError unless the model takes (H, W, 1) images and gives num_classes outputs.

    Only (H, W, 1) inputs are accepted (a None size in the model counts as a match);
    flat (H*W,) or (H, W) inputs are refused, because every page feeds
    (N, H, W, 1) arrays and a wrapper would be one more thing to keep in sync.
    Also refuses models with several inputs or outputs. The output is checked by shape
    only; whether it is softmax is not checked (see `check_outputs_are_probabilities`).
    """
    height, width = input_shape
    dataset = term(dataset_name)  # a dataset's name (N_ in core.data.datasets), or "chosen"
    needed = message("input {shape} and {classes} classes", shape=str((height, width, 1)), classes=Number(num_classes))
    try:
        inputs, outputs = list(model.inputs or []), list(model.outputs or [])
    except (AttributeError, ValueError):  # e.g. a subclassed or never-built model
        inputs, outputs = [], []
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelFileError(message("This model does not have exactly one input and one output; the {dataset} set "
                                     "needs a model with one image {needed}.", dataset=dataset, needed=needed))
    model_input = tuple(inputs[0].shape)  # (None, H, W, 1) for a fitting model
    model_output = tuple(outputs[0].shape)  # (None, C)
    if len(model_output) == 2:
        given = message("input {shape} and gives {classes} classes", shape=_describe_input(model_input),
                        classes=str(model_output[-1]))
    else:
        given = message("input {shape} and gives output {output}", shape=_describe_input(model_input),
                        output=_describe_input(model_output))

    def matches(actual: Any, expected: int) -> bool:
        return actual is None or int(actual) == expected

    input_ok = len(model_input) == 4 and all(
        matches(actual, expected)
        for actual, expected in zip(model_input[1:], (height, width, 1))
    )
    output_ok = len(model_output) == 2 and matches(model_output[1], num_classes)
    if not (input_ok and output_ok):
        raise ModelFileError(message("This model expects {given}; the {dataset} set needs {needed}.", given=given,
                                     dataset=dataset, needed=needed))


def check_outputs_are_probabilities(model: Any, input_shape: tuple[int, int]) -> None:
    """Raise ModelFileError unless the model's outputs on blank images look like softmax.

    Optional extra check (one tiny forward pass): values in 0..1 summing to 1 per row.
    A model ending in a plain Dense layer (logits) would make confidences and loss wrong.
    """
    height, width = input_shape
    probe = np.zeros((2, height, width, 1), dtype=np.float32)
    probe[1] = 1.0
    try:
        out = np.asarray(model.predict_on_batch(probe), dtype=np.float64)  # (2, C)
    except Exception as error:  # Keras and TensorFlow raise many types; all mean "it cannot run"
        raise ModelFileError(message("This model fails on a test image. {problem}",
                                     problem=_explain_keras_error(error))) from error
    sums_to_one = np.allclose(out.sum(axis=1), 1.0, atol=1e-3)
    in_range = out.min() >= -1e-6 and out.max() <= 1 + 1e-6
    if not (np.isfinite(out).all() and in_range and sums_to_one):
        raise ModelFileError(message("This model's outputs are not probabilities; its last layer needs "
                                     "activation='softmax'."))


def read_model_metadata(data: bytes) -> dict | None:
    """Read the optional digitlab.json entry from a .keras file; None if absent or invalid."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo(METADATA_ENTRY)
            if info.file_size > _MAX_METADATA_BYTES:
                return None
            metadata = json.loads(archive.read(info))
    except (KeyError, zipfile.BadZipFile, ValueError, UnicodeDecodeError, OSError,
            EOFError, zlib.error, TypeError, RecursionError, NotImplementedError):
        return None
    return metadata if isinstance(metadata, dict) else None


def write_model_file(model: Any, metadata: dict) -> bytes:
    """Save the model as .keras bytes with `metadata` added as digitlab.json (for download and the store).

    The optimizer's state is left out (it triples a file and predicting needs none): a compiled
    model is copied without it first. `metadata` must be JSON-serialisable (TypeError otherwise).
    Keras ignores the extra entry when loading.
    """
    import keras  # light path: the home page imports this module

    text = json.dumps(metadata, indent=2, sort_keys=True)
    if getattr(model, "optimizer", None) is not None:
        bare = keras.models.clone_model(model)
        bare.set_weights(model.get_weights())
        model = bare
    with tempfile.TemporaryDirectory(prefix="digitlab-save-") as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr(METADATA_ENTRY, text)
        with open(path, "rb") as handle:
            return handle.read()


@dataclass
class VettedUpload:
    """An uploaded model that passed every check, with what its file says about it."""

    model: Any  # keras.Model
    dataset: str  # the dataset it fits (its metadata's, else the first of its input shape)
    name: str
    metrics: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)


def guess_dataset(model: Any, metadata: dict | None) -> list[str]:
    """Datasets an uploaded model may belong to: its metadata's, else those of its input shape."""
    if metadata and metadata.get("dataset") in DATASETS:
        return [metadata["dataset"]]
    return datasets_of_shape(tuple(model.input_shape[1:3]))


def vet_upload(data: bytes, file_name: str, max_bytes: int) -> VettedUpload:
    """Everything an upload needs: safe loading, its dataset, the fit, probabilities out; else ModelFileError."""
    model = load_model_file(data, max_bytes)
    metadata = None if data.startswith(HDF5_SIGNATURE) else read_model_metadata(data)
    candidates = guess_dataset(model, metadata)
    if not candidates:
        needs = list(DATASETS.values())  # "{d0} (8, 8, 1), {d1} (28, 28, 1)": each name translated
        shapes = Message(", ".join(f"{{d{i}}} {info.input_shape}" for i, info in enumerate(needs)),
                         **{f"d{i}": term(info.name) for i, info in enumerate(needs)})
        raise ModelFileError(message("This model expects input {shape}; the datasets here need {shapes}.",
                                     shape=str(tuple(model.input_shape[1:])), shapes=shapes))
    info = get_info(candidates[0])
    check_model_fits(model, info.image_shape, info.num_classes, dataset_name=info.name)
    check_outputs_are_probabilities(model, info.image_shape)  # logits would fake confidences
    metadata = metadata or {}
    return VettedUpload(model=model, dataset=info.key, name=str(metadata.get("name") or file_name)[:200],
                        metrics=clean_metrics(metadata.get("metrics")), history=clean_history(metadata.get("history")))


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


def clean_metrics(metrics: Any) -> dict[str, float]:
    """A file's metrics, keeping only name -> finite number (the file is untrusted)."""
    if not isinstance(metrics, dict):
        return {}
    return {str(k): float(v) for k, v in metrics.items() if is_number(v)}


def clean_history(history: Any) -> dict[str, list[float]]:
    """A file's history, keeping only name -> list of finite numbers."""
    if not isinstance(history, dict):
        return {}
    return {str(k): [float(x) for x in v] for k, v in history.items()
            if isinstance(v, list) and all(is_number(x) for x in v)}

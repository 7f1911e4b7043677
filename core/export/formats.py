"""The model in the formats people deploy: Keras (.keras), TensorFlow SavedModel, LiteRT (TFLite).

Each export is a zip: the model, `labels.txt` (one class name a line, in the model's output order) and
`use_it.py`, a short script that reads one image with it. Built on demand (the page's button), one at a
time per server and at most DIGITLAB_MAX_EXPORTS at once (`ExportBusy` past a wait): a SavedModel or
LiteRT export traces the whole model and takes a second or two of a shared CPU.

ONNX is not offered: tf2onnx 1.17 installs beside TensorFlow 2.21, but its `from_keras` fails on Keras 3
models, and nothing here could check a converted model's predictions (no onnxruntime).
"""

from __future__ import annotations

import io
import tempfile
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.data.datasets import get_info
from core.limits import LIMITS, read_limit
from core.model.files import write_model_file
from core.model.run import Run

EXPORT_WAIT_SECONDS = 30.0  # how long an export waits for another to finish before ExportBusy
_EXPORTS = threading.BoundedSemaphore(max(1, int(read_limit("exports"))))


class ExportBusy(RuntimeError):
    """Other exports are being built; the message says to try again."""


@dataclass(frozen=True)
class ExportFormat:
    """One format: its name, what it is for, how to write it into a folder, and how to use it."""

    key: str
    name: str
    what: str  # one sentence: who uses this format
    write: Callable[[Any, Path], None]  # (model, folder) -> the model's file(s) in the folder
    imports: str  # use_it.py's imports (numpy's among them)
    load_lines: str  # use_it.py's lines that load the model and set `predict(image) -> probabilities (C,)`
    requirement: str  # what use_it.py needs installed


def write_keras(run_or_model: Any, folder: Path) -> None:
    model, metadata = run_or_model
    (folder / "model.keras").write_bytes(write_model_file(model, metadata))


def write_saved_model(run_or_model: Any, folder: Path) -> None:
    model, _ = run_or_model
    model.export(str(folder / "saved_model"), format="tf_saved_model", verbose=False)


def write_litert(run_or_model: Any, folder: Path) -> None:
    model, _ = run_or_model
    model.export(str(folder / "model.tflite"), format="litert", verbose=False)


FORMATS: dict[str, ExportFormat] = {f.key: f for f in (
    ExportFormat("keras", "Keras (.keras)", "For Python with Keras: load it, predict, or train it further.",
                 write_keras, "import keras\nimport numpy as np\n",
                 'model = keras.models.load_model("model.keras")\n\n\n'
                 "def predict(image):\n"
                 "    return model.predict(image[np.newaxis], verbose=0)[0]\n",
                 "pip install keras tensorflow numpy"),
    ExportFormat("saved_model", "TensorFlow SavedModel (zip)",
                 "For TensorFlow Serving, TensorFlow.js' converter and other TensorFlow tools.",
                 write_saved_model, "import numpy as np\nimport tensorflow as tf\n",
                 'model = tf.saved_model.load("saved_model")\n\n\n'
                 "def predict(image):\n"
                 "    return model.serve(image[np.newaxis]).numpy()[0]\n",
                 "pip install tensorflow numpy"),
    ExportFormat("litert", "LiteRT / TFLite (zip)", "For phones and small boards (Android, iOS, Raspberry Pi).",
                 write_litert,
                 "import numpy as np\n\n"
                 "try:\n"
                 "    from ai_edge_litert.interpreter import Interpreter  # pip install ai-edge-litert\n"
                 "except ImportError:  # TensorFlow's own copy of the interpreter\n"
                 "    import tensorflow as tf\n\n"
                 "    Interpreter = tf.lite.Interpreter\n",
                 'interpreter = Interpreter(model_path="model.tflite")\n'
                 "interpreter.allocate_tensors()\n"
                 "source, result = interpreter.get_input_details()[0], interpreter.get_output_details()[0]\n\n\n"
                 "def predict(image):\n"
                 '    interpreter.set_tensor(source["index"], image[np.newaxis])\n'
                 "    interpreter.invoke()\n"
                 '    return interpreter.get_tensor(result["index"])[0]\n',
                 "pip install ai-edge-litert numpy"),
)}


def labels_text(dataset: str) -> str:
    """labels.txt: the class names in the model's output order, one a line."""
    return "\n".join(get_info(dataset).class_names) + "\n"


def use_it_snippet(key: str, dataset: str) -> str:
    """use_it.py: load the model and labels.txt, read one image, print the class and its probability."""
    fmt, info = FORMATS[key], get_info(dataset)
    h, w = info.image_shape
    return (f'"""Read one image with the Digit Lab model ({fmt.name}). Needs: {fmt.requirement}."""\n\n'
            f"{fmt.imports}\n{fmt.load_lines}\n\n"
            'labels = open("labels.txt").read().splitlines()\n'
            f"# One {h}x{w} grayscale image, pixels scaled to 0..1"
            f"{', a light digit on a dark background' if info.is_digits else ''} (here: blank).\n"
            f"image = np.zeros(({h}, {w}, 1), np.float32)\n"
            "probabilities = predict(image)\n"
            "best = int(probabilities.argmax())\n"
            'print(f"{labels[best]} ({probabilities[best]:.1%})")\n')


def export_file_name(run: Run, key: str) -> str:
    """'digitlab-run-3-mnist-litert.zip'."""
    return f"digitlab-run-{run.run_id}-{run.dataset}-{key}.zip"


def export_model(model: Any, metadata: dict, dataset: str, key: str) -> bytes:
    """The zip of format `key`: the model, labels.txt and use_it.py. ExportBusy when others hold every slot."""
    fmt = FORMATS[key]
    if not _EXPORTS.acquire(timeout=EXPORT_WAIT_SECONDS):
        raise ExportBusy(f"Other models are being exported on this server ({LIMITS['exports'].env}): "
                         "try again in a moment.")
    try:
        with tempfile.TemporaryDirectory(prefix="digitlab-export-") as tmp:
            folder = Path(tmp)
            fmt.write((model, metadata), folder)
            (folder / "labels.txt").write_text(labels_text(dataset))
            (folder / "use_it.py").write_text(use_it_snippet(key, dataset))
            return zip_folder(folder)
    finally:
        _EXPORTS.release()


def export_run(run: Run, key: str) -> bytes:
    """The zip of format `key` for a run whose model is loaded."""
    return export_model(run.model, run.metadata(), run.dataset, key)


def zip_folder(folder: Path) -> bytes:
    """Every file under `folder`, zipped with paths relative to it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()

"""The bundled default model: a small CNN trained on MNIST (see models/MODEL_CARD.md).

Keras is imported inside load_default_model so that importing this module (e.g. for
DEFAULT_MODEL_INFO on the home page) does not import TensorFlow.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from core.i18n import N_

if TYPE_CHECKING:
    import keras  # light path: the home page imports this module

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL_PATH = REPO_ROOT / "models" / "default_mnist_cnn.keras"

DEFAULT_MODEL_INFO: dict[str, str] = {
    "name": N_("Default MNIST CNN"),  # translated where shown (ui.model_picker)
    "dataset": "mnist",
    "description": (
        "Small CNN (4 conv layers, ~198k parameters) trained on the first 22,699 MNIST "
        "training images with shift/rotation/zoom/stroke-thickness augmentation; "
        "input (28, 28, 1) in 0..1, softmax over the 10 digits."
    ),
}


def load_default_model() -> keras.Model:
    """Load the bundled default model for inference (safe_mode, no optimizer).

    Raises FileNotFoundError with the command that recreates the file when it is missing.
    """
    if not DEFAULT_MODEL_PATH.is_file():
        raise FileNotFoundError(
            f"{DEFAULT_MODEL_PATH} is missing; recreate it with "
            "`python scripts/train_default_model.py PATH_TO_mnist.npz`"
        )
    import keras  # lazy: importing TensorFlow takes seconds

    return keras.saving.load_model(DEFAULT_MODEL_PATH, safe_mode=True, compile=False)

"""The optimizers the app offers: one entry each, read by the spec, the network and the Train page.

Adding an optimizer is one `OptimizerInfo` line here. Keras is imported only when one is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OptimizerInfo:
    """An optimizer: its name, its Keras class, and which spec settings besides the learning rate it takes."""

    key: str
    name: str
    keras_class: str  # a class in keras.optimizers
    settings: tuple[str, ...] = ()  # TrainSpec fields passed as keyword arguments, e.g. ("momentum",)
    learning_rate: float = 0.001  # a good first value


OPTIMIZERS: dict[str, OptimizerInfo] = {info.key: info for info in (
    OptimizerInfo("sgd", "SGD", "SGD", settings=("momentum",), learning_rate=0.01),
    OptimizerInfo("rmsprop", "RMSprop", "RMSprop"),
    OptimizerInfo("adam", "Adam", "Adam"),
    OptimizerInfo("adamax", "Adamax", "Adamax", learning_rate=0.002),
    OptimizerInfo("nadam", "Nadam", "Nadam"),
    OptimizerInfo("adagrad", "Adagrad", "Adagrad", learning_rate=0.01),
)}


def optimizer_name(key: str) -> str:
    """'Adam' for 'adam'; the key itself for an unknown one (an old file's spec, say)."""
    return OPTIMIZERS[key].name if key in OPTIMIZERS else key


def make_optimizer(key: str, learning_rate: float, settings: dict[str, Any]) -> Any:
    """A new keras.optimizers instance; `settings` holds the spec's values, of which it takes its own."""
    import keras  # light path: the settings table imports this module

    info = OPTIMIZERS[key]
    kwargs = {name: settings[name] for name in info.settings}
    return getattr(keras.optimizers, info.keras_class)(learning_rate=learning_rate, **kwargs)

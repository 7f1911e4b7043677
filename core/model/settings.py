"""The Train page's settings: one entry each, read by the page's widgets, the spec's validation and share links.

A `Setting` names the spec field it fills, the widget that shows it, its range or options and its
default; its label and help are `core.words.SETTING_WORDS`' entry of the same key (no second copy).
The Train page draws its widgets from `SETTINGS` and reads them back by the same keys;
`core.model.spec.validate_spec` checks a spec against the same ranges. Adding a setting is one
entry here, its words in `core.words.SETTING_WORDS`, and its field in `core.model.spec.TrainSpec`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.data.datasets import DATASETS
from core.i18n import N_
from core.model.optimizers import OPTIMIZERS
from core.words import words_for

ACTIVATIONS = ("relu", "sigmoid", "tanh")
MAX_HIDDEN_LAYERS = 8
MAX_CONV_BLOCKS = 4


def always(values: dict) -> bool:
    return True


@dataclass(frozen=True)
class Setting:
    """One training setting: its spec field, its widget, what values it takes, its default."""

    key: str  # the widget's key and the share link's parameter
    field: str  # the TrainSpec field it fills; "network.x" for NetworkSpec fields
    widget: str  # selectbox | radio | select_slider | slider | number_input | sizes (a text input)
    default: Any  # in the widget's terms ("15" for hidden layers, 0 for "all" training images)
    section: str  # data | network | training: where the Train page shows it
    options: tuple = ()  # the widget's choices (select boxes, select sliders)
    low: float | None = None  # numeric settings: the range the widget and the validation allow
    high: float | None = None
    step: float | None = None
    integer: bool = True
    zero_is_none: bool = False  # 0 in the widget means None in the spec ("all")
    max_items: int = 0  # sizes: at most this many numbers
    min_items: int = 0
    labels: dict | None = None  # names to show for `options`
    shown: Callable[[dict], bool] = always  # given the widget values: is it on screen (does it apply)?

    @property
    def label(self) -> str:
        """What the page calls it, in plain words (core.words.SETTING_WORDS)."""
        return words_for(self.key).label

    @property
    def help(self) -> str:
        """Why one would change it, in a sentence or two (core.words.SETTING_WORDS)."""
        return words_for(self.key).help

    @property
    def is_number(self) -> bool:
        return self.low is not None

    def label_of(self, option: Any) -> str:
        """How an option reads in the widget: its name, or the number as written by people."""
        if self.labels and option in self.labels:
            return self.labels[option]
        return f"{option:g}" if isinstance(option, float) else str(option)


def is_cnn(values: dict) -> bool:
    return values.get("kind") == "cnn"


def takes_momentum(values: dict) -> bool:
    info = OPTIMIZERS.get(values.get("optimizer", ""))
    return info is not None and "momentum" in info.settings


SETTINGS: tuple[Setting, ...] = (
    Setting("dataset", "dataset", "selectbox", "digits", "data", options=tuple(DATASETS),
            labels={k: info.name for k, info in DATASETS.items()}),
    Setting("kind", "network.kind", "radio", "dense", "network", options=("dense", "cnn"),
            labels={"dense": N_("Dense layers"), "cnn": N_("Small CNN (convolutions)")}),
    Setting("filters", "network.conv_filters", "sizes", "32", "network",  # one block: fits 8x8 Digits too

            low=1, high=256, max_items=MAX_CONV_BLOCKS, min_items=1, shown=is_cnn),
    Setting("kernel", "network.kernel_size", "select_slider", 3, "network",
            options=(1, 2, 3, 4, 5), low=1, high=5, shown=is_cnn),
    Setting("hidden", "network.hidden_layers", "sizes", "15", "network", low=1, high=2048,
            max_items=MAX_HIDDEN_LAYERS),
    Setting("activation", "network.activation", "selectbox", "sigmoid", "network",
            options=ACTIVATIONS, labels={"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}),
    Setting("dropout", "network.dropout", "slider", 0.0, "network", low=0.0, high=0.9, step=0.05,
            integer=False),
    Setting("l2", "network.l2", "select_slider", 1e-4, "network",
            options=(0.0, 1e-5, 1e-4, 1e-3, 1e-2), low=0.0, high=1.0, integer=False),
    Setting("optimizer", "optimizer", "selectbox", "sgd", "training", options=tuple(OPTIMIZERS),
            labels={k: info.name for k, info in OPTIMIZERS.items()}),
    Setting("lr", "learning_rate", "select_slider", 0.1, "training",
            options=(0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 0.5, 1.0), low=1e-6, high=10.0,
            integer=False),
    Setting("momentum", "momentum", "slider", 0.9, "training", low=0.0, high=0.99, step=0.01,
            integer=False, shown=takes_momentum),
    Setting("batch", "batch_size", "select_slider", 32, "training",
            options=(8, 16, 32, 64, 100, 128, 256, 512, 1024), low=1, high=4096),
    Setting("epochs", "epochs", "number_input", 40, "training", low=1, high=200),
    Setting("patience", "patience", "number_input", 0, "training",
            low=0, high=50),
    Setting("limit", "train_limit", "number_input", 0, "training", low=10,
            high=1_000_000, step=1000, zero_is_none=True, labels={0: N_("all")}),
    Setting("seed", "seed", "number_input", 0, "training", low=0, high=2**31 - 1),
)
SETTINGS_BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}
DEFAULT_VALUES: dict[str, Any] = {s.key: s.default for s in SETTINGS}

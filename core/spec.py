"""What to train: a plain, validated, JSON-serialisable description of a network and its training.

A spec is the one thing the Train page builds from its widgets, the training job consumes, and a
downloaded `.keras` file carries inside it. `validate_spec` checks every field again (the widgets
already bound them) and refuses what would exhaust memory or run for hours.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from core.datasets import DATASETS, get_info

ACTIVATIONS = ("relu", "sigmoid", "tanh")
OPTIMIZERS = ("sgd", "rmsprop", "adam", "adamax", "nadam", "adagrad")
OPTIMIZER_NAMES = {
    "sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam",
    "adamax": "Adamax", "nadam": "Nadam", "adagrad": "Adagrad",
}

# Bounds the widgets use and validate_spec enforces again.
MAX_HIDDEN_LAYERS = 8
MAX_UNITS = 2048
MAX_CONV_BLOCKS = 4
MAX_FILTERS = 256
MAX_EPOCHS = 200
MAX_BATCH_SIZE = 4096
MAX_PATIENCE = 50
MAX_LEARNING_RATE = 10.0
MAX_PARAMS = 5_000_000  # 5M weights: ~80 MB with Adam's slots, a fair share of a 2.7 GB server
# About an hour of training on Community Cloud's shared CPU (measured on this repo's 2-core
# machine at a few GFLOP/s): multiply-adds for forward + backward over all epochs.
MAX_TRAINING_MACS = 2e13


class SpecError(ValueError):
    """A spec with invalid fields; `errors` maps each field name to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


@dataclass(frozen=True)
class NetworkSpec:
    """A dense network, or a small CNN (conv blocks, then the same dense head)."""

    kind: str = "dense"  # "dense" or "cnn"
    hidden_layers: tuple[int, ...] = (128,)  # units of each hidden Dense layer; () = softmax regression
    activation: str = "relu"
    dropout: float = 0.0  # after Flatten (CNN) and after every hidden Dense layer
    l2: float = 0.0  # L2 penalty on every kernel
    conv_filters: tuple[int, ...] = (32, 64)  # CNN only: one block (conv, 2x2 max-pool) each
    kernel_size: int = 3


@dataclass(frozen=True)
class TrainSpec:
    """A whole training run: dataset, network, optimizer and schedule."""

    dataset: str = "digits"
    network: NetworkSpec = field(default_factory=NetworkSpec)
    optimizer: str = "adam"
    learning_rate: float = 0.001
    momentum: float = 0.0  # SGD only
    batch_size: int = 32
    epochs: int = 10
    patience: int = 0  # early stopping on val_loss after this many epochs without gain; 0 = off
    seed: int = 0
    train_limit: int | None = None  # at most this many training images; None = all
    validation_fraction: float = 0.1


def spec_to_dict(spec: TrainSpec) -> dict:
    """A JSON-ready dict (tuples become lists)."""
    return dataclasses.asdict(spec)


def spec_from_dict(data: dict) -> TrainSpec:
    """The spec a dict describes; unknown keys are a SpecError, missing ones take defaults."""
    if not isinstance(data, dict):
        raise SpecError({"spec": f"expected a JSON object, got {type(data).__name__}"})
    network = data.get("network", {})
    if not isinstance(network, dict):
        raise SpecError({"network": "expected a JSON object"})
    unknown = (set(data) - {f.name for f in dataclasses.fields(TrainSpec)}) | (
        set(network) - {f.name for f in dataclasses.fields(NetworkSpec)}
    )
    if unknown:
        raise SpecError({name: "unknown field" for name in sorted(unknown)})
    try:
        net = NetworkSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in network.items()})
        return TrainSpec(**{**data, "network": net})
    except TypeError as error:
        raise SpecError({"spec": str(error)}) from error


def output_sizes(image_shape: tuple[int, int], net: NetworkSpec) -> list[tuple[int, int]]:
    """Spatial size after each conv block ('valid' conv, then 2x2 max-pool)."""
    h, w = image_shape
    sizes = []
    for _ in net.conv_filters if net.kind == "cnn" else ():
        h, w = (h - net.kernel_size + 1) // 2, (w - net.kernel_size + 1) // 2
        sizes.append((h, w))
    return sizes


def count_weights(spec: TrainSpec) -> tuple[int, int]:
    """(parameters, forward multiply-adds per image), computed without building the model."""
    info = get_info(spec.dataset)
    net = spec.network
    params = macs = 0
    channels, (h, w) = 1, info.image_shape
    if net.kind == "cnn":
        for filters, (h_out, w_out) in zip(net.conv_filters, output_sizes(info.image_shape, net)):
            conv = net.kernel_size**2 * channels * filters
            params += conv + filters
            macs += conv * (2 * h_out) * (2 * w_out)  # the conv runs before the 2x pool
            channels, h, w = filters, h_out, w_out
    width = max(h, 0) * max(w, 0) * channels
    for units in (*net.hidden_layers, info.num_classes):
        params += width * units + units
        macs += width * units
        width = units
    return params, macs


def check_range(errors: dict, name: str, value, low, high, integer: bool = True) -> None:
    """Record in `errors` when `value` is not a number in low..high (an int when `integer`)."""
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not (
        math.isfinite(value) and low <= value <= high
    ):
        kind = "a whole number" if integer else "a number"
        errors[name] = f"must be {kind} from {low} to {high}, got {value!r}"


def validate_spec(spec: TrainSpec) -> TrainSpec:
    """Return `spec` if every field is sensible; otherwise raise SpecError naming each bad field."""
    errors: dict[str, str] = {}
    net = spec.network
    if spec.dataset not in DATASETS:
        errors["dataset"] = f"must be one of {', '.join(DATASETS)}, got {spec.dataset!r}"
        raise SpecError(errors)  # everything below depends on the dataset
    if net.kind not in ("dense", "cnn"):
        errors["network.kind"] = f"must be 'dense' or 'cnn', got {net.kind!r}"
    if not isinstance(net.hidden_layers, tuple) or len(net.hidden_layers) > MAX_HIDDEN_LAYERS:
        errors["network.hidden_layers"] = f"must be a list of at most {MAX_HIDDEN_LAYERS} layer sizes"
    else:
        for i, units in enumerate(net.hidden_layers):
            check_range(errors, f"network.hidden_layers[{i}]", units, 1, MAX_UNITS)
    if net.activation not in ACTIVATIONS:
        errors["network.activation"] = f"must be one of {', '.join(ACTIVATIONS)}, got {net.activation!r}"
    check_range(errors, "network.dropout", net.dropout, 0.0, 0.9, integer=False)
    check_range(errors, "network.l2", net.l2, 0.0, 1.0, integer=False)
    if net.kind == "cnn":
        if not isinstance(net.conv_filters, tuple) or not 1 <= len(net.conv_filters) <= MAX_CONV_BLOCKS:
            errors["network.conv_filters"] = f"a CNN needs 1 to {MAX_CONV_BLOCKS} conv blocks"
        else:
            for i, filters in enumerate(net.conv_filters):
                check_range(errors, f"network.conv_filters[{i}]", filters, 1, MAX_FILTERS)
        check_range(errors, "network.kernel_size", net.kernel_size, 1, 7)
        if not errors and min(min(s) for s in output_sizes(get_info(spec.dataset).image_shape, net)) < 1:
            errors["network.conv_filters"] = (
                f"{len(net.conv_filters)} conv blocks shrink the {get_info(spec.dataset).name} "
                "images to nothing: use fewer blocks or a smaller kernel"
            )
    if spec.optimizer not in OPTIMIZERS:
        errors["optimizer"] = f"must be one of {', '.join(OPTIMIZERS)}, got {spec.optimizer!r}"
    check_range(errors, "learning_rate", spec.learning_rate, 1e-6, MAX_LEARNING_RATE, integer=False)
    check_range(errors, "momentum", spec.momentum, 0.0, 0.99, integer=False)
    check_range(errors, "batch_size", spec.batch_size, 1, MAX_BATCH_SIZE)
    check_range(errors, "epochs", spec.epochs, 1, MAX_EPOCHS)
    check_range(errors, "patience", spec.patience, 0, MAX_PATIENCE)
    check_range(errors, "seed", spec.seed, 0, 2**31 - 1)
    check_range(errors, "validation_fraction", spec.validation_fraction, 0.05, 0.5, integer=False)
    if spec.train_limit is not None:
        check_range(errors, "train_limit", spec.train_limit, 10, 10_000_000)
    if errors:
        raise SpecError(errors)
    params, macs = count_weights(spec)
    if params > MAX_PARAMS:
        errors["network"] = (
            f"{params:,} weights is too many for a shared server (at most {MAX_PARAMS:,}): "
            "use fewer or smaller layers"
        )
    images = min(spec.train_limit or math.inf, get_info(spec.dataset).train_size)
    total = 3 * macs * images * spec.epochs  # backward costs about twice the forward pass
    if total > MAX_TRAINING_MACS:
        errors["epochs"] = (
            f"this would take hours ({total:.1e} multiply-adds; at most {MAX_TRAINING_MACS:.0e}): "
            "use fewer epochs, fewer training images or a smaller network"
        )
    if errors:
        raise SpecError(errors)
    return spec


def describe_network(net: NetworkSpec) -> str:
    """A short human name such as '512-512 relu', 'CNN 32-64', 'softmax regression'."""
    dense = "-".join(str(u) for u in net.hidden_layers)
    if net.kind == "cnn":
        head = f" + {dense}" if dense else ""
        return f"CNN {'-'.join(str(f) for f in net.conv_filters)}{head}"
    return f"{dense} {net.activation}" if dense else "softmax regression"


def describe_spec(spec: TrainSpec) -> str:
    """'MNIST · 512-512 relu · Adam 0.001'."""
    return (
        f"{get_info(spec.dataset).name} · {describe_network(spec.network)} · "
        f"{OPTIMIZER_NAMES.get(spec.optimizer, spec.optimizer)} {spec.learning_rate:g}"
    )


PRESETS: dict[str, TrainSpec] = {
    "Digits · 64-15-10 sigmoid · SGD with momentum": TrainSpec(
        dataset="digits",
        network=NetworkSpec(hidden_layers=(15,), activation="sigmoid", l2=1e-4),
        optimizer="sgd", learning_rate=0.1, momentum=0.9, batch_size=32, epochs=40,
    ),
    "MNIST · softmax regression · SGD": TrainSpec(
        dataset="mnist",
        network=NetworkSpec(hidden_layers=()),
        optimizer="sgd", learning_rate=0.1, batch_size=100, epochs=10,
    ),
    "MNIST · 512-512 ReLU, dropout 0.2 · Adam": TrainSpec(
        dataset="mnist",
        network=NetworkSpec(hidden_layers=(512, 512), activation="relu", dropout=0.2),
        optimizer="adam", learning_rate=0.001, batch_size=128, epochs=20, patience=4,
    ),
    "MNIST · small CNN · Adam": TrainSpec(
        dataset="mnist",
        network=NetworkSpec(kind="cnn", conv_filters=(32, 64), hidden_layers=(), dropout=0.5),
        optimizer="adam", learning_rate=0.001, batch_size=128, epochs=15, patience=3,
    ),
}


def parse_sizes(text: str, field_name: str) -> tuple[int, ...]:
    """'512, 512' -> (512, 512); '' -> (); anything else is a SpecError naming the field."""
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise SpecError({field_name: f"write whole numbers separated by commas, like 512, 256 (got {text!r})"}) from None

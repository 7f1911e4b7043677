"""What to train: a plain, validated, JSON-serialisable description of a network and its training.

A spec is the one thing the Train page builds from its widgets, the training job consumes, and a
downloaded `.keras` file carries inside it. `validate_spec` checks every field again (the widgets
already bound them) and refuses what would exhaust memory or run for hours.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from core.data.datasets import DATASETS, get_info
from core.i18n import N_, Message, Number, message
from core.limits import LIMITS, read_limit
from core.model.optimizers import optimizer_name
from core.model.settings import SETTINGS, SETTINGS_BY_KEY, Setting

MAX_PARAMS = 5_000_000  # 5M weights: ~80 MB with Adam's slots, a fair share of a 2.7 GB server
# About an hour of training on Community Cloud's shared CPU (measured on this repo's 2-core
# machine at a few GFLOP/s): multiply-adds for forward + backward over all epochs.
MAX_TRAINING_MACS = 2e13
# Memory while training, estimated: each layer's output is kept for the backward pass, which adds
# about twice as much (gradients, the optimizer's temporaries); each weight has its gradient and
# up to two optimizer slots (Adam's m and v) beside it. Bounded by DIGITLAB_MAX_TRAINING_MB.
ACTIVATION_COPIES = 3
WEIGHT_COPIES = 4


class SpecError(ValueError):
    """A spec with invalid fields; `errors` maps each field name to what is wrong with it.

    Its text names each field in the page's words (a setting's label, core.words), never its path.
    Each problem is a `core.i18n.Message` (a str), and so is `text`, the whole of it: pages translate them.
    """

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        self.text = join_messages([message("{field}: {problem}", field=field_label(name), problem=as_message(problem))
                                   for name, problem in errors.items()])
        super().__init__(self.text)


def as_message(text: str) -> Message:
    """`text` as a message value that is translated where shown: a Message as it is, a marked text looked up."""
    if isinstance(text, Message):
        return text
    return message("{text}", text=text) if "{" in text or "}" in text else message(text)  # braces: anyone's text


def join_messages(parts: list[Message]) -> Message:
    """'a; b': the parts joined, each translated on its own."""
    joined = parts[0] if parts else message("{text}", text="")
    for part in parts[1:]:
        joined = message("{first}; {second}", first=joined, second=part)
    return joined


def setting_key_of(name: str) -> str | None:
    """The settings-table key an error's field name stands for ('network.hidden_layers', 'hidden'), or None."""
    if name in SETTINGS_BY_KEY:
        return name
    return next((s.key for s in SETTINGS if s.field == name), None)


def field_label(name: str) -> str:
    """An error's field as people read it: a setting's label, else the name itself."""
    key = setting_key_of(name)
    return message(SETTINGS_BY_KEY[key].label) if key else name


def problems_by_setting(error: SpecError) -> dict[str, str]:
    """{setting key (or other field name): what is wrong, in plain words}: one message per field, for its widget."""
    problems: dict[str, str] = {}
    for name, problem in error.errors.items():
        key = setting_key_of(name) or name
        problems[key] = join_messages([as_message(problems[key]), as_message(problem)]) if key in problems else problem
    return problems


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
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in network.items()}  # JSON
        net = NetworkSpec(**fields)
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


def layer_outputs(spec: TrainSpec) -> list[int]:
    """Floats each layer of core.model.network.build_model's model outputs for one image, in order.

    Input, then per conv block its 'valid' conv and its 2x2 pool, Flatten, Dropout (CNN), each
    hidden Dense and its Dropout, the softmax: the same arithmetic as the layers, nothing built.
    """
    info = get_info(spec.dataset)
    net = spec.network
    channels, (h, w) = 1, info.image_shape
    sizes = [h * w]
    if net.kind == "cnn":
        for filters, (h_out, w_out) in zip(net.conv_filters, output_sizes(info.image_shape, net)):
            conv_h, conv_w = max(h - net.kernel_size + 1, 0), max(w - net.kernel_size + 1, 0)
            sizes += [conv_h * conv_w * filters, max(h_out, 0) * max(w_out, 0) * filters]
            channels, h, w = filters, h_out, w_out
    width = max(h, 0) * max(w, 0) * channels
    sizes.append(width)  # flatten
    if net.kind == "cnn" and net.dropout:
        sizes.append(width)
    for units in net.hidden_layers:
        sizes += [units] * (2 if net.dropout else 1)
    sizes.append(info.num_classes)
    return sizes


def training_bytes(spec: TrainSpec) -> tuple[int, int]:
    """(bytes for the activations of one batch, bytes for the weights), as training needs them (float32)."""
    params, _ = count_weights(spec)
    activations = sum(layer_outputs(spec)) * spec.batch_size * 4 * ACTIVATION_COPIES
    return activations, params * 4 * WEIGHT_COPIES


def format_bytes(n: float) -> str:
    """'1.6 GB', '850 MB'."""
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def check_memory(errors: dict, spec: TrainSpec) -> None:
    """Record in `errors` when training `spec` would need more than DIGITLAB_MAX_TRAINING_MB, naming what to lower."""
    activations, weights = training_bytes(spec)
    bound = read_limit("training_mb") * 1e6
    if activations + weights <= bound:
        return
    shape = SETTINGS_BY_KEY[shape_key(spec)]
    lower = (message("{first} or {second}", first=message(SETTINGS_BY_KEY["batch"].label), second=message(shape.label))
             if activations >= weights else message(shape.label))
    name = "batch_size" if activations >= weights else shape.field
    errors[name] = message("this network needs about {needed} of memory while training, and at most {bound} is "
                           "allowed here ({setting}): lower {lower}", needed=format_bytes(activations + weights),
                           bound=format_bytes(bound), setting=LIMITS["training_mb"].env, lower=lower)


def shape_key(spec: TrainSpec) -> str:
    """The setting that sizes the network most: conv filters for a CNN, hidden layers for a dense one."""
    return "filters" if spec.network.kind == "cnn" else "hidden"


def check_batches(errors: dict, spec: TrainSpec, images: float) -> None:
    """Record in `errors` when the training runs more batches than DIGITLAB_MAX_TRAINING_BATCHES."""
    batches = math.ceil(images / spec.batch_size) * spec.epochs
    bound = int(read_limit("training_batches"))
    if batches > bound:
        errors["epochs"] = message("this would take {steps} steps, and at most {bound} are allowed here: use fewer "
                                   "passes, more images per step (batch size) or fewer training images",
                                   steps=Number(batches), bound=Number(bound))


def check_range(errors: dict, name: str, value, low, high, integer: bool = True) -> None:
    """Record in `errors` when `value` is not a number in low..high (an int when `integer`)."""
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not (
        math.isfinite(value) and low <= value <= high
    ):
        template = N_("use a whole number from {low} to {high}") if integer else N_("use a number from {low} to {high}")
        errors[name] = message(template, low=format(low, "g"), high=format(high, "g"))


def read_field(spec: TrainSpec, path: str) -> Any:
    """The value of a setting's field: 'epochs' or 'network.dropout'."""
    owner, _, name = path.rpartition(".")
    return getattr(spec.network if owner == "network" else spec, name)


def check_setting(errors: dict, setting: Setting, value: Any) -> None:
    """Record in `errors` when `value` is not what `setting` allows (the widget's range and choices)."""
    name = setting.field
    if setting.widget == "sizes":
        if not isinstance(value, tuple) or not setting.min_items <= len(value) <= setting.max_items:
            errors[name] = (message("write from {least} to {most} numbers", least=setting.min_items,
                                    most=setting.max_items) if setting.min_items else
                            message("write at most {most} numbers", most=setting.max_items))
            return
        for item in value:
            check_range(errors, name, item, setting.low, setting.high)
        if name in errors:
            errors[name] = message("each number must be a whole number from {low} to {high}",
                                   low=format(setting.low, "g"), high=format(setting.high, "g"))
    elif setting.is_number:
        if not (setting.zero_is_none and value is None):
            check_range(errors, name, value, setting.low, setting.high, setting.integer)
    elif value not in setting.options:
        errors[name] = message("choose one of {choices}", choices=join_names(map(setting.label_of, setting.options)))


def validate_spec(spec: TrainSpec) -> TrainSpec:
    """Return `spec` if every field is sensible; otherwise raise SpecError naming each bad field."""
    errors: dict[str, str] = {}
    if spec.dataset not in DATASETS:
        errors["dataset"] = message("choose one of {choices}", choices=join_names(i.name for i in DATASETS.values()))
        raise SpecError(errors)  # everything below depends on the dataset
    for setting in SETTINGS:
        check_setting(errors, setting, read_field(spec, setting.field))
    check_range(errors, "validation_fraction", spec.validation_fraction, 0.05, 0.5, integer=False)
    if errors:
        raise SpecError(errors)
    info = get_info(spec.dataset)
    if min((min(s) for s in output_sizes(info.image_shape, spec.network)), default=1) < 1:
        errors["network.conv_filters"] = message(
            "{blocks} blocks shrink the {name} images to nothing: use fewer blocks or a smaller window",
            blocks=len(spec.network.conv_filters), name=info.title)
    params, macs = count_weights(spec)
    if params > MAX_PARAMS:
        errors[SETTINGS_BY_KEY[shape_key(spec)].field] = message(
            "{weights} weights is too many for a shared server (at most {most}): use fewer or smaller layers",
            weights=Number(params), most=Number(MAX_PARAMS))
    images = min(spec.train_limit or math.inf, info.train_size)
    total = 3 * macs * images * spec.epochs  # backward costs about twice the forward pass
    if total > MAX_TRAINING_MACS:
        errors["epochs"] = message(
            "this would take hours on a shared server: use fewer passes, fewer training images or a smaller network")
    else:
        check_batches(errors, spec, images)
    if SETTINGS_BY_KEY[shape_key(spec)].field not in errors and "network.conv_filters" not in errors:
        check_memory(errors, spec)
    if errors:
        raise SpecError(errors)
    return spec


def values_from_spec(spec: TrainSpec) -> dict[str, Any]:
    """The Train page's widget values that show `spec` (keys of core.model.settings.SETTINGS)."""
    values = {}
    for setting in SETTINGS:
        value = read_field(spec, setting.field)
        if setting.widget == "sizes":
            value = ", ".join(str(v) for v in value)
        elif setting.zero_is_none and value is None:
            value = 0
        values[setting.key] = value
    return values


def spec_from_values(values: dict[str, Any]) -> TrainSpec:
    """The validated spec that widget values describe; SpecError names every field that is wrong.

    A setting that does not apply (momentum for Adam, conv filters for a dense network) takes the
    spec's default, whatever its widget last held. Nothing is clamped: a value out of range is an error.
    """
    defaults = {"": TrainSpec(), "network": NetworkSpec()}
    fields: dict[str, dict] = {"": {}, "network": {}}
    errors: dict[str, str] = {}
    for setting in SETTINGS:
        owner, _, name = setting.field.rpartition(".")
        try:
            value = read_value(setting, values) if setting.shown(values) else getattr(defaults[owner], name)
        except SpecError as error:
            errors.update(error.errors)
            value = getattr(defaults[owner], name)
        fields[owner][name] = value
    spec = TrainSpec(**fields[""], network=NetworkSpec(**fields["network"]))
    if errors:
        try:
            validate_spec(spec)
        except SpecError as error:  # the other fields' problems too, each said once
            errors = {**error.errors, **errors}
        raise SpecError(errors)
    return validate_spec(spec)


def read_value(setting: Setting, values: dict[str, Any]) -> Any:
    """The spec's value of one widget value: '512, 512' -> (512, 512), 0 -> None ("all"); SpecError if unreadable."""
    raw = values[setting.key]
    if setting.widget == "sizes":
        return parse_sizes(str(raw), setting.field)
    if setting.zero_is_none and not raw:
        return None
    if setting.is_number:
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise SpecError({setting.field: message("write a number")}) from None
        if setting.integer and number.is_integer():
            return int(number)
        return number  # a whole-number setting given 2.5 stays 2.5: validation says so
    return raw


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
        f"{optimizer_name(spec.optimizer)} {spec.learning_rate:g}"
    )


# The classic recipes, by a stable id (their names for people: core.words.RECIPE_WORDS).
PRESETS: dict[str, TrainSpec] = {
    "digits_tutorial": TrainSpec(
        dataset="digits",
        network=NetworkSpec(hidden_layers=(15,), activation="sigmoid", l2=1e-4),
        optimizer="sgd", learning_rate=0.1, momentum=0.9, batch_size=32, epochs=40,
    ),
    "mnist_softmax": TrainSpec(
        dataset="mnist",
        network=NetworkSpec(hidden_layers=()),
        optimizer="sgd", learning_rate=0.1, batch_size=100, epochs=10,
    ),
    "mnist_dense": TrainSpec(
        dataset="mnist",
        network=NetworkSpec(hidden_layers=(512, 512), activation="relu", dropout=0.2),
        optimizer="adam", learning_rate=0.001, batch_size=128, epochs=20, patience=4,
    ),
    "mnist_cnn": TrainSpec(
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
        problem = message("write whole numbers separated by commas, like 512, 256 (not {text})", text=repr(text))
        raise SpecError({field_name: problem}) from None


def join_names(names: Any) -> Message:
    """'Dense layers, Small CNN (convolutions)': names (marked with N_) joined, each translated where shown."""
    return join_list([as_message(name) for name in names])


def join_list(parts: list[Message]) -> Message:
    """'a, b, c', each part translated on its own."""
    joined = parts[0] if parts else message("{text}", text="")
    for part in parts[1:]:
        joined = message("{first}, {second}", first=joined, second=part)
    return joined


def read_link_value(setting: Setting, text: str) -> tuple[Any, str | None]:
    """A share link's value for `setting`, checked and clamped as its widget would; (default, why) if bad.

    The reason names the parameter and the value used instead, for the page to show.
    """
    name, default = setting.key, setting.default
    if setting.widget == "sizes":
        assert setting.low is not None and setting.high is not None, f"{name} has no range"
        try:
            sizes = parse_sizes(text, setting.label.lower())
        except SpecError:
            return default, message("{name}={text} is not a list of whole numbers; using {used}",
                                    name=name, text=repr(text), used=repr(default))
        clamped = [min(max(int(v), int(setting.low)), int(setting.high)) for v in sizes[: setting.max_items]]
        listed = ", ".join(map(str, clamped))
        changed = list(sizes) != clamped
        return listed, message("{name}={text} is out of range; using {used}", name=name, text=repr(text),
                               used=repr(listed)) if changed else None
    if not setting.is_number:
        by_text = {str(option): option for option in setting.options}
        if text in by_text:
            return by_text[text], None
        return default, message("{name}={text} is not one of {choices}; using {used}", name=name, text=repr(text),
                                choices=", ".join(by_text), used=as_message(setting.label_of(default)))
    try:
        number = float(text)
        if not math.isfinite(number):
            raise ValueError(text)
    except ValueError:
        return default, message("{name}={text} is not a number; using {used}", name=name, text=repr(text),
                                used=as_message(setting.label_of(default)))
    assert setting.low is not None and setting.high is not None, f"{name} has no range"  # is_number
    low = 0 if setting.zero_is_none else setting.low
    value = min(max(number, low), setting.high)
    if setting.options:  # a select slider: the nearest of its stops
        value = min(setting.options, key=lambda option: abs(option - value))
    value = int(round(value)) if setting.integer else float(value)
    return value, None if value == number else message("{name}={text} is out of range; using {used}", name=name,
                                                       text=repr(text), used=as_message(setting.label_of(value)))


def values_from_link(params: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The widget values a "share these settings" link names, and a reason for each value it could not use.

    Settings the link does not name are left out (the form keeps what it has); unknown parameters
    (such as the lab's key) are ignored.
    """
    values, problems = {}, []
    for setting in SETTINGS:
        if setting.key in params:
            values[setting.key], problem = read_link_value(setting, str(params[setting.key]))
            if problem:
                problems.append(problem)
    return values, problems


def link_from_values(values: dict[str, Any]) -> dict[str, str]:
    """The query parameters of a "share these settings" link: each setting that applies, as plain text."""
    return {s.key: (f"{values[s.key]:g}" if isinstance(values[s.key], float) else str(values[s.key]))
            for s in SETTINGS if s.shown(values)}

"""What a Keras model's config asks for, read before Keras builds anything: its layers, shapes and sizes.

An uploaded model's config (the .keras zip's config.json, a legacy .h5's model_config) tells Keras
what to allocate. A Dense(700000) after a Flatten is 2.2 GB of weights made while *building*,
before a single weight is read; an UpSampling2D(64) turns each 28x28 image into a 1792x1792 one at
the first prediction. `measure_config` follows the shapes through a Sequential or Functional config
(nested models too) with plain arithmetic, one entry of `LAYERS` per layer class the app accepts,
and `check_config_size` compares what it finds with `UPLOAD_LIMITS`. Whatever it cannot follow is
refused, never passed through. Every refusal is a ConfigError whose message is meant for the user.

Over 400 lines on purpose: most of it is the `LAYERS` table, one small shape rule per accepted
layer class, which reads best side by side with the walk that applies them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.data.datasets import DATASETS
from core.i18n import N_, Message, Number, message, message_of, term
from core.limits import env_number
from core.model.settings import MAX_CONV_BLOCKS, MAX_HIDDEN_LAYERS, SETTINGS_BY_KEY
from core.model.spec import MAX_PARAMS

Shape = tuple[int, ...]  # one image's tensor without the batch axis: (H, W, C), (N,), ...
LayerRule = Callable[[dict, list[Shape]], tuple[Shape, int]]  # (config, input shapes) -> (output, weights)

# Unknown (None) sizes in a model's input are taken as the largest image side of the datasets
# (28): the app feeds only its datasets' images.
LARGEST_SIDE = max(max(info.image_shape) for info in DATASETS.values())
MODEL_CLASSES = ("Sequential", "Functional", "Model")  # configs of whole models (also nested as layers)
MAX_NESTING = 4  # models inside models inside models...
# The names TensorFlow accepts as a layer's scope when the model runs (and Keras refuses "/").
LAYER_NAME = re.compile(r"[A-Za-z0-9_.\\>-]+")
_RESAVE = N_("Save it again with model.save('name.keras') from a model of built-in Keras layers, then upload that.")


class ConfigError(ValueError):
    """A model config this app will not build; the message is meant for the user."""


class UnknownLayerError(ConfigError):
    """A layer class that is not one of LAYERS; the message names it."""


# --- the bounds ---------------------------------------------------------------------------------

# The Train page's largest networks (core.model.settings, core.model.spec): MAX_PARAMS weights; the widest
# activation a 28x28 image with the most conv filters and kernel 1 (28 * 28 * 256 numbers); this
# many layers, input layers not counted (conv + pool per block, flatten, dropout, dense + dropout per
# hidden layer, output).
TRAIN_PAGE_LARGEST_ACTIVATION = LARGEST_SIDE**2 * int(
    SETTINGS_BY_KEY["filters"].high)  # type: ignore[arg-type]  # a sizes setting: its high is set
TRAIN_PAGE_MOST_LAYERS = 2 * MAX_CONV_BLOCKS + 2 + 2 * MAX_HIDDEN_LAYERS + 1
MARGIN = 4  # uploads may be this many times the Train page's largest


@dataclass(frozen=True)
class UploadLimit:
    """One bound on an uploaded model, with its environment setting."""

    env: str
    default: int
    what: str  # the noun the message counts ("parameters"), marked with N_
    advice: Message  # what to do about it, for the message


UPLOAD_LIMITS: dict[str, UploadLimit] = {
    "params": UploadLimit("DIGITLAB_MAX_UPLOAD_PARAMS", MARGIN * MAX_PARAMS, N_("parameters"),
                          message("Use fewer or smaller layers (the Train page builds at most {most}).",
                                  most=Number(MAX_PARAMS))),
    "activation": UploadLimit("DIGITLAB_MAX_UPLOAD_ACTIVATION", MARGIN * TRAIN_PAGE_LARGEST_ACTIVATION,
                              N_("numbers per image in one layer's output"),
                              message("Use fewer filters or smaller feature maps (no large upsampling).")),
    "layers": UploadLimit("DIGITLAB_MAX_UPLOAD_LAYERS", MARGIN * TRAIN_PAGE_MOST_LAYERS, N_("layers"),
                          message("Use a shallower model.")),
}


def upload_limit(key: str) -> int:
    """The bound `key` of UPLOAD_LIMITS: its environment setting, else its default."""
    limit = UPLOAD_LIMITS[key]
    return int(env_number(limit.env, limit.default))


def format_count(n: int) -> Message:
    """'950', '12,345', '4.5 million', '490 million', '1.2 billion' (the number written the reader's way)."""
    if n >= 1_000_000_000:
        return message("{count} billion", count=Number(round(n / 1e9, 1)))
    if n >= 10_000_000:
        return message("{count} million", count=Number(round(n / 1e6)))
    if n >= 1_000_000:
        return message("{count} million", count=Number(round(n / 1e6, 1)))
    return message("{count}", count=Number(n))


@dataclass(frozen=True)
class ConfigSize:
    """What a model config asks for, for one image."""

    params: int  # weights of every layer, trainable or not (as model.count_params())
    largest_activation: int  # numbers in the largest tensor one image makes (inputs included)
    largest_layer: str  # the layer that makes it
    layers: int  # layers, nested models' included, input layers not
    outputs: tuple[Shape, ...]


def check_config_size(config: Any) -> ConfigSize:
    """Measure `config` and refuse it (ConfigError) when it is over any of UPLOAD_LIMITS."""
    size = measure_config(config)
    check_limit("params", size.params)
    check_limit("activation", size.largest_activation, size.largest_layer)
    check_limit("layers", size.layers)
    return size


def check_limit(key: str, value: int, layer: str = "") -> None:
    """Refuse `value` over the bound `key` of UPLOAD_LIMITS, with a message saying both and what to do.

    `layer` names the layer that makes it, when one does (the largest activation)."""
    limit, cap = UPLOAD_LIMITS[key], upload_limit(key)
    if value <= cap:
        return
    values = {"count": format_count(value), "what": term(limit.what), "most": format_count(cap), "advice": limit.advice}
    if layer:
        raise ConfigError(message("This model has {count} {what} (layer {layer}); the most this app accepts is {most}. "
                                  "{advice}", layer=repr(layer), **values))
    raise ConfigError(message("This model has {count} {what}; the most this app accepts is {most}. {advice}", **values))


# --- reading config values ----------------------------------------------------------------------


def whole(value: Any, name: str, low: int = 1) -> int:
    """`value` as an int of at least `low`; ConfigError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(message("its {name} is {value}, not a whole number of at least {low}",
                                  name=str(name), value=repr(value), low=Number(low)))
    return value


def pair(value: Any, name: str, low: int = 1) -> tuple[int, int]:
    """An int or a pair of ints, as Keras' kernel_size, strides, pool_size and size accept them."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return whole(value[0], name, low), whole(value[1], name, low)
    number = whole(value, name, low)
    return number, number


def one_input(inputs: list[Shape]) -> Shape:
    if len(inputs) != 1:
        raise ConfigError(message("it takes {count} inputs where one is expected", count=Number(len(inputs))))
    return inputs[0]


def image_input(config: dict, inputs: list[Shape]) -> Shape:
    """The one (H, W, C) input of a 2D layer; channels_first is not followed."""
    shape = one_input(inputs)
    if config.get("data_format", "channels_last") not in (None, "channels_last"):
        raise ConfigError(message("it uses data_format='channels_first'"))
    if len(shape) != 3:
        raise ConfigError(message("it needs an image (height, width, channels) but gets shape {shape}",
                                  shape=str(shape)))
    return shape


def padding_of(config: dict) -> str:
    padding = str(config.get("padding", "valid")).lower()
    if padding not in ("valid", "same"):
        raise ConfigError(message("its padding is {padding}", padding=repr(padding)))
    return padding


def window_output(size: int, window: int, stride: int, padding: str, dilation: int = 1) -> int:
    """Output length of a convolution or pooling window over `size` positions (Keras' formula)."""
    if padding == "same":
        return math.ceil(size / stride)
    return (size - dilation * (window - 1) - 1) // stride + 1


def spatial_output(config: dict, shape: Shape, window: tuple[int, int], strides: tuple[int, int],
                   dilation: tuple[int, int] = (1, 1)) -> tuple[int, int]:
    """(H, W) after a window; ConfigError when the image shrinks to nothing."""
    padding = padding_of(config)
    height, width = (window_output(n, k, s, padding, d) for n, k, s, d in zip(shape[:2], window, strides, dilation))
    if min(height, width) < 1:
        raise ConfigError(message("it shrinks a {height}x{width} image to nothing",
                                  height=Number(shape[0]), width=Number(shape[1])))
    return height, width


def bias(config: dict) -> bool:
    return bool(config.get("use_bias", True))


def axis_size(shape: Shape, axis: Any) -> int:
    """The size of `axis` of a tensor (batch axis included in Keras' counting), or of several axes."""
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    size = 1
    for a in axes:
        a = whole(a, "axis", low=-len(shape))
        if a == 0 or a > len(shape):
            raise ConfigError(message("its axis {axis} is not one of its input's", axis=Number(a)))
        size *= shape[a - 1] if a > 0 else shape[a]
    return size


# --- the layers the app accepts: one rule each --------------------------------------------------


def same_shape(config: dict, inputs: list[Shape]) -> tuple[Shape, int]:
    return one_input(inputs), 0


def flatten(config: dict, inputs: list[Shape]) -> tuple[Shape, int]:
    return (math.prod(one_input(inputs)),), 0


def reshape(config: dict, inputs: list[Shape]) -> tuple[Shape, int]:
    total = math.prod(one_input(inputs))
    target = config.get("target_shape")
    if not isinstance(target, (list, tuple)) or sum(t == -1 for t in target) > 1:
        raise ConfigError(message("its target shape is {target}", target=repr(target)))
    known = [whole(t, "target shape") for t in target if t != -1]
    free = total // max(math.prod(known), 1)
    shape = tuple(free if t == -1 else t for t in target)
    if math.prod(shape) != total:
        raise ConfigError(message("it cannot reshape {shape} into {target}",
                                  shape=str(one_input(inputs)), target=str(tuple(target))))
    return shape, 0


def dense(config: dict, inputs: list[Shape]) -> tuple[Shape, int]:
    shape = one_input(inputs)
    if not shape:
        raise ConfigError(message("it gets a single number per image"))
    units = whole(config.get("units"), "units")
    return (*shape[:-1], units), shape[-1] * units + units * bias(config)


def conv2d(config: dict, inputs: list[Shape]) -> tuple[Shape, int]:
    h, w, c = image_input(config, inputs)
    filters = whole(config.get("filters"), "filters")
    groups = whole(config.get("groups", 1), "groups")
    if c % groups or filters % groups:
        raise ConfigError(message("its {groups} groups do not divide {channels} channels and {filters} filters",
                                  groups=Number(groups), channels=Number(c), filters=Number(filters)))
    kernel = pair(config.get("kernel_size"), "kernel size")
    out = spatial_output(config, (h, w), kernel, pair(config.get("strides", 1), "strides"),
                         pair(config.get("dilation_rate", 1), "dilation rate"))
    return (*out, filters), kernel[0] * kernel[1] * (c // groups) * filters + filters * bias(config)


def depthwise_conv2d(config: dict, inputs: list[Shape]) -> tuple[Shape, int]:
    h, w, c = image_input(config, inputs)
    channels = c * whole(config.get("depth_multiplier", 1), "depth multiplier")
    kernel = pair(config.get("kernel_size"), "kernel size")
    out = spatial_output(config, (h, w), kernel, pair(config.get("strides", 1), "strides"),
                         pair(config.get("dilation_rate", 1), "dilation rate"))
    return (*out, channels), kernel[0] * kernel[1] * channels + channels * bias(config)


def separable_conv2d(config: dict, inputs: list[Shape]) -> tuple[Shape, int]:
    (h, w, depthwise), depthwise_params = depthwise_conv2d({**config, "use_bias": False}, inputs)
    filters = whole(config.get("filters"), "filters")
    return (h, w, filters), depthwise_params + depthwise * filters + filters * bias(config)


def pooling2d(config: dict, inputs: list[Shape]) -> tuple[Shape, int]:
    h, w, c = image_input(config, inputs)
    window = pair(config.get("pool_size", 2), "pool size")
    strides = pair(config["strides"], "strides") if config.get("strides") is not None else window
    return (*spatial_output(config, (h, w), window, strides), c), 0


def global_pooling2d(config: dict, inputs: list[Shape]) -> tuple[Shape, int]:
    _, _, c = image_input(config, inputs)
    return ((1, 1, c) if config.get("keepdims") else (c,)), 0


def upsampling2d(config: dict, inputs: list[Shape]) -> tuple[Shape, int]:
    h, w, c = image_input(config, inputs)
    a, b = pair(config.get("size", 2), "size")
    return (h * a, w * b, c), 0


def margins(value: Any, name: str) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from Keras' int, (rows, cols) or ((top, bottom), (left, right))."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (list, tuple)) for v in value):
        (top, bottom), (left, right) = pair(value[0], name, 0), pair(value[1], name, 0)
        return top, bottom, left, right
    rows, cols = pair(value, name, 0)
    return rows, rows, cols, cols


def zero_padding2d(config: dict, inputs: list[Shape]) -> tuple[Shape, int]:
    h, w, c = image_input(config, inputs)
    top, bottom, left, right = margins(config.get("padding", 1), "padding")
    return (h + top + bottom, w + left + right, c), 0


def cropping2d(config: dict, inputs: list[Shape]) -> tuple[Shape, int]:
    h, w, c = image_input(config, inputs)
    top, bottom, left, right = margins(config.get("cropping", 0), "cropping")
    if h - top - bottom < 1 or w - left - right < 1:
        raise ConfigError(message("it crops a {height}x{width} image to nothing", height=Number(h), width=Number(w)))
    return (h - top - bottom, w - left - right, c), 0


def batch_normalization(config: dict, inputs: list[Shape]) -> tuple[Shape, int]:
    shape = one_input(inputs)
    if config.get("renorm"):
        raise ConfigError(message("it uses batch renormalization"))
    kinds = 2 + bool(config.get("center", True)) + bool(config.get("scale", True))  # + moving mean, variance
    return shape, kinds * axis_size(shape, config.get("axis", -1))


def layer_normalization(config: dict, inputs: list[Shape]) -> tuple[Shape, int]:
    shape = one_input(inputs)
    kinds = bool(config.get("center", True)) + bool(config.get("scale", True))
    return shape, kinds * axis_size(shape, config.get("axis", -1))


def normalization(config: dict, inputs: list[Shape]) -> tuple[Shape, int]:
    shape = one_input(inputs)
    axis = config.get("axis", -1)
    size = 1 if axis is None or axis == [] else axis_size(shape, axis)
    return shape, 2 * size + 1  # mean, variance, count


def prelu(config: dict, inputs: list[Shape]) -> tuple[Shape, int]:
    shape = one_input(inputs)
    shared = config.get("shared_axes") or []
    shared = {whole(a, "shared axes") for a in (shared if isinstance(shared, (list, tuple)) else [shared])}
    return shape, math.prod(1 if i + 1 in shared else n for i, n in enumerate(shape))


def merge(config: dict, inputs: list[Shape]) -> tuple[Shape, int]:
    if len(inputs) < 2:
        raise ConfigError(message("it merges fewer than two inputs"))
    try:
        return tuple(int(n) for n in np.broadcast_shapes(*inputs)), 0
    except ValueError:
        raise ConfigError(message("it merges shapes that do not match: {shapes}", shapes=str(inputs))) from None


def concatenate(config: dict, inputs: list[Shape]) -> tuple[Shape, int]:
    if len(inputs) < 2 or len({len(s) for s in inputs}) != 1 or not inputs[0]:
        raise ConfigError(message("it concatenates shapes that do not match: {shapes}", shapes=str(inputs)))
    rank = len(inputs[0])
    axis = whole(config.get("axis", -1), "axis", low=-rank)
    if axis == 0 or axis > rank:
        raise ConfigError(message("its axis {axis} is not one of its inputs'", axis=Number(axis)))
    index = axis - 1 if axis > 0 else rank + axis
    if len({s[:index] + s[index + 1:] for s in inputs}) != 1:
        raise ConfigError(message("it concatenates shapes that do not match: {shapes}", shapes=str(inputs)))
    shape = list(inputs[0])
    shape[index] = sum(s[index] for s in inputs)
    return tuple(shape), 0


# The layer classes an upload may use: those core/model/network.py builds, and the ones a student's
# Keras model of digits usually has. Any other class is refused by name.
LAYERS: dict[str, LayerRule] = {
    **dict.fromkeys(
        ("Activation", "ReLU", "Softmax", "LeakyReLU", "ELU", "Identity", "Dropout", "SpatialDropout2D",
         "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Rescaling",
         "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast"),
        same_shape),
    "Flatten": flatten,
    "Reshape": reshape,
    "Dense": dense,
    "Conv2D": conv2d,
    "DepthwiseConv2D": depthwise_conv2d,
    "SeparableConv2D": separable_conv2d,
    "MaxPooling2D": pooling2d,
    "AveragePooling2D": pooling2d,
    "GlobalAveragePooling2D": global_pooling2d,
    "GlobalMaxPooling2D": global_pooling2d,
    "UpSampling2D": upsampling2d,  # bounded by the activation limit
    "ZeroPadding2D": zero_padding2d,
    "Cropping2D": cropping2d,
    "BatchNormalization": batch_normalization,
    "LayerNormalization": layer_normalization,
    "Normalization": normalization,
    "PReLU": prelu,
    **dict.fromkeys(("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"), merge),
    "Concatenate": concatenate,
}
_ALLOWED_NAMES = ", ".join(sorted(["InputLayer", *LAYERS]))


# --- following a model's shapes -----------------------------------------------------------------


@dataclass
class Tally:
    """What the layers seen so far add up to."""

    params: int = 0
    largest: int = 0
    largest_layer: str = ""
    layers: int = 0

    def add(self, name: str, output: Shape, params: int) -> None:
        self.params += params
        self.layers += 1
        self.see(name, output)

    def see(self, name: str, shape: Shape) -> None:
        if math.prod(shape) > self.largest:
            self.largest, self.largest_layer = math.prod(shape), name


def read_shape(value: Any) -> Shape | None:
    """A serialized shape with its batch axis ([None, 28, 28, 1]) as one image's; None if it is not one."""
    if not isinstance(value, (list, tuple)) or not value or not all(
            v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in value):
        return None
    dims = value[1:]
    if any(v is not None and v < 1 for v in dims):
        return None
    return tuple(LARGEST_SIDE if v is None else v for v in dims)


def input_layer_shape(config: dict) -> Shape:
    """The shape an InputLayer declares (Keras 3's batch_shape, tf.keras' batch_input_shape, or shape)."""
    for key in ("batch_shape", "batch_input_shape"):
        if config.get(key) is not None:
            shape = read_shape(config[key])
            break
    else:
        shape = read_shape([None, *config["shape"]]) if isinstance(config.get("shape"), (list, tuple)) else None
    if shape is None:
        raise ConfigError(message("its input layer has no shape that can be read"))
    return shape


def fits(saved: Any, shape: Shape) -> bool:
    """True when a saved shape (batch axis first, None for 'any') describes `shape`."""
    if not isinstance(saved, (list, tuple)) or len(saved) != len(shape) + 1:
        return False
    return all(s is None or s == n for s, n in zip(saved[1:], shape))


def check_build_config(item: dict, inputs: list[Shape]) -> None:
    """Refuse a saved build shape that is not the one the layer gets: Keras builds a layer from it first."""
    build = item.get("build_config")
    if build is None:
        return
    if not isinstance(build, dict) or set(build) - {"input_shape", "shapes_dict"}:
        raise ConfigError(message("its saved build settings cannot be read"))
    if "shapes_dict" in build:
        saved = list(build["shapes_dict"].values()) if isinstance(build["shapes_dict"], dict) else None
    else:
        saved = build.get("input_shape")
        if saved is None:
            return
        saved = [saved] if len(inputs) == 1 else saved
    if not isinstance(saved, list) or len(saved) != len(inputs) or not all(map(fits, saved, inputs)):
        raise ConfigError(message("its saved input shape {saved} is not the {shapes} it gets",
                                  saved=str(build), shapes=str(', '.join(map(str, inputs)))))


def check_options(config: dict) -> None:
    """Refuse settings that add weights the rules do not count (LoRA, quantization)."""
    if config.get("lora_rank"):
        raise ConfigError(message("it uses LoRA weights"))
    if config.get("quantization_config") is not None:
        raise ConfigError(message("it is quantized"))
    dtype = config.get("dtype")
    if isinstance(dtype, dict) and dtype.get("class_name") not in (None, "DTypePolicy", "FloatDTypePolicy"):
        raise ConfigError(message("its dtype policy is {policy}", policy=str(dtype.get('class_name'))))


def apply_layer(item: Any, inputs: list[Shape], tally: Tally, depth: int) -> Shape:
    """The output shape of one serialized layer (a nested model included) given its inputs; counts it in `tally`."""
    if not isinstance(item, dict) or not isinstance(item.get("class_name"), str):
        raise ConfigError(message("one of its layers cannot be read"))
    class_name, config = item["class_name"], item.get("config")
    if class_name in MODEL_CLASSES:
        return one_output(follow_model(item, inputs, tally, depth + 1))
    if class_name not in LAYERS:
        raise UnknownLayerError(message("This model uses a {kind} layer, which this app does not accept. It accepts "
                                        "{allowed}.", kind=class_name, allowed=_ALLOWED_NAMES))
    if not isinstance(config, dict):
        raise ConfigError(message("the {kind} layer's settings cannot be read", kind=str(class_name)))
    name = str(config.get("name") or class_name)
    if not LAYER_NAME.fullmatch(name):
        raise ConfigError(message("its layer name {name} has characters TensorFlow cannot run (it takes only letters, "
                                  "digits and _ . - >)", name=repr(name[:60])))
    try:
        check_options(config)
        check_build_config(item, inputs)
        output, params = LAYERS[class_name](config, inputs)
    except ConfigError as error:
        raise ConfigError(message("its layer {name} ({kind}): {problem}", name=repr(name), kind=class_name,
                                  problem=message_of(error))) from None
    tally.add(name, output, params)
    return output


def one_output(outputs: list[Shape]) -> Shape:
    if len(outputs) != 1:
        raise ConfigError(message("a model inside it has {count} outputs", count=Number(len(outputs))))
    return outputs[0]


def follow_model(item: dict, given: list[Shape] | None, tally: Tally, depth: int = 0) -> list[Shape]:
    """The output shapes of a serialized Sequential or Functional model fed `given` (its own inputs if None)."""
    if depth > MAX_NESTING:
        raise ConfigError(message("it nests models more than {most} deep", most=Number(MAX_NESTING)))
    config = item.get("config")
    if isinstance(config, (dict, list)):
        layers = config.get("layers") if isinstance(config, dict) else config
        if isinstance(layers, list):  # before following them
            check_limit("layers", sum(not (isinstance(item, dict) and item.get("class_name") == "InputLayer")
                                      for item in layers))
    if item.get("class_name") == "Sequential":
        if isinstance(config, list):  # the oldest Keras 2 files: the layers alone
            config = {"layers": config}
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise ConfigError(message("its Sequential model has no list of layers"))
        return [follow_sequential(item, config, given, tally, depth)]
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ConfigError(message("its Functional model has no list of layers"))
    return follow_functional(config, given, tally, depth)


def sequential_input(item: dict, config: dict, given: list[Shape] | None) -> Shape:
    """What a Sequential model is fed: its InputLayer's or saved build shape, checked against `given`."""
    layers = config["layers"]
    first = layers[0] if layers and isinstance(layers[0], dict) else {}
    saved_config = first.get("config")
    first_config = saved_config if isinstance(saved_config, dict) else {}
    saved = [config.get("build_input_shape"), (item.get("build_config") or {}).get("input_shape"),
             first_config.get("batch_input_shape")]
    declared = input_layer_shape(first_config) if first.get("class_name") == "InputLayer" else None
    for value in saved:
        if value is not None and declared is None:
            declared = read_shape(value)
            if declared is None:
                raise ConfigError(message("its saved input shape {value} cannot be read", value=repr(value)))
    if given is not None:
        if len(given) != 1:
            raise ConfigError(message("a Sequential model inside it gets several inputs"))
        declared = given[0] if declared is None or fits([None, *declared], given[0]) else None
        if declared is None:
            raise ConfigError(message("a Sequential model inside it does not take the {shape} it gets",
                                      shape=str(given[0])))
    if declared is None:
        raise ConfigError(message("its input shape is not saved in the file"))
    for value in saved:
        if value is not None and not fits(value, declared):
            raise ConfigError(message("its saved input shape {value} is not {shape}",
                                      value=repr(value), shape=str(declared)))
    return declared


def follow_sequential(item: dict, config: dict, given: list[Shape] | None, tally: Tally, depth: int) -> Shape:
    shape = sequential_input(item, config, given)
    tally.see("input", shape)
    for layer in config["layers"]:
        if isinstance(layer, dict) and layer.get("class_name") == "InputLayer":
            continue  # its shape is `shape`, checked above
        shape = apply_layer(layer, [shape], tally, depth)
    return shape


TensorKey = tuple[str, int, int]  # (layer name, node index, tensor index): Keras' keras_history


def history_keys(value: Any) -> list[TensorKey]:
    """The tensors a Functional config's input_layers/output_layers names: one [name, node, tensor] or a list."""
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, list) and len(v) >= 3 for v in value):
        raise ConfigError(message("its inputs and outputs cannot be read"))
    return [(str(v[0]), whole(v[1], "node index", 0), whole(v[2], "tensor index", 0)) for v in value]


def node_inputs(node: Any) -> list[TensorKey]:
    """The tensors one inbound node of a layer reads (Keras 3's {'args', 'kwargs'} or tf.keras' lists)."""
    found: list[TensorKey] = []

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                found.extend(history_keys((value.get("config") or {}).get("keras_history")))
            else:
                for item in value.values():
                    collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    if isinstance(node, dict):
        collect(node.get("args"))
        if not found:
            collect(node.get("kwargs"))
    elif isinstance(node, list):  # tf.keras: [[layer name, node index, tensor index, kwargs], ...]
        found.extend(history_keys([entry[:3] for entry in node if isinstance(entry, list)]))
    else:
        raise ConfigError(message("one of its layers' inputs cannot be read"))
    return found


def follow_functional(config: dict, given: list[Shape] | None, tally: Tally, depth: int) -> list[Shape]:
    """The output shapes of a Functional model: each layer's nodes once their inputs are known."""
    tensors: dict[TensorKey, Shape] = {}
    inputs = history_keys(config.get("input_layers"))
    if given is not None and len(given) != len(inputs):
        raise ConfigError(message("a model inside it takes {count} inputs but gets {given}",
                                  count=Number(len(inputs)), given=Number(len(given))))
    pending: list[tuple[dict, int, list[TensorKey]]] = []
    names: set[str] = set()
    for layer in config["layers"]:
        if not isinstance(layer, dict) or not isinstance(layer.get("name"), str):
            raise ConfigError(message("one of its layers has no name"))
        if layer["name"] in names:
            raise ConfigError(message("two of its layers are named {name}", name=repr(layer['name'])))
        names.add(layer["name"])
        if layer.get("class_name") == "InputLayer":
            shape = input_layer_shape(layer.get("config") or {})
            key = (layer["name"], 0, 0)
            if given is not None and key in inputs:
                fed = given[inputs.index(key)]
                if not fits([None, *shape], fed):
                    raise ConfigError(message("a model inside it takes {shape} but gets {fed}",
                                              shape=str(shape), fed=str(fed)))
                shape = fed
            tensors[key] = shape
            tally.see(layer["name"], shape)
            continue
        nodes = layer.get("inbound_nodes")
        if not isinstance(nodes, list) or not nodes:
            raise ConfigError(message("its layer {name} is not connected", name=repr(layer['name'])))
        pending.extend((layer, i, node_inputs(node)) for i, node in enumerate(nodes))
    built: set[str] = set()
    while pending:  # Keras saves layers in order (one pass); a node that a later one feeds waits a pass
        waiting = []
        for layer, index, keys in pending:
            if not all(key in tensors for key in keys):
                waiting.append((layer, index, keys))
                continue
            counted = Tally() if layer["name"] in built else tally  # shared layers' weights count once
            output = apply_layer(layer, [tensors[key] for key in keys], counted, depth)
            tally.see(layer["name"], output)
            tensors[(layer["name"], index, 0)] = output
            built.add(layer["name"])
        if len(waiting) == len(pending):
            raise ConfigError(message("its layers' connections cannot be followed"))
        pending = waiting
    outputs = history_keys(config.get("output_layers"))
    if any(key not in tensors for key in outputs):
        raise ConfigError(message("its outputs are not among its layers"))
    return [tensors[key] for key in outputs]


def measure_config(config: Any) -> ConfigSize:
    """Parameters, largest activation and layers of a Sequential or Functional config; ConfigError if unreadable."""
    if not isinstance(config, dict) or config.get("class_name") not in MODEL_CLASSES:
        name = config.get("class_name") if isinstance(config, dict) else None
        raise ConfigError(message("This file holds a {name}, not a Sequential or Functional Keras model; this app can "
                                  "only check those. {resave}", name=str(name or "Keras object"), resave=term(_RESAVE)))
    tally = Tally()
    try:
        outputs = follow_model(config, None, tally)
    except UnknownLayerError:
        raise
    except ConfigError as error:
        if str(error).startswith("This model has"):  # a limit, already a whole sentence
            raise
        raise ConfigError(message("This model could not be checked: {problem}. {resave}", problem=message_of(error),
                                  resave=term(_RESAVE))) from None
    except (TypeError, KeyError, AttributeError, IndexError, ValueError, RecursionError) as error:
        raise ConfigError(message("This model could not be checked ({error}). {resave}", error=type(error).__name__,
                                  resave=term(_RESAVE))) from None
    return ConfigSize(params=tally.params, largest_activation=tally.largest, largest_layer=tally.largest_layer,
                      layers=tally.layers, outputs=tuple(outputs))

"""The code of a run: a self-contained Keras 3 script that trains the same network the same way.

Written from the run's spec and the same registries the app builds from: every setting of
core.settings.SETTINGS becomes a constant at the top of the script (named after its spec field:
`network.dropout` -> DROPOUT), and the code below reads it; the optimizer is written from
core.optimizers.OPTIMIZERS (its Keras class and the spec fields it takes); the data from the
dataset's reader. Three settings choose code instead of filling a constant (STRUCTURAL_SETTINGS).
A setting added later appears as a constant by itself; `unused_constants` (and its test) names one
the code does not read yet.

The app's own helpers that the script needs (the seeded split, and for a fine-tuning the replay
mix) are copied in from their source with `inspect`, so the script does exactly what the app did.

Blocks (`Block`) are the unit: the script joins them with their comments, the notebook
(core.export.notebook) gives each a markdown cell and a code cell.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from dataclasses import dataclass

from core.data import datasets
from core.data.datasets import DatasetInfo, get_info, split_off
from core.model.optimizers import OPTIMIZERS
from core.model.run import Run
from core.model.settings import SETTINGS, Setting
from core.model.spec import TrainSpec, describe_network, describe_spec, read_field, values_from_spec

# Settings that choose which code is written rather than a constant's value.
STRUCTURAL_SETTINGS = ("dataset", "kind", "optimizer")
DATA_DIR_ENV = datasets.DATA_DIR_ENV  # the script reads local copies from the same folder the app does
DIGITS_FILE_ENV = "DIGITLAB_DIGITS_FILE"  # the script's own: the app ships the file (data/digits.npz)
PREAMBLE = ("import os\n\nimport keras\nimport numpy as np\nfrom keras import layers\n")


@dataclass(frozen=True)
class Block:
    """One step of the code: a title and a sentence or two in plain words, then its code."""

    title: str
    text: str
    code: str


def constant_name(setting: Setting) -> str:
    """The script's name for a setting: its spec field, in capitals ('network.kernel_size' -> KERNEL_SIZE)."""
    return setting.field.rpartition(".")[2].upper()


def applies(setting: Setting, spec: TrainSpec) -> bool:
    """True when `setting` matters for `spec` (momentum for SGD, filters for a CNN), as the Train page shows it."""
    return setting.shown(values_from_spec(spec))


def setting_constants(spec: TrainSpec) -> list[tuple[str, str, str]]:
    """(NAME, value as Python, label) for each setting that applies and is not structural, then the split."""
    rows = [(constant_name(s), py_literal(read_field(spec, s.field)),
             s.label.replace("0 = all", "None = all") if s.zero_is_none else s.label)
            for s in SETTINGS if s.key not in STRUCTURAL_SETTINGS and applies(s, spec)]
    rows.append(("VALIDATION_FRACTION", repr(spec.validation_fraction), "Share of the training images held out"))
    return rows


def py_literal(value) -> str:
    """A value as Python source, strings in double quotes (as the rest of the script)."""
    return f'"{value}"' if isinstance(value, str) else repr(value)


def settings_block(spec: TrainSpec, model_file: str) -> Block:
    """The constants: every setting of the run, in one place to change."""
    width = max(len(f"{name} = {value}") for name, value, _ in setting_constants(spec))
    lines = [f"{f'{name} = {value}':<{width}}  # {label}"
             for name, value, label in setting_constants(spec)]
    lines.append(f'MODEL_FILE = "{model_file}"')
    return Block("Settings", "The run's settings, as the Train page had them. Change one and run again.",
                 "\n".join(lines) + "\n")


def source_of(function) -> str:
    """The source of one of the app's functions, as the script defines it."""
    return textwrap.dedent(inspect.getsource(function))


def local_copy_code(info: DatasetInfo) -> str:
    """Lines that read `info` from the local folder into x_train, y_train, x_test, y_test (indented 4)."""
    if info.read_files is datasets.read_mnist_folder:
        return ('    with np.load(os.path.join(DATA_DIR, "mnist.npz")) as f:\n'
                '        x_train, y_train = f["x_train"], f["y_train"]\n'
                '        x_test, y_test = f["x_test"], f["y_test"]\n')
    if info.read_files is datasets.read_fashion_files:
        names = "".join(f'        "{name}",\n' for name in info.files)
        return ("    import gzip\n\n"
                f"    files = (\n{names}    )\n"
                "    parts = []\n    for name, skip in zip(files, (8, 16, 8, 16)):  # labels, images, labels, images\n"
                "        with gzip.open(os.path.join(DATA_DIR, name), \"rb\") as f:\n"
                "            parts.append(np.frombuffer(f.read(), np.uint8, offset=skip))\n"
                "    y_train, x_train, y_test, x_test = parts\n"
                f"    x_train = x_train.reshape(-1, {info.image_shape[0]}, {info.image_shape[1]})\n"
                f"    x_test = x_test.reshape(-1, {info.image_shape[0]}, {info.image_shape[1]})\n")
    raise KeyError(f"no code reads a local copy of {info.key!r}: add its case to core.export.code.local_copy_code")


def data_block(info: DatasetInfo) -> Block:
    """Load the raw images (N, H, W) integers and their labels, as the app reads them."""
    h, w = info.image_shape
    if info.read_files is datasets.read_digits_folder:
        code = (f'DIGITS_FILE = os.environ.get("{DIGITS_FILE_ENV}", os.path.join("data", "digits.npz"))\n'
                "if os.path.exists(DIGITS_FILE):\n"
                "    with np.load(DIGITS_FILE) as f:\n"
                '        images, labels = f["images"], f["target"]\n'
                "else:  # the same 1,797 digits, from scikit-learn (pip install scikit-learn)\n"
                "    from sklearn.datasets import load_digits\n\n"
                "    digits = load_digits()\n"
                '    images, labels = digits.images.astype("uint8"), digits.target.astype("uint8")\n'
                "# The set has no test split of its own: the app holds out 20% of it (seed 0) as the test set.\n"
                "x_train, y_train, x_test, y_test = split_off(images, labels, 0.2, seed=0)\n")
        text = (f"{info.description} Digit Lab ships a copy (`data/digits.npz`, the same images as scikit-learn's "
                f"`load_digits`): run the script in Digit Lab's folder, or set {DIGITS_FILE_ENV} to the "
                "file; without it, scikit-learn's copy is used.")
    elif info.keras_loader:
        code = (f'DATA_DIR = os.environ.get("{DATA_DIR_ENV}", "")\n'
                "if DATA_DIR:  # a local copy, in Keras' own file format\n"
                f"{local_copy_code(info)}"
                "else:  # downloaded once by Keras, then read from its cache (~/.keras/datasets)\n"
                f"    (x_train, y_train), (x_test, y_test) = keras.datasets.{info.keras_loader}.load_data()\n")
        text = (f"{info.description} Where the app reads a local copy, set {DATA_DIR_ENV} to its folder "
                f"({', '.join(info.files)}); when the app could not download it, it used the sample it ships "
                "(`data/mnist-sample.npz`): name that file `mnist.npz` in a folder to train on the same images."
                if info.sample_file else f"{info.description} Set {DATA_DIR_ENV} to a folder holding "
                f"{', '.join(info.files)} to read a local copy instead.")
    else:
        raise KeyError(f"no code loads dataset {info.key!r}: add its case to core.export.code.data_block")
    return Block(f"The data: {info.name}", text + f" Images are {h}x{w} pixels with values 0..{info.value_max}.", code)


def split_block(info: DatasetInfo) -> Block:
    """The validation split, the limit on training images, the scaling."""
    h, w = info.image_shape
    code = (source_of(split_off) + "\n\n" if info.read_files is not datasets.read_digits_folder else "")
    code += ("x_train, y_train, x_val, y_val = split_off(x_train, y_train, VALIDATION_FRACTION, SEED)\n"
             "x_train, y_train = x_train[:TRAIN_LIMIT], y_train[:TRAIN_LIMIT]  # None keeps them all\n\n\n"
             "def scale(images):\n"
             f'    """(N, {h}, {w}) integers in 0..{info.value_max} -> (N, {h}, {w}, 1) floats in 0..1."""\n'
             f'    return (images.astype("float32") / {info.value_max})[..., np.newaxis]\n\n\n'
             "x_train, x_val, x_test = scale(x_train), scale(x_val), scale(x_test)\n"
             'print(f"{len(x_train)} training, {len(x_val)} validation, {len(x_test)} test images")\n')
    return Block("Validation split and scaling",
                 "A random part of the training images (seeded, so always the same ones) is held out to "
                 "validate on after each epoch; training uses at most TRAIN_LIMIT of the rest. Pixels are "
                 "scaled to 0..1 and given a channel axis, the shape the network takes.", code)


def split_function_block() -> Block:
    """The app's seeded split, defined before the data loads (the Digits set needs it for its test split)."""
    return Block("A seeded split", "The app's own way of splitting images at random, the same way every time.",
                 source_of(split_off))


def model_block(spec: TrainSpec, info: DatasetInfo) -> Block:
    """The layers, named as the app names them, seeded as the app seeds them."""
    net = spec.network
    code = ("keras.utils.set_random_seed(SEED)  # the same starting weights, shuffling and dropout each time\n"
            "l2 = keras.regularizers.L2(L2) if L2 else None\n\n"
            f'inputs = keras.Input(shape={info.input_shape}, name="image")\n'
            "x = inputs\n")
    if net.kind == "cnn":
        code += ("for i, filters in enumerate(CONV_FILTERS, start=1):  # a convolution and a 2x2 max-pool each\n"
                 "    x = layers.Conv2D(filters, KERNEL_SIZE, activation=ACTIVATION, kernel_regularizer=l2,\n"
                 '                      name=f"conv_{i}")(x)\n'
                 '    x = layers.MaxPooling2D(pool_size=2, name=f"pool_{i}")(x)\n')
    code += 'x = layers.Flatten(name="flatten")(x)\n'
    if net.kind == "cnn":
        code += 'if DROPOUT:\n    x = layers.Dropout(DROPOUT, name="dropout_0")(x)\n'
    code += ("for i, units in enumerate(HIDDEN_LAYERS, start=1):\n"
             '    x = layers.Dense(units, activation=ACTIVATION, kernel_regularizer=l2, name=f"hidden_{i}")(x)\n'
             "    if DROPOUT:\n"
             '        x = layers.Dropout(DROPOUT, name=f"dropout_{i}")(x)\n'
             f'outputs = layers.Dense({info.num_classes}, activation="softmax", kernel_regularizer=l2, '
             'name="output")(x)\n'
             'model = keras.Model(inputs, outputs, name="digitlab")\n'
             "model.summary()\n")
    cnn = ("convolution blocks (a bank of small filters and a 2x2 max-pooling each), then " if net.kind == "cnn"
           else "")
    return Block(f"The network: {describe_network(net)}",
                 f"The input image, {cnn}flattened into one long row of numbers, the hidden dense layers, and a "
                 f"softmax that gives one probability per class ({info.num_classes}). L2 adds a penalty on large "
                 "weights; dropout switches off a random share of the units while training.", code)


def optimizer_code(spec: TrainSpec) -> str:
    """`keras.optimizers.Adam(learning_rate=LEARNING_RATE)`: the registry's class and the settings it takes."""
    info = OPTIMIZERS[spec.optimizer]
    extra = "".join(f", {name}={name.upper()}" for name in info.settings)
    return f"keras.optimizers.{info.keras_class}(learning_rate=LEARNING_RATE{extra})"


def compile_block(spec: TrainSpec) -> Block:
    info = OPTIMIZERS[spec.optimizer]
    code = (f"model.compile(\n    optimizer={optimizer_code(spec)},\n"
            '    loss="sparse_categorical_crossentropy",\n    metrics=["accuracy"],\n)\n')
    return Block(f"The optimizer: {info.name}",
                 f"{info.name} changes the weights after each batch to lower the loss (cross-entropy: how "
                 "unsure the network is of the right class); accuracy is reported beside it.", code)


def fit_block() -> Block:
    code = ("callbacks = []\n"
            "if PATIENCE:  # stop when the validation loss has not improved for PATIENCE epochs; keep the best\n"
            "    callbacks.append(keras.callbacks.EarlyStopping(monitor=\"val_loss\", patience=PATIENCE,\n"
            "                                                   restore_best_weights=True))\n"
            "history = model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS,\n"
            "                    validation_data=(x_val, y_val), callbacks=callbacks, verbose=2)\n")
    return Block("Training", "Each epoch shows the network every training image once, in batches of BATCH_SIZE, "
                 "shuffled; after each epoch it is measured on the validation images.", code)


def evaluate_block() -> Block:
    code = ("test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)\n"
            'print(f"Test accuracy: {test_accuracy:.4f}")\n'
            "model.save(MODEL_FILE)\n"
            'print(f"Saved {MODEL_FILE} ({model.count_params()} parameters)")\n')
    return Block("Test and save", "The test images were never used while training: the accuracy on them is the "
                 "fair measure. The model is saved as a `.keras` file (load it with `keras.models.load_model`).",
                 code)


def training_blocks(spec: TrainSpec, model_file: str) -> list[Block]:
    """The blocks of a script that trains `spec` from scratch, as core.training.TrainingJob does."""
    info = get_info(spec.dataset)
    ships = info.read_files is datasets.read_digits_folder
    blocks = [settings_block(spec, model_file)]
    if ships:  # the Digits set needs the split for its test images too: define it first
        blocks.append(split_function_block())
    blocks += [data_block(info), split_block(info), model_block(spec, info), compile_block(spec), fit_block(),
               evaluate_block()]
    return blocks


def script_file_name(run: Run) -> str:
    """'digitlab-run-3-mnist.py'."""
    return f"digitlab-run-{run.run_id}-{run.dataset}.py"


def model_file_name(run: Run) -> str:
    """The .keras file the script saves: 'digitlab-run-3-mnist.keras' (as the app names its download)."""
    return f"digitlab-run-{run.run_id}-{run.dataset}.keras"


def no_code_reason(run: Run) -> str | None:
    """Why a run has no code (an uploaded model), in a sentence; None when it has."""
    if run.source == "fine-tuned" and run.spec is None:
        return ("This model was fine-tuned from a model that was not trained here (uploaded, or the app's own "
                "default), so there is no training to write down; the model itself downloads below.")
    if run.spec is None or run.source in ("uploaded", "default"):
        return ("This model was not trained here (it was uploaded, or it is the app's own default), so there is no "
                "training to reproduce: download it below in the format you need.")
    return None


def run_blocks(run: Run) -> list[Block] | None:
    """The blocks of the run's code; None when it has none (see no_code_reason)."""
    if no_code_reason(run) is not None:
        return None
    if run.source == "fine-tuned":
        from core.export.fine_tune_code import fine_tune_blocks

        return fine_tune_blocks(run)
    return training_blocks(run.spec, model_file_name(run))


def header(run: Run) -> str:
    """The script's docstring: what it is and how to run it."""
    what = "fine-tunes a copy of a model as" if run.source == "fine-tuned" else "trains the same network as"
    return (f'"""{run.name}: the code of a Digit Lab run.\n\n'
            f"{describe_spec(run.spec)}. This script {what} Digit Lab did,\n"
            "with the same data, split, seed and settings (Keras 3; pip install keras tensorflow numpy).\n"
            "Run it with: python " + script_file_name(run) + '\n"""\n\n')


def render_script(blocks: list[Block], top: str) -> str:
    """One script: `top` (docstring), the imports, then each block under its comment."""
    parts = [top + PREAMBLE]
    for block in blocks:
        comment = "\n".join("# " + line for line in textwrap.wrap(f"{block.title}. {block.text}", 100))
        parts.append(f"{comment}\n{block.code}")
    return normalise_blank_lines("\n".join(parts))


def normalise_blank_lines(script: str) -> str:
    """Two blank lines around top-level functions, at most two anywhere, one newline at the end (ruff's E30x)."""
    script = re.sub(r"\n{4,}", "\n\n\n", script)
    script = re.sub(r"\n+(# [^\n]*\n)*def ", lambda m: "\n\n\n" + m.group(0).lstrip("\n"), script)
    script = re.sub(r"(\n    return [^\n]*\n)\n*(?=[^\n ])", r"\1\n\n", script)
    return script.rstrip("\n") + "\n"


def script_for_run(run: Run) -> str | None:
    """The run's code as one Python script; None for a run without (see no_code_reason)."""
    blocks = run_blocks(run)
    return None if blocks is None else render_script(blocks, header(run))


def unused_constants(script: str) -> list[str]:
    """The capitalised constants the script sets but never reads: settings the code does not use yet."""
    tree = ast.parse(script)
    assigned = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                if isinstance(t, ast.Name) and t.id.isupper()}
    read = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return sorted(assigned - read)

"""The code of a fine-tuned run: the fine-tuning as core.training.fine_tune.FineTuneJob did it, as script blocks.

The app's own helpers (the stratified held-out split, the balanced replay, the mix) are copied in from their
source, so the script makes the same mix from the same files. What the app does not hand out as a file,
the script names at its top: the base model (Train's download) and your digits (My digits' download,
core.data.handwriting.export_npz: x (N, 28, 28) uint8, y (N,)).
"""

from __future__ import annotations

import dataclasses

from core.data.datasets import get_info, split_off
from core.export.code import Block, data_block, model_file_name, py_literal, source_of
from core.model.run import Run
from core.training import fine_tune


def settings_block(run: Run) -> Block:
    """The fine-tuning's settings (core.training.fine_tune.FineTuneSettings) and the files it reads."""
    spec, defaults = run.spec, fine_tune.DEFAULTS
    assert spec is not None, "a run with code has its spec"
    values = {**dataclasses.asdict(defaults), "learning_rate": spec.learning_rate, "epochs": spec.epochs,
              "batch_size": spec.batch_size, "seed": spec.seed}
    lines = [f"{name.upper()} = {py_literal(value)}" for name, value in values.items()]
    lines += [f"VALIDATION_FRACTION = {spec.validation_fraction!r}  # the base model's own split",
              "SPLIT_SEED = 0  # the seed of the base model's run (its validation split): replay comes from the rest",
              'BASE_MODEL_FILE = "base.keras"  # the model you fine-tuned: its Download button on Train',
              'MY_DIGITS_FILE = "my-digits.npz"  # your digits: the file My digits\' Download gives (x, y)',
              f'MODEL_FILE = "{model_file_name(run)}"']
    return Block("Settings", "The fine-tuning's settings, as the app used them, and the files it starts from.",
                 "\n".join(lines) + "\n")


def fine_tune_blocks(run: Run) -> list[Block]:
    """Load the base model, your digits and the replay images; hold out, mix, fine-tune, measure."""
    info = get_info(run.dataset)
    helpers = "\n\n".join(source_of(f) for f in (fine_tune.split_held_out, fine_tune.pick_replay,
                                                 fine_tune.replay_mix, fine_tune.set_batch_norm_trainable))
    helpers = helpers.replace("DEFAULTS.replay_per_mine", "REPLAY_PER_MINE")
    helpers = helpers.replace("keras.layers.", "layers.")  # the preamble's `from keras import layers`
    split = source_of(split_off)
    return [
        settings_block(run),
        Block("The app's helpers", "A seeded split, a stratified hold-out of your digits, and the mix of your "
              "digits with replayed training images: the app's own functions.", split + "\n\n" + helpers),
        data_block(info),
        Block("Your digits and the mix", "A fifth of your digits (stratified by class) are held out to measure; "
              "the rest are mixed with replayed training images of every class, so the model keeps its practice.",
              "x_train, y_train, _, _ = split_off(x_train, y_train, VALIDATION_FRACTION, SPLIT_SEED)\n"
              "with np.load(MY_DIGITS_FILE) as f:\n"
              '    x_mine, y_mine = f["x"].astype("float32") / 255, f["y"].astype("uint8")\n'
              "teach, held = split_held_out(y_mine, HELD_OUT_FRACTION, SEED)\n"
              f"x_mix, y_mix = replay_mix(x_mine[teach], y_mine[teach], x_train, y_train, {info.value_max}, "
              "REPLAY_PER_MINE, SEED)\n"
              "x_held, y_held = x_mine[held][..., np.newaxis], y_mine[held]\n"
              f'x_test = (x_test.astype("float32") / {info.value_max})[..., np.newaxis]\n'),
        Block("A copy of the base model", "The base model is copied with its weights and compiled with Adam at a "
              "low learning rate; batch-normalisation layers (if any) keep their statistics.",
              "base = keras.models.load_model(BASE_MODEL_FILE)\n"
              "keras.utils.set_random_seed(SEED)  # after loading, before copying: where the app seeds\n"
              "model = keras.models.clone_model(base)\n"
              "model.set_weights(base.get_weights())\n"
              "if FREEZE_BATCH_NORM:\n"
              "    set_batch_norm_trainable(model, False)\n"
              "model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),\n"
              '              loss="sparse_categorical_crossentropy", metrics=["accuracy"])\n'
              "print(\"Before: held-out\", model.evaluate(x_held, y_held, verbose=0)[1],\n"
              '      "test", model.evaluate(x_test, y_test, verbose=0)[1])\n'),
        Block("Fine-tuning", "A few epochs on the mix, measured on your held-out digits after each.",
              "model.fit(x_mix, y_mix, batch_size=BATCH_SIZE, epochs=EPOCHS, shuffle=True,\n"
              "          validation_data=(x_held, y_held), verbose=2)\n"
              "print(\"After: held-out\", model.evaluate(x_held, y_held, verbose=0)[1],\n"
              '      "test", model.evaluate(x_test, y_test, verbose=0)[1])\n'
              "model.save(MODEL_FILE)\n"),
    ]


"""core/export/code.py: the generated script follows every setting, passes ruff, and reproduces the app's run."""

import dataclasses
import re
import subprocess

import numpy as np
import pytest

from core.export.code import model_file_name, no_code_reason, script_for_run, unused_constants
from core.model.optimizers import OPTIMIZERS
from core.model.settings import DEFAULT_VALUES, SETTINGS
from core.model.spec import PRESETS, NetworkSpec, SpecError, TrainSpec, spec_from_values
from core.training.fine_tune import DEFAULTS, fine_tune_spec
from tests.conftest import ROOT
from tests.harness.drawings import make_styled_drawings, render_drawing
from tests.harness.runs import SMALL_CNN, app_run, make_run_of, recipes, run_script, script_run

MAX_GAP_POINTS = 1.5  # the bound; on one machine the script reproduces the app's run exactly


STRUCTURAL_SHOWN = {  # core.export.code.STRUCTURAL_SETTINGS: the code each value brings
    "dataset": lambda key: f"keras.datasets.{key}.load_data()",
    "kind": lambda kind: {"cnn": "layers.Conv2D(", "dense": "layers.Dense("}[kind],
    "optimizer": lambda key: f"keras.optimizers.{OPTIMIZERS[key].keras_class}(",
}


def other_value(setting):
    """A valid widget value for `setting` other than its default."""
    if setting.widget == "sizes":
        return "24, 12" if setting.key == "hidden" else "12, 8"
    if setting.options:
        return next(option for option in setting.options if option != setting.default)
    if setting.key == "limit":
        return 700
    return setting.low + 1 if setting.integer and setting.low + 1 != setting.default else setting.high


def base_values(setting) -> dict:
    """The default widget values, with a CNN and SGD where `setting` only shows for those."""
    values = dict(DEFAULT_VALUES)
    if setting.key != "dataset":  # MNIST: room for a CNN's blocks
        values["dataset"] = "mnist"
    if not setting.shown(values):
        values["kind"] = "cnn"
    return values


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.key)
def test_every_setting_changed_alone_appears_in_the_code(setting):
    base = base_values(setting)
    value = other_value(setting)
    try:
        spec = spec_from_values({**base, setting.key: value})
    except SpecError as error:  # the table's other value must be a valid one
        pytest.fail(f"{setting.key}={value!r} is not a valid change of the default: {error}")
    before = script_for_run(make_run_of(spec_from_values(base)))
    after = script_for_run(make_run_of(spec))
    assert after != before, f"changing {setting.key} does not change the code"
    shown = str(value).split(",")[0] if setting.widget == "sizes" else str(value)
    if setting.key in STRUCTURAL_SHOWN:  # settings that choose code: what that code shows
        shown = STRUCTURAL_SHOWN[setting.key](value)
    assert shown in after, f"the code of {setting.key}={value!r} does not show {shown!r}"
    assert unused_constants(after) == [], f"settings the code sets but never uses: {unused_constants(after)}"


def all_specs() -> dict[str, TrainSpec]:
    """Presets, the Digits CNN, every optimizer, Fashion-MNIST: every branch of the generator."""
    specs = {name: spec for name, spec in PRESETS.items()}
    specs["digits cnn"] = SMALL_CNN
    specs["fashion"] = TrainSpec(dataset="fashion_mnist", network=NetworkSpec(hidden_layers=(32,), l2=1e-4))
    for key in OPTIMIZERS:
        specs[f"optimizer {key}"] = dataclasses.replace(SMALL_CNN, optimizer=key)
    return specs


def test_generated_code_passes_ruff_and_reads_every_constant(tmp_path):
    for i, (name, spec) in enumerate(all_specs().items()):
        script = script_for_run(make_run_of(spec, i + 1))
        assert unused_constants(script) == [], name
        (tmp_path / f"run_{i}.py").write_text(script)
    fine = make_run_of(fine_tune_spec("mnist", DEFAULTS, 200, PRESETS["mnist_cnn"]), 99)
    fine.source = "fine-tuned"
    (tmp_path / "fine_tuned.py").write_text(script_for_run(fine))
    done = subprocess.run(["ruff", "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_a_model_not_trained_here_has_no_code_but_a_reason():
    run = make_run_of(SMALL_CNN)
    run.source, run.spec = "uploaded", None
    assert script_for_run(run) is None
    assert "not trained here" in no_code_reason(run)
    assert no_code_reason(make_run_of(SMALL_CNN)) is None


def test_the_code_of_a_fine_tuning_names_its_base_model_replay_and_held_out_split():
    run = make_run_of(fine_tune_spec("mnist", DEFAULTS, 200, PRESETS["mnist_cnn"]))
    run.source = "fine-tuned"
    script = script_for_run(run)
    assert "BASE_MODEL_FILE" in script and "def replay_mix(" in script and "def split_held_out(" in script
    assert f"REPLAY_PER_MINE = {DEFAULTS.replay_per_mine}" in script
    assert f"LEARNING_RATE = {DEFAULTS.learning_rate!r}" in script


def assert_reproduced(app, script):
    assert script.params == app.params
    assert script.layers == app.layers
    assert abs(script.accuracy - app.accuracy) * 100 <= MAX_GAP_POINTS, (app.accuracy, script.accuracy)


@pytest.mark.parametrize("name", list(recipes()))
def test_the_script_reproduces_the_apps_run(name, tmp_path, mnist_sample):
    """Each preset (cut to 2 epochs; MNIST from the shipped sample, as the script reads it too) and a Digits CNN."""
    spec = recipes()[name]
    run, app = app_run(spec)
    data = tmp_path / "data"
    data.mkdir()
    (data / "mnist.npz").symlink_to(ROOT / "data" / "mnist-sample.npz")
    work = tmp_path / "work"
    work.mkdir()
    env = {"DIGITLAB_DATA_DIR": str(data), "DIGITLAB_DIGITS_FILE": str(ROOT / "data" / "digits.npz")}
    assert_reproduced(app, script_run(run, work, env))


def test_the_script_reproduces_a_dense_run_on_real_mnist(mnist_dir, tmp_path):
    spec = TrainSpec(dataset="mnist", network=NetworkSpec(hidden_layers=(64,), dropout=0.1), optimizer="adam",
                     batch_size=128, epochs=2, patience=1, train_limit=5000, seed=3)
    run, app = app_run(spec)
    work = tmp_path / "work"
    work.mkdir()
    assert_reproduced(app, script_run(run, work, {"DIGITLAB_DATA_DIR": str(mnist_dir)}))


def my_digits(n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """(labels (n,), kept (n, 56, 56)): drawings in a square hand, kept as the Draw page keeps them."""
    from core.data.handwriting import keep_drawing

    drawings = make_styled_drawings("square_hand", n, seed=1)
    return (np.array([label for label, _ in drawings], np.uint8),
            np.stack([keep_drawing(render_drawing(strokes)) for _, strokes in drawings]))


def printed_accuracies(stdout: str, when: str) -> tuple[float, float]:
    """(held-out, test) accuracy from the script's 'Before: held-out 0.5 test 0.9' line."""
    found = re.search(rf"{when}: held-out ([0-9.]+) test ([0-9.]+)", stdout)
    assert found, stdout[-2000:]
    return float(found.group(1)), float(found.group(2))


def test_the_fine_tune_script_runs_on_my_digits_download_and_reproduces_the_apps_fine_tuning(tmp_path, mnist_sample):
    """A base model saved as Train's download, the digits as My digits' download; the app's FineTuneJob alongside."""
    import keras

    from core.data.datasets import load_dataset, to_model_input
    from core.data.handwriting import export_npz
    from core.model.files import write_model_file
    from core.model.network import build_model
    from core.training.fine_tune import FineTuneJob
    from core.training.local import collect_run
    from core.training.queue import TrainingSlots
    from tests.harness.polling import wait_for_job

    base_spec = TrainSpec(dataset="mnist", network=NetworkSpec(hidden_layers=(32,), dropout=0.2),
                          optimizer="adam", learning_rate=3e-3, batch_size=64, epochs=1, seed=0)
    data = load_dataset("mnist", base_spec.validation_fraction, None, base_spec.seed)  # the shipped sample
    keras.utils.set_random_seed(base_spec.seed)
    base = build_model(base_spec)
    base.fit(to_model_input(data.x_train, data.info), data.y_train, epochs=1, batch_size=64, verbose=0)
    work = tmp_path / "work"
    work.mkdir()
    (work / "base.keras").write_bytes(write_model_file(base, {"name": "Tiny", "dataset": "mnist"}))
    labels, kept = my_digits()
    (work / "my-digits.npz").write_bytes(export_npz(labels, kept))

    job = FineTuneJob(keras.models.load_model(work / "base.keras"), "Tiny", "mnist", labels, kept,
                      source_spec=base_spec, slots=TrainingSlots(1)).start()
    wait_for_job(job, 120)
    assert job.state == "finished", job.message
    app = job.result
    run = job.finish_run(collect_run(job, 4))

    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "mnist.npz").symlink_to(ROOT / "data" / "mnist-sample.npz")
    stdout = run_script(run, work, {"DIGITLAB_DATA_DIR": str(folder)})
    script_before, script_after = printed_accuracies(stdout, "Before"), printed_accuracies(stdout, "After")
    assert script_before == pytest.approx((app.held_before, app.test_before), abs=1e-6)  # the same weights
    # Exactly, not within MAX_GAP_POINTS: one held-out digit is 17 points, and on one machine the same seed
    # gives the same shuffles and dropout (seeded where the app seeds: after loading, before copying).
    assert script_after == pytest.approx((app.held_after, app.test_after), abs=1e-6), (script_after, app)
    saved = keras.models.load_model(work / model_file_name(run))
    assert saved.count_params() == base.count_params()
    assert not np.array_equal(saved.get_weights()[0], base.get_weights()[0])  # it was fine-tuned

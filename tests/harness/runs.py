"""Train a spec the app's way and the exported script's way, for tests/test_export_*.py and bench/code_export.py.

`app_run` runs core.training.TrainingJob (the Train page's job) and measures the model on the test set as
Evaluate does; `script_run` writes the run's script into a folder and runs it in a fresh Python process
(DIGITLAB_DATA_DIR as the caller's environment has it), then reads the model it saved.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.analysis.evaluation import predict_probabilities
from core.data.datasets import get_info, load_test_set, to_model_input
from core.export.code import model_file_name, script_file_name, script_for_run
from core.model.run import Run
from core.model.spec import PRESETS, NetworkSpec, TrainSpec
from core.training.local import TrainingJob, run_of_job
from core.training.queue import TrainingSlots

ROOT = Path(__file__).resolve().parents[2]
SCRIPT_SECONDS = 300  # a script of a few epochs takes seconds; a hung one fails the test after this
SMALL_CNN = TrainSpec(dataset="digits", network=NetworkSpec(kind="cnn", conv_filters=(8,), kernel_size=3,
                                                             hidden_layers=(16,), dropout=0.1),
                      optimizer="adam", learning_rate=0.01, batch_size=32, epochs=3, seed=1)


@dataclass
class Trained:
    """What a training made: the test accuracy (0..1), the parameter count and the layer names."""

    accuracy: float
    params: int
    layers: list[str]
    seconds: float


def quick(spec: TrainSpec, epochs: int = 2, train_limit: int | None = 2000) -> TrainSpec:
    """`spec` cut down to train in seconds: fewer epochs, fewer images (Digits keeps all of its 1,438)."""
    import dataclasses

    limit = None if spec.dataset == "digits" else train_limit
    return dataclasses.replace(spec, epochs=min(spec.epochs, epochs), train_limit=limit)


def recipes() -> dict[str, TrainSpec]:
    """Every preset recipe, cut down, and a small CNN on the 8x8 Digits."""
    cut = {name: quick(spec) for name, spec in PRESETS.items()}
    cut["Digits · small CNN · Adam"] = SMALL_CNN
    return cut


def make_run_of(spec: TrainSpec, run_id: int = 1) -> Run:
    """A Run record for `spec` (no model): what the code generator reads."""
    from core.model.run import make_run

    return make_run(run_id, spec, None, {}, "", 0.0)


def measure_accuracy(model, dataset: str) -> float:
    """The model's accuracy on the dataset's test set, as the Evaluate page measures it."""
    x_test, y_test = load_test_set(dataset)
    probs = predict_probabilities(model, to_model_input(x_test, get_info(dataset)))
    return float(np.mean(probs.argmax(axis=1) == y_test))


def app_run(spec: TrainSpec, timeout: float = 600) -> tuple[Run, Trained]:
    """Train `spec` with the app's TrainingJob; the run and what it made."""
    started = time.monotonic()
    job = TrainingJob(spec, slots=TrainingSlots(1)).start()
    job.join(timeout)
    assert job.done and job.state == "finished", job.snapshot()
    run = run_of_job(job, 1)
    model = run.model
    names = [layer.name for layer in model.layers]
    return run, Trained(measure_accuracy(model, spec.dataset), model.count_params(), names, time.monotonic() - started)


def run_script(run: Run, folder: Path, env: dict | None = None) -> str:
    """Write the run's script into `folder` and run it there in a fresh Python process; what it printed."""
    script = folder / script_file_name(run)
    script.write_text(script_for_run(run))
    done = subprocess.run([sys.executable, script.name], cwd=folder, capture_output=True, text=True,
                          timeout=SCRIPT_SECONDS, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})})
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def script_run(run: Run, folder: Path, env: dict | None = None) -> Trained:
    """Write the run's script into `folder`, run it there in a fresh process, read back the model it saved."""
    import keras

    started = time.monotonic()
    stdout = run_script(run, folder, env)
    seconds = time.monotonic() - started
    printed = float(re.search(r"Test accuracy: ([0-9.]+)", stdout).group(1))
    model = keras.models.load_model(folder / model_file_name(run))
    accuracy = measure_accuracy(model, run.dataset)
    assert abs(accuracy - printed) < 1e-3, (accuracy, printed)  # the script's evaluate and the app's agree
    return Trained(accuracy, model.count_params(), [layer.name for layer in model.layers], seconds)

"""Shared test fixtures: quiet TensorFlow, an empty Keras cache, and the real-data paths.

Tests that need some real MNIST use `mnist_sample` (the sample that ships in data/, as a fresh
machine with no internet reads it: never skipped); only those that need more training images than
it holds use `mnist_dir` (../shared's 22,699, skipped when absent).

pyproject.toml puts the repository root on sys.path (pytest's `pythonpath`).
"""

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Keras reads KERAS_HOME once, at import: give the tests an empty cache of their own, so they
# never touch (or depend on) the user's ~/.keras.
os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="digitlab-keras-home-")
# Labs and runs go to a database of the tests' own, never the user's ~/.digitlab.
os.environ["DIGITLAB_HOME"] = tempfile.mkdtemp(prefix="digitlab-home-")
os.environ.pop("DIGITLAB_DATABASE_URL", None)
ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist" / "mnist-22k.npz"


@pytest.fixture(autouse=True)
def fresh_new_lab_counter(monkeypatch):
    """Every test starts with no new labs counted: all AppTests share one session id ("test session
    id"), so the per-session bound on new labs would otherwise refuse a lab after the tenth test."""
    from core.server.new_labs import NewLabCounter

    monkeypatch.setattr("ui.lab.NEW_LABS", NewLabCounter())
    yield
    drop_tab_jobs()


def drop_tab_jobs() -> None:
    """Stop and forget the trainings of lab-less AppTest tabs: they share one owner ("tab:<the session id>"),
    so a test's leftover job would otherwise be the next test's "training now"."""
    from core.server.board import JOBS, SWEEPS

    for board in (JOBS, SWEEPS):
        for owner, item in board.items():
            if owner.startswith("tab:"):
                (item.stop_all if board is SWEEPS else item.stop)()
                board.drop(owner, item)


@pytest.fixture
def mnist_sample(monkeypatch):
    """MNIST as a fresh offline machine reads it: no DIGITLAB_DATA_DIR, a download that fails, the shipped sample."""
    import keras

    from core.data import datasets

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: the tests do not use the internet")

    monkeypatch.delenv("DIGITLAB_DATA_DIR", raising=False)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    datasets.read_raw.cache_clear()
    yield
    datasets.read_raw.cache_clear()


@pytest.fixture
def mnist_dir(tmp_path, monkeypatch):
    """A DIGITLAB_DATA_DIR holding the real MNIST subset as `mnist.npz`; skips when absent."""
    if not SHARED_MNIST.is_file():
        pytest.skip(f"real MNIST not found at {SHARED_MNIST} (only CI and dev machines have it)")
    (tmp_path / "mnist.npz").symlink_to(SHARED_MNIST)
    monkeypatch.setenv("DIGITLAB_DATA_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="session")
def digits_run():
    """A small Digits model trained for a few seconds (seeded), as a session Run."""
    from core.data.datasets import load_dataset, to_model_input
    from core.model.network import build_model
    from core.model.run import make_run
    from core.model.spec import NetworkSpec, TrainSpec

    spec = TrainSpec(dataset="digits", network=NetworkSpec(hidden_layers=(32,)), optimizer="adam",
                     learning_rate=0.01, batch_size=32, epochs=5, seed=0)
    data = load_dataset("digits")
    model = build_model(spec)
    fit = model.fit(to_model_input(data.x_train, data.info), data.y_train, epochs=spec.epochs,
                    batch_size=spec.batch_size, verbose=0,
                    validation_data=(to_model_input(data.x_val, data.info), data.y_val))
    return make_run(1, spec, model, {k: [float(v) for v in vs] for k, vs in fit.history.items()},
                    status="Finished 5 epochs.", seconds=1.0)


def open_tab(at, key: str, label: str):
    """Open the lazy tab `label` of st.tabs(key=key), as a click does (a rerun), and return it."""
    at.session_state[key] = label
    at.run()
    assert not at.exception
    return next(t for t in at.tabs if t.label == label)


def open_page(page: str, runs=(), timeout: float = 60, **params):
    """An AppTest on `pages/<page>.py` with `runs` in the session (the last one current), opened with the
    query parameters `params` (lang="es")."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.query_params.update(params)
    if runs:
        at.session_state["runs"] = list(runs)
        at.session_state["current_run_id"] = runs[-1].run_id
        at.session_state["run_counter"] = max(r.run_id for r in runs)
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    return at


def pytest_sessionfinish(session, exitstatus):
    """Let the app's warm-up thread end before the interpreter does (at most 2 minutes).

    A daemon thread still inside TensorFlow when Python exits aborts the process ("terminate
    called ... FATAL: exception not rethrown", exit code 134) after every test has passed: this
    happened when a file that opens a page (test_app_evaluate.py) was run on its own.
    """
    import sys

    warmup = sys.modules.get("core.server.warmup")
    thread = getattr(warmup, "_thread", None)
    if thread is not None:
        thread.join(timeout=120)

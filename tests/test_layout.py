"""The app opts out of Streamlit's per-run Keras reset (see ui/layout.keep_keras_state)."""

import subprocess
import sys

import keras
import pytest
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from ui import layout


def test_a_real_script_run_leaves_keras_state_alone():
    keras.backend.clear_session()
    assert keras.layers.Dense(1).name == "dense"  # Keras' naming state, which clear_session resets
    # Streamlit's own script runner: after the run it calls _clean_problem_modules, which resets
    # Keras unless the app's opt-out (done when ui.layout is imported) is in place.
    at = AppTest.from_file("../app.py", default_timeout=60).run()
    assert not at.exception
    assert keras.layers.Dense(1).name != "dense"


def test_a_streamlit_without_the_cleanup_function_gets_a_warning(monkeypatch):
    monkeypatch.delattr(script_runner, "_clean_problem_modules")
    with pytest.warns(RuntimeWarning, match="_clean_problem_modules is gone"):
        layout.keep_keras_state()


def test_importing_the_layout_sets_nothing_up():
    # The Keras opt-out and the collector thread are page setup (layout.set_up_process), not import side effects.
    code = ("import sys, threading\n"
            "from streamlit.runtime.scriptrunner import script_runner\n"
            "before = script_runner._clean_problem_modules\n"
            "threads = {t.name for t in threading.enumerate()}\n"
            "import ui.layout\n"
            "assert script_runner._clean_problem_modules is before, 'the Keras opt-out ran on import'\n"
            "assert {t.name for t in threading.enumerate()} == threads, 'a thread started on import'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]

"""The app opts out of Streamlit's per-run Keras reset (see ui/layout.keep_keras_state)."""

import keras
import pytest
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

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

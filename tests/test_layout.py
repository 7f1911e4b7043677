"""The app opts out of Streamlit's per-run Keras reset (see ui/layout.keep_keras_state)."""

import keras
from streamlit.runtime.scriptrunner import script_runner

from ui.layout import keep_keras_state


def test_streamlit_no_longer_resets_keras_after_a_run(monkeypatch):
    # What Streamlit calls after every script run; it must exist, or the opt-out is a no-op.
    original = script_runner._clean_problem_modules
    keras.layers.Dense(1)
    original()  # control: Streamlit's own cleanup resets Keras' state...
    assert keras.layers.Dense(1).name == "dense"

    monkeypatch.setattr(script_runner, "_clean_problem_modules", original)  # restored after
    keep_keras_state()
    before = keras.layers.Dense(1).name
    script_runner._clean_problem_modules()  # ...and after the opt-out it leaves it alone
    after = keras.layers.Dense(1).name
    assert before != "dense" and after not in ("dense", before)

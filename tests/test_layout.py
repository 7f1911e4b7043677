"""The app opts out of Streamlit's per-run Keras reset (see ui/layout.keep_keras_state)."""

import keras
from streamlit.runtime.scriptrunner import script_runner

from ui.layout import keep_keras_state


def test_streamlit_no_longer_resets_keras_after_a_run():
    # Streamlit calls this after every script run; it must still exist, or the opt-out is a no-op.
    assert callable(script_runner._clean_problem_modules)
    keras.layers.Dense(1)
    keras.backend.clear_session()  # control: what Streamlit's cleanup calls resets Keras' names
    assert keras.layers.Dense(1).name == "dense"

    keep_keras_state()
    before = keras.layers.Dense(1).name
    script_runner._clean_problem_modules()  # after the opt-out, a script run's end leaves them
    after = keras.layers.Dense(1).name
    assert before != "dense" and after not in ("dense", before)

"""Digit Lab: the entry point. Sets up the pages and shows the home page.

Run with `streamlit run app.py`. TensorFlow is not imported here: the home page opens fast.
"""

import streamlit as st

from ui import state

st.set_page_config(page_title="Digit Lab", page_icon="✍️", layout="wide")


def show_home() -> None:
    st.title("✍️ Digit Lab")
    st.markdown(
        "Teach a computer to read handwriting, and see for yourself what it learned. "
        "No programming needed."
    )
    st.markdown(
        "1. **Train** a neural network on handwritten digits (or photos of clothes), and watch it "
        "learn, epoch by epoch.\n"
        "2. **Evaluate** it on images it has never seen: which digits does it confuse, and why?\n"
        "3. **Draw** a digit yourself and see what the network reads."
    )
    run = state.current_run()
    if run is None:
        st.info("You have not trained a model yet. Evaluate and Draw use a ready-made model "
                "(a small network trained on MNIST) until you do.")
    else:
        accuracy = run.metrics.get("val_accuracy", run.metrics.get("accuracy"))
        st.success(f"Current model: **{run.name}**" + (
            f" — validation accuracy {accuracy:.1%}" if accuracy is not None else ""))
    job = state.get_job()
    if job is not None and not job.done:
        progress = job.snapshot()
        st.info(f"Training is running: epoch {progress.epoch} of {progress.epochs}.")
    cols = st.columns(3)
    cols[0].page_link(TRAIN, label="Train", icon="🏋️")
    cols[1].page_link(EVALUATE, label="Evaluate", icon="🔍")
    cols[2].page_link(DRAW, label="Draw", icon="✏️")
    st.caption("Your models live only in this browser tab: reloading or closing it discards them. "
               "Download any run you want to keep from the Train page.")


HOME = st.Page(show_home, title="Home", icon="🏠", default=True)
TRAIN = st.Page("pages/train.py", title="Train", icon="🏋️")
EVALUATE = st.Page("pages/evaluate.py", title="Evaluate", icon="🔍")
DRAW = st.Page("pages/draw.py", title="Draw", icon="✏️")

state.collect_finished_job()  # a training may have ended while the user was on another page
st.navigation([HOME, TRAIN, EVALUATE, DRAW]).run()

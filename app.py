"""Digit Lab: the home page. The other pages are in `pages/`.

Run with `streamlit run app.py`. TensorFlow is not imported here: the home page opens fast.
"""

import streamlit as st

from ui import lab as labs
from ui import state
from ui.layout import PAGES, start_page

start_page("Home")
st.title("Digit Lab")
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
columns = st.columns(3)
for column, (path, label, icon) in zip(columns, PAGES[1:]):
    column.page_link(path, label=label, icon=icon, query_params=labs.lab_params())
st.caption("Your runs are kept in your lab: bookmark its link (in the sidebar, once you have trained or "
           "uploaded a model) to come back to them.")

"""Draw: draw a digit with mouse or finger, see what the network reads, and why."""

import streamlit as st

from core.data.datasets import get_info
from core.model.files import ModelFileError, check_model_fits
from ui.drawing_box import drawing_box
from ui.layout import start_page
from ui.model_picker import pick_model
from ui.session import DRAW_IMAGE
from ui.text import plain

start_page("Draw")
st.title("Draw")
run = pick_model("draw")
info = get_info(run.dataset)
try:
    check_model_fits(run.model, info.image_shape, info.num_classes, dataset_name=info.name)
except ModelFileError as error:
    st.error(str(error))
    st.stop()
if not info.is_digits:
    st.warning(f"This model was trained on {info.name}, not on digits: it will read your drawing as one of its "
               f"classes ({', '.join(info.class_names[:3])}, …). Pick a digits model in the sidebar to read digits.")

image = drawing_box(info, lambda: run.model, key="draw", explain=True, collect=True)
if image is None:
    DRAW_IMAGE.pop()
else:
    DRAW_IMAGE.set(image)  # for Evaluate's "Inside the network"
st.caption(f"Model: **{plain(run.name)}**")

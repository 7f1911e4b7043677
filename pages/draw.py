"""Draw: draw a digit with mouse or finger (or send a photo of one, or pick a test image), see what the network
reads, and why."""

import numpy as np
import streamlit as st

from core.data.datasets import get_info, load_test_set, to_model_input
from core.i18n import N_
from core.model.files import ModelFileError, check_model_fits
from core.words import DRAW_WORDS
from ui.drawing_box import drawing_box, photo_box, test_image_box
from ui.i18n import _
from ui.layout import load_with_spinner, start_page
from ui.model_picker import pick_model
from ui.session import DIGIT_SOURCE, DRAW_IMAGE
from ui.text import plain

SOURCES = {"draw": N_("Draw it"), "photo": N_("A photo"), "test": N_("A test image")}

start_page("Draw")
st.title(_("Draw"))
run = pick_model("draw")
info = get_info(run.dataset)
try:
    check_model_fits(run.model, info.image_shape, info.num_classes, dataset_name=info.name)
except ModelFileError as error:
    st.error(_(error.args[0]) if error.args and isinstance(error.args[0], str) else _(str(error)))
    st.stop()
if not info.is_digits:
    st.warning(_("This model was trained on {dataset}, not on digits: it will read your drawing as one of its "
                 "classes ({classes}, …). Pick a digits model in the sidebar to read digits.").format(
        dataset=_(info.name), classes=", ".join(info.class_names[:3])))

if DIGIT_SOURCE.get() not in SOURCES:
    DIGIT_SOURCE.set("draw")
source_names = {k: _(name) for k, name in SOURCES.items()}  # made now: a format_func runs after the page too
source = st.radio(_(DRAW_WORDS["source"].label), list(SOURCES), format_func=source_names.get,
                  key=DIGIT_SOURCE, horizontal=True, help=_(DRAW_WORDS["source"].help))


def test_images(label: int) -> np.ndarray:
    """The test set's images of one class, as the model reads them: (N, h, w) float32 0..1."""
    x_test, y_test = load_with_spinner(run.dataset, lambda: load_test_set(run.dataset))
    return to_model_input(x_test[y_test == label], info)[..., 0]


if source == "photo":
    image = photo_box(info, lambda: run.model, collect=info.is_digits)
elif source == "test":
    image = test_image_box(info, lambda: run.model, test_images)
else:
    image = drawing_box(info, lambda: run.model, key="draw", explain=True, collect=True)
if image is None:
    DRAW_IMAGE.pop()
else:
    DRAW_IMAGE.set(image)  # for Evaluate's "Inside the network"
st.caption(_("Model: **{model}**").format(model=plain(run.name)))

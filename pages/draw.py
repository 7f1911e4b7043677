"""Draw: draw a digit with mouse or finger, see what the network reads, and why."""

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from core.datasets import get_info
from core.drawing import CANVAS_SIZE, STROKE_WIDTH, predict_drawing, preprocess_drawing
from core.figures.images import to_thumbnails
from core.figures.probabilities import plot_probabilities
from core.model_io import ModelFileError, check_model_fits
from ui.explanations import DRAW_IMAGE, open_inside_with_drawing, show_legend, show_why
from ui.layout import start_page
from ui.model_picker import pick_model

CANVAS_KEY = "draw_canvas"
CLEARS = "draw_clears"  # times the user pressed Clear: part of the canvas' key
EXPLAIN = "draw_explain"  # the class to explain: PREDICTION or a class index
PREDICTION = "prediction"


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

draw_column, result_column = st.columns([1, 1], gap="large")
with draw_column:
    # The canvas' own toolbar shows only on mouse hover: phones need a Clear button they can
    # see. Clearing gives the canvas a new key, which mounts an empty one.
    clears = st.session_state.setdefault(CLEARS, 0)
    canvas = st_canvas(
        stroke_width=STROKE_WIDTH, stroke_color="#FFFFFF", background_color="#000000",
        width=CANVAS_SIZE, height=CANVAS_SIZE, drawing_mode="freedraw",
        return_image_data=True, key=f"{CANVAS_KEY}_{clears}",
    )
    st.button("Clear", icon=":material/delete:", on_click=lambda: st.session_state.update({CLEARS: clears + 1}))
    st.caption("Draw one digit, as large as the box allows; the reading updates after every "
               "stroke. With a mouse, the toolbar over the box also has undo.")

with result_column:
    rgba = canvas.image_data  # (280, 280, 4) uint8, or None before the first stroke
    image = None if rgba is None else preprocess_drawing(rgba, info.image_shape)
    if image is None:
        st.session_state.pop(DRAW_IMAGE, None)
        st.info("Draw a digit in the black box, and the network will tell you what it reads.",
                icon=":material/edit:")
    else:
        st.session_state[DRAW_IMAGE] = image  # for Evaluate's "Inside the network"
        probs = predict_drawing(run.model, image)
        best = int(np.argmax(probs))
        st.metric("Prediction", info.class_names[best], delta=f"{probs[best]:.0%} confident",
                  delta_color="off", delta_arrow="off")
        st.plotly_chart(plot_probabilities(probs, list(info.class_names), best), key="draw_probs",
                        config={"displayModeBar": False})  # its toolbar would cover the bars on a phone
        st.subheader("Why this answer")
        # A fixed option for "the prediction" (not its name): the choice survives new strokes.
        options = [PREDICTION, *range(info.num_classes)]
        if st.session_state.get(EXPLAIN, PREDICTION) not in options:  # a class of another dataset
            st.session_state[EXPLAIN] = PREDICTION
        choice = st.selectbox("Class to explain", options, key=EXPLAIN,
                              format_func=lambda c: "The prediction" if c == PREDICTION else info.class_names[c],
                              help="Choose another class to see what counts for and against it: "
                                   "what would make it a 7?")
        target = best if choice == PREDICTION else int(choice)
        with st.container(key="draw_why"):
            seen_column, why_column = st.columns(2)
            height, width = info.image_shape
            seen_column.image(to_thumbnails(image[np.newaxis], size=168)[0],
                              caption=f"What the model sees ({height}x{width})")
            with why_column:
                explanation = show_why(run.model, image, target, info.class_names, predicted=target == best,
                                       with_sentence=False)
            st.markdown(explanation.sentence)
        show_legend()
        if st.button("See inside the network", icon=":material/account_tree:",
                     help="The first layer's weights or filters, and what each block makes of your drawing"):
            open_inside_with_drawing(image)
st.caption(f"Model: **{run.name}**")

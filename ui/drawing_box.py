"""The drawing box of the home page and the Draw page: a canvas, and the network's reading beside it.

One piece of code for both pages: the same canvas, preprocessing (core.data.drawing), "Prediction"
metric and probabilities. The Draw page adds "Why this answer" (explain=True). The home page's
model may still be warming up (core.server.warmup) when the first stroke arrives: then the reading
waits under a visible "warming up" spinner, never a frozen page. Plotly and the explanations
are imported only once there is a drawing, so an empty box costs no more than the canvas. Each stroke
is sent to the server as soon as it ends (SEND_STROKE_JS), not after the canvas' own 200 ms wait.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from core.data.datasets import DatasetInfo
from core.data.drawing import CANVAS_SIZE, STROKE_WIDTH, predict_drawing, preprocess_drawing
from core.i18n import N_
from core.words import DRAW_WORDS
from ui import lessons
from ui.i18n import _, number, percent
from ui.session import CANVAS_CLEARS, EXPLAIN_CLASS, SAVED_CANVAS

EMPTY_HINT = N_("Draw a digit in the black box, and the network will tell you what it reads.")
WARMING_UP = N_("Warming up the network (the server has just started)…")
PREDICTION = "prediction"  # the "Class to explain" option meaning the predicted class

# The canvas component sends a stroke 200 ms after the mouse or finger lifts (a fixed debounce for shapes being
# dragged), which was 40% of the time from a stroke to its reading. Its own toolbar button "Update the app with
# this drawing" sends at once and cancels that wait: this script presses it as soon as a stroke that started on
# a canvas ends (after the canvas' own handlers, hence the timeout). One listener per browser tab.
SEND_STROKE_JS = """
const SEND = 'button[aria-label="Update the app with this drawing"]';
const onCanvas = (event) => event.composedPath().find(
    (el) => el instanceof HTMLCanvasElement && el.classList.contains('upper-canvas'));
export default function () {
    if (window.__digitlabSendStroke) return;
    window.__digitlabSendStroke = true;
    let drawing = null;  // the canvas a stroke started on, until it ends
    const start = (event) => { drawing = onCanvas(event) || null; };
    const end = () => {
        const canvas = drawing;
        drawing = null;
        if (!canvas) return;
        setTimeout(() => {
            const button = canvas.closest('.dc-root')?.querySelector(SEND);
            if (button && !button.disabled) button.click();
        }, 0);
    };
    for (const kind of ['mousedown', 'touchstart']) document.addEventListener(kind, start, {capture: true});
    for (const kind of ['mouseup', 'touchend']) document.addEventListener(kind, end, {capture: true});
}
"""
_send_stroke = st.components.v2.component("digitlab.send_stroke", js=SEND_STROKE_JS)


def canvas_key(key: str) -> str:
    """The session key of the box's canvas now: Clear gives it a new one (an empty canvas)."""
    return f"{key}_canvas_{CANVAS_CLEARS.of(key).ensure()}"


def drawing_box(info: DatasetInfo, model: Callable[[], Any], key: str, *, warming: bool = False,
                explain: bool = False, collect: bool = False) -> np.ndarray | None:
    """Draw the canvas and the reading; returns the preprocessed drawing (None while empty).

    `model()` gives the model, waiting for it if need be; `warming` says it is not ready yet (the
    box then says so, and shows a spinner while it waits). `key` keeps two boxes' canvases apart:
    "draw" on the Draw page, "home" on the home page. explain=True adds "Why this answer", collect=True
    "Add to my digits".
    """
    clears = CANVAS_CLEARS.of(key)
    saved = SAVED_CANVAS.of(key)  # (strokes json, rgba) kept while the visitor looked inside the network
    draw_column, result_column = st.columns([1, 1], gap="large")
    with draw_column:
        # The canvas' own toolbar shows only on mouse hover: phones need a Clear button they can
        # see. Clearing gives the canvas a new key, which mounts an empty one.
        kept = saved.get()
        canvas = st_canvas(
            stroke_width=STROKE_WIDTH, stroke_color="#FFFFFF", background_color="#000000",
            width=CANVAS_SIZE, height=CANVAS_SIZE, drawing_mode="freedraw",
            initial_drawing=None if kept is None else kept[0],
            return_image_data=True, key=canvas_key(key),
        )
        st.button(_(DRAW_WORDS["clear"].label), icon=":material/delete:", key=f"{key}_clear",
                  help=_(DRAW_WORDS["clear"].help), on_click=lambda: (clears.set(clears.get() + 1), saved.pop()))
        st.caption(_("Draw one digit, as large as the box allows; the reading updates after every stroke."))
        _send_stroke(key=f"{key}_send_stroke")  # last in the column: its empty element adds no gap between others

    with result_column:
        rgba = canvas.image_data  # (280, 280, 4) uint8, or None before the first stroke
        if kept is not None and (rgba is None or not np.asarray(rgba)[..., 3].any()):
            rgba = kept[1]  # back from "See inside": the canvas has not sent its restored drawing yet
        image = None if rgba is None else preprocess_drawing(rgba, info.image_shape)
        if image is None:
            st.info(_(EMPTY_HINT), icon=":material/edit:")
            if warming:
                st.caption(_("The network is still warming up on this server, which has just started: "
                             "your first reading may take a few seconds."))
            return None
        try:
            if warming:
                with st.spinner(_(WARMING_UP)):
                    network = model()
            else:
                network = model()
        except Exception as error:  # noqa: BLE001 -- a missing model file, a broken TensorFlow: say so
            st.error(_("The network could not be loaded: {error}").format(error=error))
            return image
        best = show_reading(network, image, info, key)
        lessons.record_event("drawing_read", info.class_names[best])
        if explain:
            show_why_this_answer(network, image, best, info, key,
                                 keep=lambda: saved.set((canvas.json_data, np.asarray(rgba))))
        if collect:
            from ui.my_digits import show_add_to_my_digits  # fine-tuning's module imports TensorFlow

            show_add_to_my_digits(rgba, best if info.is_digits else None, key=f"{key}_add")
    return image


def show_reading(model: Any, image: np.ndarray, info: DatasetInfo, key: str) -> int:
    """The "Prediction" metric and the probabilities of every class; returns the predicted class."""
    from core.figures.described import describe_probabilities  # plotly: only once there is a drawing
    from core.figures.probabilities import plot_probabilities
    from ui.figures import show_chart

    probs = predict_drawing(model, image)
    best = int(np.argmax(probs))
    st.metric(_("Prediction"), info.class_names[best],
              delta=_("{sure} confident").format(sure=percent(round(float(probs[best]), 2))),
              delta_color="off", delta_arrow="off")
    show_chart(plot_probabilities(probs, list(info.class_names), best), describe_probabilities(probs, info.class_names),
               key=f"{key}_probs", config={"displayModeBar": False})  # its toolbar would cover the bars on a phone
    return best


def show_why_this_answer(model: Any, image: np.ndarray, best: int, info: DatasetInfo, key: str,
                         keep: Callable[[], None] | None = None) -> None:
    """The Draw page's "Why this answer": a class to explain, what the model sees, its map and sentence.

    keep() is called before "See inside the network" leaves the page, to keep what the visitor gave.
    """
    from core.figures.images import to_thumbnails  # light path: the home page imports this module
    from ui.explanations import (  # light path: it imports the explanations
        open_inside_with_drawing,
        show_legend,
        show_why,
    )

    st.subheader(_("Why this answer"))
    explain_key = EXPLAIN_CLASS.of(key)
    # A fixed option for "the prediction" (not its name): the choice survives new strokes.
    options = [PREDICTION, *range(info.num_classes)]
    if explain_key.get(PREDICTION) not in options:  # a class of another dataset
        explain_key.set(PREDICTION)
    choice = st.selectbox(_(DRAW_WORDS["explain_class"].label), options, key=explain_key,
                          format_func={PREDICTION: _("The prediction"), **dict(enumerate(info.class_names))}.get,
                          help=_(DRAW_WORDS["explain_class"].help))
    target = best if choice == PREDICTION else int(choice)
    with st.container(key=f"{key}_why"):
        seen_column, why_column = st.columns(2)
        height, width = info.image_shape
        seen_column.image(to_thumbnails(image[np.newaxis], size=168)[0],
                          caption=_("What the model sees ({height}x{width})").format(height=height, width=width),
                          alt=_("The digit made small, {height}x{width} grey pixels, as the network reads it; "
                                "it reads {name}.").format(height=height, width=width, name=info.class_names[best]))
        with why_column:
            explanation = show_why(model, image, target, info.class_names, predicted=target == best,
                                   with_sentence=False)
        st.markdown(_(explanation.sentence))
    show_legend()
    if st.button(_(DRAW_WORDS["inside"].label), icon=":material/account_tree:", key=f"{key}_inside",
                 help=_(DRAW_WORDS["inside"].help)):
        if keep is not None:
            keep()
        open_inside_with_drawing(image)


def show_result(network: Any, image: np.ndarray, info: DatasetInfo, key: str) -> int:
    """The reading of an image given another way (a photo, a test image), and "Why this answer"."""
    best = show_reading(network, image, info, key)
    show_why_this_answer(network, image, best, info, key)
    return best


def photo_box(info: DatasetInfo, model: Callable[[], Any], key: str = "photo", *, collect: bool = True) \
        -> np.ndarray | None:
    """A photo of a digit on paper (a file, or the camera), read as a drawing; returns the model's image or None.

    A file that is not a usable photo, or a blank page, is said in words under the uploader.
    """
    from core.data.photo import FILE_TYPES, PhotoError, preprocess_photo
    from ui.session import PHOTO_CAMERA

    send_column, result_column = st.columns([1, 1], gap="large")
    with send_column:
        words = DRAW_WORDS["photo_upload"]
        upload = st.file_uploader(_(words.label), type=list(FILE_TYPES), key=f"{key}_upload", help=_(words.help))
        if st.toggle(_(DRAW_WORDS["camera"].label), key=PHOTO_CAMERA, help=_(DRAW_WORDS["camera"].help)):
            shot = st.camera_input(_(DRAW_WORDS["camera_input"].label), key=f"{key}_camera",
                                   help=_(DRAW_WORDS["camera_input"].help))
            upload = shot or upload
        st.caption(_("Write one digit large and dark on plain paper (or in chalk on a board), and take the "
                     "photo from above."))
    with result_column:
        if upload is None:
            st.info(_("Send a photo of one digit, and the network will tell you what it reads."),
                    icon=":material/photo_camera:")
            return None
        try:
            reading = preprocess_photo(upload.getvalue(), info.image_shape)
        except PhotoError as error:
            st.error(_(error.args[0] if error.args else str(error)), icon=":material/error:")
            return None
        network = model()
        best = show_reading(network, reading.image, info, key)
        if collect:
            from ui.my_digits import show_add_to_my_digits  # fine-tuning's module imports TensorFlow

            show_add_to_my_digits(reading.ink, best if info.is_digits else None, key=f"{key}_add")
    show_why_this_answer(network, reading.image, best, info, key)
    return reading.image


def test_image_box(info: DatasetInfo, model: Callable[[], Any], images: Callable[[int], np.ndarray],
                   key: str = "test") -> np.ndarray | None:
    """A test image chosen by its label (for those who cannot draw with a pointer); returns it, (h, w) 0..1.

    images(label) gives that class's test images (N, h, w) float32 0..1; "Another one" steps through them.
    """
    from ui.session import TEST_DIGIT, TEST_TURN

    pick_column, result_column = st.columns([1, 1], gap="large")
    with pick_column:
        words = DRAW_WORDS["test_digit"]
        label = st.radio(_(words.label), list(range(info.num_classes)), key=TEST_DIGIT, horizontal=True,
                         format_func=lambda c: info.class_names[c], help=_(words.help),
                         on_change=lambda: TEST_TURN.set(0))
        choices = images(int(label))
        if len(choices) == 0:
            st.info(_("There is no test image of this class."))
            return None
        turn = TEST_TURN.get() % len(choices)
        st.button(_(DRAW_WORDS["another"].label), icon=":material/refresh:", key=f"{key}_another",
                  help=_(DRAW_WORDS["another"].help), on_click=lambda: TEST_TURN.set(turn + 1))
        image = np.asarray(choices[turn], dtype=np.float32)
        from core.figures.images import to_thumbnails  # light path: the home page imports this module

        name = info.class_names[int(label)]
        st.image(to_thumbnails(image[np.newaxis], size=168)[0],
                 caption=_("{name}: test image {number} of {count}").format(
                     name=name, number=turn + 1, count=number(len(choices))),
                 alt=_("A handwritten {name} from the test images").format(name=name))
    with result_column:
        network = model()
        best = show_reading(network, image, info, key)
    show_why_this_answer(network, image, best, info, key)
    return image

"""Digit Lab: the home page. The other pages are in `pages/`.

Run with `streamlit run app.py`. The home page opens with the drawing box (ui/drawing_box.py, the
Draw page's own) and the bundled model's reading, then a card for each page with a small picture
drawn from a real training (core/server/showcase.py); a visitor with runs sees them first.

TensorFlow is not imported while the page is drawn: it opens fast. Its last line starts the
server's warm-up (core/server/warmup.py), which loads the model and makes the pictures in the background;
a reading asked for before that is done waits under a visible "warming up" spinner.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from core.data.datasets import get_info
from core.model.default_model import DEFAULT_MODEL_INFO
from core.model.spec import describe_spec
from core.server import warmup
from core.words import RECIPE_WORDS
from ui import classes, lessons, state
from ui import lab as labs
from ui.drawing_box import drawing_box
from ui.layout import PAGES, start_page
from ui.model_picker import DEFAULT, choose
from ui.session import CURRENT, HOME_EVALUATE, PICKED, PICKED_WITH
from ui.text import plain

MODEL_WAIT_SECONDS = 180.0  # a first reading waits this long for the warm-up before saying so
PICTURES_POLL_SECONDS = 2.0  # how often a home page still showing placeholders looks again
PROGRESS_POLL_SECONDS = 1.0  # how often the progress bar of a running training moves
LATEST_RUNS = 3
EVALUATE = "pages/evaluate.py"
MORE_ON_DRAW = "More on the Draw page"


def bundled_model():
    """The bundled model, waiting (at most MODEL_WAIT_SECONDS) for the warm-up to load it."""
    try:
        return warmup.MODEL.get(timeout=MODEL_WAIT_SECONDS)
    except TimeoutError as error:
        raise RuntimeError("the server is still warming up; draw again in a moment.") from error


def accuracy_of(run) -> str:
    """Its best-known score in words: on the test images when measured, else on the validation images."""
    if (test := run.metrics.get("test_accuracy")) is not None:
        return f"right on {test:.1%} of new images (test accuracy)"
    accuracy = run.metrics.get("val_accuracy", run.metrics.get("accuracy"))
    return f"validation accuracy {accuracy:.1%}" if accuracy is not None else "no accuracy recorded"


def drawing_run():
    """The run Draw reads with (its choice, else the current model), when it reads digits; None: the bundled model.

    The same rule as ui.model_picker.pick_model, without drawing the picker: one truth for "the model".
    """
    current = state.current_run()
    picked = PICKED.get() if PICKED.present() and PICKED_WITH.get() == CURRENT.get() else (
        current.run_id if current is not None else DEFAULT)
    run = state.find_run(picked) if picked != DEFAULT else None
    return run if run is not None and run.usable and get_info(run.dataset).is_digits else None


def evaluate_run(run_id: int) -> None:
    """An "Evaluate" button's click: that run becomes the model Evaluate and Draw show."""
    choose(run_id)
    HOME_EVALUATE.set(True)


def show_continue() -> None:
    """A visitor with runs, or a training going, sees them first: where they left off."""
    job = state.get_job()
    running = job is not None and not job.done
    runs = [r for r in state.get_runs() if r.source != "shared"]
    if not running and not runs:
        st.info("You have not trained a model yet. Evaluate and Draw use a ready-made model "
                "(a small network trained on MNIST) until you do.")
        return
    st.subheader("Continue where you left off")
    if running:
        show_training(job)
    current = state.current_run()
    if current is not None:
        st.success(f"Current model: **{plain(current.name)}** — {accuracy_of(current)}", icon=":material/check_circle:")
    latest = list(reversed(state.usable_runs()))[:LATEST_RUNS]
    for run in latest:
        name_column, button_column = st.columns([4, 1], vertical_alignment="center")
        name_column.markdown(f"**{plain(run.name)}**  \n{accuracy_of(run)}")
        button_column.button("Evaluate", key=f"home_evaluate_{run.run_id}", icon=":material/grid_on:",
                             on_click=evaluate_run, args=(run.run_id,), help=f"Evaluate {plain(run.name)}")
    if HOME_EVALUATE.pop(False):
        st.switch_page(EVALUATE, query_params=labs.lab_params())
    st.page_link("pages/train.py", label="All your runs, and a new training: Train", icon=":material/model_training:",
                 query_params=labs.lab_params())


def show_training(job) -> None:
    """The lab's running training: its progress bar, moving once a second until it ends."""

    @st.fragment(run_every=PROGRESS_POLL_SECONDS)
    def progress() -> None:
        if job.done:
            st.rerun(scope="app")  # it ended: the run joins the list (and the bar stops polling)
        p = job.snapshot()
        what = plain(job.name or describe_spec(job.spec))  # a fine-tune is named after its model
        if p.state == "waiting":
            st.warning(f"{what}: {p.message}", icon=":material/hourglass_top:")
        elif p.state == "loading":
            st.info(f"{what}: loading the data…", icon=":material/hourglass_top:")
        else:
            st.progress(p.fraction, text=f"Training {what} · epoch {p.epoch} of {p.epochs}")
        st.page_link("pages/train.py", label="Watch it on Train", icon=":material/monitoring:",
                     query_params=labs.lab_params())

    progress()


def show_drawing_box() -> None:
    """Try it at once: the Draw page's drawing box, read by the model Draw uses (the bundled one until you train)."""
    st.subheader("Draw a digit")
    run = drawing_run()
    if run is None:
        info = get_info(DEFAULT_MODEL_INFO["dataset"])
        drawing_box(info, bundled_model, key="home", warming=not warmup.MODEL.ready)
        st.caption("Read by the bundled model, a small network trained on MNIST's handwritten digits. The Draw "
                   "page also shows why it reads what it reads, and reads with your own models.")
    else:  # its model is loaded (TensorFlow) only once there is a drawing
        drawing_box(get_info(run.dataset), state.model_loader(run), key="home")
        st.caption(f"Read by **{plain(run.name)}**, the model Draw and Evaluate use now. The Draw page also "
                   "shows why it reads what it reads.")
    st.page_link("pages/draw.py", label=MORE_ON_DRAW, icon=":material/edit:", query_params=labs.lab_params())


def train_card(showcase) -> None:
    st.image(showcase.png["curve"], width="stretch",
             caption=f"Accuracy, epoch by epoch, of the Train page's recipe “{RECIPE_WORDS[showcase.preset].label}”, "
                     f"trained on this server in {showcase.seconds:.0f} s")


def evaluate_card(showcase) -> None:
    outlined = ""
    if showcase.cell is not None:
        truth, predicted, count = showcase.cell
        outlined = f"; outlined: {truth} read as {predicted} ({count}×)"
    st.image(showcase.png["confusion"], width="stretch",
             caption=f"Its {showcase.test_size} test images, {showcase.test_accuracy:.1%} right{outlined}")
    if showcase.gallery is not None:
        st.image(showcase.png["gallery"], width="stretch", caption="Its mistakes, the most confident first")


def draw_card(showcase) -> None:
    name = showcase.why_class
    st.image(showcase.png["why"], width="stretch",
             caption=f"Why {name}? Orange ink counted for {name}, blue against it")


# page -> (one sentence, its picture); a page without one gets a card with its link only
CARDS: dict[str, tuple[str, Callable | None]] = {
    "pages/learn.py": ("Follow a lesson: it says what to try, step by step, and checks what you did.", None),
    "pages/train.py": ("Pick a dataset and a network, press Train, and watch it learn, epoch by epoch.", train_card),
    "pages/evaluate.py": ("Test it on images it has never seen: which digits it confuses, and which images "
                          "fooled it.", evaluate_card),
    "pages/draw.py": ("Draw a digit and see what the network reads, and why: which strokes counted for its "
                      "answer, and which against.", draw_card),
}


def show_cards() -> None:
    """A card for each page: a small real picture of what it does, one sentence, the link."""
    st.subheader("What you can do here")
    waiting = not warmup.PICTURES.ready and (warmup.enabled() or warmup.PICTURES.started)

    @st.fragment(run_every=PICTURES_POLL_SECONDS if waiting else None)
    def cards() -> None:
        if waiting and warmup.PICTURES.ready:
            st.rerun(scope="app")  # a full run draws them, and stops this polling
        showcase, problem = warmup.PICTURES.result, warmup.PICTURES.error
        pages = PAGES[1:]
        for start in range(0, len(pages), 3):
            for column, (path, label, icon) in zip(st.columns(3), pages[start:start + 3]):
                sentence, picture = CARDS.get(path, ("", None))
                with column.container(border=True, key=f"card_{label.lower().replace(' ', '_')}"):
                    if picture is not None:
                        if showcase is not None:
                            picture(showcase)
                        elif problem is not None:
                            st.caption(f"This picture could not be made: {problem}")
                        else:
                            st.caption(":material/hourglass_top: Drawing this picture from a real training on "
                                       "the Digits set…")
                    if sentence:
                        st.markdown(sentence)
                    st.page_link(path, label=label, icon=icon, query_params=labs.lab_params())

    cards()


start_page("Home")
classes.show_join_from_link()  # ?join=CODE: join a class (ui/classes.py)
st.title("Digit Lab")
st.markdown("Teach a computer to read handwriting, and see for yourself what it learned. "
            "No programming needed.")
lessons.show_continue_lesson()
labs.offer_remembered_lab()  # a visit without a lab, in a browser that remembers one
labs.show_lab_link()
show_continue()
show_drawing_box()
show_cards()
classes.show_home_entry()  # join with a typed code, or start a class (ui/classes.py)
st.caption("Your runs are kept in your lab: once you have trained or uploaded a model, its link shows at the "
           "top of this page, to bookmark or email to yourself.")
warmup.start_after_page()  # the page is drawn: now the server may load TensorFlow

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
from core.i18n import N_
from core.model.default_model import DEFAULT_MODEL_INFO
from core.model.spec import describe_spec
from core.server import warmup
from core.words import RECIPE_WORDS
from ui import classes, lessons, state
from ui import lab as labs
from ui.drawing_box import drawing_box
from ui.i18n import _, percent
from ui.layout import PAGES, start_page
from ui.model_picker import DEFAULT, choose
from ui.session import CURRENT, HOME_EVALUATE, PICKED, PICKED_WITH
from ui.text import plain

MODEL_WAIT_SECONDS = 180.0  # a first reading waits this long for the warm-up before saying so
PICTURES_POLL_SECONDS = 2.0  # how often a home page still showing placeholders looks again
PROGRESS_POLL_SECONDS = 1.0  # how often the progress bar of a running training moves
LATEST_RUNS = 3
EVALUATE = "pages/evaluate.py"
TRAIN = "pages/train.py"
DRAW = "pages/draw.py"
MORE_ON_DRAW = N_("More on the Draw page")


def bundled_model():
    """The bundled model, waiting (at most MODEL_WAIT_SECONDS) for the warm-up to load it."""
    try:
        return warmup.MODEL.get(timeout=MODEL_WAIT_SECONDS)
    except TimeoutError as error:
        raise RuntimeError(_("the server is still warming up; draw again in a moment.")) from error


def accuracy_of(run) -> str:
    """Its best-known score in words: on the test images when measured, else on the validation images."""
    if (test := run.metrics.get("test_accuracy")) is not None:
        return _("right on {share} of new images (test accuracy)").format(share=percent(test))
    accuracy = run.metrics.get("val_accuracy", run.metrics.get("accuracy"))
    if accuracy is None:
        return _("no accuracy recorded")
    return _("validation accuracy {share}").format(share=percent(accuracy))


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
        st.info(_("You have not trained a model yet. Evaluate and Draw use a ready-made model "
                  "(a small network trained on MNIST) until you do."))
        return
    st.subheader(_("Continue where you left off"))
    if running:
        show_training(job)
    current = state.current_run()
    if current is not None:
        now = _("Current model: **{name}** — {accuracy}").format(name=plain(current.name),
                                                                 accuracy=accuracy_of(current))
        st.success(now, icon=":material/check_circle:")
    latest = list(reversed(state.usable_runs()))[:LATEST_RUNS]
    for run in latest:
        name_column, button_column = st.columns([4, 1], vertical_alignment="center")
        line = f"**{plain(run.name)}**  \n{accuracy_of(run)}"  # a visitor's name: not translated
        name_column.markdown(line)
        button_column.button(_("Evaluate"), key=f"home_evaluate_{run.run_id}", icon=":material/grid_on:",
                             on_click=evaluate_run, args=(run.run_id,),
                             help=_("Evaluate {name}").format(name=plain(run.name)))
    if HOME_EVALUATE.pop(False):
        st.switch_page(EVALUATE, query_params=labs.lab_params())
    st.page_link(TRAIN, label=_("All your runs, and a new training: Train"), icon=":material/model_training:",
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
            waiting = f"{what}: {_(p.message)}"
            st.warning(waiting, icon=":material/hourglass_top:")
        elif p.state == "loading":
            st.info(_("{what}: loading the data…").format(what=what), icon=":material/hourglass_top:")
        else:
            st.progress(p.fraction, text=_("Training {what} · epoch {epoch} of {epochs}").format(
                what=what, epoch=p.epoch, epochs=p.epochs))
        st.page_link(TRAIN, label=_("Watch it on Train"), icon=":material/monitoring:",
                     query_params=labs.lab_params())

    progress()


def show_drawing_box() -> None:
    """Try it at once: the Draw page's drawing box, read by the model Draw uses (the bundled one until you train)."""
    st.subheader(_("Draw a digit"))
    run = drawing_run()
    if run is None:
        info = get_info(DEFAULT_MODEL_INFO["dataset"])
        drawing_box(info, bundled_model, key="home", warming=not warmup.MODEL.ready)
        st.caption(_("Read by the bundled model, a small network trained on MNIST's handwritten digits. The Draw "
                     "page also shows why it reads what it reads, and reads with your own models."))
    else:  # its model is loaded (TensorFlow) only once there is a drawing
        drawing_box(get_info(run.dataset), state.model_loader(run), key="home")
        st.caption(_("Read by **{name}**, the model Draw and Evaluate use now. The Draw page also "
                     "shows why it reads what it reads.").format(name=plain(run.name)))
    st.page_link(DRAW, label=_(MORE_ON_DRAW), icon=":material/edit:", query_params=labs.lab_params())


def train_card(showcase) -> None:
    """The Train card's picture: a real training's accuracy curve."""
    recipe = _(RECIPE_WORDS[showcase.preset].label)
    first, last = showcase_accuracies(showcase)
    alt = (_("A chart of the accuracy, epoch by epoch, rising from {first} to {last}").format(first=first, last=last)
           if first and last else _("A chart of the accuracy, epoch by epoch"))
    st.image(showcase.png["curve"], width="stretch", alt=alt,
             caption=_("Accuracy, epoch by epoch, of the Train page's recipe “{recipe}”, trained on this server in "
                       "{seconds} s").format(recipe=recipe, seconds=f"{showcase.seconds:.0f}"))


def showcase_accuracies(showcase) -> tuple[str, str]:
    """The showcase run's first and last validation accuracy in words ('' when it has no history)."""
    values = showcase.history.get("val_accuracy") or showcase.history.get("accuracy") or []
    return (percent(values[0]), percent(values[-1])) if values else ("", "")


def evaluate_card(showcase) -> None:
    """The Evaluate card's pictures: the confusion matrix of the test images, and the mistakes."""
    outlined = ""
    if showcase.cell is not None:
        truth, predicted, count = showcase.cell
        outlined = _("; outlined: {truth} read as {predicted} ({count}×)").format(
            truth=truth, predicted=predicted, count=count)
    right = percent(showcase.test_accuracy)
    st.image(showcase.png["confusion"], width="stretch",
             alt=_("A grid of which digit each test image is and what the network read: {right} right").format(
                 right=right) + outlined,
             caption=_("Its {count} test images, {right} right").format(count=showcase.test_size, right=right)
             + outlined)
    if showcase.gallery is not None:
        st.image(showcase.png["gallery"], width="stretch", caption=_("Its mistakes, the most confident first"),
                 alt=_("Test images the network read wrong, each with its answer and the right digit"))


def draw_card(showcase) -> None:
    """The Draw card's picture: a drawn digit and the map of the pixels that counted for and against it."""
    name = showcase.why_class
    st.image(showcase.png["why"], width="stretch",
             alt=_("A drawn {digit}, and a map of its pixels: those that counted for {digit} in orange, those "
                   "against it in blue").format(digit=name),
             caption=_("Why {digit}? Orange ink counted for {digit}, blue against it").format(digit=name))


# page -> (one sentence, its picture); a page without one gets a card with its link only
CARDS: dict[str, tuple[str, Callable | None]] = {
    "pages/learn.py": (N_("Follow a lesson: it says what to try, step by step, and checks what you did."), None),
    "pages/train.py": (N_("Pick a dataset and a network, press Train, and watch it learn, epoch by epoch."),
                       train_card),
    "pages/evaluate.py": (N_("Test it on images it has never seen: which digits it confuses, and which images "
                             "fooled it."), evaluate_card),
    "pages/draw.py": (N_("Draw a digit and see what the network reads, and why: which strokes counted for its "
                         "answer, and which against."), draw_card),
}


def show_cards() -> None:
    """A card for each page: a small real picture of what it does, one sentence, the link."""
    st.subheader(_("What you can do here"))
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
                            st.caption(_("This picture could not be made: {problem}").format(problem=_(str(problem))))
                        else:
                            st.caption(":material/hourglass_top: " + _("Drawing this picture from a real training "
                                                                       "on the Digits set…"))
                    if sentence:
                        st.markdown(_(sentence))
                    st.page_link(path, label=_(label), icon=icon, query_params=labs.lab_params())

    cards()


start_page("Home")
classes.show_join_from_link()  # ?join=CODE: join a class (ui/classes.py)
st.title(_("Digit Lab"))
st.markdown(_("Teach a computer to read handwriting, and see for yourself what it learned. "
              "No programming needed."))
lessons.show_continue_lesson()
labs.offer_remembered_lab()  # a visit without a lab, in a browser that remembers one
labs.show_lab_link()
show_continue()
show_drawing_box()
show_cards()
classes.show_home_entry()  # join with a typed code, or start a class (ui/classes.py)
st.caption(_("Your runs are kept in your lab: once you have trained or uploaded a model, its link shows at "
             "the top of this page, to bookmark or email to yourself."))
warmup.start_after_page()  # the page is drawn: now the server may load TensorFlow

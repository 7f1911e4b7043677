"""A run's learning history on a page: the validation confusion matrix epoch by epoch, and the images
that changed their mind (core.analysis.history computes, core.figures.epochs draws).

`show_learning_history(run_or_job, key_prefix)` draws it for a finished run (its record read from
the lab when first needed: ui.state.load_epoch_record) or for a running training job (live: the
Train page's fragment calls it every few seconds, so the figure is kept per number of epochs and
the galleries of the images that changed their mind are left for the run).

The matrix moves through the epochs in the browser (plotly frames: slider and Play). A click on a
cell at any epoch moves the "Truth", "Predicted" and "Images after epoch" widgets (the keyboard
way) to that cell and epoch, and its validation images show below, as on Evaluate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from core.analysis.evaluation import most_confused_pairs, paginate
from core.analysis.history import (
    NEVER_LEARNED,
    EpochRecord,
    confusion_per_epoch,
    count_changes,
    learned_after,
    rank_changed_mind,
    rank_learned_last,
    select_cell_at,
)
from core.data.datasets import DatasetUnavailable, get_info, load_dataset, local_source, to_model_input
from core.figures.described import describe_confusion_over_epochs
from core.figures.epochs import (
    caption_changes,
    draw_prediction_strip,
    plot_confusion_over_epochs,
    read_selected_cell_at,
)
from core.figures.images import add_strip, to_thumbnails
from core.i18n import N_, message
from core.model.run import Run
from core.words import EVALUATE_WORDS
from ui import state
from ui.figures import show_chart
from ui.i18n import _, ngettext, number
from ui.session import HISTORY_CELL, LEARNING_FIGURES

PER_PAGE = 24
THUMBNAIL = 100  # px, as Evaluate's galleries
NO_HISTORY = N_("This run has no learning history (uploaded models and the bundled model carry none).")
TOO_SHORT = N_("The learning history shows once two epochs are done.")
FIGURES_KEPT = 3


@dataclass
class History:
    """What is shown: the record, where its images come from, and what exists of it, in words."""

    record: EpochRecord
    spec: Any  # core.model.spec.TrainSpec, or None
    dataset: str
    note: str
    source: tuple  # tells one record from another (for the figure kept between page runs)


def history_of(run_or_job: Any) -> History | None:
    """The learning history of a Run or a TrainingJob; None when it has none. ValueError when damaged."""
    if isinstance(run_or_job, Run):
        run = run_or_job
        record = state.load_epoch_record(run)
        if record is None:
            return None
        return History(record, run.spec, run.dataset, describe(record.epochs, run.spec, run.state),
                       ("run", run.run_id, run.state, record.epochs))
    job = run_or_job
    record = job.epoch_record()
    if record is None or not record.epochs:
        return None
    return History(record, job.spec, job.spec.dataset, describe(record.epochs, job.spec, "running"),
                   ("job", id(job), record.epochs))


def describe(epochs: int, spec: Any, run_state: str) -> str:
    """What the history holds, in words: how far the training got."""
    planned = spec.epochs if spec is not None else epochs
    if run_state == "running":
        return message("Live: {epochs} of {planned} epochs so far.", epochs=epochs, planned=planned)
    if run_state == "interrupted":
        return message("Interrupted after epoch {epochs} of {planned}: the history shows the epochs it finished.",
                       epochs=epochs, planned=planned)
    if run_state == "stopped":
        return message("Stopped during epoch {epochs} of {planned}: the history shows the epochs so far "
                       "(the last one cut short).", epochs=epochs, planned=planned)
    if epochs < planned:
        return message("Early stopping after {epochs} of {planned} epochs: the history shows every epoch, "
                       "the model keeps the best one's weights.", epochs=epochs, planned=planned)
    return message("All {epochs} epochs.", epochs=epochs)


@st.cache_resource(show_spinner=False, max_entries=4)
def validation_split(dataset: str, fraction: float, seed: int,
                     data_source: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The validation images (N, H, W) and labels a training of these settings used (read-only, shared).

    The split does not depend on the training images' cap; `data_source` keys a change of
    DIGITLAB_DATA_DIR.
    """
    data = load_dataset(dataset, fraction, None, seed)
    for array in (data.x_val, data.y_val):
        array.setflags(write=False)
    return data.x_val, data.y_val


def validation_images(history: History) -> tuple[np.ndarray | None, str]:
    """The run's validation images, or None and why they cannot be shown."""
    spec = history.spec
    if spec is None:
        return None, _("The images cannot be shown: this run does not say how its data was split.")
    try:
        x_val, y_val = validation_split(spec.dataset, spec.validation_fraction, spec.seed, local_source(spec.dataset))
    except DatasetUnavailable as error:
        return None, _("The images cannot be shown: {error}").format(
            error=_(error.args[0]) if error.args and isinstance(error.args[0], str) else str(error))
    if len(y_val) != len(history.record.y) or not np.array_equal(y_val, history.record.y):
        return None, _("The images cannot be shown: the dataset has changed since this run was trained.")
    return x_val, ""


def show_learning_history(run_or_job: Any, key_prefix: str, live: bool = False) -> None:
    """The confusion matrix over epochs and the images that changed their mind, for a run or a job.

    `live` (a running job, redrawn every few seconds): the matrix and its cell's images only.
    """
    try:
        history = history_of(run_or_job)
    except ValueError as error:
        st.error(_(error.args[0]) if error.args and isinstance(error.args[0], str) else str(error))
        return
    if history is None:
        if not live:
            st.info(_(NO_HISTORY), icon=":material/history:")
        return
    if history.record.epochs < 2:
        if not live:
            st.caption(_(history.note) + " " + _(TOO_SHORT))
        return
    note = EVALUATE_WORDS["history_note"]  # not the test images: Evaluate's table counts those
    st.caption(_("{counts}, pass by pass (epoch by epoch). {meaning} {note}").format(
        counts=_(note.label).format(images=number(len(history.record.y))), meaning=_(note.help),
        note=_(history.note)))
    x_val, problem = validation_images(history)
    if problem:
        st.warning(problem)
    st.markdown(_("#### Confusion over epochs"))
    show_confusion_over_epochs(history, x_val, key_prefix)
    if live:
        st.caption(_("The images that changed their mind show when the training ends."))
        return
    st.markdown(_("#### Images that changed their mind"))
    show_changed_mind(history, x_val, key_prefix)


def read_cell_choice(history: History, cms: np.ndarray, key_prefix: str) -> tuple[int, int, int]:
    """(truth, predicted, epoch) chosen: a click on the matrix moves the widgets to its cell and epoch.

    First visit: the most confused cell after the last epoch. The epoch follows a growing record
    while it is on the last one.
    """
    epochs, num_classes = history.record.epochs, cms.shape[1]
    truth_key, pred_key, epoch_key, seen_key, clicked_key, matrix_key = (
        HISTORY_CELL.of(key_prefix, name) for name in ("truth", "pred", "epoch", "epochs_seen", "last_click", "matrix"))
    clicked = read_selected_cell_at(matrix_key.get())
    if clicked is not None and clicked != clicked_key.get():
        for key, value in zip((truth_key, pred_key, epoch_key), clicked):
            key.set(value)
    clicked_key.set(clicked)
    worst = most_confused_pairs(cms[-1], 1)
    for key, value in zip((truth_key, pred_key), worst[0][:2] if worst else (0, 0)):
        if key.get(num_classes) >= num_classes:
            key.set(int(value))
    epoch = epoch_key.get()
    if epoch is None or epoch == seen_key.get() or not 1 <= epoch <= epochs:
        epoch_key.set(epochs)
    seen_key.set(epochs)
    return truth_key.get(), pred_key.get(), epoch_key.get()


def confusion_figure(history: History, cms: np.ndarray, chosen: tuple[int, int, int], key_prefix: str):
    """The matrix over epochs, built again only when the record or the chosen cell changed.

    The session keeps the last figure of the last FIGURES_KEPT places that show one.
    """
    kept = LEARNING_FIGURES.ensure()
    wanted = (history.source, chosen)
    if key_prefix not in kept or kept[key_prefix][0] != wanted:
        figure = plot_confusion_over_epochs(cms, get_info(history.dataset).class_names, selected=chosen)
        kept.pop(key_prefix, None)
        while len(kept) >= FIGURES_KEPT:
            kept.pop(next(iter(kept)))
        kept[key_prefix] = (wanted, figure)
    return kept[key_prefix][1]


def show_confusion_over_epochs(history: History, x_val: np.ndarray | None, key_prefix: str) -> None:
    record, info = history.record, get_info(history.dataset)
    names, epochs = [_(n) for n in info.class_names], history.record.epochs
    cms = confusion_per_epoch(record.preds, record.y, info.num_classes)
    chosen = read_cell_choice(history, cms, key_prefix)
    # The sentence is the alt text and the caption; the numbers of every epoch's matrix are one click away.
    show_chart(confusion_figure(history, cms, chosen, key_prefix), describe_confusion_over_epochs(cms, names),
               key=f"{key_prefix}_matrix", on_select="rerun", selection_mode="points")
    st.caption(_("Move the slider or press ▶ to watch the mistakes change epoch by epoch. "
                 "Click a cell at any epoch to see its images then, or choose here:"))
    c1, c2, c3 = st.columns(3)
    truth_words, pred_words, epoch_words = (EVALUATE_WORDS[k] for k in ("truth", "predicted", "history_epoch"))
    truth = c1.selectbox(_(truth_words.label), range(info.num_classes), format_func=names.__getitem__,
                         key=f"{key_prefix}_truth", help=_(truth_words.help))
    pred = c2.selectbox(_(pred_words.label), range(info.num_classes), format_func=names.__getitem__,
                        key=f"{key_prefix}_pred", help=_(pred_words.help))
    epoch = c3.slider(_(epoch_words.label), 1, epochs, key=f"{key_prefix}_epoch", help=_(epoch_words.help))
    indices = select_cell_at(record.preds, record.y, epoch, truth, pred)
    show_gallery(_("Truth {truth}, predicted {predicted} after epoch {epoch}").format(
                     truth=names[truth], predicted=names[pred], epoch=epoch), indices,
                 lambda i: _("Over the epochs: {answers}").format(  # the title says the rest
                     answers=caption_changes(record.preds[:, i], names)),
                 history, x_val, f"{key_prefix}_cell")


def show_changed_mind(history: History, x_val: np.ndarray | None, key_prefix: str) -> None:
    record, names = history.record, [_(n) for n in get_info(history.dataset).class_names]
    changes, after = count_changes(record.preds), learned_after(record.preds, record.y)
    flipped, late = rank_changed_mind(record.preds, record.y), rank_learned_last(record.preds, record.y)
    never = int(np.count_nonzero(after == NEVER_LEARNED))
    st.caption(_("{flipped} images changed their predicted class at least once; {late} were learned after epoch 1 "
                 "and stayed right; {never} were still wrong after the last epoch. Under each image, its answer "
                 "epoch by epoch: grey right, vermillion wrong, and the answers in words below it.").format(
        flipped=number(len(flipped)), late=number(len(late)), never=number(never)))
    often_tab, last_tab = st.tabs([_("Changed most often"), _("Learned last")])
    with often_tab:
        show_gallery(_("Most changes first"), flipped,
                     lambda i: ngettext("Truth {truth} · {n} change: {answers}",
                                        "Truth {truth} · {n} changes: {answers}", int(changes[i])).format(
                         truth=names[record.y[i]], n=int(changes[i]),
                         answers=caption_changes(record.preds[:, i], names)),
                     history, x_val, f"{key_prefix}_often")
    with last_tab:
        show_gallery(_("Learned latest first (right from the next epoch to the end)"), late,
                     lambda i: _("Truth {truth} · learned after epoch {epoch}: {answers}").format(
                         truth=names[record.y[i]], epoch=int(after[i]),
                         answers=caption_changes(record.preds[:, i], names)),
                     history, x_val, f"{key_prefix}_late")


def show_gallery(title: str, indices: np.ndarray, caption_of: Callable[[int], str], history: History,
                 x_val: np.ndarray | None, key: str) -> None:
    """One page of validation images, each above its answers epoch by epoch (grey right, vermillion wrong)."""
    st.markdown(ngettext("**{title}** — {n} validation image", "**{title}** — {n} validation images",
                         len(indices)).format(title=title, n=number(len(indices))))
    if len(indices) == 0:
        st.caption(_("None."))
        return
    if x_val is None:
        return
    n_pages = paginate(indices, 1, PER_PAGE)[1]
    words = EVALUATE_WORDS["page"]
    page = st.number_input(_(words.label).format(pages=n_pages), 1, n_pages, key=f"{key}_page",
                           help=_(words.help)) if n_pages > 1 else 1
    shown, _pages = paginate(indices, page, PER_PAGE)
    record = history.record
    thumbnails = to_thumbnails(to_model_input(x_val[shown], get_info(history.dataset))[..., 0], size=THUMBNAIL)
    strips = [draw_prediction_strip(record.preds[:, i], int(record.y[i]), width=THUMBNAIL) for i in shown]
    names = [_(n) for n in get_info(history.dataset).class_names]
    st.image([add_strip(thumbnail, strip) for thumbnail, strip in zip(thumbnails, strips)],
             caption=[caption_of(int(i)) for i in shown], width=THUMBNAIL,
             alt=[_("A {truth}, read as {answers} epoch by epoch").format(
                 truth=names[int(record.y[i])], answers=caption_changes(record.preds[:, i], names)) for i in shown])

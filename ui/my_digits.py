"""Your own handwriting across the app: add a drawing, test a model on your digits, fine-tune on them.

Each page calls one function: Draw `show_add_to_my_digits`, Evaluate `pick_evaluation_data`,
Train `show_fine_tune`; the My digits page (pages/digits.py) uses the rest. The digits are kept
in the lab (core.storage.store) as core.data.handwriting keeps them (56x56 ink, from which any model's images
are made); without a store they cannot be kept, and each place says why. Nothing here imports
TensorFlow except `show_fine_tune`, on the Train page, which has it already.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np
import streamlit as st
from babel.numbers import format_decimal

from core.data.datasets import DatasetInfo, get_info, load_test_set
from core.data.handwriting import KEEP_SIDE, can_evaluate_on_mine, keep_drawing, to_dataset_images
from core.i18n import N_
from core.model.files import ModelFileError
from core.model.run import Run
from core.storage.engine import StoreError
from core.words import DRAW_WORDS, words_for
from ui import lab as labs
from ui import session, state
from ui.i18n import _, current_language, ngettext, number, percent
from ui.layout import load_with_spinner
from ui.model_picker import DEFAULT, default_run, default_run_name
from ui.session import CONVERTED, DIGIT_PARTS, EVAL_DATA, EVAL_SEEN, EVAL_USED, EVALUATION_CACHE, FINE_TUNE_ERROR
from ui.text import plain

DIGITS_PAGE = "pages/digits.py"
DIGITS_ICON = ":material/gesture:"
TEST_SET, MY_DIGITS = "test", "mine"
CONVERTED_SIZE = 2
_FINE_TUNED_SUFFIX = re.compile(r" fine-tuned on my \d+ digits$")


@dataclass(frozen=True)
class MyDigits:
    """A lab's digits, oldest first."""

    ids: np.ndarray  # (N,) int64, the store's
    labels: np.ndarray  # (N,) uint8 0..9
    kept: np.ndarray  # (N, 56, 56) uint8 ink, white on black

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def version(self) -> str:
        """Changes whenever a digit is added or deleted (a kept digit never changes)."""
        return hashlib.sha1(np.ascontiguousarray(self.ids, np.int64).tobytes()).hexdigest()[:16]


NO_DIGITS = MyDigits(np.zeros(0, np.int64), np.zeros(0, np.uint8), np.zeros((0, KEEP_SIDE, KEEP_SIDE), np.uint8))


def a_digit(digit: int) -> str:
    """'a 7', 'an 8' (in this session's language)."""
    return (_("an {digit}") if digit == 8 else _("a {digit}")).format(digit=digit)


def count_words(n: int) -> str:
    """'1 digit', '12 digits' (in this session's language)."""
    return ngettext("{n} digit", "{n} digits", n).format(n=number(n))


def store_problem() -> str:
    """Why nothing can be kept (the store's reason, said once in the sidebar too)."""
    return _(session.STORE_PROBLEM.get() or N_("the database cannot be opened."))


def read_digits() -> tuple[MyDigits, str | None]:
    """This tab's lab's digits (none when it has no lab yet), and why they cannot be had (None when they can)."""
    store = labs.get_store()
    if store is None:
        return NO_DIGITS, _("Your digits cannot be kept right now: {problem}").format(problem=store_problem())
    lab = session.LAB.get()
    if lab is None:
        return NO_DIGITS, None
    try:
        ids, labels, kept, _added = store.list_digits(lab.lab_id)
    except StoreError as error:
        return NO_DIGITS, _("Your digits could not be read: {error}").format(error=error_text(error))
    return (MyDigits(ids, labels, kept) if len(ids) else NO_DIGITS), None


def keep_digits(labels: np.ndarray, kept: np.ndarray) -> tuple[int, str | None]:
    """Add digits to the lab (made now if need be), all or nothing: (how many the lab now holds, why not or None)."""
    store = labs.get_store()
    if store is None:
        return 0, _("Your digits cannot be kept right now: {problem}").format(problem=store_problem())
    lab = state.ensure_lab()
    if lab is None:
        return 0, _("Your digits cannot be kept right now: {problem}").format(problem=store_problem())
    try:
        store.add_digits(lab.lab_id, [int(label) for label in labels], list(kept))
        count = len(store.list_digits(lab.lab_id)[0])
    except (StoreError, ValueError) as error:  # LabFullError is a StoreError; ValueError: bad labels or shapes
        return 0, _("Nothing was added: {error}").format(error=error_text(error))
    return count, None


def delete_digits(ids: list[int] | None) -> str | None:
    """Delete these digits of the lab (None: all of them); why not, or None."""
    store, lab = labs.get_store(), session.LAB.get()
    if store is None or lab is None:
        return _("Your digits cannot be changed right now: {problem}").format(problem=store_problem())
    try:
        store.delete_digits(lab.lab_id, ids)
    except StoreError as error:
        return _("Nothing was deleted: {error}").format(error=error_text(error))
    return None


# -- Draw --------------------------------------------------------------------------------------

def show_add_to_my_digits(rgba: np.ndarray | None, predicted: int | None, key: str = "add_digit") -> None:
    """Draw page: keep the drawing as one of my digits, labelled with the reading or the digit picked.

    rgba: the canvas image (H, W, 4) uint8, or None before the first stroke. predicted: the digit
    the network read (None for a model that does not read digits). The digit picker is preset to
    each new reading; the drawing just added cannot be added twice.
    """
    st.markdown(_("**Add to my digits**"))
    if labs.get_store() is None:
        st.caption(_("Your digits cannot be kept right now: {problem}").format(problem=store_problem()))
        return
    kept = None if rgba is None else keep_drawing(rgba)
    label_key, reading_key, added_key = (DIGIT_PARTS.of(key, part) for part in ("label", "reading", "added"))
    if predicted is not None and reading_key.get() != predicted:
        reading_key.set(predicted)
        label_key.set(predicted)  # a new reading: the picker follows it
    digest = None if kept is None else hashlib.sha1(kept.tobytes()).hexdigest()
    if predicted is not None:
        st.caption(_("The network read {digit}. Right? Then add it; if not, pick the digit you drew.").format(
            digit=a_digit(predicted)))
    # A radio, not a segmented control: all ten fit on a phone (no clipped "9"), and a second
    # click on the chosen digit keeps it chosen instead of clearing it.
    label = st.radio(_(DRAW_WORDS["add_label"].label), list(range(10)), key=label_key, horizontal=True,
                     help=_(DRAW_WORDS["add_label"].help))
    added = added_key.get()
    just_added = added is not None and added["digest"] == digest
    st.button(_(DRAW_WORDS["add"].label), icon=":material/add:", key=f"{key}_button", help=_(DRAW_WORDS["add"].help),
              on_click=add_drawing,
              args=(key, label, kept, digest), disabled=kept is None or label is None or just_added)
    if error := DIGIT_PARTS.of(key, "error").pop():
        st.error(error)
    if kept is None:
        st.caption(_("Draw a digit first: an empty box cannot be added."))
    elif label is None:
        st.caption(_("Pick the digit you drew to add it."))
    if just_added:
        st.success(_("Added {digit} · you have {count}").format(digit=a_digit(added["label"]),
                                                                 count=count_words(added["count"])),
                   icon=":material/check_circle:")
    st.page_link(DIGITS_PAGE, label=_("My digits"), icon=DIGITS_ICON, query_params=labs.lab_params())


def add_drawing(key: str, label: int, kept: np.ndarray, digest: str) -> None:
    """Button callback: keep the drawing (as it was when clicked) with its label; the outcome for the page."""
    count, error = keep_digits(np.array([label]), kept[np.newaxis])
    if error:
        DIGIT_PARTS.of(key, "error").set(error)
    else:
        DIGIT_PARTS.of(key, "added").set({"digest": digest, "label": int(label), "count": count})


# -- Evaluate ----------------------------------------------------------------------------------

def pick_evaluation_data(run: Run, info: DatasetInfo) -> tuple[np.ndarray, np.ndarray, str]:
    """Evaluate: test on the dataset's test set or, once there are enough that fit, on my digits.

    The choice is a sidebar radio, offered when can_evaluate_on_mine allows. Returns (x (N, H, W)
    uint8 raw images in 0..info.value_max like the test set, y (N,) labels, what they are in words
    for the caption: "the 10,000 images of the MNIST test set, ..." or "your 40 digits"). Raises
    what loading the test set raises (DatasetUnavailable). Evaluate's own results and image-range
    widgets are reset when the data changes (see EVALUATE_DATA_KEYS).
    """
    digits, problem = read_digits()
    reason = can_evaluate_on_mine(info, digits.labels)
    choice = TEST_SET
    with st.sidebar:
        if reason is None:
            names = {TEST_SET: _("The {dataset} test set").format(dataset=_(info.name)),
                     MY_DIGITS: _("My digits ({n})").format(n=number(len(digits)))}
            if EVAL_DATA.get() not in names:
                EVAL_DATA.set(TEST_SET)
            choice = st.radio(_("Test on"), list(names), format_func=names.get, key=EVAL_DATA)
        elif len(digits):
            st.caption(_(reason))
    EVAL_USED.set(choice)
    token = f"{MY_DIGITS}:{digits.version}:{len(digits)}" if choice == MY_DIGITS else TEST_SET
    forget_results_of_other_data(run, token)
    if choice == MY_DIGITS:
        x = dataset_images(digits, info)
        what = (_("your {digits}: it was fine-tuned on most of them, so it has seen them") if run.source == "fine-tuned"
                else _("your {digits}"))
        return x, digits.labels.copy(), what.format(digits=count_words(len(digits)))
    x_test, y_test = load_with_spinner(run.dataset, lambda: load_test_set(run.dataset))
    return x_test, y_test, _("the {n} images of the {dataset} test set, which the model never saw while "
                             "training").format(n=number(len(y_test)), dataset=_(info.name))


def on_my_digits() -> bool:
    """True when Evaluate's last data was my digits (so the bundled model's server-wide cache must not be used)."""
    return EVAL_USED.get() == MY_DIGITS


def forget_results_of_other_data(run: Run, token: str) -> None:
    """Drop Evaluate's cached results of this model and its image-range widgets when the data tested on changes."""
    seen = EVAL_SEEN.ensure()
    key = (id(run.model), run.dataset)
    previous, seen[key] = seen.get(key), token
    if previous == token or (previous is None and token == TEST_SET):
        return  # the same data (a first visit's results, if any, are of the test set)
    EVALUATION_CACHE.get().pop(key, None)
    session.forget(*session.EVALUATE_DATA_WIDGETS)


def dataset_images(digits: MyDigits, info: DatasetInfo) -> np.ndarray:
    """My digits as raw images of `info`'s test set (N, H, W) uint8, made once per (digits, shape)."""
    cache = CONVERTED.ensure()
    key = (digits.version, len(digits), info.image_shape, info.value_max)
    if key not in cache:
        with st.spinner(_("Preparing your {digits}…").format(digits=count_words(len(digits)))):
            images = to_dataset_images(digits.kept, info)
        while len(cache) >= CONVERTED_SIZE:
            cache.pop(next(iter(cache)))
        cache[key] = images
    return cache[key]


# -- Train -------------------------------------------------------------------------------------

def source_name(run: Run) -> str:
    """The name a fine-tuning of `run` starts from (a fine-tuned run's own source, not its whole chain)."""
    return _FINE_TUNED_SUFFIX.sub("", run.name)


def show_fine_tune(run: Run | None) -> None:
    """Train page: fine-tune a model on my digits (the current one, `run`, when it can be); before and after.

    The model is chosen among the lab's MNIST-sized digit runs and the bundled model, starting at
    `run` (else the bundled model). The job is a FineTuneJob on the lab's board (state.start_lab_job),
    so the page's live curves show it like any training; when it ends its run (source
    "fine-tuned") becomes the current model, and its before-and-after figures, kept in its
    metrics, show here for it, after a reload too.
    """
    from core.training.fine_tune import can_fine_tune  # TensorFlow: the Train page has it already

    st.subheader(_("Fine-tune on my digits"))
    choices = {r.run_id: r for r in reversed(state.usable_runs()) if r.source != "shared" and fine_tunable(r)}
    names = {run_id: r.name for run_id, r in choices.items()} | {DEFAULT: _(default_run_name())}
    start = run.run_id if run is not None and run.run_id in choices else DEFAULT
    # A new widget whenever the current model or the runs change, so that it starts at the current model.
    model_words = words_for("fine_tune_model")
    picked = st.selectbox(_(model_words.label), list(names), index=list(names).index(start), format_func=names.get,
                          key=f"fine_tune_model_{start}_{len(choices)}", help=_(model_words.help))
    if run is not None and run.usable and run.run_id not in choices:
        st.caption(_("The current model reads {dataset} images; fine-tuning needs a model of 28x28 digits "
                     "(MNIST).").format(dataset=_(run.dataset_name)))
    run = choices.get(picked) or default_run()
    show_before_after(run)
    digits, problem = read_digits()
    job = state.get_job()
    reason = problem or can_fine_tune(run.dataset, digits.labels)
    if reason is None and job is not None and not job.done:
        reason = N_("A training is running: wait for it to end, or stop it.")
    st.caption(_("A copy of **{model}** learns your handwriting from your digits, with images it was trained on "
                 "mixed in so that it does not forget the rest; the model itself stays as it is. A fifth of your "
                 "digits are held out to measure the difference.").format(model=plain(_(run.name))))
    st.button(_(words_for("fine_tune").label), icon=":material/tune:", key="fine_tune", on_click=start_fine_tune,
              args=(run,), disabled=reason is not None, help=_(words_for("fine_tune").help))
    if reason:
        st.caption(_(reason))
    if error := FINE_TUNE_ERROR.pop():
        st.error(_(error))
    st.page_link(DIGITS_PAGE, label=_("My digits ({n})").format(n=number(len(digits))), icon=DIGITS_ICON,
                 query_params=labs.lab_params())


def fine_tunable(run: Run) -> bool:
    """True when the run's model is one fine-tuning takes (digits, 28x28), whatever digits there are."""
    from core.training.fine_tune import can_fine_tune  # imports TensorFlow: the Draw page imports this module

    return can_fine_tune(run.dataset, np.arange(10)) is None  # ten digits of ten classes: only the model counts


def start_fine_tune(run: Run) -> None:
    """Button callback: a FineTuneJob of `run` on the lab's digits (one job per lab), saved like a training."""
    from core.training.fine_tune import FineTuneJob  # imports TensorFlow: the Draw page imports this module

    job = state.get_job()
    if job is not None and not job.done:
        return  # a second click while it runs
    digits, problem = read_digits()
    if problem:
        FINE_TUNE_ERROR.set(problem)
        return
    try:
        refused = state.start_lab_job(lambda place: FineTuneJob(
            state.load_model(run), source_name(run), run.dataset, digits.labels, digits.kept, source_spec=run.spec,
            is_alive=place.is_alive(), sink=place.sink(source="fine-tuned")))
    except (ModelFileError, ValueError) as error:  # ModelFileError is a ValueError too
        FINE_TUNE_ERROR.set(_("Fine-tuning could not start: {error}").format(error=error_text(error)))
        return
    if refused:  # another tab of the lab started one, or the server's line is full
        FINE_TUNE_ERROR.set(_("Fine-tuning could not start: {error}").format(error=_(refused)))


def show_before_after(run: Run) -> None:
    """A fine-tuned run's held-out and test accuracy before and after, side by side; the forgetting in red past
    FORGETTING_WARN_POINTS. Nothing for other runs."""
    from core.training.fine_tune import FORGETTING_WARN_POINTS  # imports TensorFlow: see fine_tunable

    names = ("held_out_accuracy_before", "held_out_accuracy", "test_accuracy_before", "test_accuracy")
    if run.source != "fine-tuned" or not all(name in run.metrics for name in names):
        return
    held_before, held_after, test_before, test_after = (float(run.metrics[name]) for name in names)
    forgetting = (test_before - test_after) * 100
    dataset = _(get_info(run.dataset).name)
    st.markdown(_("**Before and after** · {model}").format(model=plain(run.name)))
    c1, c2 = st.columns(2)
    c1.metric(_("Your held-out digits"), percent(round(held_after, 2)),
              delta=_("{change} points (before: {before})").format(
                  change=f"{(held_after - held_before) * 100:+.0f}", before=percent(round(held_before, 2))),
              help=_("Your digits it did not learn from, read right before and after fine-tuning."))
    c2.metric(_("{dataset} test set").format(dataset=dataset), percent(test_after),
              delta=_("{change} points (before: {before})").format(change=points(-forgetting),
                                                                   before=percent(test_before)),
              help=_("What it forgot of the digits it read before: the {dataset} test set, before and after.").format(
                  dataset=dataset))
    if forgetting > FORGETTING_WARN_POINTS:
        st.error(_("It forgot some of what it knew: {dataset} test accuracy fell {points} points, more than "
                   "{limit}. Add more digits of each kind, or keep using the model it came from.").format(
                       dataset=dataset, points=points(forgetting, sign=False), limit=f"{FORGETTING_WARN_POINTS:g}"),
                 icon=":material/warning:")
    else:
        st.caption(_("Forgetting: {points} points on the {dataset} test set (at most {limit} is fine).").format(
            points=points(max(forgetting, 0), sign=False), dataset=dataset, limit=f"{FORGETTING_WARN_POINTS:g}"))


def points(value: float, sign: bool = True) -> str:
    """Percentage points with one decimal, the language's way: '+1.5' or '+1,5' ('1.5' without `sign`)."""
    pattern = "+#,##0.0;-#,##0.0" if sign else "#,##0.0"
    return format_decimal(value, format=pattern, locale=current_language())


def error_text(error: Exception) -> str:
    """An error's text in this language (core's Message translated when it is one)."""
    first = error.args[0] if error.args else None
    return _(first) if isinstance(first, str) else str(error)

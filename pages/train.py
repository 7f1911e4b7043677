"""Train: pick a dataset and a network, start training, watch the curves grow live.

Three modes, picked at the top (or by a link's `mode`): train a network, compare (a sweep), fine-tune on
my digits; each shows its own settings, Start, Stop and live curves, and the runs below are shared.
"""

import json
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.data.datasets import DatasetUnavailable, get_info, load_dataset, local_source
from core.figures import curves, images
from core.figures.described import Description, describe_curve, describe_histogram
from core.i18n import message
from core.model.network import build_model, summarize_model
from core.model.run import run_name
from core.model.settings import SETTINGS_BY_KEY
from core.model.spec import (
    PRESETS,
    SpecError,
    TrainSpec,
    count_weights,
    link_from_values,
    problems_by_setting,
    spec_from_dict,
    spec_from_values,
    spec_to_dict,
    values_from_link,
    values_from_spec,
)
from core.training.launch import make_job
from core.training.sweeps import SWEEPABLE, read_sweep_values, sweep_setting
from core.words import RECIPE_WORDS, words_for
from ui import lab as labs
from ui import outcome, session, state, sweep_view
from ui.classes import show_class_leaderboard
from ui.epochs_view import show_learning_history
from ui.figures import show_chart
from ui.i18n import _, number, percent
from ui.layout import load_with_spinner, start_page
from ui.lazy import lazy_expander
from ui.my_digits import show_fine_tune
from ui.runs_view import show_runs
from ui.session import (
    DATASET_OK,
    FORM_OF_JOB,
    LINK_NOTES,
    POLLED_QUEUE,
    PRESET,
    START_ERROR,
    SWEEP_SETTING,
    TRAIN_MODE,
    UNDO_RECIPE,
    WATCHED_JOB,
)
from ui.settings_form import check_values, read_values, set_values, show_section
from ui.text import plain

POLL_SECONDS = 0.5  # curves redraw twice a second while training
QUEUE_POLL_SECONDS = 2.0  # a queued training's message changes rarely; thirty queued tabs at 0.5 s swamp a server
HISTORY_POLL_SECONDS = 2.0  # the learning history changes once an epoch, and weighs more than the curves


MODES = ("train", "compare", "fine_tune")  # the mode picker's options, and the `mode` link parameter's values


def apply_preset() -> None:
    """The recipe picker's on_change: set every widget to the chosen classic recipe at once (Undo keeps the old)."""
    recipe = PRESET.get()
    if recipe is None:
        return
    UNDO_RECIPE.set(read_values())
    set_values(values_from_spec(PRESETS[recipe]))


def undo_preset() -> None:
    """Undo's callback: the settings from before the recipe was applied."""
    before = UNDO_RECIPE.pop()
    if before is not None:
        set_values(before)
    PRESET.set(None)


def read_spec() -> TrainSpec:
    """The spec the widgets describe; SpecError names the field that is wrong."""
    return spec_from_values(read_values())


@st.cache_data(show_spinner=False, max_entries=64)
def summary_rows(spec_json: str) -> list[dict]:
    """The layer table of a spec's model (cached: building a model costs ~0.1 s)."""
    return summarize_model(build_model(spec_from_dict(json.loads(spec_json))))


@st.cache_data(show_spinner=False, max_entries=6)
def overview_of(key: str, data_source: str | None) -> tuple[dict, list, list, go.Figure, Description, str]:
    """Sizes, one sample per class, the pixel histogram of a dataset, and where its images came from.

    The same for every visitor (`data_source` keys a change of DIGITLAB_DATA_DIR), and worth
    caching: splitting and counting 50,000 images on every rerun took a noticeable moment.
    """
    info = get_info(key)
    data = load_dataset(key)
    picks = images.pick_samples(data.y_train, per_class=1)
    samples = [data.x_train[i] / info.value_max for i in picks]
    captions = [info.class_names[data.y_train[i]] for i in picks]
    histogram = images.plot_pixel_histogram(data.x_train, info.value_max)
    described = describe_histogram(data.x_train, info.value_max)
    return data.sizes(), samples, captions, histogram, described, data.source.sentence


def show_dataset(key: str) -> bool:
    """Dataset facts, samples and pixel histogram; False when it cannot be loaded."""
    info = get_info(key)
    st.caption(_(info.description))
    try:
        sizes, samples, captions, histogram, described, source = load_with_spinner(
            key, lambda: overview_of(key, local_source(key)))
    except DatasetUnavailable as error:
        st.error(_(error.args[0]) if error.args and isinstance(error.args[0], str) else str(error))
        return False
    st.write(_("Used here: **{train}** training · **{validation}** validation · **{test}** test images of "
               "{height}x{width} pixels, {classes} classes.").format(
        train=number(sizes["train"]), validation=number(sizes["validation"]), test=number(sizes["test"]),
        height=info.image_shape[0], width=info.image_shape[1], classes=info.num_classes))
    st.markdown(_(source))  # not a caption: a link or a folder in it would be too faint to read (WCAG contrast)
    box, is_open = lazy_expander(_("Look at the data"), key="look_at_data")
    if is_open:
        names = [_(c) for c in captions]
        box.image(samples, caption=names, width=64,
                  alt=[_("An example image of the class {name}").format(name=n) for n in names])
        show_chart(histogram, described, key="pixel_histogram", container=box)
    return True


def show_settings(problems: dict[str, str], variants: Sequence[dict] = ()) -> None:
    """The three sections of settings, each field with its problem under it (`variants`: a sweep's members)."""
    st.subheader(_("1 · Data"))
    show_section("data", problems, variants)
    DATASET_OK.set(show_dataset(session.widget_value("dataset")))

    st.subheader(_("2 · Network"))
    recipe = words_for("preset")
    st.selectbox(_(recipe.label), list(PRESETS), key=PRESET, index=None, placeholder=_("Choose a recipe…"),
                 format_func=lambda key: _(RECIPE_WORDS[key].label), on_change=apply_preset, help=_(recipe.help))
    if PRESET.get() is not None:
        chosen = RECIPE_WORDS[PRESET.get()]
        st.caption(_("{recipe} Every setting below is filled in from it.").format(recipe=_(chosen.help)))
        undo = words_for("undo_recipe")
        st.button(_(undo.label), on_click=undo_preset, help=_(undo.help), disabled=UNDO_RECIPE.get() is None,
                  icon=":material/undo:")
    show_section("network", problems, variants)

    st.subheader(_("3 · Training"))
    show_section("training", problems, variants)


def show_spec_summary(spec: TrainSpec) -> None:
    params, _trainable = count_weights(spec)
    box, is_open = lazy_expander(_("Model summary · {params} parameters").format(params=number(params)),
                                 key="model_summary")
    if is_open:
        box.dataframe(pd.DataFrame(summary_rows(json.dumps(spec_to_dict(spec)))),
                     hide_index=True, width="stretch")


def show_other_problems(problems: dict[str, str]) -> None:
    """Problems of no field on screen (those of a field are said under it), once each."""
    for key, problem in problems.items():
        if key not in SETTINGS_BY_KEY:
            st.error(_("{setting}: {problem}.").format(setting=key, problem=_(problem)))


def start_training() -> None:
    """Button callback: start a job for the spec the widgets describe (one per session)."""
    job = state.get_job()
    if job is not None and not job.done:
        return  # a second click while training: nothing to do
    if sweep_view.sweep_running():
        START_ERROR.set(sweep_view.SWEEP_RUNNING)
        return
    try:
        spec = read_spec()
    except SpecError as error:
        START_ERROR.set(error.args[0] if error.args and isinstance(error.args[0], str) else str(error))
        return
    if refused := state.start_lab_job(lambda place: make_job(  # another tab of the lab started one, or the
            spec, is_alive=place.is_alive(), sink=place.sink(), name=run_name(next_run_number(), spec))):
        START_ERROR.set(refused)  # server's line is full
    else:
        FORM_OF_JOB.set(id(state.get_job()))  # the form shows it already


def next_run_number() -> int:
    """The number in a new training's name: one more than the lab's runs."""
    return 1 + sum(r.source != "shared" for r in state.get_runs())


def apply_settings_link() -> None:
    """Fill the form from a "share these settings" link (once; it never starts a training).

    Besides the settings, `mode` (train, compare, fine_tune) picks the page's mode, and for a
    sweep `vary` (the setting it changes) and `values` (a comma list) fill the Compare form, checked
    by the sweep's own validation. The lessons' "Set up this network" links use exactly these names.
    """
    params = {key: st.query_params[key] for key in st.query_params if key in SETTINGS_BY_KEY}
    extra = {key: st.query_params[key] for key in LINK_EXTRAS if key in st.query_params}
    if not params and not extra:
        return
    values, problems = values_from_link(params)
    set_values(values)
    problems += apply_mode_link(extra)
    for key in (*params, *extra):
        del st.query_params[key]
    if params or problems:  # a link that only picks the mode fills nothing in: nothing to say
        LINK_NOTES.set(problems)


LINK_EXTRAS = ("mode", "vary", "values")


def apply_mode_link(params: dict[str, str]) -> list[str]:
    """Apply a link's mode, vary and values; a reason (as values_from_link's) for each one not used."""
    problems = []
    mode = params.get("mode")
    if mode is not None:
        if mode in MODES:
            TRAIN_MODE.set(mode)
        else:
            using = "compare" if "vary" in params else TRAIN_MODE.get()
            problems.append(message("mode={mode} is not one of {modes}; using {using}", mode=repr(mode),
                                    modes=", ".join(MODES), using=using))
    vary = params.get("vary")
    if vary is None:
        if "values" in params:
            problems.append(message("values=... needs vary=... to say which setting they are for; not used"))
        return problems
    try:
        setting = sweep_setting(vary)
    except SpecError:
        return [*problems, message("vary={vary} is not one of {settings}; not used", vary=repr(vary),
                                   settings=", ".join(SWEEPABLE))]
    SWEEP_SETTING.set(vary)
    if mode not in MODES:  # none, or a bad one: what to vary says it is a comparison
        TRAIN_MODE.set("compare")
    if "values" in params:
        try:
            chosen, notes = read_sweep_values(vary, params["values"])
        except SpecError as error:
            return [*problems, message("values={values}: {problem}; not used", values=repr(params["values"]),
                                       problem=problem_text(error))]
        sweep_view.set_chosen_values(setting.key, chosen)
        problems += notes
    return problems


def problem_text(error: SpecError) -> str:
    """A SpecError's problems, without naming their fields (the sentence names them already)."""
    return "; ".join(_(problem) for problem in problems_by_setting(error).values())


def sync_form_with_job() -> None:
    """Reopened while the lab trains: the mode and form show the running job's settings (once per job)."""
    job, sweep = state.get_job(), sweep_view.get_sweep()
    if job is not None and not job.done and FORM_OF_JOB.get() != id(job):
        FORM_OF_JOB.set(id(job))
        if is_fine_tune(job):
            TRAIN_MODE.set("fine_tune")
        else:
            TRAIN_MODE.set("train")
            set_values(values_from_spec(job.spec))
    elif sweep is not None and not sweep.done and FORM_OF_JOB.get() != id(sweep):
        FORM_OF_JOB.set(id(sweep))
        TRAIN_MODE.set("compare")
        set_values(values_from_spec(sweep.members[0].job.spec))
        SWEEP_SETTING.set(sweep.setting_key)
        sweep_view.set_chosen_values(sweep.setting_key, [m.value for m in sweep.members])


def is_fine_tune(job) -> bool:
    """True for a fine-tuning (its mode is "fine_tune"), False for an ordinary training."""
    from core.training.fine_tune import FineTuneJob  # TensorFlow: the Train page has it already

    return isinstance(job, FineTuneJob)


def job_mode(job) -> str:
    return "fine_tune" if is_fine_tune(job) else "train"


def show_link_notes() -> None:
    """What a settings link filled in, and each value it could not use."""
    problems = LINK_NOTES.pop()
    if problems is None:
        return
    st.info(_("The settings from the link are filled in. Nothing has started: press **{start}** when ready.").format(
        start=_(words_for("start_training").label)), icon=":material/link:")
    for problem in problems:
        # the link's values are anyone's text; the reason says what was wrong in the link's own terms
        st.warning(plain(_("The link's {problem}.").format(problem=_(problem))))


def show_share_settings() -> None:
    """A readable link that opens this page with these settings."""
    box, is_open = lazy_expander(_("Share these settings"), key="share_settings", icon=":material/share:")
    if not is_open:
        return
    with box:
        st.caption(_("Anyone who opens this link gets this page with these settings filled in "
                     "(not your lab, not your runs)."))
        st.code(labs.app_url("train", link_from_values(read_values())), language=None, wrap_lines=True)


def stop_training() -> None:
    job = state.get_job()
    if job is not None:
        job.stop()


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}"


def progress_text(p) -> str:
    """Where a training is, in words a screen reader says: the epoch, the accuracy so far, the time left.

    `p`: the job's Progress. The accuracy is the last finished epoch's validation accuracy (else its
    training accuracy); none before the first epoch ends.
    """
    where = _("Epoch {epoch} of {epochs} · batch {batch} of {steps}").format(
        epoch=p.epoch, epochs=p.epochs, batch=p.batch, steps=p.steps)
    last = p.epoch_logs[-1] if p.epoch_logs else {}
    accuracy = last.get("val_accuracy", last.get("accuracy"))
    if accuracy is not None:
        where += " · " + _("accuracy {accuracy}").format(accuracy=percent(float(accuracy)))
    when = (_("time left about {left}") if p.state == "training" else _("took {elapsed}"))
    return where + " · " + when.format(left=format_seconds(p.remaining), elapsed=format_seconds(p.elapsed))


def curve_history(epoch_logs: list[dict], metric: str) -> dict[str, list[float]]:
    """The epochs' `metric` and validation `metric` so far, as a run's history (for its sentence)."""
    return {key: [float(e[key]) for e in epoch_logs if key in e] for key in (metric, f"val_{metric}")}


def show_progress(job) -> None:
    """Progress bar (with its words, also as a line of text), curves and status of the lab's job."""
    p = job.snapshot()
    if job.save_error:
        st.warning(_("This training's run could not be saved: {error}").format(error=_(job.save_error)))
    if p.state == "waiting":
        st.warning(_(p.message), icon=":material/hourglass_top:")
    elif p.state == "loading":
        st.info(_("Loading the data and building the network…"))
    elif p.state in ("training", "finished", "stopped"):
        label = progress_text(p)
        st.progress(p.fraction, text=label)
        st.caption(label)  # the bar's words as plain text too: not every screen reader reads a bar's label
    if p.state == "failed":
        st.error(_(p.message))
    elif p.state == "finished":
        st.success(_(p.message))
    elif p.state == "stopped":
        st.warning(_(p.message))
    if p.batch_logs:
        c1, c2 = st.columns(2)
        for column, metric in ((c1, "loss"), (c2, "accuracy")):
            show_chart(curves.plot_learning_curve(p.batch_logs, p.epoch_logs, p.steps, metric),
                       describe_curve(curve_history(p.epoch_logs, metric), metric), key=f"live_{metric}",
                       container=column)


def show_live() -> None:
    """Polls the job while it runs (every 2 s while it waits for a slot, then twice a second); a full rerun
    when it gets its slot sets the faster rate, and one when it ends adds the run.

    A tab that saw the job run keeps its curves after the end; a tab opened after it ended (a
    reload) shows only a failure: the run is in "Your runs", and its curves there.
    """
    job = state.get_job()
    if job is None:
        return
    if not job.settled:
        WATCHED_JOB.set(job)
    elif WATCHED_JOB.get() is not job and job.state != "failed":
        return
    show_progress(job)
    if POLLED_QUEUE.get() and job.state != "waiting":
        st.rerun(scope="app")  # it got its slot: a full run sets the curves' faster rate
    if job.settled and not job.collected:
        state.collect_finished_job()
        st.rerun(scope="app")


def show_live_history() -> None:
    """The running job's learning history, from epoch 2 on (its own fragment: it changes once an epoch).

    When the job ends, the run's own history shows under the runs.
    """
    job = state.get_job()
    if job is not None and not job.done:
        show_learning_history(job, "live_history", live=True)


def show_mode_picker() -> str:
    """The mode at the top: train a network, compare (a sweep), fine-tune on my digits."""
    if TRAIN_MODE.get() not in MODES:
        TRAIN_MODE.set("train")
    mode = words_for("train_mode")
    return st.radio(_(mode.label), MODES, key=TRAIN_MODE, horizontal=True, help=_(mode.help),
                    format_func=lambda m: _(words_for(f"mode_{m}").label))


def show_training(problems: dict[str, str]) -> None:
    """Train mode's right column: the summary, Start and Stop, the live curves and history."""
    st.subheader(_("4 · Train"))
    spec = None if problems else read_spec()
    show_other_problems(problems)
    job = state.get_job()
    running = job is not None and not job.settled  # polls on until the ended run is saved
    if spec is not None:
        show_spec_summary(spec)
    elif problems:
        st.caption(_("Fix the settings explained under their fields to start."))
    start, stop = words_for("start_training"), words_for("stop_training")
    c1, c2 = st.columns(2)
    c1.button(_(start.label), type="primary", on_click=start_training, width="stretch",
              disabled=running or spec is None or not DATASET_OK.get()
              or sweep_view.sweep_running(), help=_(start.help))
    c2.button(_(stop.label), on_click=stop_training, disabled=not running, width="stretch", help=_(stop.help))
    if why := sweep_view.start_training_help():
        st.caption(_(why))
    if error := START_ERROR.pop():
        st.error(_(error))
    show_share_settings()
    show_job_live(job, running)


def show_job_live(job, running: bool) -> None:
    """The live fragments of the lab's job (a training or a fine-tuning)."""
    queued = POLLED_QUEUE.set(running and job.state == "waiting")
    st.fragment(show_live, run_every=(QUEUE_POLL_SECONDS if queued else POLL_SECONDS) if running else None)()
    if not running:
        outcome.show_outcome(job)  # the ended training's result in words, next steps, its history
    if running:
        st.fragment(show_live_history, run_every=HISTORY_POLL_SECONDS)()


apply_settings_link()  # before the widgets are drawn
start_page("Train")
sync_form_with_job()  # before the widgets are drawn, too
st.title(_("Train"))
labs.show_lab_link()  # after the first run: the lab's link, to come back
show_link_notes()
chosen_mode = show_mode_picker()
if chosen_mode == "fine_tune":
    show_fine_tune(state.current_run())
    lab_job = state.get_job()
    if lab_job is None or job_mode(lab_job) == "fine_tune":
        show_job_live(lab_job, lab_job is not None and not lab_job.settled)
else:
    varied = sweep_view.chosen_setting() if chosen_mode == "compare" else None
    _spec, form_problems = check_values(read_values(), ignore=[varied] if varied else [])
    settings_column, live_column = st.columns([2, 3], gap="large")
    with settings_column:
        show_settings(form_problems, sweep_view.member_variants() if varied else [])
    with live_column:
        if chosen_mode == "train":
            show_training(form_problems)
        else:
            sweep_view.show_compare(form_problems)
show_runs()
show_class_leaderboard()  # ui/classes.py: the class challenge's names and scores (issue 24)

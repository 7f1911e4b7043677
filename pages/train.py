"""Train: pick a dataset and a network, start training, watch the curves grow live."""

import json

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.data.datasets import DatasetUnavailable, get_info, load_dataset, local_source
from core.figures import curves, images
from core.model.network import build_model, summarize_model
from core.model.run import run_name
from core.model.settings import SETTINGS_BY_KEY
from core.model.spec import (
    PRESETS,
    SpecError,
    TrainSpec,
    count_weights,
    link_from_values,
    spec_from_dict,
    spec_from_values,
    spec_to_dict,
    values_from_link,
    values_from_spec,
)
from core.training.launch import make_job
from ui import lab as labs
from ui import outcome, session, state, sweep_view
from ui.classes import show_class_leaderboard
from ui.epochs_view import show_learning_history
from ui.layout import load_with_spinner, start_page
from ui.lazy import lazy_expander
from ui.my_digits import show_fine_tune
from ui.runs_view import show_runs
from ui.session import DATASET_OK, LINK_NOTES, POLLED_QUEUE, PRESET, START_ERROR, WATCHED_JOB
from ui.settings_form import read_values, set_values, show_section
from ui.text import plain

POLL_SECONDS = 0.5  # curves redraw twice a second while training
QUEUE_POLL_SECONDS = 2.0  # a queued training's message changes rarely; thirty queued tabs at 0.5 s swamp a server
HISTORY_POLL_SECONDS = 2.0  # the learning history changes once an epoch, and weighs more than the curves


def apply_preset() -> None:
    """Button callback: set every widget to the chosen classic recipe."""
    set_values(values_from_spec(PRESETS[PRESET.get()]))


def read_spec() -> TrainSpec:
    """The spec the widgets describe; SpecError names the field that is wrong."""
    return spec_from_values(read_values())


@st.cache_data(show_spinner=False, max_entries=64)
def summary_rows(spec_json: str) -> list[dict]:
    """The layer table of a spec's model (cached: building a model costs ~0.1 s)."""
    return summarize_model(build_model(spec_from_dict(json.loads(spec_json))))


@st.cache_data(show_spinner=False, max_entries=6)
def overview_of(key: str, data_source: str | None) -> tuple[dict, list, list, go.Figure, str]:
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
    return data.sizes(), samples, captions, histogram, data.source.sentence


def show_dataset(key: str) -> bool:
    """Dataset facts, samples and pixel histogram; False when it cannot be loaded."""
    info = get_info(key)
    st.caption(info.description)
    try:
        sizes, samples, captions, histogram, source = load_with_spinner(
            key, lambda: overview_of(key, local_source(key)))
    except DatasetUnavailable as error:
        st.error(str(error))
        return False
    st.write(f"**{sizes['train']:,}** training · **{sizes['validation']:,}** validation · "
             f"**{sizes['test']:,}** test images of {info.image_shape[0]}x{info.image_shape[1]} "
             f"pixels, {info.num_classes} classes.")
    st.caption(source)
    box, is_open = lazy_expander("Look at the data", key="look_at_data")
    if is_open:
        box.image(samples, caption=captions, width=64)
        box.plotly_chart(histogram, key="pixel_histogram")
    return True


def show_settings() -> None:
    st.subheader("1 · Data")
    show_section("data")
    DATASET_OK.set(show_dataset(session.widget_value("dataset")))

    st.subheader("2 · Network")
    st.selectbox("Start from a classic recipe", list(PRESETS), key=PRESET)
    st.button("Use this recipe", on_click=apply_preset)
    show_section("network")

    st.subheader("3 · Training")
    show_section("training")


def show_spec_summary(spec: TrainSpec) -> None:
    params, _ = count_weights(spec)
    box, is_open = lazy_expander(f"Model summary · {params:,} parameters", key="model_summary")
    if is_open:
        box.dataframe(pd.DataFrame(summary_rows(json.dumps(spec_to_dict(spec)))),
                     hide_index=True, width="stretch")


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
        START_ERROR.set(str(error))
        return
    if refused := state.start_lab_job(lambda place: make_job(  # another tab of the lab started one, or the
            spec, is_alive=place.is_alive(), sink=place.sink(), name=run_name(next_run_number(), spec))):
        START_ERROR.set(refused)  # server's line is full


def next_run_number() -> int:
    """The number in a new training's name: one more than the lab's runs."""
    return 1 + sum(r.source != "shared" for r in state.get_runs())


def apply_settings_link() -> None:
    """Fill the form from a "share these settings" link (once; it never starts a training)."""
    params = {key: st.query_params[key] for key in st.query_params if key in SETTINGS_BY_KEY}
    if not params:
        return
    values, problems = values_from_link(params)
    set_values(values)
    for key in params:
        del st.query_params[key]
    LINK_NOTES.set(problems)


def show_link_notes() -> None:
    """What a settings link filled in, and each value it could not use."""
    problems = LINK_NOTES.pop()
    if problems is None:
        return
    st.info("The settings from the link are filled in. Nothing has started: press **Start training** when ready.",
            icon=":material/link:")
    for problem in problems:
        st.warning(plain(f"The link's {problem}."))  # the link's values are anyone's text


def show_share_settings() -> None:
    """A readable link that opens this page with these settings."""
    box, is_open = lazy_expander("Share these settings", key="share_settings", icon=":material/share:")
    if not is_open:
        return
    with box:
        st.caption("Anyone who opens this link gets this page with these settings filled in "
                   "(not your lab, not your runs).")
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


def show_progress(job) -> None:
    """Progress bar, curves and status of the lab's job."""
    p = job.snapshot()
    if job.save_error:
        st.warning(f"This training's run could not be saved: {job.save_error}")
    if p.state == "waiting":
        st.warning(p.message, icon=":material/hourglass_top:")
    elif p.state == "loading":
        st.info("Loading the data and building the network…")
    elif p.state in ("training", "finished", "stopped"):
        label = (f"Epoch {p.epoch} of {p.epochs} · batch {p.batch} of {p.steps} · "
                 f"elapsed {format_seconds(p.elapsed)} · left {format_seconds(p.remaining)}")
        st.progress(p.fraction, text=label)
    if p.state == "failed":
        st.error(p.message)
    elif p.state == "finished":
        st.success(p.message)
    elif p.state == "stopped":
        st.warning(p.message)
    if p.batch_logs:
        c1, c2 = st.columns(2)
        for column, metric in ((c1, "loss"), (c2, "accuracy")):
            column.plotly_chart(curves.plot_learning_curve(p.batch_logs, p.epoch_logs, p.steps, metric),
                                key=f"live_{metric}")


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


apply_settings_link()  # before the widgets are drawn
start_page("Train")
st.title("Train")
labs.show_lab_link()  # after the first run: the lab's link, to come back
show_link_notes()
settings_column, live_column = st.columns([2, 3], gap="large")
with settings_column:
    show_settings()
with live_column:
    st.subheader("4 · Train")
    try:
        spec = read_spec()
    except SpecError as error:
        spec = None
        st.error(f"Please fix: {error}")
    job = state.get_job()
    running = job is not None and not job.settled  # polls on until the ended run is saved
    if spec is not None:
        show_spec_summary(spec)
    c1, c2 = st.columns(2)
    c1.button("Start training", type="primary", on_click=start_training, width="stretch",
              disabled=running or spec is None or not DATASET_OK.get()
              or sweep_view.sweep_running(), help=sweep_view.start_training_help())
    c2.button("Stop training", on_click=stop_training, disabled=not running, width="stretch")
    if error := START_ERROR.pop():
        st.error(error)
    show_share_settings()
    queued = POLLED_QUEUE.set(running and job.state == "waiting")
    st.fragment(show_live, run_every=(QUEUE_POLL_SECONDS if queued else POLL_SECONDS) if running else None)()
    if not running:
        outcome.show_outcome(job)  # the ended training's result in words, next steps, its history
    show_fine_tune(state.current_run())
    if running:
        st.fragment(show_live_history, run_every=HISTORY_POLL_SECONDS)()
sweep_view.show_compare()
show_runs()
show_class_leaderboard()  # ui/classes.py: the class challenge's names and scores (issue 24)

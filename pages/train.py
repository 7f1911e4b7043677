"""Train: pick a dataset and a network, start training, watch the curves grow live."""

import json

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.data.datasets import DatasetUnavailable, get_info, load_dataset, local_source
from core.figures import curves, images
from core.figures.style import assign_colors
from core.model.files import write_model_file
from core.model.network import build_model, summarize_model
from core.model.run import file_name, run_name
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
from core.storage.engine import StoreError
from core.storage.sink import StoreSink
from core.training.launch import make_job
from ui import code_view, state, sweep_view
from ui import lab as labs
from ui.epochs_view import show_learning_history
from ui.layout import load_with_spinner, start_page
from ui.lazy import lazy_expander, lazy_tabs
from ui.my_digits import show_fine_tune
from ui.settings_form import read_values, set_values, show_section
from ui.text import plain

POLL_SECONDS = 0.5  # curves redraw twice a second while training
QUEUE_POLL_SECONDS = 2.0  # a queued training's message changes rarely; thirty queued tabs at 0.5 s swamp a server
HISTORY_POLL_SECONDS = 2.0  # the learning history changes once an epoch, and weighs more than the curves
WATCHED_JOB = "watched_job"  # session key: the job this tab saw running
POLLED_QUEUE = "polled_queue"  # session key: the live fragment polls at the queue's slow rate
RUNS_TAB = "All runs"
COMPARE_TAB = "Compare runs"
HISTORY_TAB = "Learning history of the current model"
CODE_TAB = "The code"  # ui/code_view.py (issue 25)


def apply_preset() -> None:
    """Button callback: set every widget to the chosen classic recipe."""
    set_values(values_from_spec(PRESETS[st.session_state["preset"]]))


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
    dataset_ok = show_dataset(st.session_state["dataset"])
    st.session_state["dataset_ok"] = dataset_ok

    st.subheader("2 · Network")
    st.selectbox("Start from a classic recipe", list(PRESETS), key="preset")
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
        st.session_state["start_error"] = sweep_view.SWEEP_RUNNING
        return
    try:
        spec = read_spec()
    except SpecError as error:
        st.session_state["start_error"] = str(error)
        return
    state.collect_finished_job()
    lab, store = labs.ensure_lab(), labs.get_store()
    sink = StoreSink(store, lab.lab_id) if lab is not None and store is not None else None
    number = 1 + sum(r.source != "shared" for r in state.get_runs())
    job = make_job(spec, is_alive=labs.lab_open_check(lab.lab_id if lab else None), sink=sink,
                   name=run_name(number, spec))
    if refused := state.start_job(job):  # another tab of the lab started one, or the server's line is full
        st.session_state["start_error"] = refused


def apply_settings_link() -> None:
    """Fill the form from a "share these settings" link (once; it never starts a training)."""
    params = {key: st.query_params[key] for key in st.query_params if key in SETTINGS_BY_KEY}
    if not params:
        return
    values, problems = values_from_link(params)
    set_values(values)
    for key in params:
        del st.query_params[key]
    st.session_state["link_notes"] = problems


def show_link_notes() -> None:
    """What a settings link filled in, and each value it could not use."""
    problems = st.session_state.pop("link_notes", None)
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
        st.session_state[WATCHED_JOB] = job
    elif st.session_state.get(WATCHED_JOB) is not job and job.state != "failed":
        return
    show_progress(job)
    if st.session_state.get(POLLED_QUEUE) and job.state != "waiting":
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


def show_run_tools(shown: int, usable: list[int], names: dict[int, str]) -> None:
    """Choose the current model; download, share or delete it."""
    c1, c2, c3, c4 = st.columns([4, 1, 1, 1], vertical_alignment="bottom")
    # A new widget whenever the runs or the current model change, so that it shows the current
    # model (a run that just finished becomes current) and a stale browser value cannot win.
    chosen = c1.selectbox("Current model (used by Evaluate and Draw)", usable, index=usable.index(shown),
                          format_func=names.get, key=f"current_pick_{shown}_{len(usable)}")
    if chosen != shown:
        state.set_current(chosen)
        st.rerun()
    run = state.find_run(chosen)
    c1.caption(plain(run.status))
    c2.download_button("Download", icon=":material/download:", data=lambda: model_file(run),
                       file_name=file_name(run), mime="application/zip", on_click="ignore")
    if c3.button("Share", icon=":material/share:", disabled=run.run_id <= 0 or run.source == "shared",
                 help="A read-only link to this run: its curves, metrics and Evaluate views."):
        st.session_state["share_links"] = {run.run_id: share_run(run)}
    if link := st.session_state.get("share_links", {}).get(run.run_id):
        st.caption("Anyone with this link can look at this run (not at your lab) and copy it into theirs:")
        st.code(link, language=None, wrap_lines=True)
    labs.show_shares(run.run_id)  # each link made so far, with "Stop sharing"
    with c4.popover("Delete", icon=":material/delete:"):
        confirm_delete(run)


def confirm_delete(run) -> None:
    """The inside of a Delete popover: the question and the button."""
    st.write(f"Delete **{plain(run.name)}** for good?")
    if run.state == "running":
        st.caption("It is still training: deleting it stops its training.")
    if st.button("Delete this run", type="primary", key=f"delete_run_{run.run_id}"):
        state.delete_run(run)
        st.rerun()


def show_other_deletes(runs: list) -> None:
    """Delete a run that cannot be the current model (training, failed): every run of the lab can go."""
    others = [r for r in runs if not r.usable and r.source != "shared"]
    if not others:
        return
    with st.popover(f"Delete a run that is training or failed ({len(others)})", icon=":material/delete:"):
        names = {r.run_id: r.name for r in others}
        chosen = st.selectbox("Run", list(names), format_func=lambda i: plain(names[i]), key="delete_other_pick")
        if chosen is not None:
            confirm_delete(state.find_run(chosen))


def model_file(run) -> bytes:
    """The .keras download of a run (its model loaded from the lab first if need be)."""
    state.load_model(run)
    return write_model_file(run.model, run.metadata())


def share_run(run) -> str | None:
    """A new read-only link to one run of the lab; None (with the reason shown) if it cannot be made."""
    lab, store = st.session_state.get(labs.LAB), labs.get_store()
    if lab is None or store is None:
        return None
    try:
        token = store.share_run(lab.lab_id, run.run_id)
    except StoreError as error:
        st.error(f"No link could be made: {error}")
        return None
    return labs.app_url("shared", {"run": token})


def show_runs() -> None:
    """The lab's runs: the current model's tools, then three views of the runs, one made at a time.

    The views are lazy tabs: a reload draws the table, not the comparison's or the history's plotly
    charts (in a Chromium profile of a reload those were the largest part of the page's drawing).
    """
    runs = state.get_runs()
    if not runs:
        return
    st.subheader("Your runs")
    current = state.current_run()
    names = {r.run_id: r.name for r in runs}
    usable = [r.run_id for r in state.usable_runs()]
    if usable:
        show_run_tools(current.run_id if current is not None and current.run_id in usable else usable[-1],
                       usable, names)
    show_other_deletes(runs)
    lazy_tabs({RUNS_TAB: lambda: show_runs_table(runs, current), COMPARE_TAB: lambda: show_comparison(names),
               HISTORY_TAB: show_current_history, CODE_TAB: lambda: code_view.show_code_tab(runs, current)},
              key="runs_view")


def show_runs_table(runs: list, current) -> None:
    """One row per run: its results, how it ended, its sweep, and which one is the current model."""
    st.dataframe(pd.DataFrame([{
        "run": r.name, "epochs": len(r.history.get("loss", [])),
        "accuracy": r.metrics.get("accuracy"), "val. accuracy": r.metrics.get("val_accuracy"),
        "val. loss": r.metrics.get("val_loss"), "seconds": round(r.seconds, 1), "how it ended": r.status,
        "sweep": r.sweep or "", "current": r is current,
    } for r in runs]), hide_index=True, width="stretch",
        column_config={"current": st.column_config.CheckboxColumn(),
                       "accuracy": st.column_config.NumberColumn(format="%.3f"),
                       "val. accuracy": st.column_config.NumberColumn(format="%.3f"),
                       "val. loss": st.column_config.NumberColumn(format="%.3f")})


def show_comparison(names: dict[int, str]) -> None:
    """The chosen runs' curves overlaid (the last five by default)."""
    # A new widget whenever the runs change: a new run joins the default (the last five runs), and no
    # choice can name a run that is gone.
    compare = st.multiselect("Compare runs", list(names), default=list(names)[-5:], format_func=names.get,
                             key=f"compare_{'_'.join(map(str, names))}")
    if compare:
        histories = {names[i]: state.find_run(i).history for i in compare}
        sweep = sweep_view.get_sweep()  # its members keep their colour of the sweep's charts
        colors = assign_colors(compare, sweep.member_colors() if sweep is not None else {})
        c1, c2 = st.columns(2)
        c1.plotly_chart(curves.plot_run_comparison(histories, "loss", colors), key="compare_loss")
        c2.plotly_chart(curves.plot_run_comparison(histories, "accuracy", colors), key="compare_accuracy")


def show_current_history() -> None:
    """The current model's learning history: the confusion over epochs, the images that changed their mind."""
    run = state.current_run()
    if run is None or not run.usable:
        st.caption("Choose a current model above to see how it learned.")
        return
    show_learning_history(run, f"run_history_{run.run_id}")


apply_settings_link()  # before the widgets are drawn
start_page("Train")
st.title("Train")
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
              disabled=running or spec is None or not st.session_state.get("dataset_ok")
              or sweep_view.sweep_running(), help=sweep_view.start_training_help())
    c2.button("Stop training", on_click=stop_training, disabled=not running, width="stretch")
    if error := st.session_state.pop("start_error", None):
        st.error(error)
    show_share_settings()
    queued = st.session_state[POLLED_QUEUE] = running and job.state == "waiting"
    st.fragment(show_live, run_every=(QUEUE_POLL_SECONDS if queued else POLL_SECONDS) if running else None)()
    show_fine_tune(state.current_run())
    if running:
        st.fragment(show_live_history, run_every=HISTORY_POLL_SECONDS)()
sweep_view.show_compare()
show_runs()

"""The Train page's Compare mode: one setting varied over a few values, trained as one sweep.

The form's settings are the base; each value of the chosen setting is one member, an ordinary
training (core.training.launch.make_job: in this server's slots, or on the Ray cluster) saved as an
ordinary run of the lab with the sweep's tag. The sweep lives on the server's board
(core.server.board.SWEEPS) under the lab, so a reload finds it. While it runs, a fragment redraws every
member's curves, overlaid in one colour each, and the results table twice a second; each time a
member ends, one full rerun brings its run into "Your runs". A lab runs a single training or a
sweep, never both at once.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.figures.described import describe_runs
from core.figures.style import color_of
from core.figures.sweeps import MemberCurve, plot_sweep_curves
from core.i18n import N_
from core.model.settings import SETTINGS_BY_KEY
from core.model.spec import SpecError
from core.server.board import SWEEPS
from core.training.launch import make_job
from core.training.sweeps import (
    MAX_VALUES,
    SWEEPABLE,
    Sweep,
    make_sweep,
    new_sweep_tag,
    read_sweep_values,
    sweep_specs,
)
from core.words import words_for
from ui import state
from ui.figures import show_chart
from ui.i18n import _
from ui.session import DATASET_OK, SWEEP_VALUES
from ui.session import SWEEP_ERROR as ERROR_KEY
from ui.session import SWEEP_NOTES as NOTES_KEY
from ui.session import SWEEP_SEEN as SEEN_KEY
from ui.session import SWEEP_SETTING as SETTING_KEY
from ui.settings_form import read_values
from ui.state import LAB_BUSY_SWEEP, SWEEP_ALREADY, TRAINING_RUNNING

POLL_SECONDS = 0.5
SWEEP_RUNNING = LAB_BUSY_SWEEP
DATASET_MISSING = N_("The dataset cannot be loaded (see 1 · Data).")
LIST_WIDGETS = ("selectbox", "select_slider", "radio")  # settings whose values are picked from a list


def get_sweep() -> Sweep | None:
    """The lab's sweep (running or ended), or None."""
    return SWEEPS.get(state.job_owner())


def sweep_running() -> bool:
    sweep = get_sweep()
    return sweep is not None and not sweep.done


def training_running() -> bool:
    job = state.get_job()
    return job is not None and not job.done


def start_training_help() -> str | None:
    """Why the Train page's Start training is off because of a sweep; None when it is not."""
    return SWEEP_RUNNING if sweep_running() else None


def values_key(setting_key: str) -> str:
    return SWEEP_VALUES.of(setting_key)


def default_text(setting_key: str) -> str:
    """The first values of a typed-in setting: '0.0, 0.2, 0.5'; hidden layers one list each: '15; 64; 128, 64'."""
    return values_text(setting_key, SWEEPABLE[setting_key])


def values_text(setting_key: str, values) -> str:
    """Values as the Compare form's text box holds them: '0.0, 0.2', or lists separated by '; '."""
    separator = "; " if SETTINGS_BY_KEY[setting_key].widget == "sizes" else ", "
    return separator.join(str(v) for v in values)


def chosen_setting() -> str:
    """The setting the Compare form varies."""
    key = SETTING_KEY.get()
    return key if key in SWEEPABLE else next(iter(SWEEPABLE))


def default_values(setting_key: str) -> list | str:
    """What the values widget of `setting_key` holds first: the options offered, or their text."""
    setting = SETTINGS_BY_KEY[setting_key]
    return list(SWEEPABLE[setting_key]) if setting.widget in LIST_WIDGETS else default_text(setting_key)


def set_chosen_values(setting_key: str, values: list) -> None:
    """Fill the Compare form's values of `setting_key` (from a link, or a running sweep's)."""
    setting = SETTINGS_BY_KEY[setting_key]
    SWEEP_VALUES.of(setting_key).set(list(values) if setting.widget in LIST_WIDGETS
                                     else values_text(setting_key, values))


def chosen_values() -> list | str:
    """The values the Compare form holds for its chosen setting (a list, or text to parse)."""
    key = chosen_setting()
    return SWEEP_VALUES.of(key).get(default_values(key))


def member_variants() -> list[dict]:
    """{setting: value} of each value offered for the chosen setting: the form shows what any member uses."""
    key = chosen_setting()
    return [{key: value} for value in SWEEPABLE[key]]


def check_sweep(problems: dict[str, str]) -> tuple[list | None, str | None]:
    """(the sweep's values, None) when it can start, else (None, what is wrong, in words).

    The form's own problems are said under their fields, not here again.
    """
    if problems:
        return None, N_("Fix the settings explained under their fields first.")
    key = chosen_setting()
    try:
        values, _notes = read_sweep_values(key, chosen_values())
        sweep_specs(read_values(), key, values)
    except SpecError as error:
        return None, error_text(error)
    return values, None


def error_text(error: Exception) -> str:
    """An error's text, kept as core's Message when it is one (so `_()` can translate it where shown)."""
    first = error.args[0] if error.args else None
    return first if isinstance(first, str) else str(error)


def member_job_maker(place: state.LabPlace, tag: str):
    """make_job(spec, name) for make_sweep: an ordinary job of the lab, saved with the sweep's tag.

    The lab is made (if the tab has none yet) at the first member, once every member has been checked.
    """

    def make(spec, name):
        sink = place.sink(sweep=tag)
        return make_job(spec, is_alive=place.is_alive(), sink=sink, name=name)

    return make


def start_sweep() -> None:
    """Button callback: check every member, then start them all (they queue like any training).

    One training or sweep per lab: the board's claim is atomic, so of two tabs that start at
    once one wins and the other is told. A server line too full for every member starts none.
    """
    if training_running() or sweep_running():
        ERROR_KEY.set(TRAINING_RUNNING if training_running() else SWEEP_ALREADY)
        return
    setting_key = chosen_setting()
    tag = new_sweep_tag()
    try:
        values, notes = read_sweep_values(setting_key, chosen_values())
        refused = state.start_lab_job(lambda place: make_sweep(
            read_values(), setting_key, values, make_job=member_job_maker(place, tag), tag=tag), sweep=True)
    except SpecError as error:
        ERROR_KEY.set(error_text(error))
        return
    if refused:
        ERROR_KEY.set(refused)
        return
    NOTES_KEY.set(notes)


def stop_sweep() -> None:
    sweep = get_sweep()
    if sweep is not None:
        sweep.stop_all()


def show_form(blocked: str | None, problems: dict[str, str]) -> None:
    """The setting to vary and its values, what is wrong with them under them; Start sweep and Stop sweep."""
    keys = list(SWEEPABLE)
    if SETTING_KEY.get() not in keys:
        SETTING_KEY.set(keys[0])
    vary, values_words = words_for("sweep_setting"), words_for("sweep_values")
    c1 = c2 = st.container()  # one under the other: the settings' labels are long
    setting_key = c1.selectbox(_(vary.label), keys, key=SETTING_KEY, help=_(vary.help),
                               format_func=lambda k: _(SETTINGS_BY_KEY[k].label))
    setting = SETTINGS_BY_KEY[setting_key]
    key = values_key(setting_key)
    if not SWEEP_VALUES.of(setting_key).present():
        SWEEP_VALUES.of(setting_key).set(default_values(setting_key))
    if setting.widget in LIST_WIDGETS:
        c2.multiselect(_(values_words.label), list(setting.options), format_func=lambda v: _(setting.label_of(v)),
                       max_selections=MAX_VALUES, key=key, help=_(values_words.help))
    else:
        c2.text_input(_(values_words.label), key=key, help=_(values_words.help))
    values, problem = check_sweep(problems)
    if problem and not problems:
        c2.error(_(problem), icon=":material/error:")
    running = sweep_running()
    start, stop = words_for("start_sweep"), words_for("stop_sweep")
    c1, c2, c3 = st.columns([1, 1, 2], vertical_alignment="center")
    c1.button(_(start.label), type="primary", on_click=start_sweep, width="stretch",
              disabled=bool(blocked) or running or values is None, help=_(start.help))
    c2.button(_(stop.label), on_click=stop_sweep, disabled=not running, width="stretch", help=_(stop.help))
    if blocked:
        c3.caption(_(blocked))
    elif problems and problem:
        c3.caption(_(problem))
    else:
        c3.caption(_("Every other setting as on the left; one training per value, "
                     "each an ordinary run of your lab. They queue like any training."))
    if error := ERROR_KEY.pop():
        st.error(_("The sweep could not start: {error}").format(error=_(error)))
    for note in NOTES_KEY.pop() or []:
        st.warning(_("The sweep's {note}.").format(note=_(note)))


def member_curves(sweep: Sweep, snapshots: list) -> list:

    return [MemberCurve(m.label, m.index, p.steps, p.batch_logs, p.epoch_logs)
            for m, p in zip(sweep.members, snapshots)]


def results_table(sweep: Sweep) -> None:
    """The members, best validation accuracy first, each with its colour."""
    rows = sweep.results()
    # The colour cell is the member's colour in the charts; its name is beside it (not told by colour alone).
    member, state_, best, epoch, epochs, loss = (_("member"), _("state"), _("best val. accuracy"), _("best epoch"),
                                                 _("epochs"), _("val. loss"))
    frame = pd.DataFrame([{
        " ": "", member: r["member"], state_: _(r["state"]), best: r["best val accuracy"],
        epoch: r["best epoch"], epochs: r["epochs"], loss: r["val loss"],
    } for r in rows])
    colours = [f"background-color: {color_of(r['index'])}" for r in rows]
    styled = frame.style.apply(lambda column: colours, subset=[" "], axis=0)
    st.container(key="sweep_results").dataframe(styled, hide_index=True, width="stretch", column_config={
        " ": st.column_config.TextColumn(width=24),
        best: st.column_config.NumberColumn(format="%.3f"),
        loss: st.column_config.NumberColumn(format="%.3f")})


def show_make_current(sweep: Sweep) -> None:
    """Any member that has a model can become the current model (Evaluate and Draw use it)."""
    usable = {r.run_id for r in state.usable_runs()}
    ready = [m for m in sweep.ranked() if m.job.done and m.job.run_id in usable]
    if not ready:
        return
    labels = {m.job.run_id: m.label for m in ready}
    current = state.current_run()
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    member = words_for("sweep_member")
    chosen = c1.selectbox(_(member.label), list(labels), format_func=labels.get, help=_(member.help),
                          key=f"sweep_pick_{sweep.tag}_{len(ready)}")
    is_current = current is not None and current.run_id == chosen
    button = words_for("is_current" if is_current else "make_current")
    if c2.button(_(button.label), disabled=is_current, help=_(button.help),
                 icon=":material/check:" if is_current else None, width="stretch", key="sweep_make_current"):
        state.set_current(chosen)
        st.rerun(scope="app")


def show_sweep_live() -> None:
    """The sweep's state, curves, results; one full rerun whenever another member has ended."""
    sweep = get_sweep()
    if sweep is None:
        return
    ended = sum(m.job.done for m in sweep.members)
    if SEEN_KEY.get() != (sweep.tag, ended):
        SEEN_KEY.set((sweep.tag, ended))
        st.rerun(scope="app")  # its run joins "Your runs", and the buttons follow
    snapshots = [member.job.snapshot() for member in sweep.members]  # once per redraw: they copy the logs
    fraction = sum(1.0 if m.job.done else p.fraction for m, p in zip(sweep.members, snapshots)) / len(snapshots)
    text = _("{sweep} · {summary}").format(sweep=_(sweep.label), summary=_(sweep.summary()))
    st.progress(fraction, text=text)
    st.caption(text)  # the bar's words as a line of text too, for screen readers
    waiting = min((p for p in snapshots if p.state == "waiting"), key=lambda p: p.place or 0, default=None)
    if waiting is not None:
        st.caption(":material/hourglass_top: " + _(waiting.message))  # the queue, as for a single training
    for member in sweep.members:
        if member.job.state == "failed":
            st.error(_("{member}: {problem}").format(member=_(member.label), problem=_(member.job.message)))
        if member.job.save_error:
            st.warning(_("{member}: its run could not be saved: {error}").format(
                member=_(member.label), error=_(member.job.save_error)))

    curves = member_curves(sweep, snapshots)
    c1, c2 = st.columns(2)
    for column, metric in ((c1, "loss"), (c2, "accuracy")):
        finals = {_(m.label): float(p.epoch_logs[-1][f"val_{metric}"]) for m, p in zip(sweep.members, snapshots)
                  if p.epoch_logs and f"val_{metric}" in p.epoch_logs[-1]}
        show_chart(plot_sweep_curves(curves, metric), describe_runs(finals, f"val_{metric}", "members"),
                   key=f"sweep_{metric}", container=column)
    results_table(sweep)
    show_make_current(sweep)


def show_compare(problems: dict[str, str]) -> None:
    """The Compare mode of the Train page (one call from pages/train.py); `problems`: the form's, by setting."""
    st.subheader(_("4 · Compare: a sweep"))
    st.caption(_("Change one setting over a few values and train one network per value, side by side."))
    blocked = None
    if training_running():
        blocked = TRAINING_RUNNING
    elif not DATASET_OK.get():
        blocked = DATASET_MISSING
    show_form(blocked, problems)
    sweep = get_sweep()
    if sweep is None:
        return
    SEEN_KEY.set((sweep.tag, sum(m.job.done for m in sweep.members)))
    collect_unsaved(sweep)
    st.fragment(show_sweep_live, run_every=POLL_SECONDS if not sweep.done else None)()


def collect_unsaved(sweep: Sweep) -> None:
    """Without a store (nothing saved by a sink) the members that ended join this tab's runs, once each."""
    for member in sweep.members:
        job = member.job
        if job.sink is None and job.done and not job.collected:
            from core.training.local import collect_run  # imports TensorFlow: only once a member ended

            run = collect_run(job, state.next_run_id())
            if run is not None:
                run.sweep = sweep.tag
                job.run_id = run.run_id
                state.get_runs().append(run)

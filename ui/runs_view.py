"""The Train page's runs: "Your runs", the current model's tools (download, share, delete), the runs' tabs.

The tabs are lazy (ui.lazy): a reload draws the table, not the comparison's or the history's plotly charts.
"""

import pandas as pd
import streamlit as st

from core.figures import curves
from core.figures.described import describe_runs
from core.figures.style import assign_colors
from core.i18n import N_
from core.model.files import write_model_file
from core.model.run import file_name
from core.storage.engine import StoreError
from core.words import RESULTS_WORDS, metric_words
from ui import code_view, outcome, state, sweep_view
from ui import lab as labs
from ui.epochs_view import show_learning_history
from ui.figures import show_chart
from ui.i18n import _
from ui.lazy import lazy_tabs
from ui.session import LAB, RUNS_VIEW, SHARE_LINKS
from ui.text import plain

# The tabs' labels, in English: the session keeps the open one's label in the visitor's language (`_()`).
RUNS_TAB = N_("All runs")
COMPARE_TAB = N_("Compare runs")
HISTORY_TAB = N_("Learning history of the current model")
CODE_TAB = N_("The code")  # ui/code_view.py (issue 25)


def show_run_tools(shown: int, usable: list[int], names: dict[int, str]) -> None:
    """Choose the current model; download, share or delete it."""
    c1, tools = st.columns([4, 3], vertical_alignment="bottom")
    # The buttons side by side, each as wide as its words (in narrow columns of their own, "Download"
    # was cut to "Downl..."); they wrap onto a second line when the page is narrow.
    buttons = tools.container(horizontal=True, key="run_tools")
    # A new widget whenever the runs or the current model change, so that it shows the current
    # model (a run that just finished becomes current) and a stale browser value cannot win.
    words = RESULTS_WORDS["current_model"]
    chosen = c1.selectbox(_(words.label), usable, index=usable.index(shown), help=_(words.help),
                          format_func=names.get, key=f"current_pick_{shown}_{len(usable)}")
    if chosen != shown:
        state.set_current(chosen)
        st.rerun()
    run = state.find_run(chosen)
    sentence = outcome.result_sentence(run)  # its result in words, after a reload too
    c1.caption(plain(_(run.status)) + (f" {_(sentence)}" if sentence else ""))
    load = state.model_loader(run)
    download, share, delete = (RESULTS_WORDS[k] for k in ("download", "share", "delete"))
    buttons.download_button(_(download.label), icon=":material/download:", data=lambda: model_file(run, load),
                            file_name=file_name(run), mime="application/zip", on_click="ignore",
                            help=_(download.help))
    if buttons.button(_(share.label), icon=":material/share:", disabled=run.run_id <= 0 or run.source == "shared",
                      help=_(share.help)):
        SHARE_LINKS.set({run.run_id: share_run(run)})
    if link := SHARE_LINKS.get().get(run.run_id):
        st.caption(_("Anyone with this link can look at this run (not at your lab) and copy it into theirs:"))
        st.code(link, language=None, wrap_lines=True)
    labs.show_shares(run.run_id)  # each link made so far, with "Stop sharing"
    with buttons.popover(_(delete.label), icon=":material/delete:", help=_(delete.help)):
        confirm_delete(run)


def confirm_delete(run) -> None:
    """The inside of a Delete popover: the question and the button."""
    st.write(_("Delete **{run}** for good?").format(run=plain(run.name)))
    if run.state == "running":
        st.caption(_("It is still training: deleting it stops its training."))
    words = RESULTS_WORDS["delete_run"]
    if st.button(_(words.label), type="primary", key=f"delete_run_{run.run_id}", help=_(words.help)):
        state.delete_run(run)
        st.rerun()


def show_other_deletes(runs: list) -> None:
    """Delete a run that cannot be the current model (training, failed): every run of the lab can go."""
    others = [r for r in runs if not r.usable and r.source != "shared"]
    if not others:
        return
    with st.popover(_("Delete a run that is training or failed ({n})").format(n=len(others)),
                    icon=":material/delete:"):
        names = {r.run_id: r.name for r in others}
        words = RESULTS_WORDS["delete_other"]
        chosen = st.selectbox(_(words.label), list(names), format_func=names.get, key="delete_other_pick",
                              help=_(words.help))  # the names: not markdown
        if chosen is not None:
            confirm_delete(state.find_run(chosen))


def model_file(run, load) -> bytes:
    """The .keras download of a run (`load()`: its model, loaded from the lab first if need be).

    Made on click in another thread (a deferred download), where session state cannot be read: `load` is
    ui.state.model_loader's, made in the page's run.
    """
    return write_model_file(load(), run.metadata())


def share_run(run) -> str | None:
    """A new read-only link to one run of the lab; None (with the reason shown) if it cannot be made."""
    lab, store = LAB.get(), labs.get_store()
    if lab is None or store is None:
        return None
    try:
        token = store.share_run(lab.lab_id, run.run_id)
    except StoreError as error:
        st.error(_("No link could be made: {error}").format(error=_(error.args[0]) if error.args else str(error)))
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
    st.subheader(_("Your runs"))
    current = state.current_run()
    names = {r.run_id: r.name for r in runs}
    usable = [r.run_id for r in state.usable_runs()]
    if usable:
        show_run_tools(current.run_id if current is not None and current.run_id in usable else usable[-1],
                       usable, names)
    show_other_deletes(runs)
    lazy_tabs({_(RUNS_TAB): lambda: show_runs_table(runs, current), _(COMPARE_TAB): lambda: show_comparison(names),
               _(HISTORY_TAB): show_current_history, _(CODE_TAB): lambda: code_view.show_code_tab(runs, current)},
              key=RUNS_VIEW)


def percent(value: float | None) -> float | None:
    """A 0..1 share as a percentage for the table (97.2), or None."""
    return None if value is None else round(100 * float(value), 1)


def metric_column(key: str, label: str, percentage: bool = True):
    """A runs-table column with the metric's words (core.words) as its help."""
    words = metric_words(key)
    return st.column_config.NumberColumn(_(label), help=f"{_(words.label)}. {_(words.help)}",
                                         format="%.1f%%" if percentage else "%.3f")


def show_runs_table(runs: list, current) -> None:
    """One row per run: its results (as percentages), how it ended, its sweep, and which one is the current model."""
    # Column keys stay English (the config refers to them); the headers people read are the labels below.
    st.dataframe(pd.DataFrame([{
        "run": r.name, "epochs": len(r.history.get("loss", [])),
        "test": percent(r.metrics.get("test_accuracy")), "validation": percent(r.metrics.get("val_accuracy")),
        "training": percent(r.metrics.get("accuracy")), "val. loss": r.metrics.get("val_loss"),
        "seconds": round(r.seconds, 1), "how it ended": _(r.status), "sweep": r.sweep or "", "current": r is current,
    } for r in runs]), hide_index=True, width="stretch",
        column_config={"run": _("run"), "epochs": _("epochs"), "seconds": _("seconds"),
                       "how it ended": _("how it ended"), "sweep": _("sweep"),
                       "current": st.column_config.CheckboxColumn(_("current")),
                       "test": metric_column("test_accuracy", N_("right on new images (test)")),
                       "validation": metric_column("val_accuracy", N_("right on images kept aside (validation)")),
                       "training": metric_column("accuracy", N_("right on its training images")),
                       "val. loss": metric_column("val_loss", N_("how wrong (validation loss)"), percentage=False)})


def show_comparison(names: dict[int, str]) -> None:
    """The chosen runs' test accuracies side by side, and their curves overlaid (the last five by default).

    Every axis is zoomed to the runs' values, so close runs look apart.
    """
    # A new widget whenever the runs change: a new run joins the default (the last five runs), and no
    # choice can name a run that is gone.
    words = RESULTS_WORDS["compare_pick"]
    compare = st.multiselect(_(words.label), list(names), default=list(names)[-5:], format_func=names.get,
                             help=_(words.help), key=f"compare_{'_'.join(map(str, names))}")
    if compare:
        histories = {names[i]: state.find_run(i).history for i in compare}
        sweep = sweep_view.get_sweep()  # its members keep their colour of the sweep's charts
        colors = assign_colors(compare, sweep.member_colors() if sweep is not None else {})
        show_test_bars(compare, names, colors)
        c1, c2 = st.columns(2)
        for column, metric in ((c1, "loss"), (c2, "accuracy")):
            finals = {name: float(h[f"val_{metric}"][-1]) for name, h in histories.items() if h.get(f"val_{metric}")}
            show_chart(curves.plot_run_comparison(histories, metric, colors), describe_runs(finals, f"val_{metric}"),
                       key=f"compare_{metric}", container=column)


def show_test_bars(compare: list[int], names: dict[int, str], colors: list[int]) -> None:
    """The compared runs' test accuracies as bars side by side; the runs without one are named."""
    scored = [(i, color) for i, color in zip(compare, colors) if "test_accuracy" in state.find_run(i).metrics]
    if scored:
        finals = {names[i]: float(state.find_run(i).metrics["test_accuracy"]) for i, _c in scored}
        show_chart(curves.plot_test_accuracies(
            [names[i] for i, _c in scored], [state.find_run(i).metrics["test_accuracy"] for i, _c in scored],
            [color for _i, color in scored], title=metric_words("test_accuracy").label),
            describe_runs(finals, "test_accuracy"), key="compare_test")
    if missing := [names[i] for i in compare if i not in dict(scored)]:
        st.caption(plain(_("No test score kept for {runs} (uploaded, or trained before the app measured one): "
                           "Evaluate shows it.").format(runs=", ".join(missing))))


def show_current_history() -> None:
    """The current model's learning history: the confusion over epochs, the images that changed their mind."""
    run = state.current_run()
    if run is None or not run.usable:
        st.caption(_("Choose a current model above to see how it learned."))
        return
    show_learning_history(run, f"run_history_{run.run_id}")

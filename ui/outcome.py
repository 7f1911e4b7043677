"""The end of a training on the Train page: its result in one sentence, the next steps, and its history.

The sentence is core.analysis.outcome's, from the test figures the job measured once at its end
(kept in the run's metrics). The next steps: its mistakes on Evaluate (the most confused cell open),
drawing for it, comparing it with the other runs (the runs' "Compare runs" tab). The live
"confusion over epochs" stays, as the finished run's learning history.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.analysis.outcome import describe_outcome, outcome_of
from core.data.datasets import get_info
from core.i18n import N_
from core.model.run import Run
from core.words import RESULTS_WORDS
from ui import lab as labs
from ui import state
from ui.epochs_view import show_learning_history
from ui.i18n import _
from ui.model_picker import choose
from ui.session import CELL_PRED, CELL_TRUTH, EVALUATE_TABS, OUTCOME_GO, RUNS_VIEW, WATCHED_JOB

# Tabs are kept open by their label in the visitor's language: set them as `_(MATRIX_TAB)`.
MATRIX_TAB = N_("Confusion matrix")  # Evaluate's first tab (pages/evaluate.py)
COMPARE_TAB = N_("Compare runs")  # the runs' comparison tab (ui/runs_view.py)
EVALUATE = "pages/evaluate.py"
DRAW = "pages/draw.py"


def finished_run(job: Any) -> Run | None:
    """The run of the training this tab watched end (finished or stopped, saved), else None."""
    if job is None or not job.collected or WATCHED_JOB.get() is not job or job.state == "failed":
        return None
    run = state.find_run(job.run_id) if job.run_id is not None else state.current_run()
    return run if run is not None and run.usable else None


def result_sentence(run: Run) -> str | None:
    """The run's result in words, from its metrics (test figures first); None when it has none."""
    info = get_info(run.dataset)
    outcome = outcome_of(run.metrics, info.num_classes)
    if outcome is None:
        return None
    return describe_outcome(outcome, info.class_names, "digits" if info.is_digits else "images")


def open_mistakes(run: Run) -> None:
    """Button callback: Evaluate opens on this run, its matrix tab, the most confused cell chosen."""
    choose(run.run_id)
    EVALUATE_TABS.set(_(MATRIX_TAB))
    outcome = outcome_of(run.metrics, get_info(run.dataset).num_classes)
    if outcome is not None and outcome.pair is not None:
        CELL_TRUTH.set(outcome.pair[0])
        CELL_PRED.set(outcome.pair[1])
    OUTCOME_GO.set(EVALUATE)


def open_comparison() -> None:
    """Button callback: the runs' views below open on "Compare runs"."""
    RUNS_VIEW.set(_(COMPARE_TAB))


def show_outcome(job: Any) -> None:
    """After the training this tab watched ended: the sentence, the next steps, the run's learning history."""
    if target := OUTCOME_GO.pop():
        st.switch_page(target, query_params=labs.lab_params())
    run = finished_run(job)
    if run is None:
        return
    if sentence := result_sentence(run):
        st.success(_(sentence), icon=":material/emoji_events:")
    st.markdown(_("**What next?**"))
    c1, c2, c3 = st.columns(3)
    mistakes, draw, compare = (RESULTS_WORDS[k] for k in ("see_mistakes", "draw_for_it", "compare_it"))
    c1.button(_(mistakes.label), icon=":material/grid_on:", on_click=open_mistakes, args=(run,),
              key="outcome_mistakes", width="stretch", help=_(mistakes.help))
    if get_info(run.dataset).is_digits:
        c2.page_link(DRAW, label=_(draw.label), icon=":material/edit:", query_params=labs.lab_params(),
                     help=_(draw.help))
    c3.button(_(compare.label), icon=":material/compare_arrows:", on_click=open_comparison,
              key="outcome_compare", width="stretch", help=_(compare.help))
    with st.expander(_("How it learned: the mistakes, epoch by epoch"), expanded=True):
        show_learning_history(run, f"finished_history_{run.run_id}")

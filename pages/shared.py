"""A run someone shared: its curves and metrics, read-only; evaluate it, or copy it into your lab."""

import streamlit as st

from core.figures import curves
from core.figures.described import describe_curve
from core.i18n import N_, message_of
from core.storage import sink as persistence
from core.storage.engine import StoreError
from ui import code_view, state
from ui import lab as labs
from ui.figures import show_chart
from ui.i18n import _, decimal, percent
from ui.layout import start_page
from ui.model_picker import choose
from ui.session import LAB_DONE, NEW_LAB_REFUSED, STORE_PROBLEM
from ui.text import plain

NOT_SHARED = N_("This share link does not open any run: it may be mistyped, or the run was deleted by its owner.")
METRICS = ((N_("Validation accuracy"), "val_accuracy"), (N_("Training accuracy"), "accuracy"),
           (N_("Validation loss"), "val_loss"))


def show_metrics(run) -> None:
    c1, c2, c3 = st.columns(3)
    for column, (label, key) in zip((c1, c2, c3), METRICS):
        value = run.metrics.get(key)
        column.metric(_(label), "–" if value is None else (percent(value) if "accuracy" in key else decimal(value, 4)))


def evaluate_it(token: str, record) -> None:
    """Open the shared run on Evaluate, as a model of this tab only (the lab gets nothing)."""
    store = labs.get_store()
    run = state.add_shared_run(persistence.run_of_record(record), record.blob_names,
                               lambda name: store.load_shared_blob(token, name))
    choose(run.run_id)
    st.switch_page("pages/evaluate.py", query_params=labs.lab_params())


def copy_into_lab(token: str, name: str) -> None:
    """Copy the shared run into this tab's lab, then open the lab's Train page (its address holds only the lab)."""
    lab, store = state.ensure_lab(), labs.get_store()
    if lab is None or store is None:
        why = NEW_LAB_REFUSED.get() or STORE_PROBLEM.get() or ""
        st.error("{} {}".format(_("Nothing can be saved right now, so the run cannot be copied."), _(why)).strip())
        return
    try:
        store.copy_shared_run(token, lab.lab_id)
    except StoreError as error:
        st.error(_("The run could not be copied: {error}").format(
            error=plain(_(message_of(error)))))
        return
    LAB_DONE.set(_("Copied {name} into your lab: it is among your runs on this page.").format(name=plain(name)))
    # Not /shared?run=...&lab=KEY: an address easy to forward by mistake with the lab's key in it.
    st.switch_page("pages/train.py", query_params=labs.lab_params())


start_page("Shared run")
token = st.query_params.get("run")
store = labs.get_store()
record = store.open_shared_run(token) if store is not None and token else None
if record is None:
    st.title(_("A shared run"))
    st.error(_(NOT_SHARED))
    st.stop()

run = persistence.run_of_record(record)
st.title(plain(run.name))  # a visitor's text: shown as typed, never read as markup
st.caption("{} {}".format(_("A run shared with you, read-only."), plain(_(run.status))))
show_metrics(run)
if run.history:
    c1, c2 = st.columns(2)
    histories = {run.name: run.history}
    for column, metric in ((c1, "loss"), (c2, "accuracy")):
        show_chart(curves.plot_run_comparison(histories, metric), describe_curve(run.history, metric),
                   key=f"shared_{metric}", container=column)
c1, c2 = st.columns(2)
if c1.button(_("Evaluate it"), icon=":material/grid_on:", type="primary", disabled=not run.usable):
    evaluate_it(token, record)
if c2.button(_("Copy into my lab"), icon=":material/content_copy:"):
    copy_into_lab(token, run.name)
with st.expander(_("The code"), icon=":material/code:"):  # ui/code_view.py (issue 25)
    code_view.show_code(run, "shared_code")

""""The code" of a run: its script (with a copy button), downloads as .py, .ipynb and model card, and the model
in the formats people deploy. On Train (any run of the lab) and on a shared run's page (code and card only).

Everything heavy is made on click: the notebook and the card measure the model on the test set when their
download is clicked, and each model format is built by its own button, then offered for download.
"""

from collections.abc import Callable
from typing import Any

import streamlit as st

from core.export.card import card_for_run, data_sizes, measure_run
from core.export.code import no_code_reason, script_file_name, script_for_run
from core.export.formats import FORMATS, ExportBusy, export_file_name, export_run
from core.export.notebook import notebook_file_name, notebook_for_run
from core.words import CODE_WORDS
from ui.i18n import _
from ui.session import EXPORTS
from ui.text import plain


def shown(key: str) -> dict[str, str]:
    """A code widget's label and help (core.words.CODE_WORDS) in the visitor's language, as widget arguments."""
    words = CODE_WORDS[key]
    return {"label": _(words.label), "help": _(words.help)}

def make_card(run, load: Callable[[], Any] | None) -> str:
    """The run's model card: measured on the test set when `load()` can load its model, else without figures."""
    result = None
    if load is not None and run.usable:
        load()
        result = measure_run(run)
    sizes = data_sizes(run.spec) if run.spec is not None else None
    return card_for_run(run, result, sizes)


def card_file_name(run) -> str:
    return f"digitlab-run-{run.run_id}-{run.dataset}-model-card.md"


def show_code(run, key: str, load: Callable[[], Any] | None = None) -> None:
    """The code and downloads of `run`; `load()` loads its model (None: no model formats here).

    `load` is made in the page's run (ui.state.model_loader): the downloads' data is made on click in
    another thread, where this tab's session state cannot be read.
    """
    reason = no_code_reason(run)
    c1, c2, c3 = st.columns(3)
    if reason:
        st.info(_(reason))
    else:
        script = script_for_run(run)
        c1.download_button(**shown("code_script"), data=script, file_name=script_file_name(run), mime="text/x-python",
                           icon=":material/code:", on_click="ignore", key=f"{key}_py_{run.run_id}")
        c2.download_button(**shown("code_notebook"), data=lambda: notebook_for_run(run, make_card(run, load)),
                           file_name=notebook_file_name(run), mime="application/x-ipynb+json",
                           icon=":material/description:", on_click="ignore", key=f"{key}_ipynb_{run.run_id}")
    c3.download_button(**shown("code_card"), data=lambda: make_card(run, load), file_name=card_file_name(run),
                       mime="text/markdown", icon=":material/badge:", on_click="ignore",
                       key=f"{key}_card_{run.run_id}")
    if not reason:
        st.code(script, language="python", line_numbers=True, height=420)
    if load is None:
        st.caption(_("Copy the run into your lab to download its model in other formats."))
    else:
        show_formats(run, key, load)


def show_formats(run, key: str, load: Callable[[], Any]) -> None:
    """A button per model format that builds it (one at a time), then its download button."""
    built: dict = EXPORTS.ensure()
    st.markdown(_("**The model, to use elsewhere** (each zip holds the model, `labels.txt` and `use_it.py`)"))
    for fmt in FORMATS.values():
        c1, c2 = st.columns([2, 3], vertical_alignment="center")
        data = built.get((run.run_id, fmt.key))
        if data is None:
            make = shown("code_make")
            if c1.button(make["label"].format(format=fmt.name), help=make["help"],
                         key=f"{key}_make_{fmt.key}_{run.run_id}", disabled=not run.usable):
                try:
                    with st.spinner(_("Exporting {format}…").format(format=fmt.name)):
                        load()
                        built.clear()  # one built file per tab: the newest
                        built[(run.run_id, fmt.key)] = export_run(run, fmt.key)
                    st.rerun()
                except ExportBusy as error:
                    st.warning(_(error.args[0]) if error.args else str(error))
                except Exception as error:  # a model the exporter cannot trace: say so, keep the page
                    st.error(_("{format} could not be made: {error}").format(format=fmt.name, error=plain(error)))
        else:
            c1.download_button(_("Download {format}").format(format=fmt.name), data=data,
                               file_name=export_file_name(run, fmt.key),
                               mime="application/zip", icon=":material/download:", on_click="ignore",
                               key=f"{key}_get_{fmt.key}_{run.run_id}")
        c2.caption(_(fmt.what))


def show_code_tab(runs: list, current) -> None:
    """Train's "The code" tab: pick a run (the current model first), then its code and downloads."""
    from ui import state

    choices = [r.run_id for r in runs if r.usable or r.spec is not None]
    if not choices:
        st.caption(_("No run yet: train one to see its code."))
        return
    first = current.run_id if current is not None and current.run_id in choices else choices[-1]
    names = {r.run_id: r.name for r in runs}
    chosen = st.selectbox(_("Run"), choices, index=choices.index(first), format_func=names.get,
                          key="code_view_run")
    run = state.find_run(chosen)
    show_code(run, "code_view", state.model_loader(run))

"""What every page does first: page config, collecting a finished training, the navigation.

The first page run of a process also sets the process up (`set_up_process`, called by `start_page`,
never on import): no Keras reset after each run (keep_keras_state), and the collecting thread that
replaces Streamlit's full collection after each run (core.server.collector).

Pages are files in `pages/` (Streamlit's file-based multipage app), so a link straight to
/train works on a fresh server. Streamlit's own sidebar navigation is switched off
(`client.showSidebarNavigation = false`) because it would name the home page "app"; these links
name the pages "Home", "Learn", "Train", "Evaluate", "Draw" and "My digits".
"""

import threading
import warnings
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from core.data.datasets import get_info, is_downloaded
from core.i18n import N_
from core.server.collector import start_collector
from ui import classes, lessons, state
from ui import lab as labs
from ui.i18n import _, choose_language, show_language_picker
from ui.session import SAVE_ERROR
from ui.text import plain

T = TypeVar("T")

PAGES = (
    ("app.py", N_("Home"), ":material/home:"),
    ("pages/learn.py", N_("Learn"), ":material/school:"),
    ("pages/train.py", N_("Train"), ":material/model_training:"),
    ("pages/evaluate.py", N_("Evaluate"), ":material/grid_on:"),
    ("pages/draw.py", N_("Draw"), ":material/edit:"),
    ("pages/digits.py", N_("My digits"), ":material/gesture:"),
)


def leave_modules_alone() -> None:
    """What Streamlit runs after each script run instead of its cleanup: nothing."""


def keep_keras_state() -> None:
    """Stop Streamlit from calling `keras.backend.clear_session()` after every script run.

    Streamlit does that (script_runner._clean_problem_modules) for apps that build models inside
    the script. Here models train in background threads while the Train page reruns twice a
    second: each reset cleared TensorFlow's caches under the running training (measured 7x
    slower) and Keras' naming state under other threads' feet. Matplotlib, the other module it
    cleans, is not used by this app. Done once per process (set_up_process); a Streamlit without
    that private function gets a warning instead (then check what it does after a run).
    """
    from streamlit.runtime.scriptrunner import script_runner

    if not callable(getattr(script_runner, "_clean_problem_modules", None)):
        warnings.warn("streamlit.runtime.scriptrunner.script_runner._clean_problem_modules is gone: Digit Lab "
                      "cannot opt out of Streamlit's per-run Keras reset (live training may slow down).",
                      RuntimeWarning, stacklevel=2)
        return
    script_runner._clean_problem_modules = leave_modules_alone


_SET_UP: list[bool] = []  # not empty once set_up_process has run in this process
_SET_UP_LOCK = threading.Lock()  # two first page runs (two tabs) at once set up once


def set_up_process() -> None:
    """What the server process needs before its first page run: once per process, whichever page comes first."""
    with _SET_UP_LOCK:
        if _SET_UP:
            return
        keep_keras_state()
        start_collector()  # .streamlit/config.toml turns runner.postScriptGC off
        _SET_UP.append(True)


def start_page(title: str) -> None:
    """Set up a page: the process once, wide layout, the tab's lab and runs brought up to date, the navigation."""
    set_up_process()
    choose_language()  # ?lang=, else this session's, else the browser's: before any text is written
    st.set_page_config(page_title=f"{_(title)} · Digit Lab", page_icon=":material/draw:", layout="wide")
    lab = labs.current_lab()
    labs.mark_present(lab)
    state.sync_runs()
    state.collect_finished_job()  # a training may have ended while the user was on another page
    with st.sidebar:
        for path, label, icon in PAGES:
            st.page_link(path, label=_(label), icon=icon, query_params=labs.lab_params())
        job = state.get_job()
        if job is not None and not job.done:
            st.caption(_("A training is running: see Train."))
        lessons.show_step_panel()
        labs.show_lab_box()
        classes.show_class_box()
        show_language_picker()
        st.divider()
    if error := SAVE_ERROR.pop():
        st.error(plain(_(error)))  # it may hold a run's name: escaped after translating


def load_with_spinner(dataset: str, load: Callable[[], T]) -> T:
    """Run `load`; when the dataset's files must be downloaded first, under a spinner naming them."""
    if is_downloaded(dataset):
        return load()
    info = get_info(dataset)
    with st.spinner(_("Downloading {name} ({files})… This happens once.").format(name=_(info.name),
                                                                                 files=", ".join(info.files))):
        return load()

"""The visitor's lab: opened by the private key in the URL (`?lab=...`), kept on every page.

A visitor without a key gets a new lab the moment they first create something (`ensure_lab`),
not on a mere page view. The store is one object per server (a connection pool, no visitor's
data); when it cannot be opened the app keeps working for this browser tab without saving.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import streamlit as st

from core.jobs import LAB_DELETED, stop_lab_jobs
from core.store import Store, StoreError, database_url, open_store
from ui.lazy import lazy_expander

LAB_PARAM = "lab"
LAB = "lab"  # session key: the Lab this tab has open, or None
STORE_PROBLEM = "store_problem"  # session key: why nothing is saved, once said
OPEN_GRACE_SECONDS = 60.0  # a lab's training stops when no tab of it has been open this long
UNKNOWN_LAB = ("This link does not open any lab: it may be mistyped, or the lab was deleted (labs not opened "
               "for a while are removed). You are in a new, empty lab; your work is saved as soon as you make some.")
PAGE_PATHS = ("train", "evaluate", "draw", "digits", "shared")  # the last part of a page's address
_PRESENCE: dict[int, dict[str, float]] = {}  # lab id -> {session id: when a page of it last ran}


@dataclass(frozen=True)
class Lab:
    key: str  # the private key in the URL; the database has only its hash
    lab_id: int


@st.cache_resource(show_spinner=False)
def shared_store() -> Store:
    """The database of every lab (DIGITLAB_DATABASE_URL, Streamlit secrets, or SQLite in DIGITLAB_HOME)."""
    return open_store(database_url(st.secrets))


def get_store() -> Store | None:
    """The store, or None (with a warning in the sidebar, once per tab) when it cannot be opened."""
    try:
        return shared_store()  # a failure is not cached: the next page run tries again
    except StoreError as error:
        if st.session_state.get(STORE_PROBLEM) != str(error):
            st.session_state[STORE_PROBLEM] = str(error)
        return None


def current_lab() -> Lab | None:
    """The lab this tab has open: the one its URL names (opened once per tab), else None."""
    key = st.query_params.get(LAB_PARAM)
    lab = st.session_state.get(LAB)
    if lab is not None and key in (None, lab.key):
        if key is None:
            st.query_params[LAB_PARAM] = lab.key  # a page reached without the parameter keeps the lab
        return lab
    if key is None:
        return None
    store = get_store()
    lab_id = store.open_lab(key) if store is not None else None
    if lab_id is None:
        if store is not None:
            st.session_state["lab_notice"] = UNKNOWN_LAB
            del st.query_params[LAB_PARAM]
        return None
    store.recover_interrupted(lab_id)  # trainings cut off by a server that died
    return switch_lab(Lab(key, lab_id))


def switch_lab(lab: Lab | None) -> Lab | None:
    """Make `lab` this tab's lab: the tab's runs and choices start afresh from it."""
    from ui import state

    st.session_state[LAB] = lab
    state.forget_lab_state()
    if lab is None:
        st.query_params.pop(LAB_PARAM, None)
    else:
        st.query_params[LAB_PARAM] = lab.key
    return lab


def ensure_lab() -> Lab | None:
    """This tab's lab, made now if it has none; None when nothing can be saved (no store)."""
    lab = current_lab()
    store = get_store()
    if lab is not None or store is None:
        return lab
    from ui import state

    kept = [r for r in state.get_runs() if r.source != "shared"]  # made while nothing could be saved
    try:
        key = store.create_lab()
    except StoreError as error:
        st.session_state[STORE_PROBLEM] = str(error)
        return None
    lab = switch_lab(Lab(key, store.open_lab(key)))
    for run in kept:  # nothing is lost: they move into the new lab
        state.add_run(run, make_current=False)
    return lab


def lab_params() -> dict[str, str]:
    """The query parameters that keep this tab's lab on the next page."""
    lab = st.session_state.get(LAB)
    return {LAB_PARAM: lab.key} if lab is not None else {}


def app_url(page: str = "", params: dict[str, str] | None = None) -> str:
    """The address of one of the app's pages ('' = home), with `params`."""
    parts = urlsplit(st.context.url or "http://localhost:8501/")
    path = parts.path.rstrip("/")
    if path.rsplit("/", 1)[-1] in PAGE_PATHS:
        path = path.rsplit("/", 1)[0]
    query = f"?{urlencode(params)}" if params else ""
    return f"{parts.scheme}://{parts.netloc}{path}/{page}{query}"


def mark_present(lab: Lab | None) -> None:
    """Note that a tab of this lab ran a page just now (for `lab_open_check`)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if lab is not None and ctx is not None:
        _PRESENCE.setdefault(lab.lab_id, {})[ctx.session_id] = time.monotonic()


def lab_open_check(lab_id: int | None, grace: float = OPEN_GRACE_SECONDS):
    """A callable a training thread can ask: is a tab of this lab (or, without a lab, this tab) still open?

    A tab counts while its websocket is connected. The answer turns False only after `grace`
    seconds without any open tab, so a reload or a laptop waking up finds its training still going.
    None outside a real server (AppTest), where no tab ever closes.
    """
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not runtime.exists():
        return None
    instance, own_session = runtime.get_instance(), ctx.session_id
    last_open = [time.monotonic()]

    def is_open() -> bool:
        sessions = set(_PRESENCE.get(lab_id, {})) if lab_id is not None else set()
        sessions.add(own_session)
        now = time.monotonic()
        if any(instance.is_active_session(session) for session in sessions):
            last_open[0] = now
        return now - last_open[0] < grace

    return is_open


def show_lab_box() -> None:
    """The sidebar's "Your lab": the link to bookmark, a new lab, deleting this one."""
    if notice := st.session_state.pop("lab_notice", None):
        st.warning(notice)
    if problem := st.session_state.get(STORE_PROBLEM):
        st.warning(f"Your work is not being saved: {problem} It stays in this tab until you close it.")
    lab = st.session_state.get(LAB)
    if lab is None:
        st.caption("Your work is kept in a lab of your own as soon as you train or upload a model.")
        return
    box, is_open = lazy_expander("Your lab", key="lab_box", icon=":material/science:")
    if not is_open:
        return
    with box:
        st.markdown("**Bookmark this link to come back to your lab; anyone with the link can open it.**")
        st.code(app_url("", {LAB_PARAM: lab.key}), language=None, wrap_lines=True)
        if st.button("Start a new lab", icon=":material/add:", key="new_lab"):
            stop_lab_jobs(lab.lab_id)  # its training would go on unseen: it stops, its work kept in the old lab
            switch_lab(None)
            st.rerun()
        if st.toggle("Delete this lab…", key="delete_lab_armed"):
            st.error("This deletes every run of this lab for good, for everyone who has its link.")
            if st.button("Delete this lab for good", type="primary", key="delete_lab"):
                delete_lab(lab)


def delete_lab(lab: Lab) -> None:
    """Delete the lab (a confirmed click) and leave the tab lab-less."""
    store = get_store()
    stop_lab_jobs(lab.lab_id, LAB_DELETED, keep_runs=False)  # before its id can be anyone else's
    try:
        if store is not None:
            store.delete_lab(lab.lab_id)
    except StoreError as error:
        st.error(f"The lab could not be deleted: {error}")
        return
    switch_lab(None)
    st.session_state["lab_notice"] = "The lab was deleted."
    st.rerun()

"""The visitor's lab: opened by the private key in the URL (`?lab=...`), kept on every page.

A visitor without a key gets a new lab the moment they first create something (`ui.state.ensure_lab`),
not on a mere page view, and only so many an hour (core.server.new_labs). The store is one object per
server (a connection pool, no visitor's data) with its housekeeping thread; when it cannot be
opened the app keeps working for this browser tab without saving.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

import streamlit as st

from core.i18n import N_, message_of
from core.server.board import LAB_DELETED, LAB_LEFT, stop_lab_jobs
from core.server.housekeeper import start_housekeeper
from core.server.new_labs import NewLabCounter, claim_new_lab, new_lab_refusal
from core.storage.engine import StoreError, database_url
from core.storage.secrets import is_well_formed
from core.storage.store import Store, open_store
from core.words import RESULTS_WORDS
from ui import session
from ui.i18n import _, language_params
from ui.lazy import lazy_expander
from ui.session import (
    LAB,
    LAB_DONE,
    LAB_NOTICE,
    NEW_LAB_REFUSED,
    NEW_LAB_REFUSED_NOW,
    REMEMBER_LAB,
    REMEMBER_OFF,
    SHARE_LINKS,
    STORE_PROBLEM,
)
from ui.text import plain

LAB_PARAM = "lab"
OPEN_GRACE_SECONDS = 60.0  # a lab's training stops when no tab of it has been open this long
UNKNOWN_LAB = N_("This link does not open any lab: it may be mistyped, or the lab was deleted (labs not opened "
               "for a while are removed). You are in a new, empty lab; your work is saved as soon as you make some.")
PAGE_PATHS = ("train", "evaluate", "draw", "digits", "shared", "board")  # the last part of a page's address
_PRESENCE: dict[int, dict[str, float]] = {}  # lab id -> {session id: when a page of it last ran}
NEW_LABS = NewLabCounter()  # new labs per session and address in the last hour, for this server
REMEMBER_COOKIE = "digitlab_lab"  # the lab key this browser keeps when "Remember my lab" is ticked
REMEMBER_SECONDS = 30 * 24 * 3600  # as long as a lab nobody opens is kept (the housekeeper's 30 days)
EMAIL_SUBJECT = N_("My Digit Lab")


@dataclass(frozen=True)
class Lab:
    key: str  # the private key in the URL; the database has only its hash
    lab_id: int


@st.cache_resource(show_spinner=False)
def shared_store() -> Store:
    """The database of every lab (DIGITLAB_DATABASE_URL, Streamlit secrets, or SQLite in DIGITLAB_HOME).

    Its housekeeping (stale labs, unreferenced blobs) runs in a thread of its own, never in a page run.
    """
    store = open_store(database_url(st.secrets))
    start_housekeeper(store)
    return store


def get_store() -> Store | None:
    """The store, or None (with a warning in the sidebar, once per tab) when it cannot be opened."""
    try:
        return shared_store()  # a failure is not cached: the next page run tries again
    except StoreError as error:
        if STORE_PROBLEM.get() != message_of(error):
            STORE_PROBLEM.set(message_of(error))
        return None


def current_lab() -> Lab | None:
    """The lab this tab has open: the one its URL names (opened once per tab), else None."""
    key = st.query_params.get(LAB_PARAM)
    lab = LAB.get()
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
            LAB_NOTICE.set(UNKNOWN_LAB)
            del st.query_params[LAB_PARAM]
        return None
    store.recover_interrupted(lab_id)  # trainings cut off by a server that died
    return switch_lab(Lab(key, lab_id))


def switch_lab(lab: Lab | None) -> Lab | None:
    """Make `lab` this tab's lab: the tab's runs and choices start afresh from it."""
    LAB.set(lab)
    if lab is not None:
        NEW_LAB_REFUSED.pop()  # saving again: the refusal no longer applies
    session.forget_lab_state()
    if lab is None:
        st.query_params.pop(LAB_PARAM, None)
    else:
        st.query_params[LAB_PARAM] = lab.key
    return lab


def open_new_lab(store: Store) -> Lab | None:
    """A new lab for this tab (its runs start afresh: ui.state.ensure_lab moves them in); None when refused."""
    session_id, address = client_of_tab()
    if refused := claim_new_lab(NEW_LABS, session_id, address):
        NEW_LAB_REFUSED.set(refused)
        return None
    NEW_LAB_REFUSED.pop()
    try:
        key = store.create_lab()
    except StoreError as error:
        STORE_PROBLEM.set(message_of(error))
        return None
    return switch_lab(Lab(key, store.open_lab(key)))


def client_of_tab() -> tuple[str, str | None]:
    """(session id, client address or None) of this tab: what new labs are counted by."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    try:
        address = st.context.ip_address  # None on localhost, and behind some proxies
    except Exception:  # outside a real server (AppTest): no connection to ask
        address = None
    return (ctx.session_id if ctx is not None else "no session"), address


def lab_params() -> dict[str, str]:
    """The query parameters that keep this tab's lab, and its language, on the next page."""
    lab = LAB.get()
    return {**({LAB_PARAM: lab.key} if lab is not None else {}), **language_params()}


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
    """The sidebar's "Your lab": the link to bookmark, a new link, a new lab, deleting this one."""
    if notice := LAB_NOTICE.pop():
        st.warning(_(notice))
    if done := LAB_DONE.pop():
        st.success(_(done))
    if problem := STORE_PROBLEM.get():
        st.warning(_("Your work is not being saved: {why} It stays in this tab until you close it.").format(
            why=_(problem)))
    elif refused := NEW_LAB_REFUSED.get():
        st.warning(_("Your work is not being saved: {why} It stays in this tab until you close it.").format(
            why=_(refused)))
    lab = LAB.get()
    if lab is None:
        st.caption(_("Your work is kept in a lab of your own as soon as you train or upload a model."))
        return
    box, is_open = lazy_expander(_("Your lab"), key="lab_box", icon=":material/science:")
    if not is_open:
        return
    with box:
        st.markdown(_("**Bookmark this link to come back to your lab; anyone with the link can open it.**"))
        st.code(app_url("", {LAB_PARAM: lab.key}), language=None, wrap_lines=True)
        if st.button(_("Change this lab's link"), icon=":material/key:", key="rekey_lab",
                     help=_("A new link for this lab; the old one then opens nothing. Share links of runs keep "
                            "working.")):
            rekey_lab(lab)
        if st.button(_("Start a new lab"), icon=":material/add:", key="new_lab"):
            start_new_lab(lab)
        if refused := NEW_LAB_REFUSED_NOW.pop():
            st.warning(_(refused))
        if st.toggle(_("Delete this lab…"), key="delete_lab_armed"):
            st.error(_("This deletes every run of this lab for good, for everyone who has its link."))
            if st.button(_("Delete this lab for good"), type="primary", key="delete_lab"):
                delete_lab(lab)


def leave_lab(lab: Lab, delete: bool) -> None:
    """This tab leaves `lab` (a new lab, or the lab deleted): its training and sweep stop, and the tab
    no longer counts as open in the lab.

    delete=False: what they trained so far is kept in the old lab. delete=True: the lab is about to
    go, so nothing of it stays on the server (its jobs write nothing more, every tab's presence goes)
    before its id can be anyone else's.
    """
    stop_lab_jobs(lab.lab_id, LAB_DELETED if delete else LAB_LEFT, keep_runs=not delete)
    sessions = _PRESENCE.get(lab.lab_id, {})
    if delete:
        _PRESENCE.pop(lab.lab_id, None)
    else:
        session_id = client_of_tab()[0]
        sessions.pop(session_id, None)


def start_new_lab(lab: Lab) -> None:
    """Leave `lab` for a new, empty one (made when the visitor first saves something), unless this tab may not."""
    if refused := new_lab_refusal(NEW_LABS, *client_of_tab()):
        NEW_LAB_REFUSED_NOW.set(refused)
        st.rerun()
    leave_lab(lab, delete=False)
    switch_lab(None)
    st.rerun()


def rekey_lab(lab: Lab) -> None:
    """Give the lab a new key (the old link opens nothing from now on) and move this tab to it."""
    store = get_store()
    try:
        if store is None:
            raise StoreError("the lab's database cannot be opened.")
        key = store.rekey_lab(lab.lab_id)
    except StoreError as error:
        st.error(_("The lab's link could not be changed: {error}").format(error=_(message_of(error))))
        return
    LAB.set(Lab(key, lab.lab_id))
    st.query_params[LAB_PARAM] = key
    LAB_DONE.set(N_("This lab has a new link: bookmark it. The old link opens nothing now."))
    st.rerun()


def delete_lab(lab: Lab) -> None:
    """Delete the lab (a confirmed click) and leave the tab lab-less."""
    store = get_store()
    leave_lab(lab, delete=True)
    try:
        if store is not None:
            store.delete_lab(lab.lab_id)
    except StoreError as error:
        st.error(_("The lab could not be deleted: {error}").format(error=_(message_of(error))))
        return
    switch_lab(None)
    LAB_NOTICE.set(N_("The lab was deleted."))
    st.rerun()


def show_shares(run_id: int) -> None:
    """The run's share links (when made, "Stop sharing" each); nothing when it has none."""
    lab, store = LAB.get(), get_store()
    if lab is None or store is None or run_id <= 0:
        return
    try:
        shares = store.list_shares(lab.lab_id, run_id)
    except StoreError:
        return  # the run's tools still work; its links are listed once the database answers
    for share in shares:
        c1, c2 = st.columns([3, 1], vertical_alignment="center")
        made = time.strftime("%Y-%m-%d %H:%M", time.localtime(share.created_at))
        c1.caption(_("Share link made {made} (…{id})").format(made=made, id=share.share_id[:6]))
        if c2.button(_("Stop sharing"), icon=":material/link_off:", key=f"unshare_{share.share_id}"):
            try:
                store.delete_share(lab.lab_id, share.share_id)
            except StoreError as error:
                st.error(_("The link could not be stopped: {error}").format(error=_(message_of(error))))
                return
            SHARE_LINKS.pop()  # the link shown may be the one just stopped
            LAB_DONE.set(_("That link to {name} opens nothing now.").format(name=plain(share.run_name)))
            st.rerun()


def remembered_key() -> str | None:
    """The lab key this browser remembers (its cookie, as sent when the tab connected); None unless well formed.

    Only the one cookie is read, and only a string shaped like a lab key is used (core.storage.secrets).
    """
    try:
        value = st.context.cookies.get(REMEMBER_COOKIE)
    except Exception:  # outside a real server (AppTest): no connection, no cookies
        return None
    return value if is_well_formed(value) else None


def cookie_script(key: str | None) -> str:
    """A script that keeps `key` in this browser's cookie for REMEMBER_SECONDS, or (None) forgets it.

    `key` must be well formed (letters, digits, - and _): nothing else is ever written into the script.
    """
    if key is not None and not is_well_formed(key):
        raise ValueError("not a lab key")
    value, seconds = (key, REMEMBER_SECONDS) if key is not None else ("", 0)
    return (f"<script>document.cookie = '{REMEMBER_COOKIE}={value}; path=/; max-age={seconds}; SameSite=Strict'"
            " + (location.protocol === 'https:' ? '; Secure' : '');</script>")


def email_link(url: str) -> str:
    """A mailto: link whose new message holds the lab's link (subject and body URL-encoded)."""
    body = _("My Digit Lab, with all my runs:\n{url}\n\nAnyone with this link can open the lab.").format(url=url)
    return f"mailto:?subject={quote(_(EMAIL_SUBJECT), safe='')}&body={quote(body, safe='')}"


def has_own_runs() -> bool:
    """True once the lab holds a run of its own (trained, uploaded, fine-tuned, copied in)."""
    return any(r.source != "shared" for r in session.RUNS.get([]))


def show_lab_link() -> None:
    """The lab's link where it is seen (top of Home and Train) once it has a run: copy, email, remember."""
    lab = LAB.get()
    if lab is None or not has_own_runs():
        return
    url = app_url("", {LAB_PARAM: lab.key})
    words = RESULTS_WORDS["lab_link"]
    with st.container(border=True, key="lab_link_box"):
        line = f"**{_(words.label)}** · {_(words.help)}"
        st.markdown(line)
        st.code(url, language=None, wrap_lines=True)  # its copy button copies the link
        email_column, remember_column = st.columns([1, 2], vertical_alignment="center")
        email = RESULTS_WORDS["email_link"]
        email_column.link_button(_(email.label), email_link(url), icon=":material/mail:", help=_(email.help))
        with remember_column:
            show_remember(lab)


def show_remember(lab: Lab) -> None:
    """ "Remember my lab on this computer": off by default; on, the browser keeps the key; off again, it forgets."""
    remembered = remembered_key()
    box = REMEMBER_LAB.of(lab.lab_id)
    if not box.present():
        box.set(remembered == lab.key)  # ticked only where this browser already remembers this lab
    words = RESULTS_WORDS["remember_lab"]
    st.checkbox(_(words.label), key=box, help=_(words.help), on_change=lambda: REMEMBER_OFF.set(not box.get()))
    st.caption(_(words.help))
    if box.get():
        st.html(cookie_script(lab.key), unsafe_allow_javascript=True)
    elif REMEMBER_OFF.get() or remembered == lab.key:  # turned off: forget it (another lab's key is left alone)
        st.html(cookie_script(None), unsafe_allow_javascript=True)


def offer_remembered_lab() -> None:
    """On a visit without a lab, when this browser remembers one: "Continue your lab" (a click, never automatic)."""
    key = remembered_key()
    if key is None or LAB.get() is not None or LAB_PARAM in st.query_params:
        return
    words = RESULTS_WORDS["continue_lab"]
    with st.container(border=True, key="continue_lab_box"):
        st.markdown(_(words.help))
        st.button(_(words.label), type="primary", icon=":material/science:", key="continue_lab",
                  on_click=continue_lab, args=(key,))


def continue_lab(key: str) -> None:
    """Button callback: open the remembered lab (the next page run opens it as a link would)."""
    st.query_params[LAB_PARAM] = key

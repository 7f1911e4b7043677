"""Classes for students and teachers (issue 24): start a class, join one (a link `?join=CODE` or a typed
code), see and leave your class, and the challenge's leaderboard on Train.

The board itself is pages/board.py, opened by the teacher link `board?teacher=KEY`. A code opens
joining and nothing else; wrong codes and teacher links are counted per tab and per address
(core.server.guesses) and answered with one message, whatever was wrong. Names are shown as
plain text everywhere (ui.text.plain; tables show cells as text).
"""

from __future__ import annotations

import streamlit as st

from core.data.datasets import get_info
from core.i18n import N_, message_of
from core.server.guesses import claim_new_class, count_wrong_guess, guessing_refusal
from core.storage.classes import UNKNOWN_CODE, Challenge, Membership, Standing
from core.storage.engine import NotFound, StoreError
from core.storage.store import Store
from core.words import CLASS_WORDS, metric_words
from ui import lab as labs
from ui import state
from ui.i18n import _, number
from ui.lazy import lazy_expander
from ui.session import BOARD, CLASS_NOTICE, NEW_LAB_REFUSED, STORE_PROBLEM
from ui.text import plain

JOIN_PARAM = "join"
TEACHER_PARAM = "teacher"
BOARD_PAGE = "pages/board.py"
NO_DATABASE_TO_JOIN = N_("Joining needs the app's database, which cannot be reached right now.")
JOIN_HINT = N_("**Join a class** with the code your teacher shows.")
TEACHER_HINT = N_("**Teachers:** start a class to see your students' work on one board.")


def challenge_words(challenge: Challenge) -> str:
    """'MNIST, at most 50,000 parameters' (or 'MNIST, any size of network')."""
    rule = _("any size of network") if challenge.max_params is None else _("at most {count} parameters").format(
        count=number(challenge.max_params))
    return f"{_(get_info(challenge.dataset).name)}, {rule}"



NOT_COUNTED = N_("Not counted because")  # the leaderboard's column of reasons (the teacher's only)


def standings_table(standings: list[Standing], with_reasons: bool) -> list[dict]:
    """The leaderboard as rows: rank, name, test accuracy (and, for the teacher, why a run does not count)."""
    score = _(metric_words("test_accuracy").label)
    rows = []
    for s in standings:
        row = {_("Rank"): s.rank, _("Student"): s.name, score: s.test_accuracy}
        if with_reasons:
            row[_(NOT_COUNTED)] = _(s.reason) if s.reason else s.reason
        rows.append(row)
    return rows


ROW_PIXELS = 35  # st.dataframe's row (and header) height


def whole_class_height(rows: int) -> int:
    """A table's height in pixels that shows every row: a class fits on the projected page without a
    scroll box (the grid also keeps only the rows in view in the page, so a scroll box hides students)."""
    return (rows + 1) * ROW_PIXELS + 3


def show_standings(standings: list[Standing], with_reasons: bool, key: str) -> None:
    """The leaderboard (names and scores; reasons for the teacher) as a table: cells are shown as text."""
    if not standings:
        st.caption(_("No one has joined yet."))
        return
    shown = standings if with_reasons else [s for s in standings if s.rank is not None]
    if not shown:
        st.caption(_("No run counts yet: the first finished run that keeps to the rule takes the top."))
        return
    score, why = _(metric_words("test_accuracy").label), _(NOT_COUNTED)
    st.dataframe(standings_table(shown, with_reasons), hide_index=True, key=key, height=whole_class_height(len(shown)),
                 placeholder="",  # no rank or score yet: an empty cell, not "None"
                 column_config={score: st.column_config.NumberColumn(score, format="percent"),
                                why: st.column_config.TextColumn(why, help=_(
                                    "Only a finished run trained in the student's own lab counts: not an upload, "
                                    "a fine-tuned model or a copy of someone's shared run. Its test accuracy is "
                                    "measured by the app."))})


def membership_of_tab(store: Store) -> Membership | None:
    """The class this tab's lab is in, or None (no lab, no class, or the database is away)."""
    lab = labs.current_lab()
    if lab is None:
        return None
    try:
        return store.classes.membership(lab.lab_id)
    except StoreError:
        return None


def join_class(code: str, name: str) -> None:
    """A Join click: check the code (bounded guesses), make the lab if needed, join under `name`."""
    store = labs.get_store()
    if store is None:
        st.error(_(NO_DATABASE_TO_JOIN))
        return
    session_id, address = labs.client_of_tab()
    if refused := guessing_refusal(session_id, address):
        st.error(_(refused))
        return
    if store.classes.find_code(code) is None:
        count_wrong_guess(session_id, address)
        st.error(_(UNKNOWN_CODE))
        return
    lab = state.ensure_lab()  # a lab is made only for a right code
    if lab is None:
        why = NEW_LAB_REFUSED.get() or STORE_PROBLEM.get() or ""
        st.error("{cannot} {why}".format(cannot=_("Nothing can be saved right now, so you cannot join."),
                                         why=_(why)).strip())
        return
    try:
        member = store.classes.join(lab.lab_id, code, name)
    except NotFound as error:
        count_wrong_guess(session_id, address)
        st.error(_(message_of(error)))
        return
    except StoreError as error:
        st.error(plain(_(message_of(error))))
        return
    CLASS_NOTICE.set(_("You joined {class_name} as {name}. Every run you make from now on is visible to your "
                       "teacher (read-only); no other student sees your runs.").format(class_name=member.class_name,
                                                                                      name=member.name))
    st.query_params.pop(JOIN_PARAM, None)
    st.rerun()


def show_join_form(key: str, code: str | None = None) -> None:
    """Join a class: the code (unless a link gave it) and a display name."""
    with st.form(f"{key}_join", border=False):
        typed = code
        if code is None:
            words = CLASS_WORDS["class_code"]
            typed = st.text_input(_(words.label), help=_(words.help), max_chars=12, key=f"{key}_code")
        words = CLASS_WORDS["display_name"]
        name = st.text_input(_(words.label), help=_(words.help), max_chars=30, key=f"{key}_name")
        words = CLASS_WORDS["join"]
        if st.form_submit_button(_(words.label), help=_(words.help), icon=":material/group_add:", type="primary"):
            join_class(typed or "", name)


def start_class(name: str) -> None:
    """A Start click: a new class, then its board (the teacher link) in this tab."""
    store = labs.get_store()
    if store is None:
        st.error(_("A class needs the app's database, which cannot be reached right now."))
        return
    if refused := claim_new_class(labs.client_of_tab()[0]):
        st.error(_(refused))
        return
    try:
        key = store.classes.create_class(name)[0]
    except StoreError as error:
        st.error(plain(_(message_of(error))))
        return
    st.switch_page(BOARD_PAGE, query_params={TEACHER_PARAM: key})


def show_start_form(key: str) -> None:
    """Start a class (for teachers): its name; the board opens with the links."""
    with st.form(f"{key}_start", border=False):
        words = CLASS_WORDS["class_name"]
        name = st.text_input(_(words.label), help=_(words.help), max_chars=60, key=f"{key}_class_name")
        words = CLASS_WORDS["start_class"]
        if st.form_submit_button(_(words.label), help=_(words.help), icon=":material/school:"):
            start_class(name)


def show_membership(store: Store, member: Membership) -> None:
    """Which class this lab is in, under which name; Leave."""
    st.markdown(_("Your lab is in the class **{class_name}** as **{name}**.").format(
        class_name=plain(member.class_name), name=plain(member.name)))
    st.caption(_("Your teacher sees the runs you make (read-only). Other students see only the leaderboard's "
                 "names and scores."))
    if member.challenge is not None:
        st.caption(_("Challenge: {challenge}.").format(challenge=plain(challenge_words(member.challenge))))
    words = CLASS_WORDS["leave_class"]
    if st.button(_(words.label), help=_(words.help), icon=":material/logout:", key="leave_class"):
        lab = labs.current_lab()
        try:
            if lab is not None:
                store.classes.leave(lab.lab_id)
        except StoreError as error:
            st.error(plain(_(message_of(error))))
            return
        CLASS_NOTICE.set(_("You left {class_name}. Your runs stay in your lab.").format(class_name=member.class_name))
        st.rerun()


def show_class_box() -> None:
    """The sidebar's "Your class": the class this lab is in and Leave, or Join and Start a class."""
    if notice := CLASS_NOTICE.pop():
        st.success(plain(notice))
    if (board := BOARD.get()) is not None:  # a teacher who left the board for Evaluate finds the way back
        st.page_link(BOARD_PAGE, label=_("Your class's board"), icon=":material/co_present:",
                     query_params={TEACHER_PARAM: board[0]})
    store = labs.get_store()
    if store is None:
        return
    box, is_open = lazy_expander(_("Your class"), key="class_box", icon=":material/groups:")
    if not is_open:
        return
    with box:
        member = membership_of_tab(store)
        if member is not None:
            show_membership(store, member)
            return
        st.markdown(_(JOIN_HINT))
        show_join_form("sidebar")
        st.markdown(_(TEACHER_HINT))
        show_start_form("sidebar")


def show_join_from_link() -> None:
    """Home with `?join=CODE`: the class's name and a name to join under (or why not)."""
    code = st.query_params.get(JOIN_PARAM)
    if code is None:
        return
    store = labs.get_store()
    if store is None:
        st.error(_(NO_DATABASE_TO_JOIN))
        return
    session_id, address = labs.client_of_tab()
    with st.container(border=True, key="join_panel"):
        if refused := guessing_refusal(session_id, address):
            st.error(_(refused))
            return
        found = store.classes.find_code(code)
        if found is None:
            count_wrong_guess(session_id, address)
            st.query_params.pop(JOIN_PARAM, None)  # counted once, not at every rerun
            st.error(_(UNKNOWN_CODE))
            return
        class_name, closed = found[1], found[2]
        st.subheader(_("Join the class {class_name}").format(class_name=plain(class_name)))
        member = membership_of_tab(store)
        if member is not None:
            st.info(_("Your lab is in the class {class_name} already. Leave it first (in the sidebar, under Your "
                      "class) to join another.").format(class_name=plain(member.class_name)))
        elif closed:
            st.warning(_("This class is closed: its teacher is not taking new students."))
        else:
            st.caption(_("Your runs stay in your own lab; your teacher will see those you make from now on."))
            show_join_form("link", code)


def show_class_leaderboard() -> None:
    """On Train: the leaderboard of this lab's class (names and scores only), while the class is open."""
    store = labs.get_store()
    member = membership_of_tab(store) if store is not None else None
    if member is None or member.closed or member.challenge is None:
        return
    try:
        standings = store.classes.leaderboard(member.class_id) if store is not None else []
    except StoreError:
        return
    with st.container(border=True, key="class_leaderboard"):
        st.subheader(_("Class challenge: {challenge}").format(challenge=plain(challenge_words(member.challenge))))
        st.caption(_(CLASS_WORDS["leaderboard"].help))
        show_standings(standings, with_reasons=False, key="student_leaderboard")


def show_home_entry() -> None:
    """On Home: join a class with a typed code, or start one (the same forms as the sidebar's)."""
    store = labs.get_store()
    if store is None or st.query_params.get(JOIN_PARAM) is not None or membership_of_tab(store) is not None:
        return  # no database, the link's panel is up top, or the lab is in a class already (sidebar)
    box, is_open = lazy_expander(_("In a class? Join it with its code, or start one"), key="home_class",
                                 icon=":material/groups:")
    if not is_open:
        return
    with box:
        left, right = st.columns(2)
        with left:
            st.markdown(_(JOIN_HINT))
            show_join_form("home")
        with right:
            st.markdown(_(TEACHER_HINT))
            show_start_form("home")

"""The teacher's board of a class, opened only by its teacher link (`board?teacher=KEY`): the students, their
best runs, the challenge's leaderboard, a student's runs read-only, curves overlaid; CSV; remove, close, delete.
"""

import time

import streamlit as st

from core.data.datasets import DATASETS
from core.figures import curves
from core.figures.described import describe_runs
from core.i18n import N_, message_of
from core.server.board import JOBS, lab_owner
from core.server.guesses import count_wrong_guess, guessing_refusal
from core.server.scoring import score_runs
from core.storage import sink as persistence
from core.storage.classes import (
    UNKNOWN_TEACHER_LINK,
    ClassInfo,
    Student,
    board_csv,
    board_rows,
    rank_students,
    recipe_words,
)
from core.storage.engine import StoreError
from core.storage.store import Store
from core.words import CLASS_WORDS, metric_words
from ui import lab as labs
from ui import state
from ui.classes import JOIN_PARAM, TEACHER_PARAM, challenge_words, show_standings, whole_class_height
from ui.figures import show_chart
from ui.i18n import _, decimal, percent
from ui.layout import start_page
from ui.lazy import lazy_tabs
from ui.model_picker import choose
from ui.session import BOARD, BOARD_NOTICE
from ui.text import plain

REFRESH_SECONDS = 3.0  # the board redraws itself this often (a finished run shows within it)
EVALUATE = "pages/evaluate.py"
# core.storage.classes.board_rows' columns and "now" cells (English, as the CSV keeps them) in the page's words
BOARD_WORDS = {"Student": N_("Student"), "Joined": N_("Joined"), "Runs": N_("Runs"),
               "Best run's recipe": N_("Best run's recipe"), "Now": N_("Now"), "training now": N_("training now"),
               "waiting in the queue": N_("waiting in the queue")}
BEST_RUN = "Best run: "


def change_class(action, done: str) -> None:
    """Run one of the teacher's changes (a store call); say `done` after the rerun, or why it failed now."""
    try:
        action()
    except StoreError as error:
        st.error(_("That did not work: {error}").format(error=plain(_(message_of(error)))))
        return
    BOARD_NOTICE.set(done)
    st.rerun()


def open_board(store: Store) -> ClassInfo | None:
    """The class this tab's teacher link opens (checked once per tab; wrong links are counted as guesses)."""
    key = st.query_params.get(TEACHER_PARAM)
    held = BOARD.get()
    if held is not None and held[0] == key:
        return store.classes.class_info(held[1])  # None once the class is deleted
    session_id, address = labs.client_of_tab()
    if refused := guessing_refusal(session_id, address):
        st.error(_(refused))
        st.stop()
    info = store.classes.open_board(key)
    if info is None:
        count_wrong_guess(session_id, address)
        return None
    BOARD.set((key, info.class_id))
    return info


def now_doing(students: list[Student]) -> dict[int, str]:
    """{lab id: "training now" | "waiting in the queue"} from this server's boards of trainings."""
    doing = {}
    for student in students:
        job = JOBS.get(lab_owner(student.lab_id))
        if job is not None and not job.done:
            doing[student.lab_id] = "waiting in the queue" if job.state == "waiting" else "training now"
    return doing


def show_links(info: ClassInfo) -> None:
    """The code in large type for a projector, the join link, and the teacher link (private)."""
    code_column, links_column = st.columns([1, 2])
    with code_column.container(border=True, key="class_code_box"):
        st.caption(_("Class code"))
        code = f"<div style='font-size:3.5rem;font-weight:700;letter-spacing:0.3rem'>{info.code}</div>"
        st.markdown(code, unsafe_allow_html=True)  # the code is ours: CODE_ALPHABET only
        st.caption(_("Closed: no new students can join.") if info.closed else
                   _("Students type it on Home, or open:"))
    with links_column:
        st.markdown(_("**Join link** for your students (it only lets them join):"))
        st.code(labs.app_url("", {JOIN_PARAM: info.code}), language=None, wrap_lines=True)
        st.markdown(_("**Your teacher link**: bookmark it and keep it to yourself; it opens this board."))
        st.code(labs.app_url("board", {TEACHER_PARAM: st.query_params.get(TEACHER_PARAM, "")}), language=None,
                wrap_lines=True)


def translate_row(row: dict) -> dict:
    """A board row with its column names (and its "now" cell) in the page's words; names and recipes as they are."""
    out = {}
    for column, value in row.items():
        if column.startswith(BEST_RUN):
            column = _("Best run: {metric}").format(metric=_(column[len(BEST_RUN):]))
        elif column == "Now":
            value = _(BOARD_WORDS[value]) if value in BOARD_WORDS else value
        out[_(BOARD_WORDS.get(column, column))] = value
    return out


def show_curves(histories: dict[str, dict], key: str, columns) -> None:
    """Runs' accuracy and loss curves side by side, each with its sentence (alt text) and numbers."""
    for column, metric in zip(columns, ("accuracy", "loss")):
        finals = {name: h[f"val_{metric}"][-1] for name, h in histories.items() if h.get(f"val_{metric}")}
        show_chart(curves.plot_run_comparison(histories, metric), describe_runs(finals, f"val_{metric}"),
                   key=f"{key}_{metric}", container=column)


def show_board(store: Store, class_id: int) -> None:
    """The students' table and the leaderboard, redrawn every REFRESH_SECONDS without a reload."""
    info = store.classes.class_info(class_id)
    if info is None:
        st.rerun(scope="app")
    try:
        students = store.classes.students(class_id)
        if info.challenge is not None and score_runs(store, class_id, students, info.challenge):
            students = store.classes.students(class_id)  # the scores just computed
    except StoreError as error:
        st.warning(_("The board could not be brought up to date: {error}").format(error=plain(_(message_of(error)))))
        return
    rows = board_rows(students, now_doing(students))
    st.subheader(_("Students ({count})").format(count=len(students)))
    if not rows:
        st.info(_("No student has joined yet. Show them the code, or send them the join link."))
    else:
        shown = [translate_row(row) for row in rows]
        scores = {column: st.column_config.NumberColumn(column, format="percent")
                  for column, english in zip(shown[0], rows[0]) if english.startswith(BEST_RUN)}
        st.dataframe(shown, hide_index=True, key="board_table", column_config=scores,
                     height=whole_class_height(len(shown)), placeholder="")  # no best run yet: empty cells
        words = CLASS_WORDS["board_csv"]
        st.download_button(_(words.label), board_csv(rows), file_name="class-board.csv", help=_(words.help),
                           mime="text/csv", icon=":material/download:", key="board_csv")
    if info.challenge is not None:
        st.subheader(_("Leaderboard: {challenge}").format(challenge=plain(challenge_words(info.challenge))))
        show_standings(rank_students(students, info.challenge), with_reasons=True, key="board_leaderboard")
    st.caption(_("Brought up to date at {time}, every {seconds} s.").format(time=time.strftime("%H:%M:%S"),
                                                                            seconds=f"{REFRESH_SECONDS:g}"))


def show_overlay(store: Store, class_id: int, students: list[Student]) -> None:
    """Several students' best runs: their curves drawn together, one colour each."""
    with_best = {s.name: s.best() for s in students if s.best() is not None}
    if not with_best:  # an empty multiselect is drawn disabled, its label too faint to read (WCAG contrast)
        st.info(_("No student has a finished run yet: their curves show here once one has."))
        return
    words = CLASS_WORDS["board_students"]
    chosen = st.multiselect(_(words.label), list(with_best), default=list(with_best)[:4], help=_(words.help),
                            key="board_overlay")
    if not chosen:
        return
    try:
        histories = store.classes.student_histories(class_id, [with_best[name].run_id for name in chosen])
    except StoreError as error:
        st.warning(_("The curves cannot be read right now: {error}").format(error=plain(_(message_of(error)))))
        return
    shown = {name: histories[with_best[name].run_id] for name in chosen if with_best[name].run_id in histories}
    c1, c2 = st.columns(2)
    show_curves(shown, "board_overlay", (c1, c2))


def evaluate_student_run(class_id: int, student: str, record) -> None:
    """Open a student's run on Evaluate in this tab only (read-only: nothing is written to any lab)."""
    store = labs.get_store()
    run = persistence.run_of_record(record)
    run.name = f"{student}: {run.name}"  # two students' "Run 1" stay two runs
    run = state.add_shared_run(run, record.blob_names,
                               lambda name: store.classes.load_student_blob(class_id, record.run_id, name))
    choose(run.run_id)
    st.switch_page(EVALUATE)


def show_student(store: Store, class_id: int, students: list[Student]) -> None:
    """One student's runs, read-only, as a share link shows a run: curves, metrics, Evaluate."""
    words = CLASS_WORDS["board_student"]
    names = [s.name for s in students]
    name = st.selectbox(_(words.label), names, index=None, help=_(words.help), key="board_student",
                        placeholder=_("Choose a student"))
    student = next((s for s in students if s.name == name), None)
    if student is None:
        return
    if not student.runs:
        st.caption(_("No runs yet since joining."))
        return
    labels = {r.run_id: f"{r.name} · {_(r.state)}" for r in reversed(student.runs)}
    words = CLASS_WORDS["board_run"]
    run_id = st.radio(_(words.label), list(labels), format_func=lambda i: labels[i], key="board_run",
                      horizontal=True, help=_(words.help))
    try:
        record = store.classes.student_run(class_id, student.lab_id, run_id)
    except StoreError as error:
        st.warning(_("This run cannot be read right now: {error}").format(error=plain(_(message_of(error)))))
        return
    if record is None:
        st.warning(_("This run is no longer in the class (deleted, or the student left)."))
        return
    run = persistence.run_of_record(record)
    about = f"{plain(_(recipe_words(record)))}. {plain(_(run.status))}"
    st.caption(about)
    columns = st.columns(3)
    for column, metric in zip(columns, ("val_accuracy", "test_accuracy", "val_loss")):
        value = record.metrics.get(metric)
        shown = "–" if value is None else (percent(value) if "accuracy" in metric else decimal(value, 4))
        column.metric(_(metric_words(metric).label), shown)
    if run.history:
        show_curves({run.name: run.history}, "board_run", st.columns(2))
    words = CLASS_WORDS["evaluate_run"]
    if st.button(_(words.label), help=_(words.help), icon=":material/grid_on:", disabled=not run.usable,
                 key="board_evaluate"):
        evaluate_student_run(class_id, student.name, record)


def show_challenge(store: Store, info: ClassInfo) -> None:
    """Set, change or clear the challenge: a dataset and at most so many parameters."""
    with st.form("board_challenge", border=False):
        words = CLASS_WORDS["challenge_dataset"]
        keys = list(DATASETS)
        current = info.challenge.dataset if info.challenge is not None else "mnist"
        dataset = st.selectbox(_(words.label), keys, index=keys.index(current) if current in keys else 0,
                               format_func=lambda k: _(DATASETS[k].name), help=_(words.help), key="challenge_dataset")
        words = CLASS_WORDS["challenge_max_params"]
        limit = st.number_input(_(words.label), 0, 100_000_000, step=1000, help=_(words.help), key="challenge_params",
                                value=(info.challenge.max_params or 0) if info.challenge is not None else 50_000)
        words = CLASS_WORDS["set_challenge"]
        if st.form_submit_button(_(words.label), help=_(words.help), icon=":material/emoji_events:"):
            change_class(lambda: store.classes.set_challenge(info.class_id, dataset, int(limit) or None),
                         N_("The challenge is set: students see its leaderboard on Train."))
    words = CLASS_WORDS["end_challenge"]
    if info.challenge is not None and st.button(_(words.label), help=_(words.help), key="challenge_clear"):
        change_class(lambda: store.classes.clear_challenge(info.class_id),
                     N_("The challenge is over: its leaderboard is gone."))


def show_manage(store: Store, info: ClassInfo, students: list[Student]) -> None:
    """Remove a student, close (or open) the class, delete it."""
    by_name = {s.name: s for s in students}
    words = CLASS_WORDS["remove_student"]
    name = st.selectbox(_(words.label), list(by_name), index=None, key="board_remove_who",
                        placeholder=_("Choose a student"), help=_(words.help))
    if name is not None and st.button(_("Remove {name} from the class").format(name=plain(name)),
                                      key="board_remove"):
        change_class(lambda: store.classes.remove_student(info.class_id, by_name[name].lab_id),
                     _("{name} is no longer in the class.").format(name=name))
    words = CLASS_WORDS["open_class" if info.closed else "close_class"]
    if st.button(_(words.label), help=_(words.help), icon=":material/lock:", key="board_close"):
        change_class(lambda: store.classes.set_closed(info.class_id, not info.closed),
                     N_("The class is open again.") if info.closed else N_("The class is closed: no one new can join."))
    words = CLASS_WORDS["delete_class"]
    if st.toggle(_(words.label), help=_(words.help), key="board_delete_armed"):
        st.error(_("This deletes the class, its list of students and its challenge for good. The students' labs "
                   "and runs stay theirs."))
        if st.button(_("Delete the class for good"), type="primary", key="board_delete"):
            try:
                store.classes.delete_class(info.class_id)
            except StoreError as error:
                st.error(_("The class could not be deleted: {error}").format(error=plain(_(message_of(error)))))
                return
            BOARD.pop()
            st.query_params.pop(TEACHER_PARAM, None)
            st.rerun()


start_page(N_("Class board"))
store = labs.get_store()
try:
    info = open_board(store) if store is not None else None
    students = store.classes.students(info.class_id) if store is not None and info is not None else []
except StoreError as error:
    st.title(_("A class board"))
    st.error(_("The board cannot be opened right now: {error}").format(error=plain(_(message_of(error)))))
    st.stop()
if info is None:
    st.title(_("A class board"))
    st.error(_(UNKNOWN_TEACHER_LINK))
    st.stop()

st.title(plain(info.name))
if notice := BOARD_NOTICE.pop():
    st.success(plain(_(notice)))
show_links(info)
st.fragment(show_board, run_every=REFRESH_SECONDS)(store, info.class_id)
lazy_tabs({  # only the open tab is made; its choice survives the reruns of a click
    _("Compare best runs"): lambda: show_overlay(store, info.class_id, students),
    _("A student's runs"): lambda: show_student(store, info.class_id, students),
    _("Challenge"): lambda: show_challenge(store, info),
    _("Manage the class"): lambda: show_manage(store, info, students),
}, key="board_tabs")

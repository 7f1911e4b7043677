"""The lessons in the app: the current step beside the work (a panel in every page's sidebar), progress
kept in the lab, the events the checks need, Home's "Continue lesson N, step M", the Learn page's parts.

Progress and events go to the store (core.storage.progress) under the tab's lab; a tab that cannot save
(no store, no lab allowed) keeps them in its session. Starting a lesson makes the tab's lab, as a first
training does. Checks judge a snapshot of the lab (`lab_state`): its runs, its events, its digits count.
"""

from __future__ import annotations

import streamlit as st

from core.lessons.actions import action_link
from core.lessons.answers import step_status
from core.lessons.content import Lesson, LessonBook, Step, load_lessons
from core.lessons.state import EVENT_KINDS, NOT_THE_LEARNERS, LabEvent, LabState, facts_from_run
from core.storage import progress
from core.storage.engine import StoreError
from core.storage.progress import LessonProgress
from core.storage.store import Store
from core.words import GLOSSARY
from ui import lab as labs
from ui import state
from ui.i18n import _
from ui.session import (
    LESSON_ACTIVE,
    LESSON_ANSWER,
    LESSON_AWAITS,
    LESSON_EVENTS_LOCAL,
    LESSON_GO,
    LESSON_LAST_EVENT,
    LESSON_NOTE,
    LESSONS_LOCAL,
)
from ui.text import plain

PAGE_PATHS = {"home": "app.py", "learn": "pages/learn.py", "train": "pages/train.py",
              "evaluate": "pages/evaluate.py", "draw": "pages/draw.py", "digits": "pages/digits.py"}
BOOK_SECONDS = 60  # a teacher's new lesson file shows within a minute, without a restart


@st.cache_resource(show_spinner=False, ttl=BOOK_SECONDS)
def lesson_book() -> LessonBook:
    """Every lesson file, read and checked (the same for every visitor)."""
    return load_lessons()


def saved_lab() -> tuple[Store | None, int | None]:
    """(store, lab id) where this tab's lessons are kept, or (None, None): kept in the session."""
    lab, store = labs.current_lab(), labs.get_store()
    return (store, lab.lab_id) if lab is not None and store is not None else (None, None)


def all_progress() -> dict[str, LessonProgress]:
    """This lab's progress in each lesson it has started."""
    store, lab_id = saved_lab()
    if store is not None and lab_id is not None:
        try:
            return progress.read_progress(store, lab_id)
        except StoreError:
            pass
    return dict(LESSONS_LOCAL.get({}))


def active_lesson() -> tuple[Lesson, LessonProgress] | None:
    """The lab's lesson in progress and where it is, or None (also mirrored for record_event)."""
    for key, place in all_progress().items():
        lesson = lesson_book().get(key)
        if place.active and lesson is not None:
            LESSON_ACTIVE.set(key)
            return lesson, place
    LESSON_ACTIVE.set(None)
    return None


def save_place(key: str, step: int, *, finished: bool | None = None, answers: dict | None = None,
               active: bool = True) -> None:
    """Keep the lab on `step` of lesson `key` (in the store, else in this tab)."""
    store, lab_id = saved_lab()
    if store is not None and lab_id is not None:
        try:
            progress.save_progress(store, lab_id, key, step, finished=finished, answers=answers,
                                   active=active)
            return
        except StoreError as error:
            LESSON_NOTE.set(_("Your place in the lesson could not be saved ({error}); it is kept in this tab "
                              "only.").format(error=error))
    local = LESSONS_LOCAL.ensure()
    old = local.get(key, LessonProgress())
    if active:
        for other, place in local.items():
            local[other] = LessonProgress(place.step, place.finished, False, place.answers, place.updated_at)
    local[key] = LessonProgress(step, old.finished if finished is None else finished, active,
                                old.answers if answers is None else answers)


def go_to(path: str) -> None:
    """After a button's click: open this page (the caller switches at the end of its run)."""
    LESSON_GO.set(path)


def switch_if_asked() -> None:
    """Open the page a lesson button asked for, keeping the lab."""
    if path := LESSON_GO.pop():
        st.switch_page(path, query_params=labs.lab_params())


def start_lesson(key: str, again: bool = False) -> None:
    """Button callback: make it the lab's lesson (from its first step, or where it was), go to its step's page."""
    lesson = lesson_book().get(key)
    if lesson is None:
        return
    state.ensure_lab()  # a lesson is work worth keeping, as a first training is
    place = all_progress().get(key)
    step = 0 if again or place is None or place.finished else place.step
    save_place(key, step, finished=False if again else None, answers={} if again else None)
    go_to(PAGE_PATHS[lesson.steps[step].page])


def move_to(lesson: Lesson, step: int) -> None:
    """Button callback: go to another step of the active lesson (past the last: finished)."""
    if step >= len(lesson.steps):
        save_place(lesson.key, len(lesson.steps) - 1, finished=True, active=False)
        LESSON_NOTE.set(_("You finished lesson {number}, {title}. Well done!").format(number=lesson.number,
                                                                                     title=_(lesson.title)))
        go_to(PAGE_PATHS["learn"])
        return
    save_place(lesson.key, max(step, 0))


def leave_lesson() -> None:
    """Button callback: no lesson in progress (each keeps its place)."""
    store, lab_id = saved_lab()
    if store is not None and lab_id is not None:
        try:
            progress.leave_lessons(store, lab_id)
        except StoreError as error:
            LESSON_NOTE.set(_("Your place in the lesson could not be saved ({error}); it is kept in this tab "
                              "only.").format(error=error))
    local = LESSONS_LOCAL.ensure()
    for key, place in local.items():
        local[key] = LessonProgress(place.step, place.finished, False, place.answers, place.updated_at)
    LESSON_ACTIVE.set(None)


def keep_answer(lesson: Lesson, place: LessonProgress, index: int) -> None:
    """Button callback: keep the learner's answer to the step's question (judged when the panel is drawn)."""
    given = LESSON_ANSWER.of(f"{lesson.key}_{index}").get()
    if given is None or str(given).strip() == "":
        return
    answers = {**place.answers, str(index): f"{given:g}" if isinstance(given, float) else str(given)}
    save_place(lesson.key, index, answers=answers)


def record_event(kind: str, value: object = "") -> None:
    """Keep a lesson event of this tab's lab (only while a lesson is active; one write per new event).

    The panel is drawn before the page's content: when the current step waits for this kind of event,
    the page runs again at once so that its check shows what was just done.
    """
    if LESSON_ACTIVE.get() is None or kind not in EVENT_KINDS:
        return
    event = (kind, str(value))
    if LESSON_LAST_EVENT.get() == event:  # the page ran again with the same drawing or cell
        return
    LESSON_LAST_EVENT.set(event)
    store, lab_id = saved_lab()
    if store is not None and lab_id is not None:
        try:
            progress.record_event(store, lab_id, *event)
        except StoreError:
            LESSON_EVENTS_LOCAL.ensure().append(event)
    else:
        LESSON_EVENTS_LOCAL.ensure().append(event)
    if LESSON_AWAITS.get() == kind:
        st.rerun()


def lab_state() -> LabState:
    """The lab as the checks see it: its runs, its kept events, how many own digits it has."""
    runs = tuple(facts_from_run(run) for run in state.get_runs() if run.source not in NOT_THE_LEARNERS)
    store, lab_id = saved_lab()
    events, digits = list(LESSON_EVENTS_LOCAL.get([])), 0
    if store is not None and lab_id is not None:
        try:
            events = progress.list_events(store, lab_id) + events
            digits = progress.count_digits(store, lab_id)
        except StoreError:
            pass
    return LabState(runs=runs, events=tuple(LabEvent(k, v) for k, v in events), digits=digits)


def show_terms(step: Step) -> None:
    """The glossary's words for the step's terms, in a popover (the Learn page lists them all)."""
    if not step.terms:
        return
    with st.popover(_("Words in this step"), icon=":material/menu_book:", width="stretch"):
        for term in step.terms:
            st.markdown(_("**{term}**: {meaning}").format(term=_(term), meaning=_(GLOSSARY[term])))
        st.page_link(PAGE_PATHS["learn"], label=_("All the words: the glossary"), query_params=labs.lab_params())


def show_question(lesson: Lesson, place: LessonProgress, index: int, verdict) -> None:
    """The step's question, its answer box, and once answered, right or not with the explanation."""
    question = lesson.steps[index].question
    assert question is not None
    key = LESSON_ANSWER.of(f"{lesson.key}_{index}")
    if question.choices:
        st.radio(_(question.ask), question.choices, index=None, key=key, format_func=_)  # the value stays the file's
    else:
        st.number_input(_(question.ask), min_value=-1_000_000.0, max_value=1_000_000.0, value=None, step=1.0,
                        key=key, placeholder=_("a number"))
    st.button(_("Check my answer"), key=f"lesson_answer_button_{lesson.key}_{index}", on_click=keep_answer,
              args=(lesson, place, index))
    if verdict is not None and verdict.message:
        (st.success if verdict.passed else st.warning)(_(verdict.message))


def show_step_panel() -> None:
    """The active lesson's current step: what to do and why, its action, its check, Back / Next / Leave."""
    switch_if_asked()  # a lesson button of the last run asked for another page: go there first
    if note := LESSON_NOTE.pop():
        st.info(note, icon=":material/school:")  # translated where it was set
    found = active_lesson()
    if found is None:
        LESSON_AWAITS.set(None)
        return
    lesson, place = found
    index = min(place.step, len(lesson.steps) - 1)
    step = lesson.steps[index]
    status = step_status(step, lab_state(), place.answers.get(str(index)))
    LESSON_AWAITS.set(step.check_params.get("event") if step.check == "event" and not status.check.passed else None)
    with st.container(border=True, key="lesson_panel"):
        st.caption(_("Lesson {number} · {title} · step {step} of {steps}").format(
            number=lesson.number, title=plain(_(lesson.title)), step=index + 1, steps=len(lesson.steps)))
        st.markdown("**" + _(step.title) + "**")
        st.markdown(_(step.text))
        show_terms(step)
        if step.action is not None and step.action_params is not None:
            link = action_link(step.action, step.action_params)
            st.page_link(PAGE_PATHS[link.page], label=_(link.label), icon=":material/arrow_forward:",
                         query_params={**labs.lab_params(), **link.params})
        if step.check != "none":
            (st.success if status.check.passed else st.info)(_(status.check.message),
                                                             icon=":material/check_circle:" if status.check.passed
                                                             else ":material/pending:")
        if step.question is not None:
            show_question(lesson, place, index, status.answered)
        last = index == len(lesson.steps) - 1
        back, forward = st.columns(2)
        back.button(_("Back"), key="lesson_back", on_click=move_to, args=(lesson, index - 1), disabled=index == 0,
                    width="stretch")
        forward.button(_("Finish") if last else _("Next"), key="lesson_next", type="primary", disabled=not status.done,
                       on_click=move_to, args=(lesson, index + 1), width="stretch",
                       help=None if status.done else _("Do this step first (or skip it)."))
        with st.container(horizontal=True, gap="small"):  # wraps where a language's words are longer ("Überspringen")
            if not status.done:
                st.button(_("Skip"), key="lesson_skip", type="tertiary", on_click=move_to, args=(lesson, index + 1))
            st.button(_("Leave the lesson"), key="lesson_leave", type="tertiary", on_click=leave_lesson)


def continue_label() -> tuple[str, str] | None:
    """Home's offer: ("Continue lesson 2, step 3", lesson key) for the lesson in progress, or the latest unfinished."""
    places = [(key, place) for key, place in all_progress().items()
              if lesson_book().get(key) is not None and not place.finished]
    if not places:
        return None
    key, place = max(places, key=lambda item: (item[1].active, item[1].updated_at))
    lesson = lesson_book().get(key)
    assert lesson is not None
    return _("Continue lesson {number}, step {step}").format(
        number=lesson.number, step=min(place.step, len(lesson.steps) - 1) + 1), key


def show_continue_lesson() -> None:
    """Home: "Continue lesson N, step M" when one is under way, else a link to the lessons."""
    offer = continue_label()
    if offer is None:
        st.page_link(PAGE_PATHS["learn"], label=_("New here? Follow a lesson: it shows you what to try, step by step"),
                     icon=":material/school:", query_params=labs.lab_params())
        return
    label, key = offer
    st.button(label, key="home_continue_lesson", type="primary", icon=":material/school:", on_click=start_lesson,
           args=(key,))
    switch_if_asked()

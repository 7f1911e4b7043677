"""Learn: the lessons with this lab's progress in each, and the glossary."""

import streamlit as st

from core.words import GLOSSARY
from ui import lessons
from ui.layout import start_page
from ui.text import plain


def show_lesson(lesson, place) -> None:
    """One lesson's card: what it is, its steps, where this lab is in it, Start / Continue / Start again."""
    with st.container(border=True, key=f"lesson_{lesson.number}"):
        st.subheader(f"Lesson {lesson.number} · {lesson.title}")
        st.markdown(lesson.summary)
        st.caption(" → ".join(step.title for step in lesson.steps))
        count = len(lesson.steps)
        if place is not None and place.finished:
            st.success("Finished", icon=":material/check_circle:")
        elif place is not None:
            step = min(place.step, count - 1)
            st.progress(step / count, text=f"At step {step + 1} of {count}"
                        + (" · in progress" if place.active else ""))
        if place is None:
            label = "Start"
        elif place.finished:
            label = "Start again"
        else:
            label = "Continue" if not place.active else "Go to the current step"
        st.button(label, key=f"start_lesson_{lesson.number}", type="primary" if place is None else "secondary",
                  on_click=lessons.start_lesson, args=(lesson.key, place is not None and place.finished))


def show_glossary() -> None:
    st.header("Glossary", anchor="glossary")
    st.caption("The words the lessons and the Train page use, in plain words.")
    for term in sorted(GLOSSARY, key=str.lower):
        st.markdown(f"**{term}**: {GLOSSARY[term]}")


start_page("Learn")
st.title("Learn")
st.markdown("Lessons that show you what to try, step by step. The current step stays in the sidebar while you "
            "work on Train, Evaluate, Draw or My digits, and the app checks what you did. Your place in each "
            "lesson is kept in your lab.")
book = lessons.lesson_book()
for problem in book.problems:  # for the teacher who wrote the file
    st.warning(plain(f"A lesson file could not be read: {problem}"), icon=":material/error:")
places = lessons.all_progress()
for lesson in book.lessons:
    show_lesson(lesson, places.get(lesson.key))
lessons.switch_if_asked()
show_glossary()

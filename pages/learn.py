"""Learn: the lessons with this lab's progress in each, and the glossary."""

import streamlit as st

from core.words import GLOSSARY
from ui import lessons
from ui.i18n import _
from ui.layout import start_page
from ui.text import plain


def show_lesson(lesson, place) -> None:
    """One lesson's card: what it is, its steps, where this lab is in it, Start / Continue / Start again."""
    with st.container(border=True, key=f"lesson_{lesson.number}"):
        st.subheader(_("Lesson {number} · {title}").format(number=lesson.number, title=_(lesson.title)))
        st.markdown(_(lesson.summary))
        st.caption(" → ".join(_(step.title) for step in lesson.steps))
        count = len(lesson.steps)
        if place is not None and place.finished:
            st.success(_("Finished"), icon=":material/check_circle:")
        elif place is not None:
            step = min(place.step, count - 1)
            at_step = _("At step {step} of {steps}").format(step=step + 1, steps=count)
            st.progress(step / count, text=at_step + (_(" · in progress") if place.active else ""))
        if place is None:
            label = _("Start")
        elif place.finished:
            label = _("Start again")
        else:
            label = _("Continue") if not place.active else _("Go to the current step")
        st.button(label, key=f"start_lesson_{lesson.number}", type="primary" if place is None else "secondary",
                  on_click=lessons.start_lesson, args=(lesson.key, place is not None and place.finished))


def show_glossary() -> None:
    """Every glossary term with its meaning (core.words marks both), in the visitor's language, A to Z."""
    st.header(_("Glossary"), anchor="glossary")
    st.caption(_("The words the lessons and the Train page use, in plain words."))
    terms = sorted(((_(term), _(meaning)) for term, meaning in GLOSSARY.items()), key=lambda pair: pair[0].lower())
    for term, meaning in terms:
        st.markdown(_("**{term}**: {meaning}").format(term=term, meaning=meaning))


start_page("Learn")
st.title(_("Learn"))
st.markdown(_("Lessons that show you what to try, step by step. The current step stays in the sidebar while you "
              "work on Train, Evaluate, Draw or My digits, and the app checks what you did. Your place in each "
              "lesson is kept in your lab."))
book = lessons.lesson_book()
for problem in book.problems:  # for the teacher who wrote the file (the file's own words stay as written)
    st.warning(plain(_("A lesson file could not be read: {problem}").format(problem=problem)), icon=":material/error:")
places = lessons.all_progress()
for lesson in book.lessons:
    show_lesson(lesson, places.get(lesson.key))
lessons.switch_if_asked()
show_glossary()

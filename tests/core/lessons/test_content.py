"""core.lessons.content: the shipped lessons load; a bad file is refused with its name, line and problem,
and the other lessons still load."""

import shutil

import pytest

from core.lessons.content import LESSONS_DIR, MAX_STEPS, MIN_STEPS, LessonError, load_lessons, parse_lesson
from core.words import GLOSSARY

GOOD = """number = 9
title = "A teacher's lesson"
summary = "One file, four steps."

[[steps]]
title = "Train"
text = "Train a run."
check = { kind = "run", dataset = "digits" }

[[steps]]
title = "Read"
text = "Read its score."
terms = ["accuracy"]
check = { kind = "none" }
question = { ask = "How many pixels?", answer = 64, explain = "8 times 8." }

[[steps]]
title = "Draw"
page = "draw"
text = "Draw a 3."
action = { kind = "open_page", page = "draw" }
check = { kind = "event", event = "drawing_read", value = "3" }

[[steps]]
title = "Again"
text = "Set it up again."
action = { kind = "set_up", settings = { dataset = "digits", hidden = "32" } }
check = { kind = "run", network = "hidden" }
"""


def test_the_shipped_lessons_all_load():
    book = load_lessons()
    assert book.problems == ()
    assert len(book.lessons) >= 6
    assert [lesson.number for lesson in book.lessons] == sorted({lesson.number for lesson in book.lessons})
    for lesson in book.lessons:
        assert MIN_STEPS <= len(lesson.steps) <= MAX_STEPS, lesson.key


def test_every_term_a_lesson_links_to_is_in_the_glossary():
    terms = {term for lesson in load_lessons().lessons for step in lesson.steps for term in step.terms}
    assert terms and terms <= set(GLOSSARY)


def test_a_good_teachers_file_is_read_with_its_parts():
    lesson = parse_lesson("09-teacher.toml", GOOD)
    assert (lesson.key, lesson.number, len(lesson.steps)) == ("09-teacher", 9, 4)
    assert lesson.steps[1].question.answer == 64 and lesson.steps[2].page == "draw"
    assert lesson.steps[3].action_params == {"settings": {"dataset": "digits", "hidden": "32"}}


BAD = {
    "missing field": (GOOD.replace('title = "Read"\n', ""), 10, "step 2's 'title' is missing"),
    "unknown check kind": (GOOD.replace('kind = "none"', 'kind = "telepathy"'), 14,
                           "unknown check kind 'telepathy'"),
    "unknown setting": (GOOD.replace('hidden = "32"', 'hiden = "32"'), 27,
                        "names a setting that does not exist: 'hiden'"),
    "broken front matter": (GOOD.replace('title = "A teacher', 'title = A teacher'), 2, "not valid TOML"),
    "unknown check param": (GOOD.replace('dataset = "digits" }', 'datset = "digits" }', 1), 8,
                            "takes no 'datset'"),
    "a value out of range": (GOOD.replace('hidden = "32"', 'hidden = "32", lr = "fast"'), 27, "is not a number"),
    "too few steps": (GOOD[:GOOD.index("[[steps]]\ntitle = \"Again\"")], 17, "4 to 8 steps"),
    "a glossary term missing": (GOOD.replace('["accuracy"]', '["flux capacitor"]'), 13, "flux capacitor"),
    "a question's answer not a choice": (GOOD.replace('answer = 64', 'choices = ["a", "b"], answer = "c"'), 15,
                                         "not one of its choices"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_file_is_refused_with_its_name_line_and_problem_and_the_others_still_load(case, tmp_path):
    text, line, words = BAD[case]
    for path in LESSONS_DIR.glob("*.toml"):
        shutil.copy(path, tmp_path)
    (tmp_path / "09-teacher.toml").write_text(text)
    book = load_lessons(tmp_path)
    assert len(book.problems) == 1
    assert book.problems[0].startswith(f"09-teacher.toml, line {line}: "), book.problems[0]
    assert words in book.problems[0]
    assert len(book.lessons) == len(load_lessons().lessons)


def test_two_lessons_with_one_number_keep_the_first(tmp_path):
    (tmp_path / "09-a.toml").write_text(GOOD)
    (tmp_path / "09-b.toml").write_text(GOOD)
    book = load_lessons(tmp_path)
    assert [lesson.key for lesson in book.lessons] == ["09-a"]
    assert "09-b.toml, line 1: another lesson already has number 9" in book.problems


def test_lesson_texts_lists_every_text_people_read_with_its_line(tmp_path):
    from core.lessons.content import lesson_texts

    (tmp_path / "09-teacher.toml").write_text(GOOD)
    texts = lesson_texts(tmp_path)
    assert list(texts) == ["lessons.09-teacher"]
    lines = dict(texts["lessons.09-teacher"])
    assert lines["A teacher's lesson"] == 2 and lines["One file, four steps."] == 3
    assert lines["Read its score."] == 12 and lines["How many pixels?"] == 15 and lines["8 times 8."] == 15
    assert "Train" in lines and "digits" not in lines  # titles are texts; settings are not
    shipped = lesson_texts()
    assert len(shipped) == len(load_lessons().lessons)
    first = dict(shipped["lessons.01-first-network"])
    assert first["Your first network"] == 2 and "Open Train with the Digits set" in first  # an action's label
    assert "the tutorial's network reached about 90%" in first  # a check's reference, shown once done


def test_a_lesson_text_with_a_brace_is_refused_with_its_line():
    bad = GOOD.replace('text = "Read its score."', 'text = "Read its {score}."')
    with pytest.raises(LessonError, match=r"line 12: a text people read may not hold"):
        parse_lesson("09-teacher.toml", bad)

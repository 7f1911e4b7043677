"""A class in a real browser (issue 24): a teacher starts a class, three students join with its code and
train tiny Digits runs, the board shows them and their best runs without a reload; a student sees the
leaderboard and cannot open the board or another student's run with any link it has.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from core.words import CLASS_WORDS
from tests.harness.browser import choose_option, open_page, save_screenshot, wait_for_idle, wait_until
from tests.harness.server import start_server

pytestmark = pytest.mark.e2e
STUDENTS = ("Ada", "Bob <b>", "Cy'; DROP TABLE runs;--")
UNKNOWN_BOARD = "This teacher link does not open any class board"


def board_text(page) -> str:
    tables = page.locator('[data-testid="stDataFrame"]')
    return " ".join(t.text_content() or "" for t in tables.all())


def set_number(page, label: re.Pattern, value: int) -> None:
    """Fill the number input whose label matches `label` (the words may change: the pattern names its term)."""
    field = page.get_by_role("spinbutton", name=label).first
    field.fill(str(value))
    field.press("Enter")
    wait_for_idle(page)


def open_class_box(page) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_text("Your class", exact=True).click()
    wait_for_idle(page)


def test_a_class_teacher_and_three_students(browser, browser_available):
    server = start_server()
    contexts = []

    def new_page():
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(60_000)
        contexts.append(context)
        return context.new_page()

    try:
        teacher = new_page()
        open_page(teacher, server.url, "Digit Lab")
        open_class_box(teacher)
        teacher.get_by_role("textbox", name="Name of the class").fill("Year 9 maths")
        teacher.get_by_role("button", name="Start a class").click()
        wait_until(teacher, lambda: "teacher=" in teacher.url, 60, "the board's teacher link")
        wait_for_idle(teacher)
        code = re.search(r"\b[A-Z0-9]{6}\b", teacher.locator(".st-key-class_code_box").inner_text()).group(0)
        assert re.fullmatch(r"[A-Z0-9]{6}", code), code
        teacher_key = parse_qs(urlsplit(teacher.url).query)["teacher"][0]
        # The challenge: Digits, any size (the board scores runs saved before test accuracy was kept).
        teacher.get_by_role("tab", name="Challenge").click()
        wait_for_idle(teacher)
        choose_option(teacher, CLASS_WORDS["challenge_dataset"].label, "Digits")
        teacher.get_by_role("spinbutton", name=re.compile("parameters", re.I)).fill("0")
        teacher.get_by_role("button", name="Set the challenge").click()
        wait_for_idle(teacher)

        students, lab_keys = [], []
        for name in STUDENTS:
            page = new_page()
            open_page(page, f"{server.url}/?join={code.lower()}", "Join the class Year 9 maths")
            page.get_by_role("textbox", name="Your name in the class").first.fill(name)
            if not students:
                save_screenshot(page, "classes_join")
            page.get_by_role("button", name="Join the class").first.click()
            wait_until(page, lambda p=page: "lab=" in p.url and "join=" not in p.url, 60, "the joined lab")
            wait_for_idle(page)
            lab_keys.append(parse_qs(urlsplit(page.url).query)["lab"][0])
            open_page(page, f"{server.url}/train?lab={lab_keys[-1]}", "Start training")
            set_number(page, re.compile("epochs", re.I), 2)
            set_number(page, re.compile("Training images", re.I), 200)
            page.get_by_role("button", name="Start training").click()
            students.append(page)
        save_screenshot(students[0], "classes_join_train")

        # The teacher's board fills in by itself: three students, each with a finished run and its scores.
        wait_until(teacher, lambda: all(n in board_text(teacher) for n in ("Ada", "Bob <b>", "DROP TABLE")),
                   120, "the three students on the board")
        # The grid's accessible table holds the raw scores (0.87...): each row's recipe, then the ranked three.
        wait_until(teacher, lambda: board_text(teacher).count("Digits (8x8) ·") >= 3
                   and re.search(r"3(Ada|Bob|Cy)[^\n]*?0\.\d", board_text(teacher)), 180,
                   lambda: f"three best runs with their scores, board: {board_text(teacher)[:600]}")
        assert "<b>" in board_text(teacher)  # a name with markup is shown as the text typed
        save_screenshot(teacher, "classes_board")

        # A student sees the leaderboard's names and scores on Train, and nothing else of the others.
        student = students[0]
        open_page(student, f"{server.url}/train?lab={lab_keys[0]}", "Class challenge")
        box = student.locator(".st-key-class_leaderboard")
        leaderboard = wait_until(student, lambda: (lambda t: t if "Bob <b>" in t else "")(box.text_content() or ""),
                                 30, "the names on the student's leaderboard")
        assert all(n in leaderboard for n in ("Ada", "Bob <b>")) and re.search(r"\d+(\.\d+)?%|0\.\d", leaderboard)
        save_screenshot(student, "classes_leaderboard")
        for link in (f"/board?teacher={lab_keys[0]}", f"/board?teacher={lab_keys[1]}", f"/board?teacher={code}",
                     f"/shared?run={lab_keys[1]}", f"/?lab={lab_keys[1]}&teacher={code}"):
            open_page(student, server.url + link, errors_ok=True)
            text = student.locator('[data-testid="stMain"]').inner_text()
            assert "Bob <b>" not in text and "Year 9 maths" not in text.replace("Join", ""), link
        open_page(student, f"{server.url}/board?teacher={lab_keys[0]}", UNKNOWN_BOARD, errors_ok=True)
        assert teacher_key not in student.url
    finally:
        for context in contexts:
            context.close()
        server.stop()

"""AppTests of classes (issue 24): Start a class, Join (link and typed code), the board, the leaderboard on
Train, and the safety rules: guessed teacher links and codes, a join link used as a teacher link, markup and
SQL in names, a student reaching another's run.
"""

import pytest
from streamlit.testing.v1 import AppTest

from core.i18n import translate
from core.server import guesses
from core.server.new_labs import NewLabCounter
from core.storage import sink as persistence
from core.storage.classes import CODE_ALPHABET, NOT_TRAINED_HERE, UNKNOWN_CODE, UNKNOWN_TEACHER_LINK
from core.storage.store import open_store
from tests.conftest import open_tab
from tests.harness.translations import english_left
from tests.test_app_home import visible_texts
from ui import lab as labs

TIMEOUT = 60


@pytest.fixture(autouse=True)
def fresh_guess_counters(monkeypatch):
    """All AppTests share one session id: every test starts with no wrong guesses and no classes counted."""
    monkeypatch.setattr(guesses, "WRONG_GUESSES", NewLabCounter(window=guesses.GUESS_WINDOW_SECONDS))
    monkeypatch.setattr(guesses, "NEW_CLASSES", NewLabCounter(window=guesses.NEW_CLASS_WINDOW_SECONDS))


@pytest.fixture
def store():
    opened = open_store()
    yield opened
    opened.close()


def open_at(page: str | None, **params) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.query_params.update(params)
    at.run()
    if page is not None:
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    kinds = (at.markdown, at.code, at.caption, at.error, at.warning, at.info, at.success, at.subheader, at.title)
    parts = [e.value for kind in kinds for e in kind]
    return "\n".join(str(p) for p in parts)


def class_with_students(store, digits_run, names=("Ada", "Bob")):
    """A class, its teacher key and code, and a lab per student holding `digits_run` (saved after joining)."""
    key, code = store.classes.create_class("Year 9")
    labs_of = {}
    for i, name in enumerate(names):
        lab_key = store.create_lab()
        lab_id = store.open_lab(lab_key)
        store.classes.join(lab_id, code, name)
        record = persistence.record_of(digits_run)
        record.metrics = dict(record.metrics) | {"test_accuracy": 0.8 + i / 100}
        run_id = store.save_run(lab_id, record, {persistence.MODEL_BLOB: persistence.model_bytes(digits_run)})
        labs_of[name] = (lab_key, lab_id, run_id)
    return key, code, labs_of


def test_start_a_class_from_the_sidebar_opens_its_board_with_code_and_links(store):
    at = open_at(None)
    at.session_state["class_box"] = True  # as a click on "Your class" does
    at.run()
    at.sidebar.text_input(key="sidebar_class_name").input("Year 9 *maths*")
    next(b for b in at.sidebar.button if b.label == "Start a class").click().run()
    assert not at.exception
    key, class_id = at.session_state["class_board"]  # the board opened in this tab, by the teacher link
    info = store.classes.open_board(key)
    assert info.class_id == class_id and info.name == "Year 9 *maths*"
    assert [t.value for t in at.title] == ["Year 9 \\*maths\\*"]  # plain text, not emphasis
    page = texts(at)
    assert info.code in page and f"?join={info.code}" in page and f"teacher={key}" in page


def test_the_board_shows_students_best_runs_leaderboard_and_csv(store, digits_run):
    key, code, students = class_with_students(store, digits_run)
    info = store.classes.open_board(key)
    store.classes.set_challenge(info.class_id, "digits", None)
    at = open_at("board", teacher=key)
    assert [t.value for t in at.title] == ["Year 9"]
    assert code in texts(at)
    [table, leaderboard] = at.dataframe
    assert list(table.value["Student"]) == ["Ada", "Bob"] and list(table.value["Runs"]) == [1, 1]
    assert list(leaderboard.value["Student"]) == ["Bob", "Ada"]  # 0.81 before 0.80
    assert list(leaderboard.value["Rank"]) == [1, 2]
    csv = at.get("download_button")[0]
    assert csv.proto.label == "Download the board (CSV)"


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_run_copied_from_a_share_link_is_listed_as_not_counted_with_its_reason(language, store, digits_run):
    key, code, students = class_with_students(store, digits_run, names=("Ada",))
    ada_lab, ada_run = students["Ada"][1:]
    cy = store.open_lab(store.create_lab())
    store.classes.join(cy, code, "Cy")
    store.copy_shared_run(store.share_run(ada_lab, ada_run), cy)  # Ada's run, in Cy's lab
    store.classes.set_challenge(store.classes.open_board(key).class_id, "digits", None)
    at = open_at("board", teacher=key, lang=language)
    leaderboard = at.dataframe[1].value
    student, rank = translate(language, "Student"), translate(language, "Rank")
    why = dict(zip(leaderboard[student], leaderboard[translate(language, "Not counted because")]))
    assert list(leaderboard[student]) == ["Ada", "Cy"] and leaderboard[rank].tolist()[0] == 1
    assert why["Cy"] == translate(language, NOT_TRAINED_HERE["copied"]) and why["Ada"] in ("", None)


def test_a_student_run_is_read_only_on_the_board(store, digits_run):
    key, _, students = class_with_students(store, digits_run)
    at = open_at("board", teacher=key)
    open_tab(at, "board_tabs", "A student's runs")
    at.selectbox(key="board_student").select("Ada").run()
    assert not at.exception
    assert [m.label for m in at.metric][:2] == ["Right on images it did not learn from (validation accuracy)",
                                                "Right on new images (test accuracy)"]
    assert at.metric[1].value == "80%"  # ui.i18n.percent: the language's way, as everywhere
    before = store.list_runs(students["Ada"][1])
    at.button(key="board_evaluate").click().run()
    assert not at.exception
    assert store.list_runs(students["Ada"][1]) == before  # looked at, nothing written


def test_remove_close_and_delete_from_the_board(store, digits_run):
    key, code, students = class_with_students(store, digits_run)
    at = open_at("board", teacher=key)
    open_tab(at, "board_tabs", "Manage the class")
    at.selectbox(key="board_remove_who").select("Bob").run()
    at.button(key="board_remove").click().run()
    assert store.classes.membership(students["Bob"][1]) is None
    assert store.classes.membership(students["Ada"][1]) is not None
    at.button(key="board_close").click().run()
    assert store.classes.find_code(code)[2] is True
    at.toggle(key="board_delete_armed").set_value(True).run()
    at.button(key="board_delete").click().run()
    assert not at.exception
    assert store.classes.open_board(key) is None
    assert len(store.list_runs(students["Ada"][1])) == 1  # the students' labs stay theirs
    assert UNKNOWN_TEACHER_LINK in texts(at)


def test_join_by_link_with_a_name_then_see_and_leave_the_class(store):
    _, code = store.classes.create_class("Year 9")
    at = open_at(None, join=code)
    assert "Join the class Year 9" in texts(at)
    at.text_input(key="link_name").input("<b>Ada</b> [x](http://evil)")
    next(b for b in at.button if b.label == "Join the class").click().run()
    assert not at.exception
    lab = at.session_state[labs.LAB]
    member = store.classes.membership(lab.lab_id)
    assert member.name == "<b>Ada</b> [x](http://evil)"  # stored as typed
    notice = at.sidebar.success[0].value
    assert "\\<b\\>Ada\\</b\\>" in notice and "<b>Ada</b>" not in notice  # shown as text, never as markup
    at.session_state["class_box"] = True
    at.run()
    next(b for b in at.sidebar.button if b.label == "Leave the class").click().run()
    assert store.classes.membership(lab.lab_id) is None
    assert at.session_state[labs.LAB] == lab  # the lab stays the tab's


def test_typed_codes_are_bounded_and_wrong_or_unknown_get_one_message(store, monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_CODE_GUESSES_PER_MINUTE", "3")
    _, code = store.classes.create_class("Year 9")
    wrong = next(c for c in CODE_ALPHABET if c != code[0]) + code[1:]
    at = open_at(None)
    at.session_state["class_box"] = True
    at.run()
    for guess in (wrong, "ZZZZZZ", "'; DROP TABLE classes;--"):
        at.sidebar.text_input(key="sidebar_code").input(guess)
        at.sidebar.text_input(key="sidebar_name").input("Eve")
        next(b for b in at.sidebar.button if b.label == "Join the class").click().run()
        assert [e.value for e in at.sidebar.error] == [UNKNOWN_CODE]
    assert labs.LAB not in at.session_state or at.session_state[labs.LAB] is None  # no lab for a wrong code
    at.sidebar.text_input(key="sidebar_code").input(code)  # the right one, after three wrong: refused too
    next(b for b in at.sidebar.button if b.label == "Join the class").click().run()
    assert [e.value for e in at.sidebar.error] == [guesses.TOO_MANY_GUESSES]
    assert labs.LAB not in at.session_state or at.session_state[labs.LAB] is None


def test_guessed_teacher_links_and_a_join_code_as_teacher_link_open_nothing(store):
    key, code = store.classes.create_class("Year 9")
    for guess in (code, key[:-2] + "AA" if not key.endswith("AA") else key[:-2] + "BB", "x" * 32, "<script>"):
        at = open_at("board", teacher=guess)
        assert UNKNOWN_TEACHER_LINK in texts(at) and "Year 9" not in texts(at)
    at = open_at("board")
    assert UNKNOWN_TEACHER_LINK in texts(at)


def test_a_join_link_opens_joining_only(store, digits_run):
    key, code, students = class_with_students(store, digits_run)
    at = open_at(None, join=code)
    page = texts(at)
    assert "Ada" not in page and "Bob" not in page and key not in page  # no students, no teacher link
    at.switch_page("pages/board.py").run()
    assert UNKNOWN_TEACHER_LINK in texts(at)


def test_students_see_the_leaderboard_on_train_names_and_scores_only(store, digits_run):
    key, _, students = class_with_students(store, digits_run)
    store.classes.set_challenge(store.classes.open_board(key).class_id, "digits", None)
    lab_key = students["Ada"][0]
    at = open_at("train", lab=lab_key)
    board = next(d for d in at.dataframe if d.key == "student_leaderboard" or "Student" in d.value.columns)
    assert list(board.value.columns) == ["Rank", "Student", "Right on new images (test accuracy)"]
    assert list(board.value["Student"]) == ["Bob", "Ada"]
    store.classes.set_closed(store.classes.open_board(key).class_id)
    at.run()
    assert not any("Student" in d.value.columns and "Rank" in d.value.columns for d in at.dataframe)


def test_a_student_cannot_read_another_students_run_by_its_id(store, digits_run):
    _, _, students = class_with_students(store, digits_run)
    _, ada_lab, _ = students["Ada"]
    _, _, bob_run = students["Bob"]
    assert store.get_run(bob_run, ada_lab) is None
    with pytest.raises(LookupError):
        store.load_blob(bob_run, ada_lab, persistence.MODEL_BLOB)
    at = open_at("shared", run=str(bob_run))  # a run id is no share link
    assert "does not open any run" in texts(at)


def test_join_with_a_code_typed_on_home(store):
    _, code = store.classes.create_class("Year 9")
    at = open_at(None)
    at.session_state["home_class"] = True  # as a click on the home page's class box does
    at.run()
    at.text_input(key="home_code").input(f" {code[:3].lower()}-{code[3:]} ")  # as a pupil types it
    at.text_input(key="home_name").input("Ada")
    next(b for b in at.main.button if b.label == "Join the class").click().run()
    assert not at.exception
    member = store.classes.membership(at.session_state[labs.LAB].lab_id)
    assert (member.class_name, member.name) == ("Year 9", "Ada")


BOARD_TABS = {"es": ["Comparar los mejores entrenamientos", "Los entrenamientos de un estudiante", "Reto",
                     "Gestionar la clase"],
              "de": ["Beste Trainings vergleichen", "Die Trainings einer Person", "Challenge", "Klasse verwalten"]}


@pytest.mark.parametrize("language", ["es", "de"])
def test_the_board_in_spanish_and_german_leaves_no_english_of_its_own(language, store, digits_run):
    key, _, _ = class_with_students(store, digits_run)
    store.classes.set_challenge(store.classes.open_board(key).class_id, "digits", 50_000)
    at = open_at("board", teacher=key, lang=language)
    texts = visible_texts(at)
    assert "Ada" in str(at.dataframe[0].value[translate(language, "Student")].tolist())
    for tab in BOARD_TABS[language]:
        open_tab(at, "board_tabs", tab)
        if tab == BOARD_TABS[language][1]:
            at.selectbox(key="board_student").select("Ada").run()
        texts += visible_texts(at)
    assert not at.exception
    assert any("50.000" in t.replace("\\", "") for t in texts)  # the challenge's bound, written the language's way
    left = english_left(texts, language)
    assert not left, f"English left on the board in {language}: {left}"


def test_the_board_charts_say_what_they_show(store, digits_run):
    key, _, _ = class_with_students(store, digits_run)
    at = open_at("board", teacher=key)
    for tab in ("Compare best runs", "A student's runs"):
        open_tab(at, "board_tabs", tab)
        if tab == "A student's runs":
            at.selectbox(key="board_student").select("Ada").run()
        charts = at.get("plotly_chart")
        assert len(charts) == 2 and all(chart.proto.alt for chart in charts), tab
        assert any("Ada" in chart.proto.alt for chart in charts)  # which run ended where, by its name

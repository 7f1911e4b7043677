"""AppTests of the lessons: the Learn page, the step panel beside the work, Home's "Continue lesson N, step M",
and a scripted learner who completes every lesson (its runs, events and digits written to the lab's store as
the app would: trainings are too slow for this test), seeing each check fail before and pass after."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.lessons.actions import action_link
from core.lessons.answers import expected_answer
from core.lessons.content import Lesson, load_lessons
from core.lessons.state import LabEvent, LabState, facts_from_run
from core.model.settings import DEFAULT_VALUES
from core.model.spec import spec_from_values, spec_to_dict, values_from_link
from core.storage import progress
from core.storage import sink as persistence
from core.storage.records import RunRecord
from core.storage.store import open_store
from ui.text import plain

TIMEOUT = 60
BOOK = load_lessons()


@pytest.fixture
def store():
    opened = open_store()
    yield opened
    opened.close()


def open_learn(key: str | None = None) -> AppTest:
    """The Learn page as a visitor opens it (AppTest starts at the home page), with the lab's key if given."""
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    if key is not None:
        at.query_params["lab"] = key
    at.run()
    at.switch_page("pages/learn.py").run()
    assert not at.exception, at.exception
    return at


def panel_text(at: AppTest) -> str:
    return " ".join(e.value for kind in ("markdown", "caption", "info", "success", "warning")
                    for e in getattr(at.sidebar, kind))


def lab_of(at: AppTest) -> tuple[str, int]:
    lab = at.session_state["lab"]
    return lab.key, lab.lab_id


# -- the scripted learner's work ------------------------------------------------------------------

def step_values(lesson: Lesson, index: int) -> dict:
    """The Train form's values after the lesson's last "set up" up to this step, as the link fills them."""
    values = dict(DEFAULT_VALUES)
    for step in lesson.steps[: index + 1]:
        if step.action == "set_up" and step.action_params.get("mode", "train") != "fine_tune":
            link = action_link(step.action, step.action_params)
            values.update(values_from_link(link.params)[0])
    return values


def save_run(store, lab_id: int, values: dict, *, accuracy: float = 0.95, source: str = "trained",
             sweep: str | None = None, epochs: int | None = None, first: float = 0.5) -> None:
    spec = spec_from_values(values)
    count = epochs or spec.epochs
    losses = [1.0 / (i + 1) for i in range(count)]
    losses[-1] = losses[max(count - 3, 0)] + 0.1 if count > 3 else losses[-1]  # turns up at the end
    history = {"loss": [0.5] * count, "val_loss": losses, "val_accuracy": [first] + [accuracy] * (count - 1),
               "accuracy": [accuracy] * count}
    store.save_run(lab_id, RunRecord(name=f"Run {values['optimizer']} {values['hidden']}", dataset=spec.dataset,
                                     source=source, spec=spec_to_dict(spec), history=history,
                                     metrics={"val_accuracy": accuracy, "val_loss": min(losses)},
                                     epochs_done=count, sweep=sweep))


def do_wrong_work(store, lab_id: int, lesson: Lesson, index: int) -> bool:
    """Work that does not meet the step's check (another kind of network, a drawing read as 1); False if none."""
    step = lesson.steps[index]
    params, values = step.check_params, step_values(lesson, index)
    if step.check == "run" and "network" in params:
        other = {"softmax": {"hidden": "128"}, "hidden": {"hidden": ""}, "cnn": {"kind": "dense"}}[params["network"]]
        save_run(store, lab_id, {**values, **other})
        return True
    if step.check == "run" and params.get("stopped_early"):
        save_run(store, lab_id, values)  # used every epoch
        return True
    if step.check == "event" and params.get("value") is not None:
        progress.record_event(store, lab_id, params["event"], "1")
        return True
    if step.check == "digits":
        store.add_digits(lab_id, [3], np.zeros((1, 28, 28), np.uint8))
        return True
    return False


def do_right_work(store, lab_id: int, lesson: Lesson, index: int) -> None:
    """What the learner does when following the step: the run, the comparison, the event or the digits it asks."""
    step = lesson.steps[index]
    params, values = step.check_params, step_values(lesson, index)
    if step.check == "run" and not any(p in params for p in ("network", "stopped_early", "source", "dropout",
                                                            "min_runs", "min_accuracy")):
        return  # the step before made the run it reads
    if step.check == "run":
        for _ in range(params.get("min_runs", 1)):
            epochs = 4 if params.get("stopped_early") else None
            save_run(store, lab_id, values, source=params.get("source", "trained"), epochs=epochs)
    elif step.check == "sweep":
        link = action_link(step.action, step.action_params) if step.action else None
        if link is not None:
            for n, option in enumerate(link.params["values"].split(",")):
                save_run(store, lab_id, {**values, **values_from_link({params["vary"]: option})[0]},
                         accuracy=0.9 + n / 100, first=0.9 - n / 100, sweep=f"{lesson.key} sweep")
    elif step.check == "event":
        progress.record_event(store, lab_id, params["event"], params.get("value", "4>9"))
    elif step.check == "digits":
        store.add_digits(lab_id, [d % 10 for d in range(params["min"])], np.zeros((params["min"], 28, 28), np.uint8))


def answer_of(store, lab_id: int, lesson: Lesson, index: int):
    """The right answer for this learner, judged on their own lab as the app judges it."""
    runs = tuple(facts_from_run(persistence.run_of_record(r)) for r in store.list_runs(lab_id))
    events = tuple(LabEvent(k, v) for k, v in progress.list_events(store, lab_id))
    question = lesson.steps[index].question
    expected, missing = expected_answer(question, LabState(runs, events, progress.count_digits(store, lab_id)))
    assert missing is None, missing
    return expected if expected is not None else question.choices[0]


# -- tests ----------------------------------------------------------------------------------------

def test_learn_lists_every_lesson_and_the_glossary_without_a_lab():
    at = open_learn()
    headers = [s.value for s in at.subheader]
    assert [f"Lesson {lesson.number} · {lesson.title}" for lesson in BOOK.lessons] == headers[: len(BOOK.lessons)]
    assert any(h.value == "Glossary" for h in at.header)
    text = " ".join(m.value for m in at.markdown)
    assert "**epoch**:" in text and "**overfitting**:" in text
    assert "lab" not in at.session_state or at.session_state["lab"] is None  # a visit makes no lab


def test_a_bad_lesson_file_is_named_on_learn_and_the_others_still_show(tmp_path, monkeypatch):
    import shutil

    from core.lessons import content

    for path in content.LESSONS_DIR.glob("*.toml"):
        shutil.copy(path, tmp_path)
    (tmp_path / "07-broken.toml").write_text('number = 7\ntitle = "Broken\n')
    monkeypatch.setenv(content.LESSONS_DIR_ENV, str(tmp_path))
    from ui.lessons import lesson_book

    lesson_book.clear()  # the cached book predates the patch
    at = open_learn()
    assert not at.exception
    assert any(plain("07-broken.toml, line 2") in w.value for w in at.warning), [w.value for w in at.warning]
    assert len([s for s in at.subheader if s.value.startswith("Lesson ")]) == len(BOOK.lessons)
    lesson_book.clear()


def test_starting_a_lesson_makes_the_lab_shows_the_step_beside_train_and_home_offers_to_continue(store):
    at = open_learn()
    at.button(key="start_lesson_1").click().run()
    assert not at.exception and at.title[0].value == "Train"  # the step's page
    at.switch_page("pages/train.py").run()  # AppTest's widgets answer again once the switch is its own
    key, lab_id = lab_of(at)
    assert progress.read_progress(store, lab_id)["01-first-network"].active
    first = BOOK.lessons[0].steps[0]
    assert first.title in panel_text(at) and "step 1 of" in panel_text(at)
    at.number_input(key="lesson_answer_01-first-network_0").set_value(60).run()
    at.button(key="lesson_answer_button_01-first-network_0").click().run()
    assert "Not quite" in panel_text(at) and at.button(key="lesson_next").disabled
    at.number_input(key="lesson_answer_01-first-network_0").set_value(64).run()
    at.button(key="lesson_answer_button_01-first-network_0").click().run()
    assert "Right: 64" in panel_text(at)
    at.button(key="lesson_next").click().run()
    assert BOOK.lessons[0].steps[1].title in panel_text(at)
    assert "no finished run yet" in panel_text(at)  # the check, on the lab's real (empty) state
    # A run the step asks for, but copied from someone's share link: it is not the learner's own work.
    save_run(store, lab_id, step_values(BOOK.lessons[0], 1), source="copied")

    home = AppTest.from_file("../app.py", default_timeout=TIMEOUT)  # another browser with the lab's link
    home.query_params["lab"] = key
    home.run()
    assert not home.exception
    assert "no finished run yet" in panel_text(home)
    assert home.button(key="home_continue_lesson").label == "Continue lesson 1, step 2"
    assert BOOK.lessons[0].steps[1].title in panel_text(home)  # the same step, from the store
    home.button(key="lesson_leave").click().run()
    assert "lesson_panel" not in str(home.sidebar) and not progress.read_progress(store, lab_id)[
        "01-first-network"].active


@pytest.mark.parametrize("lesson", BOOK.lessons, ids=lambda lesson: lesson.key)
def test_a_scripted_learner_completes_the_lesson_each_check_failing_before_and_passing_after(lesson, store):
    at = open_learn()
    at.button(key=f"start_lesson_{lesson.number}").click().run()
    assert not at.exception, at.exception
    key, lab_id = lab_of(at)
    at.switch_page("pages/learn.py").run()
    for index, step in enumerate(lesson.steps):
        text = panel_text(at)
        assert f"step {index + 1} of {len(lesson.steps)}" in text and step.title in text, (index, text)
        if step.check != "none" and not at.sidebar.success:
            assert at.button(key="lesson_next").disabled, step.title
            if do_wrong_work(store, lab_id, lesson, index):
                at.run()
                assert at.sidebar.info and not at.sidebar.success, (step.title, panel_text(at))
                assert at.button(key="lesson_next").disabled
        do_right_work(store, lab_id, lesson, index)
        at.run()
        assert not at.exception, at.exception
        if step.check != "none":
            assert any(s.value.startswith("Done") for s in at.sidebar.success), (step.title, panel_text(at))
        if step.question is not None:
            answer = answer_of(store, lab_id, lesson, index)
            widget_key = f"lesson_answer_{lesson.key}_{index}"
            widget = at.radio(key=widget_key) if step.question.choices else at.number_input(key=widget_key)
            widget.set_value(answer).run()
            at.button(key=f"lesson_answer_button_{lesson.key}_{index}").click().run()
            assert any(step.question.explain in s.value for s in at.sidebar.success), (
                panel_text(at), answer, progress.read_progress(store, lab_id)[lesson.key].answers)
        next_button = at.button(key="lesson_next")
        assert not next_button.disabled, (step.title, panel_text(at))
        next_button.click().run()
        assert not at.exception, at.exception
    assert progress.read_progress(store, lab_id)[lesson.key].finished
    at.switch_page("pages/learn.py")
    at.run()
    assert any(s.value == "Finished" for s in at.success)


SET_UPS = {f"{lesson.key} step {i + 1}": step for lesson in BOOK.lessons for i, step in enumerate(lesson.steps)
           if step.action == "set_up" and step.action_params.get("mode", "train") == "train"
           and step.action_params.get("settings", {}).get("hidden") == ""}  # softmax, CNN: an empty box in the link


@pytest.mark.parametrize("name", sorted(SET_UPS))
def test_a_set_up_link_fills_the_train_form_and_starts_nothing(name):
    """What "Set up this network" opens: Train with the lab's and the step's query parameters (mode=... is the
    Train page's, in modes; today's page ignores it), the form filled through the settings-link path."""
    link = action_link("set_up", SET_UPS[name].action_params)
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.query_params.update(link.params)
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    values = values_from_link(link.params)[0]
    assert at.text_input(key="hidden").value == values["hidden"]
    assert at.selectbox(key="dataset").value == values["dataset"]
    assert at.radio(key="kind").value == values["kind"]
    assert at.number_input(key="epochs").value == values["epochs"]
    assert not at.warning and at.session_state["training_job"] is None


def test_without_a_database_a_lesson_is_kept_in_the_tab(tmp_path, monkeypatch):
    from ui import lab as labs

    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("DIGITLAB_DATABASE_URL", f"sqlite:///{broken}")
    labs.shared_store.clear()
    try:
        at = open_learn()
        at.button(key="start_lesson_4").click().run()
        assert not at.exception
        at.switch_page("pages/learn.py").run()
        assert "Compare five optimizers" in panel_text(at) and "not run a comparison yet" in panel_text(at)
        at.button(key="lesson_skip").click().run()
        assert "step 2 of 4" in panel_text(at)
        assert at.session_state["lessons_local"]["04-which-optimizer"].step == 1
    finally:
        labs.shared_store.clear()

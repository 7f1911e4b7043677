"""core.lessons.answers: a question judged against the file's answer or the learner's own figures."""

from core.lessons.answers import judge_answer, step_status
from core.lessons.content import Question, Step
from tests.core.lessons.scripted import lab, run_facts

ACCURACY = Question(ask="What did it reach, in %?", explain="That is its score.", answer_from="newest_accuracy",
                    tolerance=1.0)


def test_a_number_is_judged_against_the_learners_own_run():
    state = lab(run_facts(accuracy=0.912))
    assert judge_answer(ACCURACY, "91", state).passed
    wrong = judge_answer(ACCURACY, "98", state)
    assert not wrong.passed and "91.2" in wrong.message and "That is its score." in wrong.message
    assert judge_answer(ACCURACY, "98", lab(run_facts(accuracy=0.975))).passed  # another learner, other figure
    assert "Please write a number" in judge_answer(ACCURACY, "lots", state).message
    assert "Train a run first" in judge_answer(ACCURACY, "91", lab()).message


def test_a_choice_whose_key_comes_from_a_figure():
    question = Question(ask="Which did better?", explain="Why.", choices=("The CNN", "The dense network"),
                        keys=("cnn", "hidden"), answer_from="best_network")
    state = lab(run_facts(dataset="mnist", accuracy=0.95), run_facts(dataset="mnist", kind="cnn", accuracy=0.97))
    assert judge_answer(question, "The CNN", state).passed
    assert "the answer is The CNN" in judge_answer(question, "The dense network", state).message


def test_a_question_without_an_answer_accepts_any_and_explains():
    question = Question(ask="What do you think?", explain="Most do worse.", choices=("Better", "Worse"))
    assert judge_answer(question, "Better", lab()).message == "Most do worse."


def test_a_step_is_done_when_its_check_passes_and_its_question_is_answered_right():
    step = Step(title="t", text="t", page="train", check="run", check_params={"dataset": "digits"},
                question=ACCURACY)
    state = lab(run_facts(accuracy=0.9))
    assert not step_status(step, lab()).done
    assert not step_status(step, state).done  # not answered yet
    assert not step_status(step, state, "50").done
    assert step_status(step, state, "90").done


def test_a_verdict_translates_its_template_its_numbers_and_the_lessons_own_explanation():
    from core.i18n import translate
    from core.lessons.content import load_lessons

    first = load_lessons().get("01-first-network")
    assert first is not None
    question = first.steps[0].question  # "How many dots (pixels)...", 64
    assert question is not None
    wrong = judge_answer(question, "60", lab())
    assert wrong.message.startswith("Not quite: look again (the answer is 64).")  # English stays as it was
    spanish, german = translate("es", wrong.message), translate("de", wrong.message)
    assert spanish.startswith("No del todo") and "64" in spanish and "8 filas de 8 puntos" in spanish
    assert german.startswith("Nicht ganz") and "8 Reihen" in german

"""A question's answer judged (against the learner's own figures where it depends on them), and a step's
status: its check, and its question when it has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.i18n import Number, message
from core.lessons.checks import FIGURES, Verdict, judge, lesson_text
from core.lessons.content import Question, Step
from core.lessons.state import LabState


@dataclass(frozen=True)
class StepStatus:
    check: Verdict
    answered: Verdict | None  # None: no question, or not answered yet

    @property
    def done(self) -> bool:
        return self.check.passed and (self.answered is None or self.answered.passed)


def expected_answer(question: Question, state: LabState) -> tuple[object, str | None]:
    """The right answer: the file's, or the learner's own figure; (None, why) when that is not there yet."""
    if question.answer_from is None:
        return question.answer, None
    value, missing = FIGURES[question.answer_from](state, question.keys)
    if value is None:
        return None, missing
    if question.keys:  # the figure names a key; the learner reads the choice that goes with it
        by_key = {k.lower(): c for k, c in zip(question.keys, question.choices)}
        return by_key.get(str(value).lower(), str(value)), None
    return value, None


def judge_answer(question: Question, given: object, state: LabState) -> Verdict:
    """Right or not, with the explanation; a number within the question's tolerance is right."""
    expected, missing = expected_answer(question, state)
    if missing is not None:
        return Verdict(False, message("Not yet: {missing}", missing=missing))
    explain = lesson_text(question.explain)
    if expected is None:  # any answer is fine: the question asks what the learner thinks
        return Verdict(True, explain)
    if question.is_number:
        try:
            number = float(str(given))
        except ValueError:
            return Verdict(False, message("Please write a number."))
        if abs(number - float(str(expected))) <= question.tolerance:
            return Verdict(True, message("Right: {answer}. {explain}", answer=Number(expected), explain=explain)
                           if isinstance(expected, float | int) else message("Right. {explain}", explain=explain))
        return Verdict(False, message("Not quite: look again (the answer is {answer}). {explain}",
                                      answer=Number(expected), explain=explain)
                       if isinstance(expected, float | int) else message("Not quite. {explain}", explain=explain))
    if str(given).lower() == str(expected).lower():
        return Verdict(True, message("Right. {explain}", explain=explain))
    shown = lesson_text(str(expected)) if str(expected) in question.choices else str(expected)
    return Verdict(False, message("Not quite: on your runs the answer is {answer}. {explain}", answer=shown,
                                  explain=explain))


def step_status(step: Step, state: LabState, given: object | None = None) -> StepStatus:
    """The step's check on the lab, and its question judged when the learner has answered."""
    check = judge(state, step.check, step.check_params)
    if step.question is None:
        return StepStatus(check, None)
    answered = judge_answer(step.question, given, state) if given is not None else Verdict(False, "")
    return StepStatus(check, answered)

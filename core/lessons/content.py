"""Lesson files (lessons/NN-name.toml), read and checked against one schema.

A teacher adds a lesson by writing one file: its number, title and summary, then 4-8 `[[steps]]`,
each with a title, its text, the page its work happens on, an optional action (core.lessons.actions),
a check (core.lessons.checks), an optional question, and the glossary terms it uses. A bad file is
refused with its name, line and what is wrong (`LessonError`); the others still load.

Shape of a step (TOML):
    [[steps]]
    title = "Train it"
    page = "train"
    text = "..."
    terms = ["epoch"]
    action = { kind = "set_up", settings = { dataset = "digits", hidden = "15" } }
    check = { kind = "run", dataset = "digits", min_accuracy = 0.85 }
    question = { ask = "...", choices = ["A", "B"], answer = "B", explain = "..." }  # or answer_from
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.lessons.actions import ACTIONS, PAGES
from core.lessons.checks import CHECKS, FIGURES
from core.words import GLOSSARY

LESSONS_DIR = Path(__file__).resolve().parents[2] / "lessons"
LESSONS_DIR_ENV = "DIGITLAB_LESSONS_DIR"  # a teacher's own folder of lesson files instead of lessons/
MIN_STEPS, MAX_STEPS = 4, 8
MAX_FILE_BYTES = 64_000  # a lesson is a few kB of text; a bigger file is a mistake


class LessonError(ValueError):
    """A lesson file that cannot be used: its message names the file, the line and what is wrong."""


class FieldError(ValueError):
    """What is wrong with one field of a step (`key`: the field, to find its line)."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Question:
    ask: str
    explain: str  # shown after an answer
    choices: tuple[str, ...] = ()  # empty: the answer is a number
    keys: tuple[str, ...] = ()  # what answer_from's figure gives for each choice (default: the choices)
    answer: Any = None  # a choice's text, or a number; None with answer_from, or when any answer is fine
    answer_from: str | None = None  # a key of core.lessons.checks.FIGURES: judged on the learner's own runs
    tolerance: float = 0.0  # numbers: how far off an answer may be

    @property
    def is_number(self) -> bool:
        return not self.choices


@dataclass(frozen=True)
class Step:
    title: str
    text: str
    page: str  # where its work happens (one of core.lessons.actions.PAGES)
    check: str  # a key of CHECKS
    check_params: Mapping[str, Any]
    action: str | None = None  # a key of ACTIONS
    action_params: Mapping[str, Any] | None = None
    question: Question | None = None
    terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lesson:
    key: str  # the file's name without .toml: "01-first-network" (what progress is kept under)
    number: int
    title: str
    summary: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class LessonBook:
    lessons: tuple[Lesson, ...]
    problems: tuple[str, ...]  # one message per refused file

    def get(self, key: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.key == key), None)


class Lines:
    """Where things are in a file's text: the line of its n-th [[steps]] and of a key inside it."""

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.steps = [i + 1 for i, line in enumerate(self.lines) if line.strip() == "[[steps]]"]

    def of_key(self, key: str, step: int | None = None) -> int:
        """The line of `key = ...` (or `[steps.key]`) in step `step` (0-based), or at the top; 1 if not found."""
        start = self.steps[step] if step is not None and step < len(self.steps) else 1
        end = self.steps[step + 1] if step is not None and step + 1 < len(self.steps) else len(self.lines) + 1
        if step is None:
            end = self.steps[0] if self.steps else len(self.lines) + 1
        for number in range(start, end):
            line = self.lines[number - 1].strip()
            if line.startswith((f"{key} ", f"{key}=", f"[steps.{key}]")):
                return number
        return start


def fail(name: str, line: int, what: str) -> LessonError:
    return LessonError(f"{name}, line {line}: {what}")


def text_field(data: Mapping[str, Any], key: str, where: str) -> str:
    """A required, non-empty text field; ValueError says which."""
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}'s {key!r} is missing (it must be some text)")
    return " ".join(value.split())


def check_params(kind_name: str, params: Mapping[str, Any], registry: str) -> None:
    """Params of a check: known names, the right types, the allowed values; ValueError says which."""
    kind = CHECKS[kind_name]
    for name, value in params.items():
        if name not in kind.params:
            raise ValueError(f"the {registry} {kind_name!r} takes no {name!r} (it takes "
                             f"{', '.join(kind.params) or 'nothing'})")
        if not isinstance(value, kind.params[name]) or (isinstance(value, bool) and kind.params[name] is not bool):
            raise ValueError(f"the {registry} {kind_name!r}'s {name!r} has the wrong type: {value!r}")
        if name in kind.choices and value not in kind.choices[name]:
            raise ValueError(f"the {registry} {kind_name!r}'s {name!r} is {value!r}, not one of "
                             f"{', '.join(kind.choices[name])}")
    for name in kind.required:
        if name not in params:
            raise ValueError(f"the {registry} {kind_name!r} needs {name!r}")


def read_table(data: Mapping[str, Any], key: str, registry: Mapping[str, Any], what: str) -> tuple[str, dict]:
    """A step's `check` or `action`: its kind (a registry key) and its other params."""
    table = data.get(key)
    if not isinstance(table, dict) or "kind" not in table:
        raise ValueError(f"the step's {key} must be a table with a kind, like {key} = {{ kind = ... }}")
    kind = table["kind"]
    if kind not in registry:
        raise ValueError(f"unknown {what} kind {kind!r} (known: {', '.join(registry)})")
    return kind, {k: v for k, v in table.items() if k != "kind"}


def read_question(data: Any) -> Question:
    if not isinstance(data, dict):
        raise ValueError("the question must be a table, like question = { ask = ..., explain = ... }")
    allowed = {"ask", "explain", "choices", "keys", "answer", "answer_from", "tolerance"}
    if unknown := set(data) - allowed:
        raise ValueError(f"the question has unknown fields {sorted(unknown)} (it takes {sorted(allowed)})")
    choices = tuple(str(c) for c in data.get("choices", ()))
    keys = tuple(str(k) for k in data.get("keys", ()))
    answer, answer_from = data.get("answer"), data.get("answer_from")
    if answer_from is not None and answer_from not in FIGURES:
        raise ValueError(f"the question's answer_from {answer_from!r} is not one of {', '.join(FIGURES)}")
    if keys and len(keys) != len(choices):
        raise ValueError("the question's keys must be as many as its choices")
    if choices and answer is not None and str(answer) not in choices:
        raise ValueError(f"the question's answer {answer!r} is not one of its choices")
    if not choices and answer is None and answer_from is None:
        raise ValueError("a question without choices needs a number answer, or answer_from")
    if not choices and answer is not None and not isinstance(answer, int | float):
        raise ValueError(f"a question without choices needs a number answer, not {answer!r}")
    return Question(ask=text_field(data, "ask", "the question"), explain=text_field(data, "explain", "the question"),
                    choices=choices, keys=keys, answer=answer, answer_from=answer_from,
                    tolerance=float(data.get("tolerance", 0.0)))


def read_step(data: Any, index: int) -> Step:
    """One [[steps]] table; FieldError names the field that is wrong."""
    where = f"step {index + 1}"
    if not isinstance(data, dict):
        raise FieldError("title", f"{where} must be a table ([[steps]])")
    allowed = {"title", "text", "page", "action", "check", "question", "terms"}
    if unknown := set(data) - allowed:
        raise FieldError(sorted(unknown)[0],
                         f"{where} has unknown fields {sorted(unknown)} (it takes {sorted(allowed)})")
    page = data.get("page", "train")
    if page not in PAGES:
        raise FieldError("page", f"{where}'s page {page!r} is not one of {', '.join(PAGES)}")
    try:
        check, params = read_table(data, "check", CHECKS, "check")
        check_params(check, params, "check")
    except ValueError as error:
        raise FieldError("check", f"{where}: {error}") from None
    action, action_params = None, None
    if "action" in data:
        try:
            action, action_params = read_table(data, "action", ACTIONS, "action")
        except ValueError as error:
            raise FieldError("action", f"{where}: {error}") from None
        if problems := ACTIONS[action].problems(action_params):
            raise FieldError("action", f"{where}'s action {action!r}: {'; '.join(problems)}")
    terms = tuple(data.get("terms", ()))
    if missing := [t for t in terms if t not in GLOSSARY]:
        raise FieldError("terms", f"{where} links to terms that are not in the glossary (core.words.GLOSSARY): "
                                  f"{missing}")
    try:
        question = read_question(data["question"]) if "question" in data else None
    except ValueError as error:
        raise FieldError("question", f"{where}: {error}") from None
    try:
        title, text = text_field(data, "title", where), text_field(data, "text", where)
    except ValueError as error:
        raise FieldError("title", str(error)) from None
    return Step(title=title, text=text, page=page, check=check, check_params=params, action=action,
                action_params=action_params, question=question, terms=terms)


def parse_lesson(name: str, text: str) -> Lesson:
    """One lesson file's text (`name` is its file name, for messages); LessonError names the line and the problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"at line (\d+)", str(error))  # Python 3.14 also has error.lineno
        line = int(found.group(1)) if found else 1
        raise fail(name, line, f"this is not valid TOML ({error})") from None
    lines = Lines(text)
    for key in ("number", "title", "summary"):
        if key not in data:
            raise fail(name, 1, f"the lesson's {key!r} is missing")
    if not isinstance(data["number"], int) or isinstance(data["number"], bool) or data["number"] < 1:
        raise fail(name, lines.of_key("number"), f"the lesson's number must be a whole number above 0, "
                                                 f"not {data['number']!r}")
    steps = data.get("steps", [])
    if not isinstance(steps, list) or not MIN_STEPS <= len(steps) <= MAX_STEPS:
        count = len(steps) if isinstance(steps, list) else 0
        raise fail(name, lines.steps[-1] if lines.steps else 1,
                   f"a lesson has {MIN_STEPS} to {MAX_STEPS} steps ([[steps]]), this one {count}")
    read: list[Step] = []
    for index, step in enumerate(steps):
        try:
            read.append(read_step(step, index))
        except FieldError as error:
            raise fail(name, lines.of_key(error.key, index), str(error)) from None
    try:
        title, summary = text_field(data, "title", "the lesson"), text_field(data, "summary", "the lesson")
    except ValueError as error:
        raise fail(name, 1, str(error)) from None
    lesson = Lesson(key=Path(name).stem, number=data["number"], title=title, summary=summary, steps=tuple(read))
    for shown, line in texts_with_lines(lesson, lines):
        if "{" in shown or "}" in shown:  # a text is a translation template too: a brace would break it
            raise fail(name, line, f"a text people read may not hold {{ or }}: {shown[:60]!r}")
    return lesson


def lessons_dir() -> Path:
    """Where the lesson files are: DIGITLAB_LESSONS_DIR when set, else the app's lessons/."""
    return Path(os.environ.get(LESSONS_DIR_ENV, "").strip() or LESSONS_DIR)


def load_lessons(folder: Path | None = None) -> LessonBook:
    """Every lesson file of `folder` (*.toml; default lessons_dir()), by number; a file that cannot be used is
    a problem instead (a folder that does not exist too)."""
    folder = lessons_dir() if folder is None else folder
    if not folder.is_dir():
        return LessonBook((), (f"{folder}: there is no such folder of lesson files ({LESSONS_DIR_ENV})",))
    lessons: list[Lesson] = []
    problems: list[str] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise fail(path.name, 1, f"the file is over {MAX_FILE_BYTES:,} bytes")
            lesson = parse_lesson(path.name, path.read_text(encoding="utf-8"))
            if any(other.number == lesson.number for other in lessons):
                raise fail(path.name, Lines(path.read_text(encoding="utf-8")).of_key("number"),
                           f"another lesson already has number {lesson.number}")
            lessons.append(lesson)
        except (LessonError, UnicodeDecodeError, OSError) as error:
            problems.append(str(error) if isinstance(error, LessonError) else f"{path.name}: {error}")
    return LessonBook(tuple(sorted(lessons, key=lambda lesson: lesson.number)), tuple(problems))


def texts_with_lines(lesson: Lesson, lines: Lines) -> list[tuple[str, int]]:
    """Every text people read in one lesson (as the page shows it), with the line of its key in the file."""
    found = [(lesson.title, lines.of_key("title")), (lesson.summary, lines.of_key("summary"))]
    for index, step in enumerate(lesson.steps):
        found += [(step.title, lines.of_key("title", index)), (step.text, lines.of_key("text", index))]
        if step.action_params and isinstance(label := step.action_params.get("label"), str):
            found.append((label, lines.of_key("action", index)))
        if isinstance(reference := step.check_params.get("reference"), str):
            found.append((reference, lines.of_key("check", index)))
        if step.question is not None:
            line = lines.of_key("question", index)
            found += [(step.question.ask, line), *((choice, line) for choice in step.question.choices),
                      (step.question.explain, line)]
    return found


def lesson_texts(folder: Path | None = None) -> dict[str, list[tuple[str, int]]]:
    """The lessons' texts by catalog name ("lessons.01-first-network"): what a translator translates.

    Only the lessons that load; each text once per file, in the file's order."""
    folder = lessons_dir() if folder is None else folder
    out: dict[str, list[tuple[str, int]]] = {}
    for lesson in load_lessons(folder).lessons:
        lines = Lines((folder / f"{lesson.key}.toml").read_text(encoding="utf-8"))
        firsts: dict[str, int] = {}
        for text, line in texts_with_lines(lesson, lines):
            firsts.setdefault(text, line)
        out[f"lessons.{lesson.key}"] = list(firsts.items())
    return out

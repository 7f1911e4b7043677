"""The lessons' place in the store: each lab's progress per lesson, and its lesson events.

Functions over a `Store` (its `reading`/`writing` transactions), so that core.storage.store stays the
runs' and labs' class. Progress is one row per (lab, lesson): the step it is on, finished or not,
whether it is the lab's lesson in progress (at most one is), and the answers given. Events are what a
lesson's check needs that the runs do not hold (core.lessons.state.EVENT_KINDS); a lab keeps its newest
`read_limit("lab_events")` of them, the oldest deleted in the same transaction as a new one.
Everything is deleted with its lab (ON DELETE CASCADE).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from sqlalchemy import delete, func, insert, select, update

from core.limits import read_limit
from core.storage.schema import digits_table, lab_events_table, lesson_progress_table
from core.storage.store import Store

MAX_LESSON_KEY = 80  # characters of a lesson's key (its file name)
MAX_EVENT_TEXT = 80  # characters of an event's kind or value
MAX_ANSWER_TEXT = 200  # characters of one answer kept (a choice written in the lesson file, or a number)
MAX_STEPS = 50  # a lesson has 4-8 steps; any step index past this is a caller's bug


@dataclass(frozen=True)
class LessonProgress:
    step: int = 0  # 0-based
    finished: bool = False
    active: bool = False
    answers: dict[str, str] = field(default_factory=dict)  # {step index as text: answer}
    updated_at: float = 0.0


def checked_key(lesson: str) -> str:
    if not isinstance(lesson, str) or not 0 < len(lesson) <= MAX_LESSON_KEY:
        raise ValueError(f"a lesson key must be 1 to {MAX_LESSON_KEY} characters, not {lesson!r}")
    return lesson


def read_progress(store: Store, lab_id: int) -> dict[str, LessonProgress]:
    """Every lesson the lab has started: key -> its progress."""
    t = lesson_progress_table
    with store.reading() as conn:
        rows = conn.execute(select(t.c.lesson, t.c.step, t.c.finished, t.c.active, t.c.answers, t.c.updated_at)
                            .where(t.c.lab_id == lab_id)).all()
    return {row.lesson: LessonProgress(row.step, bool(row.finished), bool(row.active), json.loads(row.answers),
                                       row.updated_at) for row in rows}


def save_progress(store: Store, lab_id: int, lesson: str, step: int, *, finished: bool | None = None,
                  answers: dict[str, str] | None = None, active: bool = True) -> None:
    """Put the lab on `step` of `lesson` (made the lab's lesson in progress unless active=False).

    `finished` and `answers` keep their stored values when None. One transaction.
    """
    checked_key(lesson)
    if not 0 <= step < MAX_STEPS:
        raise ValueError(f"step {step} is out of range")
    t = lesson_progress_table
    now = time.time()
    answers_json = None if answers is None else json.dumps(
        {str(k)[:4]: str(v)[:MAX_ANSWER_TEXT] for k, v in list(answers.items())[:MAX_STEPS]})
    with store.writing() as conn:
        if active:
            conn.execute(update(t).where(t.c.lab_id == lab_id, t.c.lesson != lesson).values(active=0))
        values: dict = {"step": step, "active": int(active), "updated_at": now}
        if finished is not None:
            values["finished"] = int(finished)
        if answers_json is not None:
            values["answers"] = answers_json
        changed = conn.execute(update(t).where(t.c.lab_id == lab_id, t.c.lesson == lesson).values(**values)).rowcount
        if not changed:
            conn.execute(insert(t).values({"finished": 0, "answers": "{}", **values, "lab_id": lab_id,
                                           "lesson": lesson}))


def leave_lessons(store: Store, lab_id: int) -> None:
    """No lesson in progress for the lab (each keeps its step, to continue later)."""
    t = lesson_progress_table
    with store.writing() as conn:
        conn.execute(update(t).where(t.c.lab_id == lab_id).values(active=0))


def record_event(store: Store, lab_id: int, kind: str, value: str = "") -> None:
    """Keep one lesson event of the lab; beyond the lab_events limit the oldest go."""
    t = lab_events_table
    keep = int(read_limit("lab_events"))
    with store.writing() as conn:
        conn.execute(insert(t).values(lab_id=lab_id, kind=str(kind)[:MAX_EVENT_TEXT], value=str(value)[:MAX_EVENT_TEXT],
                                      created_at=time.time()))
        newest = select(t.c.id).where(t.c.lab_id == lab_id).order_by(t.c.id.desc()).limit(keep).subquery()
        conn.execute(delete(t).where(t.c.lab_id == lab_id, t.c.id.not_in(select(newest.c.id))))


def list_events(store: Store, lab_id: int) -> list[tuple[str, str]]:
    """The lab's kept events, oldest first: (kind, value)."""
    t = lab_events_table
    with store.reading() as conn:
        return [(row.kind, row.value) for row in
                conn.execute(select(t.c.kind, t.c.value).where(t.c.lab_id == lab_id).order_by(t.c.id))]


def count_digits(store: Store, lab_id: int) -> int:
    """How many of their own digits the lab holds (without reading the images)."""
    with store.reading() as conn:
        return conn.execute(select(func.count()).where(digits_table.c.lab_id == lab_id)).scalar_one()

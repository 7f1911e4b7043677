"""What a lesson's checks look at: a snapshot of one lab (its runs, its lesson events, its own digits).

The snapshot is built from the lab's real runs (`facts_from_run`) and what the store keeps of the
lab's events, so a check judges the learner's own work; tests build it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.model.run import Run
from core.model.spec import values_from_spec

# Lesson events: what a check needs that the runs do not hold. kind -> what it means (its value).
EVENT_KINDS: dict[str, str] = {
    "cell_opened": "a cell of Evaluate's confusion matrix was opened (value: 'truth>predicted')",
    "drawing_read": "a drawing was read by a network on Draw or Home (value: the digit it read)",
}


# Runs a lesson does not count as the learner's: the bundled model, and a run seen or copied through a share link.
NOT_THE_LEARNERS = ("default", "shared", "copied")


@dataclass(frozen=True)
class RunFacts:
    """What the checks need of one run, in plain data."""

    name: str
    dataset: str
    network: str  # softmax (no hidden layer) | hidden | cnn | unknown (an upload without a spec)
    source: str = "trained"  # trained | fine-tuned | uploaded
    state: str = "finished"  # running | finished | stopped | interrupted | failed
    values: dict[str, Any] = field(default_factory=dict)  # the Train form's values of its spec ({} without one)
    history: dict[str, list[float]] = field(default_factory=dict)  # per-epoch Keras metrics
    val_accuracy: float | None = None  # of the weights kept, 0..1
    sweep: str | None = None

    @property
    def done(self) -> bool:
        """It ended with a model (finished, or stopped by the learner with its best weights)."""
        return self.state in ("finished", "stopped")

    @property
    def epochs_done(self) -> int:
        return len(self.history.get("loss", []))

    @property
    def stopped_early(self) -> bool:
        """Early stopping ended it before its planned epochs."""
        planned = int(self.values.get("epochs", 0) or 0)
        return (self.state == "finished" and int(self.values.get("patience", 0) or 0) > 0
                and 0 < self.epochs_done < planned)


@dataclass(frozen=True)
class LabEvent:
    kind: str  # a key of EVENT_KINDS
    value: str = ""


@dataclass(frozen=True)
class LabState:
    """One lab as the lessons see it; runs oldest first, events oldest first."""

    runs: tuple[RunFacts, ...] = ()
    events: tuple[LabEvent, ...] = ()
    digits: int = 0  # the learner's own digits collected (My digits)


def network_of(values: dict[str, Any]) -> str:
    """softmax | hidden | cnn, from the Train form's values ('kind', 'hidden')."""
    if not values:
        return "unknown"
    if values.get("kind") == "cnn":
        return "cnn"
    return "hidden" if str(values.get("hidden", "")).strip() else "softmax"


def facts_from_run(run: Run) -> RunFacts:
    """The facts of one of the lab's runs."""
    values = values_from_spec(run.spec) if run.spec is not None else {}
    accuracy = run.metrics.get("val_accuracy")
    return RunFacts(name=run.name, dataset=run.dataset, network=network_of(values), source=run.source,
                    state=run.state, values=values, history=dict(run.history),
                    val_accuracy=float(accuracy) if accuracy is not None else None, sweep=run.sweep)

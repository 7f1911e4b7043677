"""Scripted lab states for the lessons' tests: runs and events made by hand, as a learner's would be."""

from __future__ import annotations

from core.lessons.state import LabEvent, LabState, RunFacts, network_of
from core.model.settings import DEFAULT_VALUES


def run_facts(name: str = "Run 1", accuracy: float | None = 0.9, state: str = "finished", source: str = "trained",
              sweep: str | None = None, val_loss: list[float] | None = None, val_accuracy: list[float] | None = None,
              **values) -> RunFacts:
    """A run of the Train form's `values` (over its defaults), with these figures."""
    merged = {**DEFAULT_VALUES, **values}
    losses = val_loss or [0.5] * int(merged["epochs"])
    history = {"loss": [0.4] * len(losses), "val_loss": losses,
               "val_accuracy": val_accuracy or [accuracy or 0.0] * len(losses)}
    return RunFacts(name=name, dataset=merged["dataset"], network=network_of(merged), source=source, state=state,
                    values=merged, history=history, val_accuracy=accuracy, sweep=sweep)


def lab(*runs: RunFacts, events: tuple[tuple[str, str], ...] = (), digits: int = 0) -> LabState:
    return LabState(runs=tuple(runs), events=tuple(LabEvent(k, v) for k, v in events), digits=digits)

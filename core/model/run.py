"""A finished training run: the model, what it was trained on, and how it went.

Runs live in the browser session only (never in a process-wide cache): each visitor sees their
own. A run can be downloaded as a `.keras` file with its spec inside (see core.model.files).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.data.datasets import get_info
from core.model.spec import TrainSpec, describe_spec, spec_to_dict


@dataclass
class Run:
    """One trained model and its record. `spec` is None for uploaded models without one."""

    run_id: int
    name: str
    dataset: str  # a key of core.data.datasets.DATASETS
    model: Any  # keras.Model; typed loosely so that importing this module needs no TensorFlow
    spec: TrainSpec | None = None
    history: dict[str, list[float]] = field(default_factory=dict)  # per-epoch Keras metrics
    metrics: dict[str, float] = field(default_factory=dict)  # those of the weights kept
    status: str = ""  # how training ended, in words
    seconds: float = 0.0
    source: str = "trained"  # trained | uploaded | default | shared | fine-tuned | copied (from a share link)
    state: str = "finished"  # running | finished | stopped | interrupted | failed (core.storage.store's states)
    sweep: str | None = None  # the sweep it belongs to, if any
    # core.analysis.history.EpochRecord: each validation image's class after each epoch, when known (a run
    # of a lab has it in the store until a page asks: ui.state.load_epoch_record)
    epoch_predictions: Any = None

    @property
    def dataset_name(self) -> str:
        return get_info(self.dataset).name

    @property
    def usable(self) -> bool:
        """True when it has (or can load) a model: not still training, not failed."""
        return self.state not in ("running", "failed")

    def metadata(self) -> dict:
        """What a downloaded `.keras` file carries besides the model (JSON-ready)."""
        return {
            "name": self.name,
            "dataset": self.dataset,
            "spec": spec_to_dict(self.spec) if self.spec else None,
            "history": self.history,
            "metrics": self.metrics,
        }


def kept_epoch(history: dict[str, list[float]], early_stopped: bool) -> int:
    """Index of the epoch whose weights the model holds: the best val_loss after early stopping."""
    losses = history.get("val_loss") or history.get("loss") or []
    if not losses:
        return -1
    if early_stopped:
        return min(range(len(losses)), key=losses.__getitem__)
    return len(losses) - 1


def make_run(run_id: int, spec: TrainSpec, model: Any, history: dict[str, list[float]],
             status: str, seconds: float, early_stopped: bool = False, name: str | None = None) -> Run:
    """A Run for a finished (or stopped) training, named 'Run 3 · MNIST · 512-512 relu · Adam' unless named."""
    epoch = kept_epoch(history, early_stopped)
    metrics = {k: v[epoch] for k, v in history.items() if epoch >= 0 and len(v) > epoch}
    return Run(
        run_id=run_id, name=name or run_name(run_id, spec), dataset=spec.dataset,
        model=model, spec=spec, history=history, metrics=metrics, status=status, seconds=seconds,
    )


def run_name(number: int, spec: TrainSpec) -> str:
    """'Run 3 · MNIST · 512-512 relu · Adam 0.001'."""
    return f"Run {number} · {describe_spec(spec)}"


def file_name(run: Run) -> str:
    """A safe download name such as 'digitlab-run-3-mnist.keras'."""
    return f"digitlab-run-{run.run_id}-{run.dataset}.keras"

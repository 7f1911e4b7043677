"""Figures in words: a sentence of what each data figure shows, and its numbers as a table.

Names in the sentences are as typed (a run's name is anyone's text): a page that shows a sentence as
markdown passes it through `ui.text.plain`; `alt=` is an attribute, escaped by the browser's DOM.

A chart is a picture; a screen reader reads its `alt` text and nothing else. Each `describe_*`
here takes the numbers a `plot_*` function draws and says in one or two sentences what matters
("Validation accuracy rose from 62% to 96% over 10 epochs."); `figure_table` turns any of the
app's plotly figures into rows, the numbers one click away. Pages pass the sentence as `alt=`
and show the rows in an expander.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import unescape

import numpy as np
import plotly.graph_objects as go

METRIC_NAMES = {"accuracy": "accuracy", "loss": "loss"}
MAX_TABLE_ROWS = 2000  # a batch-by-batch curve has thousands of points; the table keeps its first rows


@dataclass(frozen=True)
class Description:
    """What a figure shows: a sentence for `alt=` and people, and its numbers as table rows."""

    sentence: str
    rows: list[dict] = field(default_factory=list)


def percent(value: float) -> str:
    """0.9612 -> '96.1%' (one decimal: 97.0% and 98.6% must read apart)."""
    return f"{100 * value:.1f}%"


def number(metric: str, value: float) -> str:
    """Accuracies as percentages, losses as plain numbers."""
    return percent(value) if metric.endswith("accuracy") else f"{value:.3f}"


def trend(first: float, last: float) -> str:
    """'rose', 'fell' or 'stayed at' between two values (differences under 0.05 points are no change)."""
    if abs(last - first) < 5e-4:
        return "stayed at"
    return "rose" if last > first else "fell"


def describe_curve(history: Mapping[str, Sequence[float]], metric: str) -> Description:
    """One run's training and validation `metric` per epoch: where it started, where it ended, its best."""
    parts, rows = [], []
    epochs = max((len(history.get(k, [])) for k in (metric, f"val_{metric}")), default=0)
    if not epochs:
        return Description(f"No {METRIC_NAMES.get(metric, metric)} measured yet.")
    for key, name in ((f"val_{metric}", "Validation"), (metric, "Training")):
        values = [float(v) for v in history.get(key, [])]
        if not values:
            continue
        first, last = values[0], values[-1]
        moved = trend(first, last)
        words = (f"{name} {METRIC_NAMES.get(metric, metric)} {moved} {number(metric, last)}" if moved == "stayed at"
                 else f"{name} {METRIC_NAMES.get(metric, metric)} {moved} from {number(metric, first)} to "
                      f"{number(metric, last)}")
        parts.append(words)
    for epoch in range(epochs):
        row: dict = {"epoch": epoch + 1}
        for key in (metric, f"val_{metric}"):
            if epoch < len(history.get(key, [])):
                row[key] = round(float(history[key][epoch]), 4)
        rows.append(row)
    span = "1 epoch" if epochs == 1 else f"{epochs} epochs"
    return Description("; ".join(parts) + f" over {span}.", rows)


def describe_runs(finals: Mapping[str, float], metric: str, what: str = "runs") -> Description:
    """Several runs' last `metric` (e.g. val_accuracy) ranked: which ended best and which worst."""
    if not finals:
        return Description(f"No {what} to compare yet.")
    higher_is_better = metric.endswith("accuracy")
    ranked = sorted(finals.items(), key=lambda kv: kv[1], reverse=higher_is_better)
    rows = [{"run": name, metric: round(float(value), 4)} for name, value in ranked]
    best_name, best = ranked[0]
    if len(ranked) == 1:
        return Description(f"{best_name} ended at {number(metric, best)}.", rows)
    worst_name, worst = ranked[-1]
    return Description(
        f"Of {len(ranked)} {what}, {best_name} ended best at {number(metric, best)} and "
        f"{worst_name} lowest at {number(metric, worst)}.", rows)


def most_confused(cm: np.ndarray, count: int = 1) -> list[tuple[int, int, int]]:
    """The largest off-diagonal cells as (truth, predicted, images), largest first; only non-zero ones."""
    off = np.asarray(cm, dtype=np.int64).copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:count]
    cells = [(int(i // off.shape[1]), int(i % off.shape[1])) for i in order]
    return [(t, p, int(off[t, p])) for t, p in cells if off[t, p] > 0]


def describe_confusion(cm: np.ndarray, class_names: Sequence[str], image_set: str = "test") -> Description:
    """A confusion matrix (rows = truth): how many were read right, and the most common mistakes."""
    cm = np.asarray(cm, dtype=np.int64)  # (C, C)
    total, right = int(cm.sum()), int(np.trace(cm))
    rows = [{"truth": class_names[t], **{f"read as {class_names[p]}": int(cm[t, p]) for p in range(len(class_names))}}
            for t in range(len(class_names))]
    if not total:
        return Description(f"No {image_set} images read yet.", rows)
    sentence = f"Of {total:,} {image_set} images, {right:,} ({percent(right / total)}) were read right."
    mistakes = most_confused(cm, 3)
    if mistakes:
        listed = ", ".join(f"{class_names[t]} read as {class_names[p]} ({n} times)" for t, p, n in mistakes)
        sentence += f" Most common mistakes: {listed}."
    return Description(sentence, rows)


def describe_confusion_over_epochs(cms: np.ndarray, class_names: Sequence[str]) -> Description:
    """The validation confusion matrix after each epoch: how the share read right changed."""
    cms = np.asarray(cms, dtype=np.int64)  # (E, C, C)
    rates = [float(np.trace(cm) / cm.sum()) if cm.sum() else 0.0 for cm in cms]
    rows = [{"epoch": e + 1, "read right": round(r, 4)} for e, r in enumerate(rates)]
    if not rates:
        return Description("No epochs yet.")
    sentence = (f"Over {len(rates)} epochs, the validation images read right went from {percent(rates[0])} "
                f"to {percent(rates[-1])}.")
    mistakes = most_confused(cms[-1], 1)
    if mistakes:
        t, p, n = mistakes[0]
        sentence += f" After the last epoch the most common mistake is {class_names[t]} read as {class_names[p]} ({n})."
    return Description(sentence, rows)


def describe_probabilities(probs: np.ndarray, class_names: Sequence[str]) -> Description:
    """One reading: the answer with its chance, and the runner-up."""
    probs = np.asarray(probs, dtype=np.float64).ravel()  # (C,)
    order = np.argsort(probs)[::-1]
    rows = [{"answer": class_names[i], "chance": round(float(probs[i]), 4)} for i in range(len(class_names))]
    first, second = int(order[0]), int(order[1])
    return Description(f"Read as {class_names[first]} with {percent(probs[first])} chance; "
                       f"next is {class_names[second]} with {percent(probs[second])}.", rows)


def describe_class_metrics(metrics: Mapping[str, np.ndarray], class_names: Sequence[str]) -> Description:
    """Precision, recall and F1 per class: the class found best and the one found worst."""
    recall = np.asarray(metrics["recall"], dtype=np.float64)
    rows = [{"class": class_names[i], **{k: round(float(np.asarray(metrics[k])[i]), 4)
                                          for k in ("precision", "recall", "f1")},
             "support": int(np.asarray(metrics["support"])[i])} for i in range(len(class_names))]
    best, worst = int(np.argmax(recall)), int(np.argmin(recall))
    return Description(f"{class_names[best]} is found most often ({percent(recall[best])} of its images), "
                       f"{class_names[worst]} least often ({percent(recall[worst])}).", rows)


def describe_counts(counts: Sequence[int], class_names: Sequence[str], what: str = "drawings") -> Description:
    """How many of each class there are, e.g. My digits' drawings per digit."""
    counts = [int(c) for c in counts]
    rows = [{"digit": name, what: count} for name, count in zip(class_names, counts)]
    total = sum(counts)
    if not total:
        return Description(f"No {what} yet.", rows)
    missing = [name for name, count in zip(class_names, counts) if not count]
    sentence = f"{total} {what} in all, from {min(counts)} to {max(counts)} of each."
    if missing:
        sentence += f" None yet of {', '.join(missing)}."
    return Description(sentence, rows)


def describe_histogram(images: np.ndarray, value_max: int) -> Description:
    """The pixel brightness histogram: how many pixels are background, ink, and in between."""
    values = np.asarray(images, dtype=np.float64).ravel() / value_max  # 0..1
    dark, bright = float(np.mean(values < 0.1)), float(np.mean(values > 0.9))
    edges = np.linspace(0.0, 1.0, 11)
    counts, _ = np.histogram(values, bins=edges)
    rows = [{"brightness from": round(float(a), 1), "to": round(float(b), 1), "pixels": int(c)}
            for a, b, c in zip(edges[:-1], edges[1:], counts)]
    return Description(f"{percent(dark)} of the pixels are nearly empty background and {percent(bright)} "
                       f"are full ink; the rest are in between.", rows)


def figure_table(fig: go.Figure, limit: int = MAX_TABLE_ROWS) -> list[dict]:
    """Any of the app's plotly figures as rows: one per point (trace name, x, y), or per heatmap cell."""
    rows: list[dict] = []
    for trace in fig.data:
        name = unescape(getattr(trace, "name", None) or trace.type)  # plot_* escape names for plotly
        if trace.type == "heatmap" and trace.z is not None:
            z = np.asarray(trace.z, dtype=object)
            xs = list(trace.x) if trace.x is not None else list(range(z.shape[1]))
            ys = list(trace.y) if trace.y is not None else list(range(z.shape[0]))
            rows.extend({"series": name, "row": ys[i], "column": xs[j], "value": z[i, j]}
                        for i in range(z.shape[0]) for j in range(z.shape[1]) if z[i, j] is not None)
        elif getattr(trace, "y", None) is not None and len(trace.y):
            xs = list(trace.x) if trace.x is not None else list(range(len(trace.y)))
            rows.extend({"series": name, "x": _plain(x), "y": _plain(y)} for x, y in zip(xs, trace.y))
        if len(rows) >= limit:
            return rows[:limit]
    return rows


def _plain(value: object) -> object:
    """numpy scalars as Python numbers, rounded for reading."""
    if isinstance(value, (float, np.floating)):
        return round(float(value), 4)
    if isinstance(value, np.integer):
        return int(value)
    return value

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

from core.i18n import N_, Message, Number, Percent1, message, term, terms

MAX_TABLE_ROWS = 2000  # a batch-by-batch curve has thousands of points; the table keeps its first rows


@dataclass(frozen=True)
class Description:
    """What a figure shows: a sentence for `alt=` and people (a Message: the page translates it), its rows."""

    sentence: str
    rows: list[dict] = field(default_factory=list)


def percent(value: float) -> Percent1:
    """0.9612 -> 96.1% (one decimal: 97.0% and 98.6% must read apart), written the reader's way."""
    return Percent1(value)


def number(metric: str, value: float) -> Percent1 | Number:
    """Accuracies as percentages, losses as plain numbers (three decimals at most)."""
    return percent(value) if metric.endswith("accuracy") else Number(round(value, 3))


def moved(first: float, last: float) -> str:
    """'rose', 'fell' or 'stayed' between two values (differences under 0.05 points are no change)."""
    if abs(last - first) < 5e-4:
        return "stayed"
    return "rose" if last > first else "fell"


# One whole sentence per case, so that each language can order its words its own way.
CURVE_WORDS = {
    ("val_accuracy", "rose"): N_("Validation accuracy rose from {first} to {last}"),
    ("val_accuracy", "fell"): N_("Validation accuracy fell from {first} to {last}"),
    ("val_accuracy", "stayed"): N_("Validation accuracy stayed at {last}"),
    ("accuracy", "rose"): N_("Training accuracy rose from {first} to {last}"),
    ("accuracy", "fell"): N_("Training accuracy fell from {first} to {last}"),
    ("accuracy", "stayed"): N_("Training accuracy stayed at {last}"),
    ("val_loss", "rose"): N_("Validation loss rose from {first} to {last}"),
    ("val_loss", "fell"): N_("Validation loss fell from {first} to {last}"),
    ("val_loss", "stayed"): N_("Validation loss stayed at {last}"),
    ("loss", "rose"): N_("Training loss rose from {first} to {last}"),
    ("loss", "fell"): N_("Training loss fell from {first} to {last}"),
    ("loss", "stayed"): N_("Training loss stayed at {last}"),
}


def describe_curve(history: Mapping[str, Sequence[float]], metric: str) -> Description:
    """One run's training and validation `metric` ("accuracy" or "loss") per epoch: where it started and ended."""
    parts: list[Message] = []
    rows = []
    epochs = max((len(history.get(k, [])) for k in (metric, f"val_{metric}")), default=0)
    if not epochs:
        return Description(message("No accuracy measured yet.") if metric == "accuracy"
                           else message("No loss measured yet."))
    for key in (f"val_{metric}", metric):
        values = [float(v) for v in history.get(key, [])]
        if not values or (key, "rose") not in CURVE_WORDS:
            continue
        first, last = values[0], values[-1]
        parts.append(message(CURVE_WORDS[(key, moved(first, last))], first=number(metric, first),
                             last=number(metric, last)))
    for epoch in range(epochs):
        row: dict = {"epoch": epoch + 1}
        for key in (metric, f"val_{metric}"):
            if epoch < len(history.get(key, [])):
                row[key] = round(float(history[key][epoch]), 4)
        rows.append(row)
    together = parts[0] if len(parts) == 1 else message("{first}; {second}", first=parts[0], second=parts[1])
    if epochs == 1:
        return Description(message("{parts} over 1 epoch.", parts=together), rows)
    return Description(message("{parts} over {epochs} epochs.", parts=together, epochs=Number(epochs)), rows)


def describe_runs(finals: Mapping[str, float], metric: str, what: str = "runs") -> Description:
    """Several runs' last `metric` (e.g. val_accuracy) ranked: which ended best and which worst.

    `what`: "runs" or "drawings"... as a plural noun; run names are anyone's text and never translated.
    """
    if not finals:
        return Description(message("No {what} to compare yet.", what=term(what)))
    higher_is_better = metric.endswith("accuracy")
    ranked = sorted(finals.items(), key=lambda kv: kv[1], reverse=higher_is_better)
    rows = [{"run": name, metric: round(float(value), 4)} for name, value in ranked]
    best_name, best = ranked[0]
    if len(ranked) == 1:
        return Description(message("{name} ended at {value}.", name=best_name, value=number(metric, best)), rows)
    worst_name, worst = ranked[-1]
    return Description(message("Of {count} {what}, {best_name} ended best at {best} and {worst_name} lowest at "
                               "{worst}.", count=Number(len(ranked)), what=term(what), best_name=best_name,
                               best=number(metric, best), worst_name=worst_name, worst=number(metric, worst)), rows)


def most_confused(cm: np.ndarray, count: int = 1) -> list[tuple[int, int, int]]:
    """The largest off-diagonal cells as (truth, predicted, images), largest first; only non-zero ones."""
    off = np.asarray(cm, dtype=np.int64).copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:count]
    cells = [(int(i // off.shape[1]), int(i % off.shape[1])) for i in order]
    return [(t, p, int(off[t, p])) for t, p in cells if off[t, p] > 0]


def mistake(truth: str, predicted: str, count: int) -> Message:
    """"7 read as 1 (3 times)", or "(once)"."""
    if count == 1:
        return message("{truth} read as {predicted} (once)", truth=term(truth), predicted=term(predicted))
    return message("{truth} read as {predicted} ({count} times)", truth=term(truth), predicted=term(predicted),
                   count=Number(count))


def describe_confusion(cm: np.ndarray, class_names: Sequence[str], image_set: str = "test") -> Description:
    """A confusion matrix (rows = truth): how many were read right, and the most common mistakes.

    `image_set`: "test" or "validation".
    """
    cm = np.asarray(cm, dtype=np.int64)  # (C, C)
    total, right = int(cm.sum()), int(np.trace(cm))
    rows = [{"truth": class_names[t], **{f"read as {class_names[p]}": int(cm[t, p]) for p in range(len(class_names))}}
            for t in range(len(class_names))]
    validation = image_set == "validation"
    if not total:
        return Description(message("No validation images read yet.") if validation
                           else message("No test images read yet."), rows)
    template = (N_("Of {total} validation images, {right} ({share}) were read right.") if validation
                else N_("Of {total} test images, {right} ({share}) were read right."))
    sentence = message(template, total=Number(total), right=Number(right), share=percent(right / total))
    mistakes = most_confused(cm, 3)
    if mistakes:
        listed = [mistake(class_names[t], class_names[p], n) for t, p, n in mistakes]
        joined = listed[0]
        for more in listed[1:]:
            joined = message("{first}, {second}", first=joined, second=more)
        sentence = message("{sentence} Most common mistakes: {listed}.", sentence=sentence, listed=joined)
    return Description(sentence, rows)


def describe_confusion_over_epochs(cms: np.ndarray, class_names: Sequence[str]) -> Description:
    """The validation confusion matrix after each epoch: how the share read right changed."""
    cms = np.asarray(cms, dtype=np.int64)  # (E, C, C)
    rates = [float(np.trace(cm) / cm.sum()) if cm.sum() else 0.0 for cm in cms]
    rows = [{"epoch": e + 1, "read right": round(r, 4)} for e, r in enumerate(rates)]
    if not rates:
        return Description(message("No epochs yet."))
    sentence = message("Over {epochs} epochs, the validation images read right went from {first} to {last}.",
                       epochs=Number(len(rates)), first=percent(rates[0]), last=percent(rates[-1]))
    mistakes = most_confused(cms[-1], 1)
    if mistakes:
        t, p, n = mistakes[0]
        sentence = message("{sentence} After the last epoch the most common mistake is {truth} read as {predicted} "
                           "({count}).", sentence=sentence, truth=term(class_names[t]),
                           predicted=term(class_names[p]), count=Number(n))
    return Description(sentence, rows)


def describe_probabilities(probs: np.ndarray, class_names: Sequence[str]) -> Description:
    """One reading: the answer with its chance, and the runner-up."""
    probs = np.asarray(probs, dtype=np.float64).ravel()  # (C,)
    order = np.argsort(probs)[::-1]
    rows = [{"answer": class_names[i], "chance": round(float(probs[i]), 4)} for i in range(len(class_names))]
    first, second = int(order[0]), int(order[1])
    return Description(message("Read as {first} with {first_chance} chance; next is {second} with {second_chance}.",
                               first=term(class_names[first]), first_chance=percent(probs[first]),
                               second=term(class_names[second]), second_chance=percent(probs[second])), rows)


def describe_class_metrics(metrics: Mapping[str, np.ndarray], class_names: Sequence[str]) -> Description:
    """Precision, recall and F1 per class: the class found best and the one found worst."""
    recall = np.asarray(metrics["recall"], dtype=np.float64)
    rows = [{"class": class_names[i], **{k: round(float(np.asarray(metrics[k])[i]), 4)
                                          for k in ("precision", "recall", "f1")},
             "support": int(np.asarray(metrics["support"])[i])} for i in range(len(class_names))]
    best, worst = int(np.argmax(recall)), int(np.argmin(recall))
    return Description(message("{best} is found most often ({best_share} of its images), {worst} least often "
                               "({worst_share}).", best=term(class_names[best]), best_share=percent(recall[best]),
                               worst=term(class_names[worst]), worst_share=percent(recall[worst])), rows)


def describe_counts(counts: Sequence[int], class_names: Sequence[str], what: str = "drawings") -> Description:
    """How many of each class there are, e.g. My digits' drawings per digit (`what`: a plural noun, "drawings")."""
    counts = [int(c) for c in counts]
    rows = [{"digit": name, what: count} for name, count in zip(class_names, counts)]
    total = sum(counts)
    if not total:
        return Description(message("No {what} yet.", what=term(what)), rows)
    missing = [name for name, count in zip(class_names, counts) if not count]
    sentence = message("{total} {what} in all, from {least} to {most} of each.", total=Number(total), what=term(what),
                       least=Number(min(counts)), most=Number(max(counts)))
    if missing:
        sentence = message("{sentence} None yet of {missing}.", sentence=sentence, missing=terms(missing))
    return Description(sentence, rows)


def describe_histogram(images: np.ndarray, value_max: int) -> Description:
    """The pixel brightness histogram: how many pixels are background, ink, and in between."""
    values = np.asarray(images, dtype=np.float64).ravel() / value_max  # 0..1
    dark, bright = float(np.mean(values < 0.1)), float(np.mean(values > 0.9))
    edges = np.linspace(0.0, 1.0, 11)
    counts, _ = np.histogram(values, bins=edges)
    rows = [{"brightness from": round(float(a), 1), "to": round(float(b), 1), "pixels": int(c)}
            for a, b, c in zip(edges[:-1], edges[1:], counts)]
    return Description(message("{dark} of the pixels are nearly empty background and {bright} are full ink; the rest "
                               "are in between.", dark=percent(dark), bright=percent(bright)), rows)


# The plural nouns pages pass as `what` (marked here so that `term` finds them translated).
WHAT_WORDS = (N_("runs"), N_("drawings"), N_("photos"), N_("images"), N_("values"))


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

"""Training curves: live learning curves while a network trains, and runs compared."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.figures.style import TRAINING_COLOR, VALIDATION_COLOR, color_of
from core.figures.text import plain_label
from core.i18n import N_, message, term

METRIC_TITLES = {"loss": N_("Loss"), "accuracy": N_("Accuracy")}
MAX_BATCH_POINTS = 600  # more points than pixels only slows the browser down
ZOOM_MARGIN = 0.15  # the share of the data's spread left free above and below it on a zoomed axis
MIN_SPREAD = 0.01  # a zoomed axis spans at least this much (one point of accuracy), so equal runs do not fill it


def thin_out(values: list, limit: int = MAX_BATCH_POINTS) -> list:
    """Every k-th value (and the last), so a curve keeps at most about `limit` points."""
    if len(values) <= limit:
        return values
    step = -(-len(values) // limit)
    return values[::step] + ([values[-1]] if (len(values) - 1) % step else [])


def metric_layout(metric: str, height: int = 320) -> dict:
    """Axis titles, and accuracy fixed at 0..1 so curves of different runs compare at a glance."""
    return dict(
        title=METRIC_TITLES.get(metric, metric), height=height, margin=dict(l=10, r=10, t=40, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.25, xanchor="left", x=0),
        xaxis=dict(title=N_("epoch")), uirevision=metric,  # keep the user's zoom while curves grow
        yaxis=dict(range=[0, 1]) if metric == "accuracy" else dict(rangemode="tozero"),
    )


def plot_learning_curve(batch_logs: list[dict], epoch_logs: list[dict], steps: int,
                        metric: str) -> go.Figure:
    """One metric while training: every batch (thin), each epoch's training and validation value.

    Batch b of epoch e (0-based) sits at x = e + b / steps, so an epoch's value at x = e + 1
    lines up with the end of its batches. Redrawn twice a second while training, so it is built
    in one go from dicts and numpy arrays: plotly's per-call validation of lists and
    `update_layout` cost 3x more, time taken from the training itself.
    """
    data = []
    points = thin_out([b for b in batch_logs if metric in b])
    if points and steps:
        data.append(dict(
            # Keras' batch logs are running means over the epoch so far (they restart each epoch).
            type="scatter", mode="lines", name=N_("training (epoch so far)"), opacity=0.45,
            x=np.array([b["epoch"] + b["batch"] / steps for b in points]),
            y=np.array([b[metric] for b in points]), line=dict(color=TRAINING_COLOR, width=1),
        ))
    for key, name, color in ((metric, N_("training"), TRAINING_COLOR),
                             (f"val_{metric}", N_("validation"), VALIDATION_COLOR)):
        values = [(e["epoch"], e[key]) for e in epoch_logs if key in e]
        if values:
            data.append(dict(type="scatter", mode="lines+markers", name=name,
                             x=np.array([v[0] for v in values]), y=np.array([v[1] for v in values]),
                             line=dict(color=color, width=2.5)))
    return go.Figure(data=data, layout=metric_layout(metric))


def zoomed_range(values: list[float], low: float | None = 0.0, high: float | None = 1.0) -> list[float]:
    """An axis range that fits `values` with a margin: 97.0% and 98.6% are far apart on it, not one line.

    Clamped to [low, high] where given (accuracy: 0..1). [low, high] (or [0, 1]) when there are no values.
    """
    finite = [float(v) for v in values if np.isfinite(v)]
    if not finite:
        return [low if low is not None else 0.0, high if high is not None else 1.0]
    lo, hi = min(finite), max(finite)
    spread = max(hi - lo, MIN_SPREAD)
    centre = (lo + hi) / 2
    lo, hi = min(lo, centre - spread / 2) - ZOOM_MARGIN * spread, max(hi, centre + spread / 2) + ZOOM_MARGIN * spread
    return [max(lo, low) if low is not None else lo, min(hi, high) if high is not None else hi]


def bar_range(values: list[float]) -> list[float]:
    """A zoomed axis for bars: the lowest bar keeps about a third of the height, so a gap of one point
    shows without a bar shrinking to nothing (the percentages on the bars say the real sizes)."""
    low, high = zoomed_range(values)
    spread = high - low
    return [max(0.0, low - spread), high]


def plot_run_comparison(histories: dict[str, dict[str, list[float]]], metric: str,
                        colors: list[int] | None = None) -> go.Figure:
    """The same metric of several runs overlaid: solid validation, dotted training.

    `colors`: each run's palette index (style.color_of), in the order of `histories`; by default
    their positions. A sweep's members pass their member index: their colour in the sweep's charts.
    The runs' names are visitors' text: shown as typed (text.plain_label).
    """
    data = []
    later: list[float] = []  # the later half of every curve: what the axis is zoomed to
    colors = colors if colors is not None else list(range(len(histories)))
    for (name, history), index in zip(histories.items(), colors):
        color = color_of(index)
        for key, dash, suffix in ((f"val_{metric}", "solid", N_("{name} (validation)")),
                                  (metric, "dot", N_("{name} (training)"))):
            values = history.get(key, [])
            later += values[len(values) // 2:]
            if values:
                data.append(dict(type="scatter", mode="lines+markers", name=message(suffix, name=plain_label(name)),
                                 x=np.arange(1, len(values) + 1), y=np.array(values),
                                 line=dict(color=color, dash=dash)))
    layout = metric_layout(metric, height=420)
    layout["legend"] = dict(orientation="v", y=-0.25, yanchor="top", x=0, xanchor="left")
    # Zoomed to where the runs end up (the later half of each curve): close runs must look apart, and
    # the first epochs' low accuracy would squash them together. A double-click shows every point.
    layout["yaxis"] = dict(range=zoomed_range(later, 0.0, 1.0 if metric == "accuracy" else None))
    layout["title"] = message("{title} · zoomed on the last epochs (double-click: all)",
                              title=term(layout["title"]))
    return go.Figure(data=data, layout=layout)


def plot_test_accuracies(names: list[str], accuracies: list[float], colors: list[int] | None = None,
                         title: str = N_("Right on new images (test accuracy)")) -> go.Figure:
    """Each run's test accuracy (0..1) as a bar, side by side, its percentage written on it.

    The axis is zoomed to the values (not from 0), so 97.0% and 98.6% differ at a glance; the
    percentages on the bars give the real sizes. `colors` as in plot_run_comparison.
    """
    colors = colors if colors is not None else list(range(len(names)))
    labels = [plain_label(name) for name in names]
    values = np.array(accuracies, dtype=float)
    return go.Figure(
        data=[dict(type="bar", x=labels, y=values, text=[f"{v:.1%}" for v in values], textposition="outside",
                   marker=dict(color=[color_of(i) for i in colors]), cliponaxis=False,
                   hovertemplate="%{x}: %{y:.2%}<extra></extra>")],
        layout=dict(title=message("{title} · axis zoomed", title=term(title)), height=340,
                    margin=dict(l=10, r=10, t=50, b=10),
                    yaxis=dict(range=bar_range(list(values)), tickformat=".1%"), xaxis=dict(type="category"),
                    showlegend=False, bargap=0.5),
    )

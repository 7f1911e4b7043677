"""Plotly figures of the Train page: learning curves, run comparison, and a look at the data."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

METRIC_TITLES = {"loss": "Loss", "accuracy": "Accuracy"}
COLORS = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D")
MAX_BATCH_POINTS = 600  # more points than pixels only slows the browser down


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
        xaxis=dict(title="epoch"), uirevision=metric,  # keep the user's zoom while curves grow
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
            type="scatter", mode="lines", name="training (epoch so far)", opacity=0.45,
            x=np.array([b["epoch"] + b["batch"] / steps for b in points]),
            y=np.array([b[metric] for b in points]), line=dict(color=COLORS[0], width=1),
        ))
    for key, name, color in ((metric, "training", COLORS[0]), (f"val_{metric}", "validation", COLORS[1])):
        values = [(e["epoch"], e[key]) for e in epoch_logs if key in e]
        if values:
            data.append(dict(type="scatter", mode="lines+markers", name=name,
                             x=np.array([v[0] for v in values]), y=np.array([v[1] for v in values]),
                             line=dict(color=color, width=2.5)))
    return go.Figure(data=data, layout=metric_layout(metric))


def plot_run_comparison(histories: dict[str, dict[str, list[float]]], metric: str) -> go.Figure:
    """The same metric of several runs overlaid: solid validation, dotted training."""
    data = []
    for i, (name, history) in enumerate(histories.items()):
        color = COLORS[i % len(COLORS)]
        for key, dash, suffix in ((f"val_{metric}", "solid", "validation"), (metric, "dot", "training")):
            values = history.get(key, [])
            if values:
                data.append(dict(type="scatter", mode="lines+markers", name=f"{name} ({suffix})",
                                 x=np.arange(1, len(values) + 1), y=np.array(values),
                                 line=dict(color=color, dash=dash)))
    layout = metric_layout(metric, height=420)
    layout["legend"] = dict(orientation="v", y=-0.25, yanchor="top", x=0, xanchor="left")
    return go.Figure(data=data, layout=layout)


def plot_pixel_histogram(images: np.ndarray, value_max: int) -> go.Figure:
    """How often each pixel value occurs (log scale: the black background dwarfs the ink)."""
    counts = np.bincount(images.reshape(-1), minlength=value_max + 1)[: value_max + 1]
    fig = go.Figure(go.Bar(x=np.arange(value_max + 1), y=counts, marker_color=COLORS[0]))
    fig.update_layout(
        title="Pixel values", height=260, margin=dict(l=10, r=10, t=40, b=10),
        xaxis_title=f"value (0 = background, {value_max} = full ink)", yaxis_title="pixels",
        bargap=0,
    )
    fig.update_yaxes(type="log")
    return fig


def pick_samples(labels: np.ndarray, per_class: int = 1, seed: int = 0) -> np.ndarray:
    """Indices of `per_class` random examples of each class, in class order."""
    rng = np.random.default_rng(seed)
    picks = []
    for c in np.unique(labels):
        where = np.flatnonzero(labels == c)
        picks.extend(rng.choice(where, size=min(per_class, len(where)), replace=False))
    return np.array(picks, dtype=int)

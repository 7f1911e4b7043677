"""A sweep's members overlaid: one colour per member (style.color_of(member.index)) in every chart."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

from core.figures.curves import metric_layout, thin_out
from core.figures.style import color_of
from core.figures.text import plain_label
from core.i18n import message, term

MEMBER_BATCH_POINTS = 150  # per member: 8 members redrawn twice a second stay light


@dataclass
class MemberCurve:
    """What one member's curves need: its label, colour index and logs so far."""

    label: str
    index: int
    steps: int = 0
    batch_logs: list[dict] = field(default_factory=list)
    epoch_logs: list[dict] = field(default_factory=list)


def plot_sweep_curves(members: list[MemberCurve], metric: str) -> go.Figure:
    """One metric of every member: its batches (thin, as they come) and its validation per epoch (bold).

    The x axis is in epochs, batch b of epoch e at e + b / steps, as in curves.plot_learning_curve.
    """
    data = []
    for member in members:
        # Labels are made of validated settings ("lr=0.01"), escaped all the same: they name runs.
        color, label = color_of(member.index), plain_label(member.label)
        points = thin_out([b for b in member.batch_logs if metric in b], MEMBER_BATCH_POINTS)
        if points and member.steps:
            data.append(dict(
                type="scatter", mode="lines", legendgroup=label,
                name=message("{name} (training, epoch so far)", name=label),
                showlegend=False, opacity=0.4, hoverinfo="skip", line=dict(color=color, width=1),
                x=np.array([b["epoch"] + b["batch"] / member.steps for b in points]),
                y=np.array([b[metric] for b in points]),
            ))
        values = [(e["epoch"], e[f"val_{metric}"]) for e in member.epoch_logs if f"val_{metric}" in e]
        if values:
            data.append(dict(type="scatter", mode="lines+markers", name=label, legendgroup=label,
                             x=np.array([v[0] for v in values]), y=np.array([v[1] for v in values]),
                             line=dict(color=color, width=2.5)))
    layout = metric_layout(metric, height=380)
    layout["title"] = message("{title} · bold: validation, thin: training batches",
                              title=term(layout["title"]))
    return go.Figure(data=data, layout=layout)

"""Your own digits: how many of each you have."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.figures.style import TRAINING_COLOR
from core.i18n import N_


def plot_digit_counts(counts: np.ndarray) -> go.Figure:
    """Bars of how many digits of each class: counts (10,), index = digit; each bar labelled with its count."""
    counts = np.asarray(counts, dtype=np.int64).ravel()
    top = max(1, int(counts.max(initial=0)))
    fig = go.Figure(go.Bar(
        x=[str(d) for d in range(len(counts))], y=counts, marker_color=TRAINING_COLOR,
        text=[str(c) for c in counts], textposition="outside", cliponaxis=False,
        hovertemplate="%{y} of digit %{x}<extra></extra>",
    ))
    fig.update_layout(
        height=220, margin={"l": 40, "r": 10, "t": 20, "b": 40}, showlegend=False,
        xaxis={"type": "category", "title": {"text": N_("digit")}},
        yaxis={"title": {"text": N_("how many")}, "range": [0, top * 1.2]},
    )
    return fig

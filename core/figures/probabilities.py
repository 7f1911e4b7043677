"""Probabilities: the bars of one prediction, every class with the predicted one in colour."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from core.figures.style import HIGHLIGHT_COLOR, PLAIN_COLOR
from core.i18n import N_


def plot_probabilities(
    probs: np.ndarray, class_names: Sequence[str], highlight: int | None
) -> go.Figure:
    """Bar chart of the probability of every class, y fixed to 0..1, `highlight` in colour."""
    probs = np.asarray(probs, dtype=np.float64).ravel()  # (C,)
    if probs.shape[0] != len(class_names):
        raise ValueError(f"{probs.shape[0]} probabilities for {len(class_names)} class names")
    colors = [
        HIGHLIGHT_COLOR if highlight is not None and i == highlight else PLAIN_COLOR
        for i in range(len(class_names))
    ]
    fig = go.Figure(
        go.Bar(
            x=list(class_names),
            y=probs,
            marker_color=colors,
            text=[f"{p:.0%}" for p in probs],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}: %{y:.2%}<extra></extra>",
        )
    )
    fig.update_layout(
        height=280,
        margin={"l": 50, "r": 20, "t": 30, "b": 50},
        yaxis={"range": [0, 1], "tickformat": ".0%", "title": {"text": N_("Probability")}},
        xaxis={"type": "category"},
        showlegend=False,
    )
    return fig

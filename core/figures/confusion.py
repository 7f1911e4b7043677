"""The confusion matrix (clickable) and the per-class metrics drawn from it.

Compute first (core.analysis.evaluation), then build a figure here, then the page renders it.

Clicking the confusion matrix: Streamlit's `st.plotly_chart(on_select="rerun")` reports
no points for heatmap clicks, so `plot_confusion_matrix` lays a near-invisible scatter
trace over the cells, one square marker per cell with `customdata=[truth, predicted]`,
and `read_selected_cell` reads that back from the selection event.

Streamlit derives the chart's widget id from the figure itself, not only from `key`, so
any change to the figure (normalize toggle, the `selected` outline, another model)
starts a fresh widget with an empty selection. Keep the chosen cell in your own session
state and read the click from `st.session_state[key]` *before* drawing the chart:

    cell = read_selected_cell(st.session_state.get("cm_chart"))
    if cell is not None:
        st.session_state["eval_cell"] = cell
    fig = plot_confusion_matrix(cm, names, normalize, selected=st.session_state.get("eval_cell"))
    st.plotly_chart(fig, key="cm_chart", on_select="rerun", selection_mode="points")

(checked end to end in headless Chromium with Streamlit 1.67: clicks anywhere in a cell,
edges included, select that cell).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from core.figures.style import DIAGONAL_COLOR, METRIC_COLORS, SEQUENTIAL_SCALE, TEXT_COLOR
from core.i18n import N_

# Trace names, so the page and the tests can find traces without relying on their order.
ERRORS_TRACE = "errors"
CORRECT_TRACE = "correct"
CELLS_TRACE = "cells"


# Pixel geometry of the confusion matrix; the cell size sets the clickable marker size.
_CM_MARGIN = {"l": 110, "r": 40, "t": 40, "b": 90}
_CM_PLOT_PX = 460  # height of the plotting area; cells are square (scaleanchor)
_CELL_FONT_PX = 12  # fixed: plotly's automatic size shrinks the diagonal's text


def _format_rate(rate: float) -> str:
    """Format a 0..1 rate for a cell: '0', '<0.1%', '1.2%' below 10%, else '12%'."""
    if rate == 0:
        return "0"
    if rate < 0.0005:
        return "<0.1%"
    if rate < 0.0995:  # small error rates need the decimal to be told apart
        return f"{rate:.1%}"
    return f"{rate:.0%}"


def normalize_rows(cm: np.ndarray) -> np.ndarray:
    """Row-normalise a confusion matrix: share of each true class, float64 0..1.

    Rows with no images (a class absent from the test set) stay all 0.
    """
    cm = np.asarray(cm, dtype=np.float64)
    totals = cm.sum(axis=1, keepdims=True)
    out = np.zeros_like(cm)
    np.divide(cm, totals, out=out, where=totals != 0)
    return out


def _mask_cells(values: np.ndarray, keep: np.ndarray) -> list[list[float | None]]:
    """Values as nested lists with None where `keep` is False (plotly draws None as a gap)."""
    return [
        [float(v) if k else None for v, k in zip(value_row, keep_row)]
        for value_row, keep_row in zip(values, keep)
    ]


def confusion_cells(
    cm: np.ndarray, class_names: Sequence[str], normalize: bool = False, epoch: int | None = None,
) -> dict[str, dict[str, list]]:
    """What each trace of the matrix shows, by trace name: what changes from one matrix to another.

    ERRORS_TRACE and CORRECT_TRACE: `z` (values, None off their half) and `text` (counts, or
    rates when `normalize`); CELLS_TRACE: `customdata` [truth, predicted] per cell (truth-major),
    [truth, predicted, epoch] when `epoch` is given, and its `hovertext`. Plain lists, not numpy:
    plotly would send numpy as typed arrays, and a selected point's customdata would then reach
    Python as {"0": t, "1": p}. `plot_confusion_matrix` draws them; the matrix over epochs
    (core.figures.epochs) puts one set per epoch in its frames.
    """
    cm = np.asarray(cm, dtype=np.int64)
    num_classes = cm.shape[0]
    if cm.shape != (num_classes, num_classes) or len(class_names) != num_classes:
        raise ValueError(f"cm {cm.shape} does not match {len(class_names)} class names")
    rates = normalize_rows(cm)
    values = rates if normalize else cm.astype(np.float64)
    cell_text = np.array([[_format_rate(v) if normalize else str(int(v)) for v in row] for row in values],
                         dtype=object)
    on_diagonal = np.eye(num_classes, dtype=bool)
    truth, predicted = (a.ravel() for a in np.indices(cm.shape))  # (C*C,) each, truth-major
    row_totals = cm.sum(axis=1)  # (C,)
    prefix, tail = (f"Epoch {epoch}<br>", [int(epoch)]) if epoch is not None else ("", [])
    return {
        ERRORS_TRACE: {"z": _mask_cells(values, keep=~on_diagonal),
                       "text": np.where(on_diagonal, "", cell_text).tolist()},
        CORRECT_TRACE: {"z": _mask_cells(values, keep=on_diagonal),
                        "text": np.where(on_diagonal, cell_text, "").tolist()},
        CELLS_TRACE: {
            "customdata": [[int(t), int(p), *tail] for t, p in zip(truth, predicted)],
            "hovertext": [
                f"{prefix}Truth: {class_names[int(t)]}<br>Predicted: {class_names[int(p)]}<br>"
                f"{cm[t, p]} images ({rates[t, p]:.1%} of {row_totals[t]})"
                for t, p in zip(truth, predicted)
            ],
        },
    }


def plot_confusion_matrix(
    cm: np.ndarray,
    class_names: Sequence[str],
    normalize: bool,
    *,
    selected: tuple[int, int] | None = None,
    epoch: int | None = None,
) -> go.Figure:
    """Confusion matrix heatmap, rows = truth (class 0 at top), cols = predicted.

    Colours come from the off-diagonal cells only (trace "errors", diagonal None, zmax =
    largest off-diagonal value), so mistakes stand out; the diagonal is drawn in a
    neutral grey by its own trace ("correct"). Every cell shows its count, or its
    row-normalised rate when `normalize`. A near-transparent scatter trace ("cells")
    puts one square marker on each cell with customdata [truth, predicted] for clicks
    ([truth, predicted, epoch] when `epoch` is given: see `confusion_cells`).
    `selected` = (truth, predicted) draws an outline round that cell (this changes the
    figure, hence Streamlit's widget id: see the module docstring).
    """
    cells = confusion_cells(cm, class_names, normalize, epoch)
    cm = np.asarray(cm, dtype=np.int64)
    num_classes = cm.shape[0]
    values = normalize_rows(cm) if normalize else cm.astype(np.float64)
    on_diagonal = np.eye(num_classes, dtype=bool)

    max_error = float(values[~on_diagonal].max()) if num_classes > 1 else 0.0
    # A perfect model has no errors; keep a non-degenerate scale so zeros stay white.
    zmax = max_error if max_error > 0 else 1.0

    axis_ticks = list(range(num_classes))
    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            name=ERRORS_TRACE,
            z=cells[ERRORS_TRACE]["z"],
            x=axis_ticks,
            y=axis_ticks,
            zmin=0.0,
            zmax=zmax,
            colorscale=SEQUENTIAL_SCALE,
            colorbar={
                "title": {"text": N_("Share of truth") if normalize else N_("Mistakes")},
                "tickformat": (".0%" if zmax >= 0.1 else ".1%") if normalize else "d",
                # Counts are whole numbers: whole ticks only (auto ticks gave 0, 1, 1, 2, 2 for small counts).
                **({} if normalize else {"tickmode": "linear", "tick0": 0, "dtick": max(1, int(np.ceil(zmax / 5)))}),
            },
            text=cells[ERRORS_TRACE]["text"],
            texttemplate="%{text}",
            textfont={"size": _CELL_FONT_PX},
            hoverinfo="skip",
            xgap=1,
            ygap=1,
        )
    )
    fig.add_trace(
        go.Heatmap(
            name=CORRECT_TRACE,
            z=cells[CORRECT_TRACE]["z"],
            x=axis_ticks,
            y=axis_ticks,
            colorscale=[[0.0, DIAGONAL_COLOR], [1.0, DIAGONAL_COLOR]],
            showscale=False,
            text=cells[CORRECT_TRACE]["text"],
            texttemplate="<b>%{text}</b>",
            textfont={"color": TEXT_COLOR, "size": _CELL_FONT_PX},
            hoverinfo="skip",
            xgap=1,
            ygap=1,
        )
    )

    truth, predicted = (a.ravel() for a in np.indices(cm.shape))  # (C*C,) each, truth-major
    cell_px = _CM_PLOT_PX / num_classes
    fig.add_trace(
        go.Scatter(
            name=CELLS_TRACE,
            x=predicted.tolist(),
            y=truth.tolist(),
            mode="markers",
            marker={"symbol": "square", "size": cell_px, "color": "#000000", "opacity": 0.01},
            # Keep every marker near-invisible whether or not plotly marks it selected.
            selected={"marker": {"opacity": 0.01}},
            unselected={"marker": {"opacity": 0.01}},
            customdata=cells[CELLS_TRACE]["customdata"],  # plain lists (see confusion_cells)
            hovertext=cells[CELLS_TRACE]["hovertext"],
            hovertemplate="%{hovertext}<extra></extra>",
            showlegend=False,
        )
    )

    if selected is not None:
        sel_truth, sel_predicted = selected
        fig.add_shape(
            type="rect",
            x0=sel_predicted - 0.5,
            x1=sel_predicted + 0.5,
            y0=sel_truth - 0.5,
            y1=sel_truth + 0.5,
            line={"color": "#111111", "width": 3},
        )

    fig.update_layout(
        height=_CM_PLOT_PX + _CM_MARGIN["t"] + _CM_MARGIN["b"],
        margin=_CM_MARGIN,
        hovermode="closest",
        hoverdistance=-1,  # any click inside the plot picks the nearest cell centre
        clickmode="event+select",
        dragmode=False,
        plot_bgcolor="white",
        xaxis={
            "title": {"text": N_("Predicted")},
            "tickmode": "array",
            "tickvals": axis_ticks,
            "ticktext": list(class_names),
            "range": [-0.5, num_classes - 0.5],
            "showgrid": False,
            "zeroline": False,
            "constrain": "domain",
        },
        yaxis={
            "title": {"text": N_("Truth")},
            "tickmode": "array",
            "tickvals": axis_ticks,
            "ticktext": list(class_names),
            "range": [num_classes - 0.5, -0.5],  # reversed: class 0 at the top
            "autorange": False,
            "showgrid": False,
            "zeroline": False,
            "scaleanchor": "x",
            "scaleratio": 1,
            "constrain": "domain",
        },
    )
    return fig


def read_selected_cell(selection_event: Any) -> tuple[int, int] | None:
    """Read (truth, predicted) from a Streamlit plotly selection event, or None.

    Expects the object returned by `st.plotly_chart(..., on_select="rerun")` (a dict
    subclass) or the same thing from session state:
    {"selection": {"points": [{"curve_number": 2, "point_index": 37,
    "x": 7, "y": 3, "customdata": [3, 7], ...}], "point_indices": [...], "box": [], "lasso": []}}.
    The first point carrying a two-number customdata wins (a box selection may hold several).
    """
    if not isinstance(selection_event, Mapping):
        return None
    selection = selection_event.get("selection")
    if not isinstance(selection, Mapping):
        return None
    points = selection.get("points") or []
    for point in points:
        if not isinstance(point, Mapping):
            continue
        customdata = point.get("customdata")
        if isinstance(customdata, Mapping):  # a typed array serialised as {"0": t, "1": p}
            customdata = [customdata.get("0"), customdata.get("1")]
        if not isinstance(customdata, (list, tuple)) or len(customdata) < 2:
            continue
        try:
            truth, predicted = int(customdata[0]), int(customdata[1])
        except (TypeError, ValueError):
            continue
        return truth, predicted
    return None


def plot_class_metrics(metrics: Mapping[str, np.ndarray], class_names: Sequence[str]) -> go.Figure:
    """Grouped bars of precision, recall and F1 per class; y fixed to 0..1."""
    support = np.asarray(metrics["support"])
    fig = go.Figure()
    for label, key in ((N_("Precision"), "precision"), (N_("Recall"), "recall"), ("F1", "f1")):
        fig.add_trace(
            go.Bar(
                name=label,
                x=list(class_names),
                y=np.asarray(metrics[key], dtype=np.float64),
                marker_color=METRIC_COLORS[label],
                customdata=support,
                hovertemplate=f"%{{x}}<br>{label}: %{{y:.3f}}<br>Support: %{{customdata}}"
                "<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        height=360,
        margin={"l": 50, "r": 20, "t": 30, "b": 60},
        yaxis={"range": [0, 1], "title": {"text": N_("Score")}},
        xaxis={"title": {"text": N_("Class")}, "type": "category"},
        legend={"orientation": "h", "y": 1.12, "x": 0},
    )
    return fig

"""Figures of the per-epoch validation record: the confusion matrix epoch by epoch, and one image's answers.

`plot_confusion_over_epochs` holds every epoch as a plotly frame, with an "Epoch" slider and a
Play / Pause pair: the browser moves through the epochs with no round trip to the server. Each
frame also swaps the clickable overlay's customdata, [truth, predicted, epoch], so a click tells
which epoch was on screen (checked in headless Chromium through `st.plotly_chart(on_select=
"rerun", selection_mode="points")`). Read a click with `read_selected_cell_at`:

    cell = read_selected_cell_at(st.session_state.get("epoch_cm"))
    if cell is not None:
        st.session_state["epoch_cell"] = cell  # (truth, predicted, epoch)
    fig = plot_confusion_over_epochs(cms, names, selected=st.session_state.get("epoch_cell"))
    st.plotly_chart(fig, key="epoch_cm", on_select="rerun", selection_mode="points")

As with the Evaluate matrix, a changed figure is a new Streamlit widget with an empty selection;
`selected` = (truth, predicted, epoch) outlines the cell and opens the figure at that epoch.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from core.figures.confusion import CELLS_TRACE, ERRORS_TRACE, confusion_cells, plot_confusion_matrix
from core.figures.style import DIAGONAL_COLOR, HIGHLIGHT_COLOR, TEXT_COLOR

SLIDER_PREFIX = "Epoch "
FRAME_MS = 600  # how long Play shows each epoch
_CONTROLS_PX = 90  # room under the matrix for the slider and the buttons


def name_frame(epoch: int) -> str:
    """The frame (and slider step) name of a 1-based epoch."""
    return str(epoch)


class FramedFigure(go.Figure):
    """A figure whose animation frames are kept as plain dicts, unvalidated.

    plotly validates frames value by value when they are set (`fig.frames = ...`): about a second
    for 40 epochs of a 10-class matrix, again whenever a training adds an epoch. These frames hold
    what the figure's own (validated) traces hold, epoch by epoch. `to_dict`, which
    `plotly.io.to_json`, `fig.to_json()`, `fig.show()` and Streamlit read, includes them; so does
    `frame_dicts`. `fig.frames` stays empty.
    """

    def __init__(self, figure: go.Figure, frames: Sequence[dict]):
        super().__init__(figure)
        self._frame_dicts = list(frames)  # plotly figures take only "_" names besides their own

    @property
    def frame_dicts(self) -> list[dict]:
        return self._frame_dicts

    def to_dict(self) -> dict:
        out = super().to_dict()
        out["frames"] = copy.deepcopy(self._frame_dicts)
        return out


def plot_confusion_over_epochs(
    cms: np.ndarray,
    class_names: Sequence[str],
    selected: tuple[int, int] | tuple[int, int, int] | None = None,
    *,
    epoch: int | None = None,
) -> FramedFigure:
    """The validation confusion matrix after each epoch, as frames with a slider and Play / Pause.

    `cms` is (E, C, C), rows = truth. Same look as the Evaluate matrix (grey diagonal, mistakes
    coloured, counts as text), but one colour scale for all epochs (0..the largest mistake
    count of any epoch) so colours compare across epochs. The figure opens at `epoch`
    (1-based), else at the epoch of a 3-long `selected`, else at the last epoch. Play runs from
    epoch 1. `selected` outlines (truth, predicted) at every epoch.
    """
    cms = np.asarray(cms, dtype=np.int64)
    if cms.ndim != 3 or cms.shape[0] == 0:
        raise ValueError(f"expected (epochs, C, C) confusion matrices, got {cms.shape}")
    epochs, num_classes = cms.shape[0], cms.shape[1]
    if epoch is None:
        epoch = selected[2] if selected is not None and len(selected) > 2 else epochs
    epoch = min(max(int(epoch), 1), epochs)

    cell = (selected[0], selected[1]) if selected is not None else None
    fig = plot_confusion_matrix(cms[epoch - 1], class_names, normalize=False, selected=cell, epoch=epoch)
    # Only what changes goes in a frame: building the whole figure per epoch would cost 20x more.
    per_epoch = [confusion_cells(cms[e], class_names, epoch=e + 1) for e in range(epochs)]
    order = [t.name for t in fig.data]  # frames address traces by index

    off_diagonal = cms * (1 - np.eye(num_classes, dtype=np.int64))  # (E, C, C)
    zmax = float(off_diagonal.max()) or 1.0  # a perfect model keeps a non-degenerate scale
    fig.update_traces(zmax=zmax, colorbar={"dtick": max(1, int(np.ceil(zmax / 5)))}, selector={"name": ERRORS_TRACE})

    frames = [
        {"name": name_frame(e + 1), "traces": list(range(len(order))),
         "data": [{"type": "scatter" if name == CELLS_TRACE else "heatmap", **traces[name]} for name in order]}
        for e, traces in enumerate(per_epoch)
    ]
    fig = FramedFigure(fig, frames=frames)
    jump = {"mode": "immediate", "frame": {"duration": 0, "redraw": True}, "transition": {"duration": 0}}
    margin = dict(fig.layout.margin.to_plotly_json())
    margin["b"] += _CONTROLS_PX
    fig.update_layout(
        height=fig.layout.height + _CONTROLS_PX,
        margin=margin,
        sliders=[{
            "active": epoch - 1,
            "currentvalue": {"prefix": SLIDER_PREFIX, "font": {"color": TEXT_COLOR}},
            "steps": [{"label": name_frame(e), "method": "animate", "args": [[name_frame(e)], jump]}
                      for e in range(1, epochs + 1)],
            "x": 0.0, "len": 0.9, "y": 0, "yanchor": "top", "pad": {"t": 60},
        }],
        updatemenus=[{
            # In the left margin, beside the slider's rail: on top of the rail they would hide epoch 1.
            "type": "buttons", "direction": "left", "showactive": False, "font": {"size": 14},
            "x": 0.0, "xanchor": "right", "y": 0, "yanchor": "top", "pad": {"t": 85, "r": 10},
            "buttons": [
                {"label": "▶", "method": "animate",
                 "args": [None, {**jump, "frame": {"duration": FRAME_MS, "redraw": True}, "fromcurrent": False}]},
                {"label": "❚❚", "method": "animate",
                 "args": [[None], {**jump, "frame": {"duration": 0, "redraw": False}}]},
            ],
        }],
    )
    return fig


def read_selected_cell_at(selection_event: Any) -> tuple[int, int, int] | None:
    """(truth, predicted, epoch) from a Streamlit selection event on that figure, or None.

    The first point whose customdata holds three whole numbers wins.
    """
    if not isinstance(selection_event, Mapping) or not isinstance(selection_event.get("selection"), Mapping):
        return None
    for point in selection_event["selection"].get("points") or []:
        customdata = point.get("customdata") if isinstance(point, Mapping) else None
        if isinstance(customdata, Mapping):  # a typed array serialised as {"0": t, "1": p, "2": e}
            customdata = [customdata.get(str(i)) for i in range(3)]
        if not isinstance(customdata, (list, tuple)) or len(customdata) < 3:
            continue
        try:
            return int(customdata[0]), int(customdata[1]), int(customdata[2])
        except (TypeError, ValueError):
            continue
    return None


# --- One image's answers, epoch by epoch ------------------------------------------------------


def check_strip(preds_for_image: np.ndarray) -> np.ndarray:
    """The predictions of one image, (E,) int64; ValueError for anything else."""
    preds = np.asarray(preds_for_image)
    if preds.ndim != 1 or not np.issubdtype(preds.dtype, np.integer):
        raise ValueError(f"expected (epochs,) integer predictions, got {preds.dtype} {preds.shape}")
    return preds.astype(np.int64)


def draw_prediction_strip(preds_for_image: np.ndarray, truth: int, width: int = 84, height: int = 8) -> np.ndarray:
    """The same strip as an RGB image, (height, width, 3) uint8: grey right, vermillion wrong, white gaps.

    Stack it under a `to_thumbnails` image with `core.figures.images.add_strip`.
    """
    preds = check_strip(preds_for_image)
    colors = np.array([hex_to_rgb(DIAGONAL_COLOR), hex_to_rgb(HIGHLIGHT_COLOR)], dtype=np.uint8)  # (2, 3)
    strip = np.full((height, width, 3), 255, dtype=np.uint8)
    if len(preds) == 0:
        return strip
    column_epoch = np.arange(width) * len(preds) // width  # (width,) epoch shown in each pixel column
    image_row = colors[(preds != truth).astype(np.int64)[column_epoch]]  # (width, 3)
    edges = np.flatnonzero(np.diff(column_epoch)) + 1  # first column of each epoch after the first
    if len(preds) * 2 <= width:  # room for a 1-pixel gap between epochs
        image_row[edges] = 255
    strip[:] = image_row
    return strip


def caption_prediction_strip(preds_for_image: np.ndarray, class_names: Sequence[str]) -> str:
    """The classes predicted epoch by epoch, as text: '3 3 5 5 3'."""
    return " ".join(class_names[p] for p in check_strip(preds_for_image))


def caption_changes(preds_for_image: np.ndarray, class_names: Sequence[str], most: int = 9) -> str:
    """The classes an image went through, each once per stay: '3 3 5 5 3' -> '3→5→3'.

    Past `most` stays, the middle ones give way to '…' (the strip image shows them all).
    """
    preds = check_strip(preds_for_image)
    stays = preds[np.r_[True, preds[1:] != preds[:-1]]] if len(preds) else preds
    names = [class_names[p] for p in stays]
    if len(names) > most:
        names = [*names[: most // 2], "…", *names[-(most - most // 2 - 1):]]
    return "→".join(names)


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    """'#D55E00' -> (213, 94, 0)."""
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)

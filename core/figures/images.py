"""Images and thumbnails: crisp enlargements, gallery captions, a look at a dataset's pixels."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.figures.style import TRAINING_COLOR
from core.i18n import N_, message


def to_thumbnails(images: np.ndarray, size: int = 84) -> list[np.ndarray]:
    """Upscale images to size x size uint8 thumbnails with nearest neighbour (crisp pixels).

    Accepts (N, H, W) or (N, H, W, 1), uint8 0..255 or float 0..1. Returns a list of
    (size, size) uint8 arrays, ready for `st.image(list, caption=list, width=...)`.
    """
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]  # (N, H, W, 1) -> (N, H, W)
    if images.ndim != 3:
        raise ValueError(f"expected (N, H, W) or (N, H, W, 1) images, got {images.shape}")
    if not np.issubdtype(images.dtype, np.integer):
        images = np.rint(np.clip(images, 0.0, 1.0) * 255.0)
    images = images.astype(np.uint8, copy=False)
    height, width = images.shape[1:]
    rows = np.arange(size) * height // size  # source row of each output row
    cols = np.arange(size) * width // size
    big = images[:, rows][:, :, cols]  # (N, size, size) uint8
    return list(big)


def caption_prediction(pred_name: str, confidence: float | None, truth_name: str) -> str:
    """Caption for a thumbnail: 'Predicted P (97%) · Truth T', or 'Predicted P · Truth T' without a confidence."""
    shown = "" if confidence is None else f" ({confidence:.0%})"
    return f"Predicted {pred_name}{shown} · Truth {truth_name}"


def add_strip(thumbnail: np.ndarray, strip: np.ndarray, gap: int = 3) -> np.ndarray:
    """A grey (S, S) uint8 thumbnail above an RGB strip (h, S, 3), with a white gap: (S + gap + h, S, 3) uint8."""
    rgb = np.repeat(np.asarray(thumbnail, dtype=np.uint8)[..., None], 3, axis=2)
    white = np.full((gap, rgb.shape[1], 3), 255, dtype=np.uint8)
    return np.vstack([rgb, white, np.asarray(strip, dtype=np.uint8)])


def plot_pixel_histogram(images: np.ndarray, value_max: int) -> go.Figure:
    """How often each pixel value occurs (log scale: the black background dwarfs the ink)."""
    counts = np.bincount(images.reshape(-1), minlength=value_max + 1)[: value_max + 1]
    fig = go.Figure(go.Bar(x=np.arange(value_max + 1), y=counts, marker_color=TRAINING_COLOR))
    fig.update_layout(
        title=N_("How dark the pixels are"), height=280, margin=dict(l=10, r=10, t=40, b=10),
        # Short titles: the chart sits in a narrow column, where a long one was cut.
        xaxis_title=message("0 = background, {value_max} = ink", value_max=value_max),
        yaxis_title=N_("pixels (log)"),
        bargap=0,
    )
    # Log scale with a label at each power of ten only ("1", "10", "100", "1k"...): plotly's
    # default labels the steps between them too ("2, 10k, 5, 2"), which reads as nonsense.
    fig.update_yaxes(type="log", dtick=1, tickformat="~s")
    return fig


def pick_samples(labels: np.ndarray, per_class: int = 1, seed: int = 0) -> np.ndarray:
    """Indices of `per_class` random examples of each class, in class order."""
    rng = np.random.default_rng(seed)
    picks: list[int] = []
    for c in np.unique(labels):
        where = np.flatnonzero(labels == c)
        picks.extend(rng.choice(where, size=min(per_class, len(where)), replace=False))
    return np.array(picks, dtype=int)

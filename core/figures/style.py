"""One look for every figure: the palette, the diverging scale, the common layout pieces.

The palette is Okabe and Ito's (2008), darkened where a colour was too light to see on white: every mark
colour has at least 3:1 contrast against the white plot (WCAG 1.4.11), and every pair stays apart (CIELAB
distance >= 10) for people with any common form of colour blindness (tests/core/figures/test_style.py).
Every figure module takes its colours from here.
"""

from __future__ import annotations

from typing import Any

# Okabe-Ito: blue, orange, bluish green, vermillion, sky blue, reddish purple, black; orange, vermillion and sky
# blue darker, and wine (Paul Tol's) for the yellow, which no darkening keeps apart from the orange.
PALETTE = ("#0072B2", "#C27C00", "#009E73", "#B83D00", "#3F8FCB", "#CC79A7", "#882255", "#000000")
TRAINING_COLOR = PALETTE[0]
VALIDATION_COLOR = PALETTE[1]
HIGHLIGHT_COLOR = PALETTE[3]  # the predicted class, the chosen cell
PLAIN_COLOR = "#7B8794"  # bars that are not highlighted (3.7:1 on white)
# Correct answers: neutral, so the mistakes stand out. A cell's fill, not a mark: its count is written on it.
DIAGONAL_COLOR = "#E6E6E6"
TEXT_COLOR = "#1F2933"
# Sequential scale for counts (white -> vermillion), readable without red-green vision.
SEQUENTIAL_SCALE = [[0.0, "#FFFFFF"], [1.0, PALETTE[3]]]
# Diverging scale for signed values (weights, attributions): blue negative, white 0, orange positive.
# Plotly's colorscale form: [position 0..1, "#RRGGBB"] pairs (Any: a position or a colour).
DIVERGING_SCALE: list[list[Any]] = [[0.0, PALETTE[0]], [0.5, "#FFFFFF"], [1.0, PALETTE[1]]]
METRIC_COLORS = {"Precision": PALETTE[0], "Recall": PALETTE[1], "F1": PALETTE[2]}


MARK_COLORS = (*PALETTE, PLAIN_COLOR)  # every colour a line, bar or point is drawn in: 3:1 on white at least
# The theme's text colours (.streamlit/config.toml) meet WCAG AA on both backgrounds: 4.5:1.
TEXT_CONTRAST = 4.5
MARK_CONTRAST = 3.0


def relative_luminance(color: str) -> float:
    """WCAG 2's relative luminance of "#RRGGBB", 0 (black) .. 1 (white)."""
    channels = [int(color.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2's contrast ratio of two "#RRGGBB" colours, 1 (the same) .. 21 (black on white)."""
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def color_of(index: int) -> str:
    """The palette colour of series `index` (runs, sweep members): the same index, the same colour."""
    return PALETTE[index % len(PALETTE)]


def assign_colors(run_ids: list[int], fixed: dict[int, int]) -> list[int]:
    """Palette indices for runs shown together: a run in `fixed` (a sweep member) keeps its index,
    the others take the lowest indices no fixed run uses, in order."""
    taken = {fixed[r] for r in run_ids if r in fixed}
    free = (i for i in range(len(run_ids) + len(taken)) if i not in taken)
    return [fixed[r] if r in fixed else next(free) for r in run_ids]

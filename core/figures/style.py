"""One look for every figure: the palette, the diverging scale, the common layout pieces.

The palette is Okabe and Ito's (2008), chosen so that people with any common form of colour
blindness can tell every colour apart. Every figure module takes its colours from here.
"""

from __future__ import annotations

from typing import Any

# Okabe-Ito: blue, orange, bluish green, vermillion, sky blue, reddish purple, yellow, black.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")
TRAINING_COLOR = PALETTE[0]
VALIDATION_COLOR = PALETTE[1]
HIGHLIGHT_COLOR = PALETTE[3]  # the predicted class, the chosen cell
PLAIN_COLOR = "#9AA5B1"  # bars that are not highlighted
DIAGONAL_COLOR = "#E6E6E6"  # correct answers: neutral, so the mistakes stand out
TEXT_COLOR = "#1F2933"
# Sequential scale for counts (white -> vermillion), readable without red-green vision.
SEQUENTIAL_SCALE = [[0.0, "#FFFFFF"], [1.0, "#D55E00"]]
# Diverging scale for signed values (weights, attributions): blue negative, white 0, orange positive.
# Plotly's colorscale form: [position 0..1, "#RRGGBB"] pairs (Any: a position or a colour).
DIVERGING_SCALE: list[list[Any]] = [[0.0, "#0072B2"], [0.5, "#FFFFFF"], [1.0, "#E69F00"]]
METRIC_COLORS = {"Precision": PALETTE[0], "Recall": PALETTE[1], "F1": PALETTE[2]}


def color_of(index: int) -> str:
    """The palette colour of series `index` (runs, sweep members): the same index, the same colour."""
    return PALETTE[index % len(PALETTE)]


def assign_colors(run_ids: list[int], fixed: dict[int, int]) -> list[int]:
    """Palette indices for runs shown together: a run in `fixed` (a sweep member) keeps its index,
    the others take the lowest indices no fixed run uses, in order."""
    taken = {fixed[r] for r in run_ids if r in fixed}
    free = (i for i in range(len(run_ids) + len(taken)) if i not in taken)
    return [fixed[r] if r in fixed else next(free) for r in run_ids]

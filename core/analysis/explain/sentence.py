"""The explanation in words: where the ink that counted for (and against) a class lies, from an
attribution map (core.analysis.explain.attribution). numpy only.
"""

from __future__ import annotations

import numpy as np

from core.i18n import N_, message, term

# Share of the positive (or negative) mass that a part of the digit holds to be named outright.
MAJORITY_SHARE = 0.5
# A cell with at least this share, and this many times the runner-up's, has a clear lead.
LEAD_SHARE = 0.3
LEAD_RATIO = 1.5
# Negative mass below this fraction of the positive mass is "almost nothing against".
AGAINST_SMALL = 0.1
# Negative mass at least this fraction of the positive mass is named as counting against.
AGAINST_NAMED = 0.25
# Pixels at least this fraction of the brightest one are ink (they set the digit's box).
INK_LEVEL = 0.1
# Where a majority sits, on a 3x3 grid: (row band, column band) -> words; then whole bands.
CELL_WORDS = {
    (0, 0): N_("in the upper left"), (0, 1): N_("at the top"), (0, 2): N_("in the upper right"),
    (1, 0): N_("on the left"), (1, 1): N_("in the centre"), (1, 2): N_("on the right"),
    (2, 0): N_("in the lower left"), (2, 1): N_("at the bottom"), (2, 2): N_("in the lower right"),
}
ROW_WORDS = (N_("along the top"), N_("across the middle"), N_("along the bottom"))
COLUMN_WORDS = (N_("down the left side"), N_("down the middle"), N_("down the right side"))


def ink_box(image: np.ndarray | None, attributions: np.ndarray) -> tuple[slice, slice]:
    """Rows and columns of the digit's bounding box: the ink of the image, else the non-zero map."""
    mask = None
    if image is not None:
        ink = np.asarray(image, dtype=np.float64).reshape(attributions.shape)
        mask = ink > INK_LEVEL * max(float(ink.max()), 1e-12)
    if mask is None or not mask.any():
        mask = attributions != 0
    if not mask.any():
        return slice(None), slice(None)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def band_edges(size: int) -> list[int]:
    """Edges of three bands along an axis: 8 -> [0, 3, 5, 8], 20 -> [0, 7, 13, 20]."""
    return [round(size * k / 3) for k in range(4)]


def region_sums(values: np.ndarray) -> np.ndarray:
    """Sums (3, 3) of an (h, w) array over each cell of a 3x3 grid (thirds of rows and columns)."""
    rows, cols = band_edges(values.shape[0]), band_edges(values.shape[1])
    return np.array([
        [values[rows[i]:rows[i + 1], cols[j]:cols[j + 1]].sum() for j in range(3)] for i in range(3)
    ], dtype=np.float64)


def locate_mass(cells: np.ndarray) -> str | None:
    """Words for where a non-negative mass on a 3x3 grid (3, 3) is; None when it is spread out.

    In this order: a cell holding more than half ("in the upper right"); a row or column band
    holding more than half ("along the bottom"); a cell with a clear lead (at least LEAD_SHARE,
    and LEAD_RATIO times the runner-up). Otherwise no one place counted most.
    """
    shares = cells / max(float(cells.sum()), 1e-300)
    row, col = (int(i) for i in np.unravel_index(int(np.argmax(shares)), shares.shape))
    if shares[row, col] > MAJORITY_SHARE:
        return CELL_WORDS[(row, col)]
    rows, cols = shares.sum(axis=1), shares.sum(axis=0)
    if max(rows.max(), cols.max()) > MAJORITY_SHARE:
        if rows.max() >= cols.max():
            return ROW_WORDS[int(np.argmax(rows))]
        return COLUMN_WORDS[int(np.argmax(cols))]
    runner_up = np.sort(shares, axis=None)[-2]
    if shares[row, col] >= LEAD_SHARE and shares[row, col] >= LEAD_RATIO * runner_up:
        return CELL_WORDS[(row, col)]
    return None


def describe_attributions(attributions: np.ndarray, class_name: str, image: np.ndarray | None = None) -> str:
    """One plain sentence reading an attribution map (H, W) for class `class_name`.

    Places are the cells of a 3x3 grid over the digit (the ink's bounding box in `image`, else
    the non-zero map), so "at the top" means the top of the digit ("ink": the bright pixels).
    Each cell's attributions are summed first: integrated gradients speckle pixel by pixel,
    and what a cell does on balance is the robust reading. The words rest only on the shares
    of the cells' positive (and negative) sums, see locate_mass; the part against the class is
    placed when it is at least a quarter of the part for it, called "a little" below that, and
    "no part" under a tenth.
    """
    attributions = np.nan_to_num(np.asarray(attributions, dtype=np.float64))
    rows, cols = ink_box(image, attributions)
    cells = region_sums(attributions[rows, cols])  # (3, 3) over the digit's bounding box
    positive, negative = np.maximum(cells, 0), np.maximum(-cells, 0)
    pos_total, neg_total = positive.sum(), negative.sum()
    name = term(class_name)
    if pos_total + neg_total <= 1e-12 * max(np.abs(attributions).sum(), 1.0):
        if np.abs(attributions).sum() <= 1e-12:
            return message("Nothing in this image counted for or against {name}.", name=name)
        return message("The parts of this image that counted for and against {name} cancel out.", name=name)
    if pos_total <= AGAINST_SMALL * neg_total:
        where = locate_mass(negative)
        if where:
            return message("Almost nothing counted for {name}; the ink {where} counted against it.", name=name,
                           where=term(where))
        return message("Almost nothing counted for {name}; ink all over the image counted against it.", name=name)
    where = locate_mass(positive)
    if where:
        first = message("The ink {where} counted most for {name}", where=term(where), name=name)
    else:
        first = message("Ink all over the image counted for {name}, no one part most", name=name)
    if neg_total < AGAINST_SMALL * pos_total:
        return message("{first}; on balance no part of the image counted against it.", first=first)
    if neg_total < AGAINST_NAMED * pos_total:
        return message("{first}; a little ink counted against it.", first=first)
    against = locate_mass(negative)
    if against is None:
        return message("{first}; ink in several places counted against it.", first=first)
    return message("{first}; the ink {against} counted against it.", first=first, against=term(against))

"""The palette and the theme can be read: WCAG contrast on white, and colours apart for colour-blind people."""

from __future__ import annotations

import itertools
import tomllib
from pathlib import Path

import numpy as np
import pytest

from core.figures.style import (
    MARK_COLORS,
    MARK_CONTRAST,
    PALETTE,
    TEXT_COLOR,
    TEXT_CONTRAST,
    contrast_ratio,
    relative_luminance,
)

THEME = tomllib.loads((Path(__file__).parents[3] / ".streamlit" / "config.toml").read_text())["theme"]
# Machado, Oliveira and Fernandes (2009), severity 1.0, on linear RGB: how each colour looks without one cone.
SIMULATIONS = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
    "full colour vision": np.eye(3),
}
APART = 10.0  # CIELAB distance two series' colours keep at least (about 2.3 is the least anyone sees)


def linear_rgb(color: str) -> np.ndarray:
    channels = np.array([int(color.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)])
    return np.where(channels <= 0.04045, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4)


def lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of a linear RGB colour, (3,)."""
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ np.clip(rgb, 0, 1)
    xyz = xyz / np.array([0.9505, 1.0, 1.089])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def mix(color: str, alpha: float, under: str = "#FFFFFF") -> str:
    """`color` at `alpha` over `under`, as Streamlit tints a chosen pill or a caption."""
    a, b = (np.array([int(c.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]) for c in (color, under))
    return "#" + "".join(f"{round(v):02x}" for v in alpha * a + (1 - alpha) * b)


def test_contrast_ratio_is_wcags():
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)  # the well-known near miss
    assert contrast_ratio("#0072B2", "#0072B2") == 1.0
    assert relative_luminance("#FFFFFF") == pytest.approx(1.0)


@pytest.mark.parametrize("color", MARK_COLORS)
def test_every_mark_colour_stands_out_on_white(color):
    assert contrast_ratio(color, "#FFFFFF") >= MARK_CONTRAST


def test_figure_text_is_readable_on_white():
    assert contrast_ratio(TEXT_COLOR, "#FFFFFF") >= TEXT_CONTRAST


@pytest.mark.parametrize("vision", list(SIMULATIONS))
def test_every_two_series_colours_stay_apart(vision):
    seen = {color: lab(SIMULATIONS[vision] @ linear_rgb(color)) for color in PALETTE}
    close = [(a, b, round(float(np.linalg.norm(seen[a] - seen[b])), 1))
             for a, b in itertools.combinations(PALETTE, 2) if np.linalg.norm(seen[a] - seen[b]) < APART]
    assert not close, f"with {vision}, these look alike: {close}"


@pytest.mark.parametrize("background", ["backgroundColor", "secondaryBackgroundColor"])
def test_the_themes_text_and_captions_meet_wcag_aa(background):
    text, under = THEME["textColor"], THEME[background]
    assert contrast_ratio(text, under) >= TEXT_CONTRAST
    assert contrast_ratio(mix(text, 0.6, under), under) >= TEXT_CONTRAST  # captions: the text colour at 60%


def test_the_primary_colour_is_readable_as_text_and_under_white_text():
    primary, background = THEME["primaryColor"], THEME["backgroundColor"]
    assert contrast_ratio(primary, background) >= TEXT_CONTRAST  # links, a chosen tab's name
    assert contrast_ratio(primary, THEME["secondaryBackgroundColor"]) >= TEXT_CONTRAST  # the same in the sidebar
    assert contrast_ratio(primary, mix(primary, 0.1, background)) >= TEXT_CONTRAST  # a chosen pill on its tint
    assert contrast_ratio("#FFFFFF", primary) >= TEXT_CONTRAST  # a primary button's label

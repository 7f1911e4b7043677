"""Images of what a network looks at: attribution overlays, weight templates, filters, feature maps.

Compute in core.analysis.explain.attribution, draw here. Everything is a plain RGB uint8 array (st.image shows it
crisply and at once; 64 plotly heatmaps would take a second to draw). Pixels are enlarged by
nearest neighbour, so each input pixel stays a sharp square. Signed values use the diverging
scale of core.figures.style: orange > 0, white 0, blue < 0, symmetric around 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from core.figures.style import DIVERGING_SCALE, TEXT_COLOR
from core.i18n import Message, message, term

# Percentile of |attribution| (over the pixels that have one) that gets full colour: a few
# extreme pixels must not wash out the rest of the map.
ATTRIBUTION_PERCENTILE = 99.0
# How dark the faint digit under the overlay is at full ink (0 white .. 1 black).
DIGIT_SHADE = 0.4
CAPTION_SIZE = 11  # px
CAPTION_HEIGHT = 15  # px under each tile
GAP = 6  # px between tiles
BACKGROUND = (255, 255, 255)
FRAME = (200, 206, 212)  # light grey 1 px frame: shows where a mostly white image ends


def hex_to_rgb(color: str) -> np.ndarray:
    """'#E69F00' -> array([230, 159, 0]) float."""
    return np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)


NEGATIVE_RGB = hex_to_rgb(DIVERGING_SCALE[0][1])  # blue
ZERO_RGB = hex_to_rgb(DIVERGING_SCALE[1][1])  # white
POSITIVE_RGB = hex_to_rgb(DIVERGING_SCALE[-1][1])  # orange


def blend_signed(base: np.ndarray, values: np.ndarray, scale: float) -> np.ndarray:
    """Tint a base (H, W, 3) float 0..255 towards orange (values > 0) or blue (< 0).

    The tint's strength is |values| / scale, clipped to 1; 0 leaves the base as it is.
    """
    strength = np.clip(np.asarray(values, dtype=np.float64) / scale, -1.0, 1.0) if scale > 0 else 0 * values
    alpha = np.abs(strength)[..., None]  # (H, W, 1)
    color = np.where(strength[..., None] >= 0, POSITIVE_RGB, NEGATIVE_RGB)  # (H, W, 3)
    return base * (1 - alpha) + color * alpha


def enlarge(rgb: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour enlargement of an (h, w, 3) uint8 image to size (side or (height, width))."""
    height, width = (size, size) if isinstance(size, int) else size
    if height % rgb.shape[0] == 0 and width % rgb.shape[1] == 0:  # whole multiples: exact squares
        return np.repeat(np.repeat(rgb, height // rgb.shape[0], axis=0), width // rgb.shape[1], axis=1)
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.NEAREST))


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """Float 0..255 -> uint8, rounded."""
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def attribution_scale(attributions: np.ndarray) -> float:
    """The |attribution| that gets full colour: a high percentile over the non-zero pixels."""
    magnitude = np.abs(np.nan_to_num(np.asarray(attributions, dtype=np.float64)))
    nonzero = magnitude[magnitude > 0]
    return float(np.percentile(nonzero, ATTRIBUTION_PERCENTILE)) if nonzero.size else 0.0


def render_attribution(image: np.ndarray, attributions: np.ndarray, size: int = 168) -> np.ndarray:
    """The digit in faint grey under the attribution map: (size, size, 3) uint8 RGB.

    image (H, W) or (H, W, 1) in 0..1; attributions (H, W). Orange: pushed towards the class,
    blue: pushed against it, deeper colour = stronger (symmetric scale, see attribution_scale).
    size is best a multiple of H (168 = 6 x 28 = 21 x 8) so every pixel is the same square.
    """
    attributions = np.nan_to_num(np.asarray(attributions, dtype=np.float64))
    ink = np.clip(np.asarray(image, dtype=np.float64).reshape(attributions.shape), 0, 1)  # (H, W)
    base = np.repeat((255 * (1 - DIGIT_SHADE * ink))[..., None], 3, axis=-1)  # (H, W, 3) grey on white
    rgb = blend_signed(base, attributions, attribution_scale(attributions))
    return enlarge(to_uint8(rgb), size)


def framed(rgb: np.ndarray, color: tuple[int, int, int] = FRAME) -> np.ndarray:
    """An (h, w, 3) uint8 image inside a 1 px frame: (h + 2, w + 2, 3). The image itself is untouched."""
    out = np.empty((rgb.shape[0] + 2, rgb.shape[1] + 2, 3), dtype=np.uint8)
    out[...] = color
    out[1:-1, 1:-1] = rgb
    return out


def render_signed(values: np.ndarray, scale: float) -> np.ndarray:
    """One signed (h, w) array as diverging colours on white: (h, w, 3) uint8."""
    base = np.broadcast_to(ZERO_RGB, (*values.shape, 3))
    return to_uint8(blend_signed(base, values, scale))


def fit_caption(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
                width: int) -> str:
    """text, cut with '…' to fit in width px."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def render_grid(
    images: np.ndarray,
    labels: Sequence[str] | None = None,
    columns: int = 8,
    tile: int = 64,
    shared_scale: bool = False,
) -> np.ndarray | None:
    """Signed images (K, h, w) as a grid of diverging tiles with captions: (H, W, 3) uint8 RGB.

    Each tile is symmetric around 0 (white), orange > 0, blue < 0; scaled to its own largest
    |value|, or with shared_scale=True to the largest of all (then faint tiles are weak ones).
    None when there are no images: the page says why instead (e.g. no convolution layers).
    """
    images = np.nan_to_num(np.asarray(images, dtype=np.float64))
    if images.ndim != 3 or len(images) == 0:
        return None
    count = len(images)
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    caption = CAPTION_HEIGHT if labels is not None else 0
    # Tiles at a whole multiple of the image size, so every pixel is a sharp square; each in a
    # 1 px frame, so a tile that is mostly white (zero) still shows where it ends.
    factor = max(1, round(tile / max(images.shape[1:])))
    tile_h, tile_w = images.shape[1] * factor + 2, images.shape[2] * factor + 2
    height = rows * (tile_h + caption) + (rows - 1) * GAP
    width = columns * tile_w + (columns - 1) * GAP
    canvas = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
    peaks = np.abs(images).reshape(count, -1).max(axis=1)  # (K,)
    if shared_scale:
        peaks = np.full(count, peaks.max())
    for k in range(count):
        top = (k // columns) * (tile_h + caption + GAP)
        left = (k % columns) * (tile_w + GAP)
        inner = enlarge(render_signed(images[k], peaks[k]), (tile_h - 2, tile_w - 2))
        canvas[top:top + tile_h, left:left + tile_w] = framed(inner)
    if labels is not None:
        picture = Image.fromarray(canvas)
        draw = ImageDraw.Draw(picture)
        font = ImageFont.load_default(size=CAPTION_SIZE)
        for k, label in enumerate(labels[:count]):
            top = (k // columns) * (tile_h + caption + GAP) + tile_h + 1
            left = (k % columns) * (tile_w + GAP)
            text = fit_caption(draw, str(label), font, tile_w)
            offset = (tile_w - draw.textlength(text, font=font)) / 2
            draw.text((left + offset, top), text, fill=TEXT_COLOR, font=font)
        canvas = np.asarray(picture)
    return canvas


def render_weight_grid(
    images: np.ndarray, labels: Sequence[str], columns: int = 8, tile: int = 64, shared_scale: bool = False
) -> np.ndarray | None:
    """First-layer weights (K, H, W) (core.analysis.explain.inside) as a captioned grid; see render_grid.

    For class templates of softmax regression, shared_scale=True compares their strengths too.
    """
    return render_grid(images, labels, columns=columns, tile=tile, shared_scale=shared_scale)


def render_filters(filters: np.ndarray, columns: int = 8, tile: int = 48) -> np.ndarray | None:
    """First convolution kernels (F, k, k) (core.analysis.explain.inside.first_conv_filters) as a grid; None if none."""
    labels = [f"filter {i + 1}" for i in range(len(filters))]
    return render_grid(filters, labels, columns=columns, tile=tile)


def render_feature_maps(
    maps: Sequence[tuple[str, np.ndarray]], limit: int = 32, columns: int = 8, tile: int = 64
) -> list[tuple[str, np.ndarray]]:
    """Each block's feature maps (core.analysis.explain.inside.feature_maps) as a grid: [(block name, RGB uint8)].

    At most `limit` channels per block, captioned "map 1", "map 2", ...; each map on its own
    scale (after a ReLU they are >= 0, so white to orange). [] for a network without convolutions.
    """
    grids = []
    for name, channels in maps:
        shown = np.asarray(channels)[:limit]  # (C, h, w)
        grid = render_grid(shown, [f"map {i + 1}" for i in range(len(shown))], columns=columns, tile=tile)
        if grid is not None:
            grids.append((name, grid))
    return grids


def legend_html(class_name: str | None = None) -> str:
    """The key to the attribution maps, as inline HTML for st.caption(..., unsafe_allow_html=True).

    Swatches in the maps' own colours: orange pushed towards the class, blue against it, over the
    digit in grey. class_name names the class when one map is shown ("towards 7").
    """
    target = term(escape(class_name)) if class_name is not None else message("the class")
    # A Message (the page shows it through `_()`): each key's words translate, its swatch and layout stay.

    def swatch(rgb: np.ndarray, border: str = "transparent") -> str:
        r, g, b = (int(v) for v in rgb)
        return (f'<span style="display:inline-block;width:0.85em;height:0.85em;vertical-align:-0.1em;'
                f'margin-right:0.3em;background:rgb({r},{g},{b});border:1px solid {border}"></span>')

    def item(text: Message) -> Message:  # wraps between items, never inside one
        return Message('<span style="white-space:nowrap;margin-right:0.9em">{text}</span>', text=text)

    grey = np.full(3, 255 * (1 - DIGIT_SHADE))
    items = [
        item(message("{swatch}pushed towards {target}", swatch=swatch(POSITIVE_RGB), target=target)),
        item(message("{swatch}pushed against it", swatch=swatch(NEGATIVE_RGB))),
        item(message("{swatch}ink with no effect", swatch=swatch(grey))),
        item(message("deeper colour: a stronger push")),
    ]
    return Message("{i0} {i1} {i2} {i3}", **{f"i{k}": text for k, text in enumerate(items)})

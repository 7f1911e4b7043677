"""The home page's small pictures, as static images (numpy + Pillow): no plotly, no browser work.

Each says in one glance what a page does: a learning curve (Train), a confusion matrix with one
cell outlined and a gallery of mistakes (Evaluate), a "why this answer" map (Draw). They are drawn
from real numbers (core.server.showcase makes them); here only the drawing. Every picture is about 600 px
wide, for a card about 400 CSS px wide on a desktop and 360 on a phone (2x screens stay sharp).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from core.figures.explain import BACKGROUND, FRAME, enlarge, framed, render_attribution
from core.figures.style import DIAGONAL_COLOR, HIGHLIGHT_COLOR, TEXT_COLOR, TRAINING_COLOR, VALIDATION_COLOR

WIDTH = 600  # px of every picture
FONT = 28  # px: a 600 px picture is shown about 290 px wide on a desktop, so about 13 px
SMALL_FONT = 25
GRID_COLOR = (226, 230, 235)
OUTLINE = "#111111"  # the chosen cell, as the Evaluate page outlines it


def font(size: int = FONT) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def rgb(color: str) -> tuple[int, int, int]:
    red, green, blue = (int(color.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    return red, green, blue


def centred_text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int = FONT,
                 fill: str = TEXT_COLOR) -> None:
    """text centred on xy."""
    draw.text(xy, text, fill=fill, font=font(size), anchor="mm")


def render_learning_curve(history: dict[str, list[float]], metric: str = "accuracy",
                          width: int = WIDTH, height: int = 380) -> np.ndarray:
    """Training and validation `metric` per epoch, 0-100% on the y axis: (height, width, 3) uint8."""
    picture = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(picture)
    left, right, top, bottom = 84, 22, 18, 118  # the plot's margins
    plot_w, plot_h = width - left - right, height - top - bottom
    train = list(history.get(metric, []))
    val = list(history.get(f"val_{metric}", []))
    epochs = max(len(train), len(val), 1)

    def x_of(epoch: float) -> float:  # 1-based epoch -> px
        return left + (epoch - 1) / max(epochs - 1, 1) * plot_w

    def y_of(value: float) -> float:
        return top + (1 - min(max(value, 0.0), 1.0)) * plot_h

    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = y_of(tick)
        draw.line([(left, y), (left + plot_w, y)], fill=GRID_COLOR, width=1)
        if tick in (0.0, 0.5, 1.0):
            draw.text((left - 10, y), f"{tick:.0%}", fill=TEXT_COLOR, font=font(SMALL_FONT), anchor="rm")
    step = 10 if epochs > 20 else 5 if epochs > 8 else 1
    for epoch in sorted({1, *range(step, epochs + 1, step)}):
        centred_text(draw, (x_of(epoch), top + plot_h + 26), str(epoch), SMALL_FONT)
    centred_text(draw, (left + plot_w / 2, top + plot_h + 58), "epoch", SMALL_FONT)
    for values, color in ((train, TRAINING_COLOR), (val, VALIDATION_COLOR)):
        points = [(x_of(i + 1), y_of(v)) for i, v in enumerate(values)]
        if len(points) > 1:
            draw.line(points, fill=color, width=5, joint="curve")
        elif points:
            x, y = points[0]
            draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=color)
    # The legend, under the axis: a short line in each colour before its name.
    x = left
    for name, color in (("training", TRAINING_COLOR), ("validation", VALIDATION_COLOR)):
        y = height - 20
        draw.line([(x, y), (x + 34, y)], fill=color, width=5)
        draw.text((x + 42, y), name, fill=TEXT_COLOR, font=font(SMALL_FONT), anchor="lm")
        x += 42 + draw.textlength(name, font=font(SMALL_FONT)) + 36
    return np.asarray(picture)


def cell_color(rate: float) -> tuple[int, int, int]:
    """White for 0, towards the highlight orange as the share of the row grows (full at 20%).

    A square root: mistakes are rare, and one in forty must still show.
    """
    strength = min(max(rate / 0.2, 0.0), 1.0) ** 0.5
    white, orange = np.array(BACKGROUND, float), np.array(rgb(HIGHLIGHT_COLOR), float)
    red, green, blue = (int(round(v)) for v in white + (orange - white) * strength)
    return red, green, blue


def render_confusion(cm: np.ndarray, class_names: Sequence[str], outlined: tuple[int, int] | None,
                     width: int = WIDTH) -> np.ndarray:
    """The confusion matrix (rows: truth, columns: predicted) with one cell outlined: (H, width, 3).

    Correct answers (the diagonal) in neutral grey, mistakes from white to orange by their share
    of the row, every count written in its cell, as on the Evaluate page.
    """
    cm = np.asarray(cm)
    classes = cm.shape[0]
    label_w, label_h = 96, 76  # room for "truth" and the row labels, for "predicted" and the columns
    cell = (width - label_w - 10) // classes
    height = label_h + classes * cell + 10
    picture = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(picture)
    rows = cm.sum(axis=1, keepdims=True).clip(min=1)
    for t in range(classes):
        for p in range(classes):
            x0, y0 = label_w + p * cell, label_h + t * cell
            fill = rgb(DIAGONAL_COLOR) if t == p else cell_color(cm[t, p] / rows[t, 0])
            draw.rectangle([x0, y0, x0 + cell, y0 + cell], fill=fill, outline=(255, 255, 255))
            if cm[t, p]:
                centred_text(draw, (x0 + cell / 2, y0 + cell / 2), str(int(cm[t, p])),
                             SMALL_FONT if cm[t, p] < 100 else SMALL_FONT - 3)
    for k, name in enumerate(class_names):
        centred_text(draw, (label_w + k * cell + cell / 2, label_h - 18), str(name), SMALL_FONT)
        draw.text((label_w - 10, label_h + k * cell + cell / 2), str(name), fill=TEXT_COLOR,
                  font=font(SMALL_FONT), anchor="rm")
    centred_text(draw, (label_w + classes * cell / 2, 16), "predicted", SMALL_FONT)
    draw.text((4, label_h + 2), "truth", fill=TEXT_COLOR, font=font(SMALL_FONT), anchor="lt")
    if outlined is not None:
        t, p = outlined
        x0, y0 = label_w + p * cell, label_h + t * cell
        draw.rectangle([x0 - 2, y0 - 2, x0 + cell + 2, y0 + cell + 2], outline=OUTLINE, width=4)
    return np.asarray(picture)


def render_gallery(images: np.ndarray, captions: Sequence[str], columns: int = 4,
                   width: int = WIDTH) -> np.ndarray:
    """Grey images (K, h, w) in 0..1 as a grid of framed tiles, each with its caption under it."""
    images = np.asarray(images, dtype=np.float64)
    count = max(len(images), 1)
    columns = min(columns, count)
    rows = -(-count // columns)
    gap, caption_h = 14, 40
    tile = (width - (columns - 1) * gap) // columns - 2  # inside its 1 px frame
    height = rows * (tile + 2 + caption_h) + (rows - 1) * gap // 2
    picture = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(picture)
    for k, image in enumerate(images):
        top, left = (k // columns) * (tile + 2 + caption_h + gap // 2), (k % columns) * (tile + 2 + gap)
        grey = np.clip(np.rint(255 * (1 - image)), 0, 255).astype(np.uint8)  # dark ink on white
        tile_rgb = framed(enlarge(np.repeat(grey[..., None], 3, axis=-1), tile), FRAME)
        picture.paste(Image.fromarray(tile_rgb), (left, top))
        centred_text(draw, (left + (tile + 2) / 2, top + tile + 2 + caption_h / 2), captions[k], SMALL_FONT)
    return np.asarray(picture)


def render_why(image: np.ndarray, attributions: np.ndarray, class_name: str, width: int = WIDTH) -> np.ndarray:
    """The image as the network sees it beside its "Why 3?" map, each captioned: (H, width, 3) uint8."""
    image = np.asarray(image, dtype=np.float64)
    side = image.shape[0]
    gap, caption_h = 24, 44
    tile = ((width - gap) // 2 - 2) // side * side  # a whole multiple: every pixel the same square
    seen = np.clip(np.rint(255 * (1 - image)), 0, 255).astype(np.uint8)
    seen = framed(enlarge(np.repeat(seen[..., None], 3, axis=-1), tile))
    why = framed(render_attribution(image, attributions, tile))
    picture = Image.new("RGB", (width, tile + 2 + caption_h), BACKGROUND)
    draw = ImageDraw.Draw(picture)
    left = (width - 2 * (tile + 2) - gap) // 2
    for k, (part, caption) in enumerate(((seen, "what it sees"), (why, f"why {class_name}?"))):
        x = left + k * (tile + 2 + gap)
        picture.paste(Image.fromarray(part), (x, 0))
        centred_text(draw, (x + (tile + 2) / 2, tile + 2 + caption_h / 2), caption)
    return np.asarray(picture)

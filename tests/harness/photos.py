"""Synthetic phone photos of drawings: a pen on paper (or chalk on a board) under a phone's light.

make_photo(strokes, rng) writes the strokes of tests.harness.drawings with a thin blue or black pen
on textured paper, then does what a phone photo does to it: uneven light, a soft shadow, a few
degrees of rotation and perspective, a dark table around the page, blur, noise and JPEG. One in
five is chalk on a dark board instead. Seeded by the caller's rng: the same rng, the same photo.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from core.data.drawing import CANVAS_SIZE

PHOTO_SIZE = (480, 640)  # (w, h): a phone photo in portrait, already shrunk
Stroke = list[tuple[float, float]]


@dataclass(frozen=True)
class Look:
    """How one photo is taken: what it is written on and with, and what the light and the phone do."""

    board: bool  # chalk on a dark board instead of pen on paper
    paper: tuple[int, int, int]
    ink: tuple[int, int, int]
    pen_width: int  # px in the photo
    digit_height: int  # px in the photo
    light: float  # how much darker the dark side of the picture is, 0..1
    shadow: float  # how much a shadow darkens, 0..1 (0: none)
    degrees: float  # rotation
    tilt: float  # perspective: how much one edge is narrower, share of the width
    blur: float  # Gaussian blur radius, px
    table: bool  # the page does not fill the photo: a dark table shows at its edges


def pick_look(rng: np.random.Generator) -> Look:
    """A random but plausible way to take the photo."""
    board = rng.random() < 0.2
    if board:
        paper = tuple(int(v) for v in rng.integers(25, 70, 3))
        ink = (225, 225, 215)
    else:
        paper = tuple(int(v) for v in (rng.integers(225, 250), rng.integers(220, 245), rng.integers(205, 235)))
        ink = (30, 30, 35) if rng.random() < 0.5 else (25, 45, 150)
    return Look(board=board, paper=paper, ink=ink, pen_width=int(rng.integers(3, 9 if board else 7)),
                digit_height=int(rng.integers(180, 330)), light=float(rng.uniform(0.1, 0.5)),
                shadow=float(rng.uniform(0.2, 0.45)) if rng.random() < 0.6 else 0.0,
                degrees=float(rng.uniform(-6, 6)), tilt=float(rng.uniform(-0.08, 0.08)),
                blur=float(rng.uniform(0.4, 1.6)), table=bool(rng.random() < 0.3))


def write_strokes(strokes: list[Stroke], look: Look, rng: np.random.Generator) -> Image.Image:
    """The strokes written on a page (PHOTO_SIZE, RGB), with paper grain; canvas pixels -> photo pixels."""
    width, height = PHOTO_SIZE
    grain = rng.normal(0, 6 if look.board else 4, (height // 4, width // 4))
    grain_image = Image.fromarray(np.clip(grain + 128, 0, 255).astype(np.uint8)).resize(PHOTO_SIZE,
                                                                                         Image.Resampling.BICUBIC)
    page = np.asarray(look.paper, np.float32)[None, None, :] + (np.asarray(grain_image, np.float32) - 128)[..., None]
    image = Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))
    scale = look.digit_height / (CANVAS_SIZE * 0.7)  # the drawings span about 40-90% of the canvas
    dx = width / 2 - CANVAS_SIZE * scale / 2 + rng.uniform(-40, 40)
    dy = height / 2 - CANVAS_SIZE * scale / 2 + rng.uniform(-60, 60)
    draw = ImageDraw.Draw(image)
    radius = look.pen_width / 2
    for stroke in strokes:
        points = [(x * scale + dx, y * scale + dy) for x, y in stroke]
        if len(points) > 1:
            draw.line(points, fill=look.ink, width=look.pen_width, joint="curve")
        for x, y in points:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=look.ink)
    return image


def light_and_shadow(image: Image.Image, look: Look, rng: np.random.Generator) -> Image.Image:
    """Uneven light (a gradient in a random direction) and a soft-edged shadow across part of the page."""
    width, height = image.size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    along = (xs * math.cos(angle) + ys * math.sin(angle)) / max(width, height)  # about -1..1
    light = 1.0 - look.light * (along - along.min()) / max(float(np.ptp(along)), 1e-6)
    if look.shadow:
        angle = rng.uniform(0, 2 * math.pi)
        offset = rng.uniform(-0.3, 0.3) * max(width, height)
        side = (xs - width / 2) * math.cos(angle) + (ys - height / 2) * math.sin(angle) - offset
        softness = rng.uniform(15, 60)
        light *= 1.0 - look.shadow / (1.0 + np.exp(-side / softness))
    lit = np.asarray(image, np.float32) * light[..., None]
    return Image.fromarray(np.clip(lit, 0, 255).astype(np.uint8))


def tilt_and_turn(image: Image.Image, look: Look) -> Image.Image:
    """A few degrees of rotation and of perspective, and the table around the page when it shows."""
    table = (40, 32, 28)
    turned = image.rotate(look.degrees, resample=Image.Resampling.BICUBIC, fillcolor=table if look.table else None,
                          expand=False)
    width, height = turned.size
    inset = abs(look.tilt) * width
    # QUAD: the source corners (upper left, lower left, lower right, upper right) mapped onto the whole photo.
    if look.tilt > 0:
        quad = (inset, 0, 0, height, width, height, width - inset, 0)
    else:
        quad = (0, 0, inset, height, width - inset, height, width, 0)
    if look.table:
        margin = 0.07 * width
        quad = (quad[0] - margin, quad[1] - margin, quad[2] - margin, quad[3] + margin,
                quad[4] + margin, quad[5] + margin, quad[6] + margin, quad[7] - margin)
    return turned.transform(turned.size, Image.Transform.QUAD, quad, resample=Image.Resampling.BICUBIC,
                            fillcolor=table)


def make_photo(strokes: list[Stroke], rng: np.random.Generator, look: Look | None = None) -> bytes:
    """A JPEG phone photo (bytes) of the strokes, each effect drawn from rng."""
    look = look or pick_look(rng)
    image = write_strokes(strokes, look, rng)
    image = light_and_shadow(image, look, rng)
    image = tilt_and_turn(image, look)
    image = image.filter(ImageFilter.GaussianBlur(look.blur))
    noisy = np.asarray(image, np.float32) + rng.normal(0, 3, (image.size[1], image.size[0], 1))
    image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(rng.integers(65, 92)))
    return buffer.getvalue()

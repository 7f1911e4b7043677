"""Synthetic "plainly written" digit drawings, as mouse strokes on a 280x280 canvas.

make_drawings() gives 10 variants of each digit 0-9 (100 in all), seeded and
deterministic, with varied size (about 40%-90% of the canvas height), position,
slant (within +-15 degrees) and a little jitter. Each drawing is a few natural pen
strokes (lists of (x, y) canvas pixels), so a browser test can replay them with the
mouse; render_drawing() rasterises them like the canvas does (white round-capped
strokes on black).

make_styled_drawings() draws in one of STYLES: the real-world variety plain drawings miss
(VARIED_STYLES: a 1 with a flag and a base, crossed 7s, open 4s, two-circle 8s, digits small in
a corner, rotated by 20-35 degrees, a shaky hand...) and "square_hand", an unusual but
consistent hand to teach a model (bench/fine_tune.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from core.data.drawing import CANVAS_SIZE, STROKE_WIDTH  # the Draw page's canvas

VARIANTS_PER_DIGIT = 10

Point = tuple[float, float]
Stroke = list[Point]

# Glyphs live in a unit box: x 0..1 left to right, y 0..1 top to bottom; the box is
# later scaled to the digit's width and height. Each digit has one or more styles;
# a style is a list of pen strokes; a stroke is a list of consecutive parts:
# ("line", points) -- straight segments; ("curve", points) -- a smooth Catmull-Rom
# curve through the points; ("ellipse", [centre, radii, (start, end) degrees]).
GLYPHS: dict[int, list[list[tuple[str, list[Point]]]]] = {
    0: [
        [[("ellipse", [(0.5, 0.5), (0.5, 0.5), (-90.0, -455.0)])]],
    ],
    1: [
        [[("line", [(0.5, 0.0), (0.5, 1.0)])]],
        [[("line", [(0.1, 0.2), (0.55, 0.0), (0.55, 1.0)])]],
    ],
    2: [
        [[("curve", [(0.08, 0.28), (0.25, 0.05), (0.55, 0.0), (0.85, 0.12), (0.88, 0.35),
                     (0.6, 0.62), (0.3, 0.84), (0.05, 1.0)]),
          ("line", [(0.05, 1.0), (0.95, 0.98)])]],
    ],
    3: [
        [[("curve", [(0.1, 0.15), (0.45, 0.0), (0.82, 0.1), (0.8, 0.33), (0.4, 0.48),
                     (0.85, 0.6), (0.9, 0.85), (0.55, 1.0), (0.1, 0.88)])]],
    ],
    4: [
        # Closed 4: diagonal, bar, then the down stroke.
        [[("line", [(0.65, 0.0), (0.0, 0.66), (1.0, 0.66)])],
         [("line", [(0.7, 0.05), (0.7, 1.0)])]],
        # Open 4: down and across, then the long down stroke.
        [[("line", [(0.12, 0.0), (0.05, 0.6), (1.0, 0.6)])],
         [("line", [(0.72, 0.0), (0.72, 1.0)])]],
    ],
    5: [
        # Top bar right to left, down, then the bowl, in one stroke.
        [[("line", [(0.88, 0.02), (0.2, 0.02), (0.14, 0.46)]),
          ("ellipse", [(0.47, 0.7), (0.46, 0.29), (225.0, 515.0)])]],
        # Down and bowl first, then the top bar as a second stroke.
        [[("line", [(0.2, 0.02), (0.14, 0.46)]),
          ("ellipse", [(0.47, 0.7), (0.46, 0.29), (225.0, 515.0)])],
         [("line", [(0.2, 0.02), (0.9, 0.0)])]],
    ],
    6: [
        [[("curve", [(0.8, 0.0), (0.45, 0.12), (0.15, 0.45), (0.08, 0.75), (0.3, 0.98),
                     (0.68, 0.97), (0.9, 0.75), (0.72, 0.53), (0.4, 0.52), (0.12, 0.7)])]],
    ],
    7: [
        [[("line", [(0.0, 0.0), (1.0, 0.0), (0.35, 1.0)])]],
        [[("line", [(0.0, 0.06), (0.05, 0.0), (1.0, 0.0)]),
          ("curve", [(1.0, 0.0), (0.7, 0.4), (0.5, 0.7), (0.4, 1.0)])]],
    ],
    8: [
        [[("curve", [(0.85, 0.14), (0.5, 0.0), (0.15, 0.13), (0.2, 0.35), (0.5, 0.5),
                     (0.85, 0.68), (0.82, 0.92), (0.5, 1.0), (0.17, 0.9), (0.15, 0.68),
                     (0.5, 0.5), (0.8, 0.33), (0.86, 0.14)])]],
    ],
    9: [
        # Loop counter-clockwise from its right side, then the straight stem.
        [[("ellipse", [(0.48, 0.27), (0.44, 0.27), (0.0, -360.0)]),
          ("line", [(0.92, 0.27), (0.85, 1.0)])]],
        [[("ellipse", [(0.48, 0.27), (0.44, 0.27), (10.0, -355.0)]),
          ("curve", [(0.92, 0.22), (0.9, 0.6), (0.8, 1.0)])]],
    ],
}

# Width / height of each digit's box, before the random variation.
ASPECT = {0: 0.68, 1: 0.2, 2: 0.62, 3: 0.58, 4: 0.7, 5: 0.6, 6: 0.6, 7: 0.62, 8: 0.58, 9: 0.6}


def sample_ellipse(center: Point, radii: Point, degrees: Point, step: float = 15.0) -> Stroke:
    """Points along an elliptic arc; angles in degrees with y down (270 = top, 0 = right)."""
    start, end = degrees
    count = max(2, int(abs(end - start) / step) + 1)
    angles = np.radians(np.linspace(start, end, count))
    return [(center[0] + radii[0] * math.cos(a), center[1] + radii[1] * math.sin(a)) for a in angles]


def sample_curve(points: list[Point], per_segment: int = 6) -> Stroke:
    """Catmull-Rom spline through the points (passes through every one of them)."""
    pts = np.asarray(points, dtype=np.float64)
    padded = np.vstack([2 * pts[0] - pts[1], pts, 2 * pts[-1] - pts[-2]])
    out: Stroke = []
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1], padded[i], padded[i + 1], padded[i + 2]
        for t in np.linspace(0, 1, per_segment, endpoint=False):
            point = 0.5 * (
                2 * p1
                + (p2 - p0) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                + (3 * p1 - p0 - 3 * p2 + p3) * t**3
            )
            out.append((float(point[0]), float(point[1])))
    out.append((float(pts[-1][0]), float(pts[-1][1])))
    return out


def jitter_parts(
    parts: list[tuple[str, list[Point]]], rng: np.random.Generator, amount: float
) -> list[tuple[str, list[Point]]]:
    """Move the control points of lines and curves a little (ellipses get radius jitter)."""
    out = []
    for kind, params in parts:
        if kind == "ellipse":
            (cx, cy), (rx, ry), degrees = params
            rx, ry = rx * (1 + rng.normal(0, amount)), ry * (1 + rng.normal(0, amount))
            out.append((kind, [(cx, cy), (rx, ry), degrees]))
        else:
            out.append((kind, [(x + rng.normal(0, amount), y + rng.normal(0, amount)) for x, y in params]))
    return out


def sample_stroke(parts: list[tuple[str, list[Point]]]) -> Stroke:
    """Sample one pen stroke made of consecutive parts into unit-box points."""
    points: Stroke = []
    for kind, params in parts:
        if kind == "ellipse":
            center, radii, degrees = params
            piece = sample_ellipse(center, radii, degrees)
        elif kind == "curve":
            piece = sample_curve(params)
        else:
            piece = list(params)
        # Parts of one stroke join where the previous ended; skip duplicate joints.
        if points and math.dist(points[-1], piece[0]) < 1e-6:
            piece = piece[1:]
        points.extend(piece)
    return points


def make_drawing(digit: int, variant: int, rng: np.random.Generator) -> list[Stroke]:
    """One randomised drawing of digit as canvas-pixel strokes."""
    styles = GLYPHS[digit]
    strokes_parts = styles[variant % len(styles)]
    height = rng.uniform(0.4, 0.9) * CANVAS_SIZE
    width = height * ASPECT[digit] * rng.uniform(0.85, 1.15)
    slant = math.radians(rng.uniform(-15, 15))
    margin = STROKE_WIDTH
    # Slant shears x by up to height/2 * tan(slant) on either side of the box.
    shear = abs(math.tan(slant)) * height / 2
    free_x = max(0.0, CANVAS_SIZE - 2 * margin - width - 2 * shear)
    free_y = max(0.0, CANVAS_SIZE - 2 * margin - height)
    left = margin + shear + rng.uniform(0, free_x)
    top = margin + rng.uniform(0, free_y)
    strokes = []
    for parts in strokes_parts:
        unit = sample_stroke(jitter_parts(parts, rng, 0.02))
        stroke = []
        for ux, uy in unit:
            # Positive slant leans the top to the right, like right-handed writing.
            x = left + ux * width + (0.5 - uy) * height * math.tan(slant)
            y = top + uy * height
            x += rng.normal(0, 0.6)
            y += rng.normal(0, 0.6)
            stroke.append((float(np.clip(x, 0, CANVAS_SIZE - 1)), float(np.clip(y, 0, CANVAS_SIZE - 1))))
        strokes.append(stroke)
    return strokes


def make_drawings(seed: int = 0) -> list[tuple[int, list[list[tuple[float, float]]]]]:
    """100 drawings (label, strokes): VARIANTS_PER_DIGIT of each digit, in label order."""
    rng = np.random.default_rng(seed)
    return [
        (digit, make_drawing(digit, variant, rng))
        for digit in range(10)
        for variant in range(VARIANTS_PER_DIGIT)
    ]


def render_drawing(
    strokes: list[list[tuple[float, float]]],
    size: int = CANVAS_SIZE,
    stroke_width: int = STROKE_WIDTH,
    transparent: bool = False,
) -> np.ndarray:
    """Rasterise strokes like the canvas: (size, size, 4) uint8, white round-capped lines.

    Background is opaque black, or fully transparent (alpha 0) when transparent=True.
    """
    background = (0, 0, 0, 0) if transparent else (0, 0, 0, 255)
    image = Image.new("RGBA", (size, size), background)
    draw = ImageDraw.Draw(image)
    ink = (255, 255, 255, 255)
    radius = stroke_width / 2
    for stroke in strokes:
        if len(stroke) > 1:
            draw.line(stroke, fill=ink, width=stroke_width, joint="curve")
        # Round caps and joints: a disc at every point.
        for x, y in stroke:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=ink)
    return np.asarray(image, dtype=np.uint8).copy()


# ---------------------------------------------------------------------------------------------
# Styled drawings: real-world ways of writing digits that the plain drawings above miss (issue
# 13, item 6), and one unusual but consistent hand ("square_hand") for teaching a model a style.
# The plain drawings and make_drawing above are unchanged; these build on their glyph format.

Glyph = list[list[tuple[str, list[Point]]]]  # strokes, each a list of parts, in the unit box

FLAG_AND_BASE_1: Glyph = [[("line", [(0.05, 0.3), (0.5, 0.0), (0.5, 1.0)])],
                          [("line", [(0.08, 1.0), (0.92, 1.0)])]]
LONG_FLAG_1: Glyph = [[("line", [(0.0, 0.6), (0.62, 0.0), (0.62, 1.0)])]]
CROSSED_7: Glyph = [[("line", [(0.0, 0.0), (1.0, 0.0), (0.35, 1.0)])],
                    [("line", [(0.38, 0.52), (0.98, 0.5)])]]
OPEN_TOP_4: Glyph = [[("line", [(0.2, 0.0), (0.0, 0.6), (1.0, 0.6)])],
                     [("line", [(0.72, 0.25), (0.72, 1.0)])]]
STRAIGHT_STEM_9: Glyph = [[("ellipse", [(0.46, 0.22), (0.42, 0.22), (0.0, -360.0)]),
                           ("line", [(0.88, 0.22), (0.88, 1.0)])]]
TWO_CIRCLE_8: Glyph = [[("ellipse", [(0.5, 0.25), (0.36, 0.25), (90.0, 450.0)])],
                       [("ellipse", [(0.5, 0.74), (0.48, 0.26), (-90.0, 270.0)])]]

# One hand, unusual but consistent: a square hand, every digit of straight strokes between the
# corners and the middle of its box (like a digital clock's), with a 1 with a flag and a base, a
# crossed 7, an open 4 and a 9 with a straight stem. The bundled model reads about two in three.
_TL, _TR, _ML, _MR, _BL, _BR = (0.0, 0.0), (1.0, 0.0), (0.0, 0.5), (1.0, 0.5), (0.0, 1.0), (1.0, 1.0)
SQUARE_GLYPHS: dict[int, Glyph] = {
    0: [[("line", [_TL, _TR, _BR, _BL, _TL])]],
    1: FLAG_AND_BASE_1,
    2: [[("line", [_TL, _TR, _MR, _ML, _BL, _BR])]],
    3: [[("line", [_TL, _TR, _BR, _BL])], [("line", [_ML, _MR])]],
    4: [[("line", [(0.0, 0.0), (0.0, 0.55), (1.0, 0.55)])], [("line", [(0.72, 0.2), (0.72, 1.0)])]],
    5: [[("line", [_TR, _TL, _ML, _MR, _BR, _BL])]],
    6: [[("line", [_TR, _TL, _BL, _BR, _MR, _ML])]],
    7: CROSSED_7,
    8: [[("line", [_TL, _TR, _BR, _BL, _TL])], [("line", [_ML, _MR])]],
    9: [[("line", [_MR, _ML, _TL, _TR, _BR])]],
}


@dataclass(frozen=True)
class DrawingStyle:
    """How a style draws: its glyphs (plain GLYPHS for the other digits), size, placement, angle, hand."""

    digits: tuple[int, ...] = tuple(range(10))  # the digits it draws, in order
    glyphs: dict[int, Glyph] = field(default_factory=dict)
    aspect: dict[int, float] = field(default_factory=dict)  # width / height, else ASPECT
    height: tuple[float, float] = (0.45, 0.85)  # of the canvas
    corner: bool = False  # pushed into a random corner of the box
    rotation: tuple[float, float] = (0.0, 0.0)  # degrees, either way (a random sign)
    slant: tuple[float, float] = (-15.0, 15.0)  # degrees of shear, top to the right
    shake: float = 0.0  # px: the amplitude of a trembling hand


STYLES: dict[str, DrawingStyle] = {
    "flag_and_base_1": DrawingStyle(digits=(1,), glyphs={1: FLAG_AND_BASE_1}, aspect={1: 0.55}),
    "long_flag_1": DrawingStyle(digits=(1,), glyphs={1: LONG_FLAG_1}, aspect={1: 0.45}),
    "crossed_7": DrawingStyle(digits=(7,), glyphs={7: CROSSED_7}),
    "open_top_4": DrawingStyle(digits=(4,), glyphs={4: OPEN_TOP_4}),
    "straight_stem_9": DrawingStyle(digits=(9,), glyphs={9: STRAIGHT_STEM_9}),
    "two_circle_8": DrawingStyle(digits=(8,), glyphs={8: TWO_CIRCLE_8}, aspect={8: 0.55}),
    "small_in_corner": DrawingStyle(height=(0.16, 0.26), corner=True),
    "rotated": DrawingStyle(rotation=(20.0, 35.0), slant=(0.0, 0.0)),
    "shaky": DrawingStyle(shake=4.0),
    "square_hand": DrawingStyle(glyphs=SQUARE_GLYPHS, aspect={1: 0.55}, height=(0.55, 0.85), slant=(-3.0, 3.0)),
}
# The real-world variety of issue 13 (item 6); "square_hand" is one consistent hand, for teaching.
VARIED_STYLES = tuple(name for name in STYLES if name != "square_hand")


def tremble(stroke: list[Point], amount: float, rng: np.random.Generator) -> list[Point]:
    """A stroke as a shaky hand draws it: every ~4 px, wobbling up to about `amount` px."""
    if amount <= 0 or len(stroke) < 2:
        return stroke
    pts = np.asarray(stroke, dtype=np.float64)
    lengths = np.r_[0.0, np.cumsum(np.hypot(*np.diff(pts, axis=0).T))]  # arc length at each point
    along = np.linspace(0.0, lengths[-1], max(2, int(lengths[-1] / 4) + 1))
    dense = np.column_stack([np.interp(along, lengths, pts[:, 0]), np.interp(along, lengths, pts[:, 1])])
    wobble = np.zeros_like(dense)
    for _ in range(3):  # a few slow waves of tremor, plus fine noise
        wavelength, phase = rng.uniform(12, 40), rng.uniform(0, 2 * math.pi, size=2)
        wobble += amount / 2 * np.sin(2 * math.pi * along[:, None] / wavelength + phase)
    wobble += rng.normal(0, amount / 4, size=dense.shape)
    return [(float(x), float(y)) for x, y in dense + wobble]


def make_styled_drawing(style: DrawingStyle, digit: int, variant: int, rng: np.random.Generator) -> list[Stroke]:
    """One randomised drawing of `digit` in `style`, as canvas-pixel strokes."""
    glyphs = [style.glyphs[digit]] if digit in style.glyphs else GLYPHS[digit]
    height = rng.uniform(*style.height) * CANVAS_SIZE
    width = height * style.aspect.get(digit, ASPECT[digit]) * rng.uniform(0.85, 1.15)
    slant = math.tan(math.radians(rng.uniform(*style.slant)))
    angle = math.radians(rng.uniform(*style.rotation) * rng.choice([-1, 1]))
    strokes = []
    for parts in glyphs[variant % len(glyphs)]:
        stroke = []
        for ux, uy in sample_stroke(jitter_parts(parts, rng, 0.02)):
            x, y = (ux - 0.5) * width + (0.5 - uy) * height * slant, (uy - 0.5) * height  # about the centre
            stroke.append((x * math.cos(angle) - y * math.sin(angle), x * math.sin(angle) + y * math.cos(angle)))
        strokes.append(tremble(stroke, style.shake, rng))
    # Fit the drawing inside the canvas (less the pen's margin), then place it.
    pts = np.concatenate([np.asarray(s) for s in strokes])
    low, high = pts.min(axis=0), pts.max(axis=0)
    room = CANVAS_SIZE - 2 * STROKE_WIDTH
    scale = min(1.0, room / max(float((high - low).max()), 1.0))
    size = (high - low) * scale
    if style.corner:  # against one corner, a little way in
        offset = [STROKE_WIDTH + rng.uniform(0, 8) if rng.random() < 0.5 else
                  CANVAS_SIZE - STROKE_WIDTH - s - rng.uniform(0, 8) for s in size]
    else:
        offset = [STROKE_WIDTH + rng.uniform(0, max(0.0, room - s)) for s in size]
    placed = []
    for stroke in strokes:
        placed.append([
            (float(np.clip(offset[0] + (x - low[0]) * scale + rng.normal(0, 0.6), 0, CANVAS_SIZE - 1)),
             float(np.clip(offset[1] + (y - low[1]) * scale + rng.normal(0, 0.6), 0, CANVAS_SIZE - 1)))
            for x, y in stroke
        ])
    return placed


def make_styled_drawings(style: str, n: int, seed: int = 0) -> list[tuple[int, list[Stroke]]]:
    """n drawings (label, strokes) in STYLES[style], cycling through its digits (0, 1, ..., 9, 0, ...)."""
    spec = STYLES[style]
    rng = np.random.default_rng(seed)
    return [(spec.digits[i % len(spec.digits)],
             make_styled_drawing(spec, spec.digits[i % len(spec.digits)], i // len(spec.digits), rng))
            for i in range(n)]


def make_varied_drawings(per_style: int = 10, seed: int = 0) -> list[tuple[str, int, list[Stroke]]]:
    """(style, label, strokes): per_style drawings of each of VARIED_STYLES."""
    return [(name, label, strokes) for i, name in enumerate(VARIED_STYLES)
            for label, strokes in make_styled_drawings(name, per_style, seed=seed * 100 + i)]

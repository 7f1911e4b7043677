"""Synthetic "plainly written" digit drawings, as mouse strokes on a 280x280 canvas.

make_drawings() gives 10 variants of each digit 0-9 (100 in all), seeded and
deterministic, with varied size (about 40%-90% of the canvas height), position,
slant (within +-15 degrees) and a little jitter. Each drawing is a few natural pen
strokes (lists of (x, y) canvas pixels), so a browser test can replay them with the
mouse; render_drawing() rasterises them like the canvas does (white round-capped
strokes on black).
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from core.drawing import CANVAS_SIZE, STROKE_WIDTH  # the Draw page's canvas

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

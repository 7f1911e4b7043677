"""Turn a photo of a digit on paper (or on a board) into a model-ready image, as a drawing is.

Pure numpy/Pillow; no Streamlit, no TensorFlow, no OpenCV or scipy. The steps, each a function:

1. `read_photo`: the file's bytes -> grey (H, W) float32 0..255, turned as the camera held it
   (EXIF) and shrunk to WORK_SIDE; anything that is not a PNG/JPEG/WebP image of bounded size
   and pixel count is refused with a PhotoError in plain words.
2. `ink_is_dark` / `as_dark_ink`: dark ink on light paper, or chalk on a board, whatever the light.
3. `estimate_paper` / `flatten_light`: the paper's brightness everywhere (ink taken out by a max
   filter, then blurred), and the ink as how much darker than its paper each pixel is, 0..1:
   uneven light and soft shadows divide out.
4. `threshold_ink`: Otsu's threshold, with a floor so that a blank page stays blank.
5. `keep_digit`: the largest ink component, the ones near it big enough to be part of the
   digit (the bar of a 5), never specks or the edges of the page touching the border.
6. `thicken_strokes`: a pen on paper is thinner than the canvas' pen; strokes are grown to the
   canvas' stroke width at the canvas' scale, so a photo looks to the model like a drawing.
7. core.data.drawing.preprocess_drawing: crop, 20x20 in 28x28, centred by mass (8x8 for Digits).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from core.data.drawing import CANVAS_SIZE, STROKE_WIDTH, preprocess_drawing
from core.i18n import Number, message
from core.limits import max_photo_bytes, max_photo_pixels

# Thin lines (strokes) are found by filters this many pixels wide (at WORK_SIDE): wider than a pen.
STROKE_FILTER = 9
# The polarity test compares the strongest this many pixels of thin dark and thin light lines (a "1").
THIN_SHARE = 300
# Photos are shrunk so their longer side is this many pixels before anything else: a digit
# then spans ~100-300 px, plenty for 28x28, and every step below costs a few milliseconds.
WORK_SIDE = 320
# The formats Pillow reads here without plugins (HEIC needs pillow-heif, which is not installed).
FORMATS = ("PNG", "JPEG", "WEBP")
FILE_TYPES = ("png", "jpg", "jpeg", "webp")
# The paper estimate: the max filter's side, as a fraction of the working image's longer side.
# Wider than a pen stroke (so the ink is taken out), narrower than a shadow's soft edge.
PAPER_FILTER_FRACTION = 1 / 16
# Ink must be at least this much darker than its paper (0..1): below it is paper grain, noise.
MIN_INK_CONTRAST = 0.18
# A component is part of the digit when it is at least this share of the largest one's pixels...
PART_FRACTION = 0.12
# ...and its box is no farther from the largest one's box than this share of that box's longer side.
PART_DISTANCE = 0.35
# Fewer ink pixels than this (at WORK_SIDE) is a blank page.
MIN_DIGIT_PIXELS = 30
# Strokes are grown on a canvas-sized copy of the digit: its longer side this many pixels, as drawn
# on the Draw page (a digit ~200 px tall in the 280 px box, with its 22 px pen).
DIGIT_SIDE = round(CANVAS_SIZE * 5 / 7)


class PhotoError(ValueError):
    """A photo that cannot be read as a digit; the message is meant for the person who sent it."""


@dataclass(frozen=True)
class PhotoReading:
    """What a photo became: the model's image, and the ink found, for showing."""

    image: np.ndarray  # (h, w) float32 0..1, as preprocess_drawing makes it
    ink: np.ndarray  # (H, W) uint8 0..255: the digit kept, white on black, as if drawn in the Draw box


def read_photo(data: bytes) -> np.ndarray:
    """File bytes -> grey (H, W) float32 0..255, its longer side at most WORK_SIDE; PhotoError when unusable."""
    limit = max_photo_bytes()
    if len(data) > limit:
        raise PhotoError(message("This file is {size} MB; a photo may be at most {limit} MB. Take it again at a "
                                 "smaller size, or crop it around the digit.",
                                 size=Number(math.ceil(len(data) / 1e5) / 10), limit=Number(round(limit / 1e6, 1))))
    if not data:
        raise PhotoError(message("This file is empty."))
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.format not in FORMATS:
                raise PhotoError(message("This file is not a photo the app can read ({format}): send a PNG or JPEG "
                                         "picture.", format=opened.format or "?"))
            width, height = opened.size
            pixels = max_photo_pixels()
            if width * height > pixels:
                raise PhotoError(message("This picture is {width} x {height} pixels; at most {millions} million "
                                         "pixels are read. Take it at a smaller size.", width=Number(width),
                                         height=Number(height), millions=Number(round(pixels / 1e6))))
            opened.draft("L", (WORK_SIDE, WORK_SIDE))  # JPEG: decode at a fraction of its size, much faster
            image = ImageOps.exif_transpose(opened).convert("L")
    except PhotoError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError) as error:
        raise PhotoError(message("This file is not a picture the app can read: send a PNG or JPEG photo.")) from error
    image.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)
    return np.asarray(image, dtype=np.float32)


def ink_is_dark(grey: np.ndarray) -> bool:
    """True for dark ink on light paper, False for light ink on a dark board.

    Ink is thin strokes: a closing (max then min filter, wider than a stroke) fills in thin dark
    lines and an opening thin light ones, while the edges of a page, a table or a shadow stay put.
    The side whose strongest few thin lines stand out more is the ink.
    """
    image = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))
    size = STROKE_FILTER
    closed = np.asarray(image.filter(ImageFilter.MaxFilter(size)).filter(ImageFilter.MinFilter(size)), np.float32)
    opened = np.asarray(image.filter(ImageFilter.MinFilter(size)).filter(ImageFilter.MaxFilter(size)), np.float32)
    dark = np.sort((closed - grey).ravel())[-THIN_SHARE:]
    light = np.sort((grey - opened).ravel())[-THIN_SHARE:]
    return bool(dark.sum() >= light.sum())


def shrunk(grey: np.ndarray, factor: int) -> tuple[Image.Image, tuple[int, int]]:
    """The picture shrunk `factor` times as an 8-bit image, and its own (w, h) size to grow it back to."""
    height, width = grey.shape
    image = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))
    return image.resize((max(1, width // factor), max(1, height // factor)), Image.Resampling.BOX), (width, height)


def as_dark_ink(grey: np.ndarray) -> np.ndarray:
    """The picture with its ink dark on light paper: a board's chalk is turned over (255 - grey)."""
    return grey if ink_is_dark(grey) else 255.0 - grey


def estimate_paper(grey: np.ndarray) -> np.ndarray:
    """How bright the paper is at every pixel (H, W) float32 >= 1, dark ink taken out.

    A max filter wider than a pen stroke replaces ink by the paper around it; a blur then smooths
    the blocks; done at a quarter of the size, which is also what makes it wide cheaply.
    """
    small, size = shrunk(grey, 4)
    side = max(3, round(max(small.size) * PAPER_FILTER_FRACTION) | 1)  # odd, as PIL's rank filters want
    paper = small.filter(ImageFilter.MaxFilter(side)).filter(ImageFilter.GaussianBlur(side / 2))
    return np.maximum(np.asarray(paper.resize(size, Image.Resampling.BILINEAR), dtype=np.float32), 1.0)


def flatten_light(grey: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """Ink (H, W) float32 0..1: how much darker than its own paper each pixel is (light divides out)."""
    return np.clip(1.0 - grey / paper, 0.0, 1.0).astype(np.float32)


def otsu_threshold(values: np.ndarray) -> float:
    """Otsu's threshold of values in 0..1: the cut that best splits them into two groups."""
    counts, edges = np.histogram(values, bins=128, range=(0.0, 1.0))
    centres = (edges[:-1] + edges[1:]) / 2
    weight_low = np.cumsum(counts)
    weight_high = weight_low[-1] - weight_low
    sum_low = np.cumsum(counts * centres)
    mean_low = sum_low / np.maximum(weight_low, 1)
    mean_high = (sum_low[-1] - sum_low) / np.maximum(weight_high, 1)
    between = weight_low * weight_high * (mean_low - mean_high) ** 2
    return float(edges[int(np.argmax(between)) + 1])


def threshold_ink(ink: np.ndarray) -> np.ndarray:
    """Ink mask (H, W) bool: Otsu's cut (never below MIN_INK_CONTRAST: a blank page has no ink), with hysteresis.

    A thin, blurred pen line is darker in its middle than at its sides: pixels above half the cut
    are ink too when they touch pixels above it, so a faint stroke stays in one piece.
    """
    strong_cut = max(otsu_threshold(ink), MIN_INK_CONTRAST)
    strong = ink >= strong_cut
    weak = ink >= max(strong_cut / 2, MIN_INK_CONTRAST)
    labels, count = label_components(weak)
    has_strong = np.zeros(count + 1, dtype=bool)
    has_strong[labels[strong]] = True
    has_strong[0] = False
    return has_strong[labels]


def label_components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """8-connected components of a (H, W) bool mask: labels (H, W) int32 (0 = none, 1..n), and n.

    Works on runs of ink along each row (a digit has a few per row), joined with a union-find
    where runs of neighbouring rows touch: pure numpy and Python, no scipy.
    """
    height, width = mask.shape
    padded = np.zeros((height, width + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    steps = np.diff(padded, axis=1)  # +1 where a run starts, -1 one past where it ends
    rows, starts = np.nonzero(steps == 1)
    _, ends = np.nonzero(steps == -1)  # same order as starts: row by row, left to right
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    row_first = np.searchsorted(rows, np.arange(height + 1))  # runs of row r: row_first[r]..row_first[r+1]
    for r in range(1, height):
        previous = range(row_first[r - 1], row_first[r])
        for i in range(row_first[r], row_first[r + 1]):
            for j in previous:  # 8-connected: runs touch when they overlap with one pixel to spare
                if starts[j] <= ends[i] and starts[i] <= ends[j]:
                    a, b = root(i), root(j)
                    if a != b:
                        parent[a] = b
    roots = np.array([root(i) for i in range(len(rows))], dtype=np.int64)
    _, run_labels = np.unique(roots, return_inverse=True)
    labels = np.zeros((height, width), dtype=np.int32)
    for row, start, end, label in zip(rows, starts, ends, run_labels, strict=True):
        labels[row, start:end] = label + 1
    return labels, int(run_labels.max() + 1) if len(rows) else 0


def keep_digit(mask: np.ndarray) -> np.ndarray:
    """The digit's pixels (H, W) bool: the largest component and the parts near it; no specks, no page edges.

    Components touching the picture's border are the page's edge, a table or a shadow, unless
    nothing else is there. Empty when there is too little ink.
    """
    # Pieces of a broken stroke one or two pixels apart are one component.
    joined = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(3))) > 0
    labels, count = label_components(joined)
    if count == 0:
        return np.zeros_like(mask)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    sizes[0] = 0
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    inside = sizes.copy()
    inside[border] = 0
    if inside.max() >= MIN_DIGIT_PIXELS:
        sizes = inside
    largest = int(np.argmax(sizes))
    if sizes[largest] < MIN_DIGIT_PIXELS:
        return np.zeros_like(mask)
    boxes = component_boxes(labels, count)
    top, left, bottom, right = boxes[largest]
    reach = PART_DISTANCE * max(bottom - top, right - left)
    keep = np.zeros(count + 1, dtype=bool)
    for label in np.flatnonzero(sizes >= PART_FRACTION * sizes[largest]):
        t, lf, b, rt = boxes[label]
        gap = max(t - bottom, top - b, lf - right, left - rt, 0)
        keep[label] = gap <= reach
    return keep[labels] & mask


def component_boxes(labels: np.ndarray, count: int) -> np.ndarray:
    """Each component's box (count + 1, 4) int: top, left, bottom, right (inclusive); row 0 unused."""
    rows, cols = np.nonzero(labels)
    which = labels[rows, cols]
    boxes = np.zeros((count + 1, 4), dtype=np.int64)
    boxes[:, 0] = boxes[:, 1] = np.iinfo(np.int64).max
    np.minimum.at(boxes[:, 0], which, rows)
    np.minimum.at(boxes[:, 1], which, cols)
    np.maximum.at(boxes[:, 2], which, rows)
    np.maximum.at(boxes[:, 3], which, cols)
    return boxes


def stroke_width(mask: np.ndarray) -> float:
    """The strokes' mean width in pixels: twice the ink's area over its outline's length."""
    area = float(np.count_nonzero(mask))
    if area == 0:
        return 0.0
    edges = int(np.count_nonzero(np.diff(mask, axis=0))) + int(np.count_nonzero(np.diff(mask, axis=1)))
    edges += int(np.count_nonzero(mask[[0, -1], :])) + int(np.count_nonzero(mask[:, [0, -1]]))
    return 2.0 * area / max(edges, 1)


def thicken_strokes(mask: np.ndarray) -> np.ndarray:
    """The digit (H, W) bool -> white-on-black ink (h, w) uint8 at the canvas' scale, strokes the canvas pen's width.

    The digit's box is scaled so its longer side is DIGIT_SIDE (as drawn in the Draw box), then its
    strokes are grown (a max filter) until they are about STROKE_WIDTH wide.
    """
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    crop = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = DIGIT_SIDE / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))  # PIL: (w, h)
    big = Image.fromarray(crop.astype(np.uint8) * 255).resize(size, Image.Resampling.BILINEAR)
    big = big.point(lambda v: 255 if v >= 128 else 0)
    grow = int(round(STROKE_WIDTH - stroke_width(np.asarray(big) > 0)))
    margin = STROKE_WIDTH
    framed = Image.new("L", (size[0] + 2 * margin, size[1] + 2 * margin), 0)
    framed.paste(big, (margin, margin))
    if grow >= 2:
        framed = framed.filter(ImageFilter.MaxFilter(grow | 1))  # odd, as PIL's rank filters want
    return np.asarray(framed, dtype=np.uint8)


def photo_to_ink(data: bytes) -> np.ndarray:
    """File bytes -> the digit kept (H, W) bool at the working size; PhotoError when unreadable or blank."""
    grey = as_dark_ink(read_photo(data))
    ink = flatten_light(grey, estimate_paper(grey))
    digit = keep_digit(threshold_ink(ink))
    if not digit.any():
        raise PhotoError(message("No digit was found in this photo: write one digit large and dark on plain paper, "
                                 "and take the photo from above, close enough that the digit fills much of it."))
    return digit


def preprocess_photo(data: bytes, input_shape: tuple[int, int]) -> PhotoReading:
    """File bytes -> the model's (h, w) image and the ink kept; PhotoError (plain words) when it cannot be read."""
    digit = photo_to_ink(data)
    ink = thicken_strokes(digit)
    image = preprocess_drawing(ink, input_shape)
    if image is None:  # never after keep_digit's minimum, but a model must not get an empty frame
        raise PhotoError(message("No digit was found in this photo."))
    return PhotoReading(image=image, ink=ink)

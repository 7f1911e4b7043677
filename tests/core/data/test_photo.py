"""Tests of reading a photo of a digit on paper (core.data.photo), step by step, and of its refusals."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from core.data import photo
from core.data.photo import (
    PhotoError,
    as_dark_ink,
    estimate_paper,
    flatten_light,
    ink_is_dark,
    keep_digit,
    label_components,
    preprocess_photo,
    read_photo,
    stroke_width,
    thicken_strokes,
    threshold_ink,
)
from core.i18n import message_of, translate
from tests.harness.drawings import make_drawings
from tests.harness.photos import make_photo


def png_bytes(array: np.ndarray, fmt: str = "PNG") -> bytes:
    """An (H, W) or (H, W, 3) uint8 array as a file's bytes."""
    buffer = io.BytesIO()
    Image.fromarray(array.astype(np.uint8)).save(buffer, fmt)
    return buffer.getvalue()


def page_with_line(dark_ink: bool = True) -> np.ndarray:
    """A 200x200 grey page with one vertical 3 px line: dark on light, or light on dark."""
    page = np.full((200, 200), 220.0 if dark_ink else 40.0, np.float32)
    page[50:150, 99:102] = 30.0 if dark_ink else 230.0
    return page


def test_read_photo_is_grey_and_shrunk() -> None:
    grey = read_photo(png_bytes(np.full((900, 600, 3), 200, np.uint8)))
    assert grey.dtype == np.float32 and max(grey.shape) == photo.WORK_SIDE and grey.shape == (320, 213)


@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"this is not a picture at all", "not a picture"),
    (b"GIF89a" + b"\0" * 64, "not a picture"),
])
def test_read_photo_refuses_what_is_not_a_photo(data: bytes, words: str) -> None:
    with pytest.raises(PhotoError, match=words):
        read_photo(data)


def test_read_photo_refuses_other_formats() -> None:
    buffer = io.BytesIO()
    Image.new("L", (20, 20), 255).save(buffer, "GIF")
    with pytest.raises(PhotoError, match="PNG or JPEG"):
        read_photo(buffer.getvalue())


def test_read_photo_refuses_too_many_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITLAB_MAX_PHOTO_MB", "0.001")  # 1,000 bytes
    with pytest.raises(PhotoError, match="at most 0 MB|MB"):
        read_photo(b"\0" * 1_001)


def test_read_photo_refuses_too_many_pixels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITLAB_MAX_PHOTO_MEGAPIXELS", "0.01")  # 10,000 pixels
    data = png_bytes(np.zeros((101, 100), np.uint8))
    with pytest.raises(PhotoError, match="101 pixels"):
        read_photo(data)
    assert read_photo(png_bytes(np.zeros((100, 100), np.uint8))).shape == (100, 100)


@pytest.mark.parametrize("dark_ink", [True, False])
def test_ink_is_dark_finds_the_ink_side(dark_ink: bool) -> None:
    page = page_with_line(dark_ink)
    assert ink_is_dark(page) is dark_ink
    assert as_dark_ink(page)[100, 100] < as_dark_ink(page)[10, 10]  # the ink is dark after turning


def test_a_page_edge_is_not_taken_for_ink() -> None:
    page = page_with_line(dark_ink=True)
    page[:, :40] = 250.0  # a bright table on the left, a bigger but straight edge
    assert ink_is_dark(page)


def test_flatten_light_divides_out_a_gradient_and_a_shadow() -> None:
    page = page_with_line()
    light = np.linspace(0.4, 1.0, 200, dtype=np.float32)[None, :] * np.where(np.arange(200) < 120, 0.6, 1.0)[:, None]
    lit = page * light
    ink = flatten_light(lit, estimate_paper(lit))
    assert ink[100, 100] > 0.6  # the line
    paper = np.delete(ink, np.s_[40:160], axis=0)  # rows away from the line
    assert np.percentile(paper, 99) < photo.MIN_INK_CONTRAST  # the paper, dark side and shadow included


def test_threshold_ink_keeps_a_blank_page_blank() -> None:
    rng = np.random.default_rng(0)
    ink = np.clip(rng.normal(0.03, 0.02, (100, 100)), 0, 1).astype(np.float32)
    assert not threshold_ink(ink).any()


def test_threshold_ink_keeps_a_faint_line_whole() -> None:
    ink = np.zeros((50, 50), np.float32)
    ink[10:40, 25] = 0.9
    ink[10:40, 24] = ink[10:40, 26] = 0.35  # the blurred sides of the line: below Otsu's cut, above half of it
    mask = threshold_ink(ink)
    assert mask[10:40, 24:27].all() and mask.sum() == 90


def test_label_components_counts_8_connected_pieces() -> None:
    mask = np.zeros((6, 8), bool)
    mask[0, 0] = mask[1, 1] = True  # diagonal: one piece
    mask[4, 3:6] = True
    mask[2:6, 7] = True
    labels, count = label_components(mask)
    assert count == 3
    assert labels[0, 0] == labels[1, 1] != labels[4, 3]
    assert len(np.unique(labels[mask])) == 3


def test_keep_digit_drops_specks_and_page_edges_and_keeps_near_parts() -> None:
    mask = np.zeros((200, 200), bool)
    mask[60:140, 90:95] = True  # the digit's main stroke
    mask[55:58, 96:120] = True  # a bar near it (a 5's): kept
    mask[180:182, 20:22] = True  # a speck: dropped
    mask[:, :6] = True  # the page's edge along the border: dropped
    kept = keep_digit(mask)
    assert kept[60:140, 90:95].all() and kept[55:58, 96:120].all()
    assert not kept[180:182, 20:22].any() and not kept[:, :6].any()


def test_stroke_width_of_a_bar() -> None:
    mask = np.zeros((100, 100), bool)
    mask[10:90, 40:46] = True
    assert stroke_width(mask) == pytest.approx(6, rel=0.1)


def test_thicken_strokes_grows_a_thin_pen_to_the_canvas_pen() -> None:
    mask = np.zeros((200, 200), bool)
    mask[20:180, 99:101] = True  # 2 px wide, 160 tall
    ink = thicken_strokes(mask)
    assert stroke_width(ink > 0) == pytest.approx(photo.STROKE_WIDTH, rel=0.25)
    assert (ink > 0).any(axis=1).sum() >= photo.DIGIT_SIDE


def test_a_blank_page_is_refused_with_a_message() -> None:
    rng = np.random.default_rng(1)
    page = np.clip(rng.normal(210, 4, (400, 300)), 0, 255)
    with pytest.raises(PhotoError, match="No digit was found"):
        preprocess_photo(png_bytes(page), (28, 28))


@pytest.mark.parametrize("index", [3, 45, 77])  # a 0, a 4, a 7 of the held-out drawings
def test_a_photo_becomes_an_mnist_like_image(index: int) -> None:
    label, strokes = make_drawings()[index]
    reading = preprocess_photo(make_photo(strokes, np.random.default_rng(index)), (28, 28))
    image = reading.image
    assert image.shape == (28, 28) and image.max() == pytest.approx(1.0)
    rows = np.flatnonzero(image.max(axis=1) > 0.1)
    assert 18 <= rows[-1] - rows[0] + 1 <= 21  # the 20 px box, as MNIST
    row, col = np.argwhere(image > 0).mean(axis=0)
    assert abs(row - 14) < 3 and abs(col - 14) < 3


def test_an_8x8_model_gets_an_8x8_image() -> None:
    _, strokes = make_drawings()[55]
    assert preprocess_photo(make_photo(strokes, np.random.default_rng(0)), (8, 8)).image.shape == (8, 8)


def test_a_refusal_is_a_message_the_page_translates(monkeypatch):
    with pytest.raises(PhotoError) as info:
        read_photo(b"not a picture at all")
    assert translate("es", message_of(info.value)) == ("Este archivo no es una imagen que la app pueda leer: envía una "
                                                   "foto PNG o JPEG.")
    monkeypatch.setenv("DIGITLAB_MAX_PHOTO_MB", "1")
    with pytest.raises(PhotoError) as info:
        read_photo(b"\0" * 1_000_001)
    assert translate("de", info.value.args[0]).startswith("Diese Datei hat 1,1 MB; ein Foto darf höchstens 1 MB haben.")

import io
import pickle
import zipfile

import numpy as np
import pytest

from core.data.datasets import get_info
from core.data.drawing import center_of_mass, preprocess_drawing
from core.data.handwriting import (
    KEEP_SIDE,
    MAX_FILE_BYTES,
    MAX_IMAGES,
    DigitsFileError,
    can_evaluate_on_mine,
    count_per_digit,
    export_npz,
    import_npz,
    keep_drawing,
    to_dataset_images,
    to_model_images,
)
from tests.harness.drawings import VARIED_STYLES, make_drawings, make_styled_drawings, render_drawing


@pytest.fixture(scope="module")
def drawn():
    """(labels, canvases, kept) of 100 plain drawings and 5 of each varied style."""
    drawings = make_drawings(seed=0)
    for style in VARIED_STYLES:
        drawings += make_styled_drawings(style, 5, seed=0)
    canvases = [render_drawing(strokes) for _, strokes in drawings]
    kept = np.stack([keep_drawing(canvas) for canvas in canvases])
    return np.array([label for label, _ in drawings], np.uint8), canvases, kept


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def digits_x(n: int) -> np.ndarray:
    """n MNIST-shaped uint8 images, each a white bar (never blank)."""
    x = np.zeros((n, 28, 28), np.uint8)
    x[:, 6:22, 12:16] = 255
    return x


def refused(data: bytes, *words: str) -> str:
    with pytest.raises(DigitsFileError) as info:
        import_npz(data)
    message = str(info.value)
    assert all(word.lower() in message.lower() for word in words), message
    return message


# -- keeping a drawing -------------------------------------------------------------------------

def test_keep_drawing_is_small_uint8_ink(drawn):
    _, canvases, kept = drawn
    assert kept.shape == (len(canvases), KEEP_SIDE, KEEP_SIDE) and kept.dtype == np.uint8
    assert kept.max() == 255 and kept.min() == 0
    # Area-averaged: a 280 canvas of ink 255 -> the mean of each 5x5 block.
    ink = canvases[0][..., 0].astype(np.float64)
    assert np.abs(kept[0] - ink.reshape(56, 5, 56, 5).mean(axis=(1, 3))).max() <= 0.5


def test_an_empty_canvas_or_a_speck_is_not_kept():
    assert keep_drawing(np.zeros((280, 280, 4), np.uint8)) is None  # transparent
    black = np.zeros((280, 280, 4), np.uint8)
    black[..., 3] = 255
    assert keep_drawing(black) is None  # opaque black
    speck = black.copy()
    speck[100:103, 100:104, :3] = 255  # 12 canvas pixels: ink for the canvas, not at 56x56
    assert keep_drawing(speck) is None


def test_a_non_square_canvas_keeps_its_proportions():
    canvas = np.zeros((200, 400), np.uint8)
    canvas[50:150, 190:210] = 255  # a vertical bar in the middle
    kept = keep_drawing(canvas)
    rows, cols = np.nonzero(kept >= 128)
    assert kept.shape == (56, 56) and np.ptp(rows) > 3 * np.ptp(cols)


@pytest.mark.parametrize("shape", [(28, 28), (8, 8)])
def test_kept_digits_rebuild_what_the_draw_page_feeds(drawn, shape):
    _, canvases, kept = drawn
    direct = np.stack([preprocess_drawing(canvas, shape) for canvas in canvases])
    rebuilt = to_model_images(kept, shape)
    assert rebuilt.shape == (len(kept), *shape) and rebuilt.dtype == np.float32
    assert 0.0 <= rebuilt.min() and rebuilt.max() <= 1.0
    difference = np.abs(direct - rebuilt).mean(axis=(1, 2))  # per image, 0..1
    assert difference.mean() < 0.05 and difference.max() < 0.12
    shift = max(np.abs(np.subtract(center_of_mass(a), center_of_mass(b))).max() for a, b in zip(direct, rebuilt))
    assert shift < (1.5 if shape == (28, 28) else 0.5)


def test_dataset_images_are_raw_like_the_test_sets(drawn):
    _, _, kept = drawn
    digits = to_dataset_images(kept[:10], get_info("digits"))
    assert digits.dtype == np.uint8 and digits.shape == (10, 8, 8) and digits.max() <= 16
    assert np.array_equal(digits / 16, to_model_images(kept[:10], (8, 8)))  # k/16 exactly
    mnist = to_dataset_images(kept[:10], get_info("mnist"))
    assert mnist.shape == (10, 28, 28) and mnist.max() == 255


def test_evaluate_offers_my_digits_from_ten_on_digit_models():
    ten = np.arange(10)
    assert can_evaluate_on_mine(get_info("mnist"), ten) is None
    assert can_evaluate_on_mine(get_info("digits"), ten) is None
    assert "at least 10" in can_evaluate_on_mine(get_info("mnist"), ten[:9])
    assert "Fashion-MNIST" in can_evaluate_on_mine(get_info("fashion_mnist"), ten)


def test_count_per_digit():
    assert count_per_digit(np.array([3, 3, 0, 9], np.uint8)).tolist() == [1, 0, 0, 2, 0, 0, 0, 0, 0, 1]
    assert count_per_digit(np.zeros(0, np.uint8)).tolist() == [0] * 10


# -- download and upload -----------------------------------------------------------------------

def test_export_is_keras_mnist_layout_and_round_trips(drawn):
    labels, _, kept = drawn
    data = export_npz(labels, kept)
    with np.load(io.BytesIO(data), allow_pickle=False) as f:
        assert sorted(f.files) == ["x", "y"]
        x, y = f["x"], f["y"]
    assert x.shape == (len(labels), 28, 28) and x.dtype == np.uint8 and x.max() == 255
    assert y.dtype == np.uint8 and np.array_equal(y, labels)
    assert np.array_equal(x, np.rint(to_model_images(kept, (28, 28)) * 255))
    back_labels, back_kept = import_npz(data)
    assert np.array_equal(back_labels, labels) and back_labels.dtype == np.uint8
    assert back_kept.shape == kept.shape and back_kept.dtype == np.uint8
    with np.load(io.BytesIO(export_npz(back_labels, back_kept))) as f:
        again = f["x"]
    difference = np.abs(again.astype(np.float64) - x).mean(axis=(1, 2)) / 255
    assert difference.mean() < 0.05 and difference.max() < 0.12


def test_keras_mnist_files_are_accepted_with_both_parts():
    x, y = digits_x(7), np.arange(7) % 10
    labels, kept = import_npz(npz_bytes(x_train=x[:4], y_train=y[:4], x_test=x[4:], y_test=y[4:]))
    assert labels.tolist() == y.tolist() and kept.shape == (7, 56, 56)
    labels, _ = import_npz(npz_bytes(x_train=x[:4], y_train=y[:4].astype(np.int64)))
    assert labels.tolist() == [0, 1, 2, 3]


def test_a_compressed_file_is_accepted():
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=digits_x(3), y=np.array([1, 2, 3], np.int32))
    assert import_npz(buffer.getvalue())[0].tolist() == [1, 2, 3]


def test_hostile_pickle_and_object_arrays_are_never_loaded():
    class Boom:
        def __reduce__(self):
            return (print, ("pwned",))

    objects = np.array([Boom(), 1], dtype=object)
    refused(npz_bytes(x=objects, y=np.array([1, 2])), "Python objects")
    refused(npz_bytes(x=digits_x(2), y=np.array([1, "a"], dtype=object)), "Python objects")
    refused(pickle.dumps({"x": digits_x(2), "y": [1, 2]}), "not an .npz")


@pytest.mark.parametrize("arrays, words", [
    ({"images": digits_x(2), "labels": np.array([1, 2])}, ["holds images.npy, labels.npy", "x and y"]),
    ({"x": digits_x(2)}, ["x and y"]),
    ({"x": digits_x(2), "y": np.array([1, 2]), "extra": np.zeros(1)}, ["x and y"]),
    ({"x_train": digits_x(2), "y_train": np.array([1, 2]), "x_test": digits_x(1)}, ["x and y"]),
    ({"x": digits_x(2)[:, :, :27], "y": np.array([1, 2])}, ["(2, 28, 27)", "(N, 28, 28)"]),
    ({"x": digits_x(2).reshape(2, 784), "y": np.array([1, 2])}, ["(2, 784)"]),
    ({"x": digits_x(2).astype(np.float32) / 255, "y": np.array([1, 2])}, ["float32", "uint8"]),
    ({"x": np.full((2, 28, 28), np.nan), "y": np.array([1, 2])}, ["float64"]),
    ({"x": digits_x(2), "y": np.array([1.0, 2.0])}, ["float64", "whole numbers"]),
    ({"x": digits_x(2), "y": np.array([[1], [2]])}, ["(2, 1)"]),
    ({"x": digits_x(2), "y": np.array([1, 10])}, ["Label 10", "0..9"]),
    ({"x": digits_x(2), "y": np.array([-1, 3], np.int8)}, ["Label -1"]),
    ({"x": digits_x(3), "y": np.array([1, 2])}, ["3 images", "2 labels"]),
    ({"x": digits_x(0), "y": np.zeros(0, np.uint8)}, ["no digits"]),
    ({"x": np.zeros((2, 28, 28), np.uint8), "y": np.array([4, 5])}, ["Image 1", "blank"]),
    ({"x": digits_x(MAX_IMAGES + 1), "y": np.zeros(MAX_IMAGES + 1, np.uint8)}, ["5,001", "5,000"]),
    ({"x_train": digits_x(3000), "y_train": np.zeros(3000, np.uint8),
      "x_test": digits_x(2001), "y_test": np.zeros(2001, np.uint8)}, ["5,001"]),
])
def test_hostile_or_wrong_files_are_refused_with_a_message(arrays, words):
    refused(npz_bytes(**arrays), *words)


def test_oversize_empty_not_a_zip_and_truncated_files_are_refused():
    good = npz_bytes(x=digits_x(3), y=np.array([1, 2, 3]))
    refused(b"", "empty")
    refused(b"\0" * (MAX_FILE_BYTES + 1), "is 20.1 MB", "limit is 20 MB")
    refused(b"just some text, not a zip", "not an .npz")
    refused(good[: len(good) // 2], "damaged")
    refused(good[:-10], "damaged")


def test_a_corrupted_entry_is_refused():
    good = bytearray(npz_bytes(x=digits_x(3), y=np.array([1, 2, 3])))
    middle = good.index(b"\xff" * 4, good.index(b"\x93NUMPY"))  # x's pixels, stored: the CRC catches it
    good[middle] = 0
    refused(bytes(good), "damaged")


def test_a_header_that_promises_more_than_it_holds_is_refused():
    entry = io.BytesIO()
    np.lib.format.write_array_header_1_0(entry, {"descr": "|u1", "fortran_order": False, "shape": (4000, 28, 28)})
    entry.write(digits_x(2).tobytes())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x.npy", entry.getvalue())
        archive.writestr("y.npy", npz_member(np.zeros(4000, np.uint8)))
    refused(buffer.getvalue(), "damaged")


def npz_member(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array)
    return out.getvalue()


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.npy", b"\0" * 200_000_000)  # 200 MB of zeros compress to ~200 kB
        archive.writestr("y.npy", npz_member(np.zeros(3, np.uint8)))
    data = buffer.getvalue()
    assert len(data) < 1_000_000
    refused(data, "unpacks to 200 MB")


def test_nothing_is_half_added():
    x, y = digits_x(5), np.array([1, 2, 3, 4, 12])
    refused(npz_bytes(x=x, y=y), "Label 12")  # the four good ones are not returned either

"""Make the MNIST sample that ships with the app (data/mnist-sample.npz) from a Keras-format mnist.npz.

Usage:
    python scripts/make_mnist_sample.py PATH_TO_mnist.npz [--out PATH] [--check]

The sample is the complete official test set (10,000 images) and the first TRAIN_IMAGES of the
official training set, in their original order: no random choice, so any copy of MNIST whose
training set starts with the official order (Keras' mnist.npz, ../shared/data/mnist/mnist-22k.npz)
gives the same file, byte for byte (fixed zip dates, deterministic LZMA). `--check` compares with
the file at --out instead of writing it.

It is an ordinary `.npz` (np.load reads it, keys x_train, y_train, x_test, y_test, uint8) whose
members are LZMA-compressed (zipfile.ZIP_LZMA) instead of np.savez_compressed's deflate: 2.75 MB
instead of 3.29 MB for these 20,000 images.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "data" / "mnist-sample.npz"
# 10,000 training images: about 1,000 of each digit (863 to 1,127), 9,000 after the 10% validation
# split. Enough for a small MNIST training offline (the Train page's small-CNN preset, 15 epochs on
# the 9,000: 98.1% test accuracy, 30 s here; 5 epochs: 96.9%) and for fine-tuning's replay (4 per
# teaching digit) without repeating an image up to ~2,250 teaching digits. 5,000 would save 0.7 MB.
TRAIN_IMAGES = 10_000
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed member dates: the same input gives the same bytes


def pick_sample(path: Path, train_images: int = TRAIN_IMAGES) -> dict[str, np.ndarray]:
    """The sample's arrays: the first `train_images` training images and the whole test set (uint8)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {"x_train": data["x_train"][:train_images], "y_train": data["y_train"][:train_images],
                  "x_test": data["x_test"], "y_test": data["y_test"]}
    if len(arrays["y_train"]) < train_images:
        raise SystemExit(f"{path} holds {len(arrays['y_train'])} training images, fewer than {train_images}.")
    return {name: np.ascontiguousarray(array, dtype=np.uint8) for name, array in arrays.items()}


def encode_npz(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz (one .npy member per array) with LZMA-compressed members and fixed dates."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, array in arrays.items():
            member = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_DATE)
            member.compress_type = zipfile.ZIP_LZMA
            npy = io.BytesIO()
            np.lib.format.write_array(npy, array, allow_pickle=False)
            archive.writestr(member, npy.getvalue())
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mnist", type=Path, help="a Keras-format mnist.npz (x_train, y_train, x_test, y_test)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    args = parser.parse_args(argv)
    data = encode_npz(pick_sample(args.mnist))
    digest = hashlib.sha256(data).hexdigest()
    if args.check:
        same = args.out.is_file() and args.out.read_bytes() == data
        print(f"{args.out}: {'the same' if same else 'DIFFERENT'} ({len(data):,} bytes, sha256 {digest})")
        return 0 if same else 1
    args.out.write_bytes(data)
    print(f"wrote {args.out}: {len(data):,} bytes, sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

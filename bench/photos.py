"""Phone photos of the held-out drawings, read by the bundled model (core.data.photo).

Run from the repo root: python -m bench.photos [--seed 0] [--save DIR]

The 100 drawings of tests/harness/drawings.make_drawings() (never trained on), each written with a
thin pen on textured paper or in chalk on a board and photographed (tests/harness/photos.make_photo:
uneven light, a shadow, blur, rotation, perspective, a table at the edges, JPEG). Prints the
misreadings and the time per photo, then last

    photos: read R of N (P%), without photo effects R0 of N

where R0 is the same drawings drawn on the Draw page's canvas (the reference).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from core.data.drawing import predict_drawing, preprocess_drawing
from core.data.photo import PhotoError, preprocess_photo
from core.model.default_model import load_default_model
from tests.harness.drawings import make_drawings, render_drawing
from tests.harness.photos import make_photo, pick_look


def main() -> int:
    parser = argparse.ArgumentParser(description="read synthetic phone photos of the held-out drawings")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", type=Path, default=None, help="write each photo here (JPEG)")
    args = parser.parse_args()
    model = load_default_model()
    rng = np.random.default_rng(args.seed)
    drawings = make_drawings(seed=args.seed)
    read = reference = 0
    seconds: list[float] = []
    for number, (label, strokes) in enumerate(drawings):
        look = pick_look(rng)
        photo = make_photo(strokes, rng, look)
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            (args.save / f"{number:03d}-{label}.jpg").write_bytes(photo)
        drawn = preprocess_drawing(render_drawing(strokes), (28, 28))
        reference += drawn is not None and int(np.argmax(predict_drawing(model, drawn))) == label
        started = time.perf_counter()
        try:
            image = preprocess_photo(photo, (28, 28)).image
        except PhotoError as error:
            print(f"{number:3d}  wrote {label}  refused: {error}")
            continue
        seconds.append(time.perf_counter() - started)
        answer = int(np.argmax(predict_drawing(model, image)))
        read += answer == label
        if answer != label:
            kind = "board" if look.board else ("blue pen" if look.ink[2] > 100 else "black pen")
            print(f"{number:3d}  wrote {label}  read {answer}  ({kind}, shadow {look.shadow:.2f}, "
                  f"{look.degrees:+.1f} degrees, table {look.table})")
    total = len(drawings)
    print(f"preprocessing: median {statistics.median(seconds) * 1000:.0f} ms per photo")
    print(f"photos: read {read} of {total} ({read / total:.0%}), without photo effects {reference} of {total}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

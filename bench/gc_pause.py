"""A full garbage collection with TensorFlow loaded, before and after core.server.warmup.freeze_long_lived
(gc.freeze): what core.server.collector runs every 20 s (and Streamlit would after every run, were it on).

    python -m bench.gc_pause [--repeat 5]

Loads what a server has after its warm-up (TensorFlow, Keras, the bundled model, traced), then
times `gc.collect(2)` (Streamlit's `runner.postScriptGC`, which .streamlit/config.toml turns off).
Prints the median seconds before and after freezing, and the objects the collector tracks.
"""

import argparse
import gc
import statistics
import time

from core.server import warmup


def time_collect(repeat: int) -> float:
    """Median seconds of a full collection."""
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        gc.collect(2)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import numpy as np
    import tensorflow  # noqa: F401  -- as a server has it after its warm-up

    from core.data.drawing import predict_drawing
    from core.model.default_model import load_default_model

    predict_drawing(load_default_model(), np.zeros((28, 28), np.float32))
    tracked = len(gc.get_objects())
    before = time_collect(args.repeat)
    warmup.freeze_long_lived()
    after = time_collect(args.repeat)
    print(f"objects tracked: {tracked:,} before, {len(gc.get_objects()):,} after freezing "
          f"({gc.get_freeze_count():,} frozen)")
    print(f"gc pause: {before * 1000:.0f} ms before freezing, {after * 1000:.1f} ms after")


if __name__ == "__main__":
    main()

"""What measuring the test set at the end of a training costs (core.training.local.TrainingJob.measure_test_set).

Run from the repo root:  python -m bench.outcome_cost
For each network (the Digits preset, MNIST's dense preset, a small CNN on MNIST, as the app builds them),
times predicting the whole test set with the kept weights and making the figures the sentence needs
(core.analysis.outcome.measure_test), cold (the first call traces the graph, as at a training's end) and warm.
MNIST is the sample that ships in data/ when no other copy is at hand (the same 10,000 test images).
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from core.analysis.evaluation import predict_probabilities  # noqa: E402
from core.analysis.outcome import describe_outcome, measure_test, outcome_of  # noqa: E402
from core.data.datasets import load_dataset, to_model_input  # noqa: E402
from core.model.network import build_model  # noqa: E402
from core.model.spec import PRESETS, NetworkSpec, TrainSpec  # noqa: E402


def cases() -> dict[str, TrainSpec]:
    """The networks timed: the first preset of each dataset, and a small CNN on MNIST."""
    digits = next(s for s in PRESETS.values() if s.dataset == "digits")
    mnist = next(s for s in PRESETS.values() if s.dataset == "mnist")
    cnn = TrainSpec(dataset="mnist", network=NetworkSpec(kind="cnn"), optimizer="adam", learning_rate=0.001)
    return {"digits preset": digits, "mnist dense preset": mnist, "mnist small CNN": cnn}


def time_one(spec: TrainSpec) -> tuple[int, float, float, str]:
    """(test images, cold seconds, warm seconds, the sentence) for an untrained network of `spec`."""
    data = load_dataset(spec.dataset, spec.validation_fraction, spec.train_limit, spec.seed)
    model = build_model(spec)
    seconds = []
    for _ in range(2):
        start = time.perf_counter()
        probs = predict_probabilities(model, to_model_input(data.x_test, data.info))
        metrics = measure_test(np.asarray(data.y_test), probs)
        seconds.append(time.perf_counter() - start)
    sentence = describe_outcome(outcome_of(metrics, data.info.num_classes), data.info.class_names)
    return len(data.y_test), seconds[0], seconds[1], sentence


def main() -> None:
    for name, spec in cases().items():
        images, cold, warm, sentence = time_one(spec)
        print(f"{name:20s} {images:6,} test images: cold {cold:5.2f} s, warm {warm:5.2f} s  ({sentence[:60]}...)")


if __name__ == "__main__":
    main()

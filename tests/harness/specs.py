"""The tiny TrainSpec the training tests share: Digits (8x8), one dense layer of 8, 256 images."""

from __future__ import annotations

import dataclasses

from core.model.spec import NetworkSpec, TrainSpec

# Trains 3 epochs in well under a second on one core; accuracy is not the point, the job's life is.
TINY = TrainSpec(dataset="digits", network=NetworkSpec(hidden_layers=(8,)), optimizer="adam",
                 learning_rate=0.01, batch_size=64, epochs=3, seed=0, train_limit=256)


def tiny_spec(**changes) -> TrainSpec:
    """TINY with `changes` (any TrainSpec field), e.g. tiny_spec(batch_size=8, epochs=200) for a long one."""
    return dataclasses.replace(TINY, **changes)

"""The server's bounds on trainings: one entry each, its environment setting and its default.

Read through `read_limit` wherever a bound is checked (the queue, the boards, spec validation,
the validation pass), so that one setting changes one bound everywhere. A setting that is not a
number above 0 is ignored (the default holds): a typo must not stop every training.
Nothing here imports TensorFlow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    env: str  # the environment variable that sets it
    default: float
    what: str  # what it bounds, in plain words


LIMITS: dict[str, Limit] = {
    "max_trainings": Limit("DIGITLAB_MAX_TRAININGS", 2, "trainings that run at once on this server"),
    "max_queued": Limit("DIGITLAB_MAX_QUEUED", 40, "trainings that wait for a free slot, server-wide"),
    "job_keep_seconds": Limit("DIGITLAB_JOB_KEEP_SECONDS", 600,
                              "seconds an ended training stays on the server while a tab still shows it"),
    "batch_points": Limit("DIGITLAB_MAX_BATCH_POINTS", 2000,
                          "batch logs a training keeps for its live curve (thinned past it)"),
    "training_mb": Limit("DIGITLAB_MAX_TRAINING_MB", 1000, "memory one training may need, in MB"),
    "training_batches": Limit("DIGITLAB_MAX_TRAINING_BATCHES", 1_000_000,
                              "batches in one training (epochs x batches per epoch)"),
    "inference_mb": Limit("DIGITLAB_INFERENCE_BATCH_MB", 64,
                          "activation memory of one validation or evaluation batch, in MB"),
    # core/export/formats.py: a SavedModel or LiteRT export traces the model; a class exporting at once must queue.
    "exports": Limit("DIGITLAB_MAX_EXPORTS", 1, "model exports (SavedModel, LiteRT) built at once on this server"),
}


def read_limit(key: str) -> float:
    """The bound `key` of LIMITS: its environment setting when that is a number above 0, else its default."""
    limit = LIMITS[key]
    try:
        value = float(os.environ.get(limit.env, "").strip() or limit.default)
    except ValueError:
        return limit.default
    return value if value > 0 else limit.default

"""The server's bounds, each with its environment setting and its default: the bottom layer.

Trainings' bounds are the `LIMITS` table, read through `read_limit` wherever a bound is checked
(the queue, the boards, spec validation, the validation pass), so that one setting changes one
bound everywhere; a setting that is not a number above 0 is ignored there (the default holds): a
typo must not stop every training. What a lab and the database may hold, and how many new labs
an hour, are read strictly by `env_number` (a bad setting is refused with a message). Uploaded
models' bounds are core.model.config_size's UPLOAD_LIMITS, read with `env_number` too.

Imports nothing from core, and never TensorFlow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from core.i18n import message


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
    # core/storage/progress.py: what the lessons' checks need that runs do not hold; the oldest go first.
    "lab_events": Limit("DIGITLAB_MAX_LAB_EVENTS", 50,
                        "lesson events (a confusion cell opened, a drawing read) kept per lab, the newest"),
    # core/data/photo.py: a photo of a digit sent from Draw or My digits (a phone's is 2-6 MB, 12 million pixels).
    "photo_mb": Limit("DIGITLAB_MAX_PHOTO_MB", 15, "megabytes of one photo of a digit"),
    "photo_megapixels": Limit("DIGITLAB_MAX_PHOTO_MEGAPIXELS", 50, "million pixels of one photo of a digit"),
    # Classes (issue 24; core/storage/classes.py, core/server/guesses.py). A code is 6 characters of 28
    # (about 29 bits): a few wrong ones a minute per tab and per address make guessing one hopeless.
    "class_days": Limit("DIGITLAB_CLASS_DAYS", 60, "days a class is kept after its teacher last opened its board"),
    "code_guesses": Limit("DIGITLAB_MAX_CODE_GUESSES_PER_MINUTE", 5,
                          "wrong class codes or teacher links one browser tab may try in a minute"),
    "code_guesses_address": Limit("DIGITLAB_MAX_CODE_GUESSES_PER_MINUTE_PER_ADDRESS", 20,
                                  "wrong class codes or teacher links one network address may try in a minute"),
    "class_students": Limit("DIGITLAB_MAX_CLASS_STUDENTS", 100, "students one class may have"),
    "new_classes": Limit("DIGITLAB_MAX_NEW_CLASSES_PER_HOUR", 5, "classes one browser tab may start in an hour"),
}


def read_limit(key: str) -> float:
    """The bound `key` of LIMITS: its environment setting when that is a number above 0, else its default."""
    limit = LIMITS[key]
    try:
        value = float(os.environ.get(limit.env, "").strip() or limit.default)
    except ValueError:
        return limit.default
    return value if value > 0 else limit.default


def max_photo_bytes() -> int:
    """Bytes one photo of a digit may have: DIGITLAB_MAX_PHOTO_MB (megabytes), default 15."""
    return int(read_limit("photo_mb") * 1_000_000)


def max_photo_pixels() -> int:
    """Pixels one photo of a digit may have: DIGITLAB_MAX_PHOTO_MEGAPIXELS (millions), default 50."""
    return int(read_limit("photo_megapixels") * 1_000_000)


class SettingError(ValueError):
    """A bound's environment setting is not a number above 0; the message says which and how to fix it."""


# What a lab and the database may hold. Each is read when it is needed, so a restart is not
# required to change it, and has a message in plain words where it is reached (core.storage).
MAX_RUNS_ENV = "DIGITLAB_MAX_RUNS"
MAX_LAB_MB_ENV = "DIGITLAB_MAX_LAB_MB"
MAX_DB_MB_ENV = "DIGITLAB_MAX_DB_MB"
MAX_SHARES_ENV = "DIGITLAB_MAX_SHARES_PER_RUN"
LAB_DAYS_ENV = "DIGITLAB_LAB_DAYS"
NEW_LABS_ENV = "DIGITLAB_MAX_NEW_LABS_PER_HOUR"  # per browser session
NEW_LABS_ADDRESS_ENV = "DIGITLAB_MAX_NEW_LABS_PER_HOUR_PER_ADDRESS"
MAX_RUNS = 100  # per lab
MAX_LAB_MB = 200  # per lab: everything it holds (1 MB = 1,000,000 bytes)
# The whole database. Community Cloud's container disk also holds the app's packages (TensorFlow
# alone ~2 GB) and Keras' dataset cache; 2,000 MB is ten labs at their cap, or a class of 30 with
# 60 MB each (a few dozen runs), and leaves the rest of a small disk to the app.
MAX_DB_MB = 2_000
MAX_SHARES_PER_RUN = 20  # share links one run may have at a time
LAB_DAYS = 30  # labs not opened for this long are removed by housekeeping
# New labs per hour: a browser session rarely needs more than a couple; an address is often a
# whole school behind one router, so it allows two new labs an hour for each pupil of a class.
MAX_NEW_LABS_PER_SESSION = 10
MAX_NEW_LABS_PER_ADDRESS = 60


def env_number(name: str, default: float) -> float:
    """A positive limit from environment variable `name`, or `default` when it is unset.

    Unlike `read_limit`, a setting that is not a number above 0 is refused (SettingError, in plain
    words): these bounds guard what a lab keeps, so a typo must not silently change them.
    """
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not number > 0:
        raise SettingError(message("{name} must be a number above 0, not {value}; fix it and restart the app.",
                                   name=name, value=repr(value)))
    return number


def max_runs() -> int:
    """Runs one lab may hold: DIGITLAB_MAX_RUNS, default MAX_RUNS."""
    return int(env_number(MAX_RUNS_ENV, MAX_RUNS))


def max_lab_bytes() -> int:
    """Bytes one lab may hold (runs, blobs, digits, shares): DIGITLAB_MAX_LAB_MB (megabytes), default MAX_LAB_MB."""
    return int(env_number(MAX_LAB_MB_ENV, MAX_LAB_MB) * 1_000_000)


def max_database_bytes() -> int:
    """Bytes the whole database may hold: DIGITLAB_MAX_DB_MB (megabytes), default MAX_DB_MB."""
    return int(env_number(MAX_DB_MB_ENV, MAX_DB_MB) * 1_000_000)


def max_shares_per_run() -> int:
    """Share links one run may have: DIGITLAB_MAX_SHARES_PER_RUN, default MAX_SHARES_PER_RUN."""
    return int(env_number(MAX_SHARES_ENV, MAX_SHARES_PER_RUN))


def max_new_labs_per_session() -> int:
    """New labs one browser session may start per hour: DIGITLAB_MAX_NEW_LABS_PER_HOUR, default 10."""
    return int(env_number(NEW_LABS_ENV, MAX_NEW_LABS_PER_SESSION))


def max_new_labs_per_address() -> int:
    """New labs one client address may start per hour: DIGITLAB_MAX_NEW_LABS_PER_HOUR_PER_ADDRESS, default 60."""
    return int(env_number(NEW_LABS_ADDRESS_ENV, MAX_NEW_LABS_PER_ADDRESS))


def lab_days() -> float:
    """Days a lab is kept after it was last opened: DIGITLAB_LAB_DAYS, default LAB_DAYS."""
    return env_number(LAB_DAYS_ENV, LAB_DAYS)

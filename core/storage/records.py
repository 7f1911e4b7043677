"""What the store's rows hold and what each costs: `RunRecord` and `ShareRecord`, a run's fields
encoded for its row, blobs kept once by their SHA-256, and the room checks (a lab's runs and bytes,
the whole database's) made inside the writing transaction, with a message in plain words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import (
    and_,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ColumnElement

from core.i18n import Number, message
from core.limits import MAX_DB_MB_ENV, max_database_bytes, max_lab_bytes, max_runs
from core.storage.engine import LAB_GONE, LabFullError, NotFound, StorageFull
from core.storage.schema import blob_data_table, blobs_table, digits_table, labs_table, runs_table, shares_table
from core.storage.secrets import checksum

MAX_DIGITS = 5_000  # per lab


# What a row costs besides the bytes counted exactly (keys, numbers, the database's own overhead):
RUN_ROW_BYTES = 300
DIGIT_ROW_BYTES = 60  # plus its height * width pixels
SHARE_ROW_BYTES = 150
LAB_ROW_BYTES = 150


RUN_STATES = ("running", "finished", "stopped", "interrupted", "failed")


def megabytes(n_bytes: int) -> Number:
    """Bytes as megabytes with one decimal, for a message to write the language's way ("12.3", "12,3")."""
    return Number(round(n_bytes / 1_000_000, 1))


def to_json(value: Any) -> str:
    return json.dumps(value, default=plain_value)


def plain_value(value: Any) -> Any:
    """numpy numbers and arrays as plain ones (Keras histories often hold np.float32)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"a {type(value).__name__} cannot be saved as JSON")


def interrupted_status(epochs_done: int) -> str:
    if epochs_done <= 0:
        return "Interrupted before the first epoch ended"
    return f"Interrupted after epoch {epochs_done}"


# ---------------------------------------------------------------------------------------------
# Runs.

@dataclass
class RunRecord:
    """One saved run without its blobs: what a lab's run list shows.

    save_run reads the fields up to `sweep`; the store sets the others.
    """

    name: str
    dataset: str  # a key of core.data.datasets.DATASETS
    source: str = "trained"  # trained | uploaded | fine-tuned | copied (a trained run copied from a share link)
    state: str = "finished"  # one of RUN_STATES
    status: str = ""  # how it went, in words
    spec: dict[str, Any] | None = None  # core.model.spec.spec_to_dict(...); None for uploads without one
    history: dict[str, list[float]] = field(default_factory=dict)  # per-epoch Keras metrics
    metrics: dict[str, float] = field(default_factory=dict)  # those of the weights kept
    seconds: float = 0.0
    epochs_done: int = 0
    sweep: str | None = None
    run_id: int | None = None
    lab_id: int | None = None  # None in a shared (read-only) view
    created_at: float = 0.0
    updated_at: float = 0.0
    owner: str | None = None  # None in a shared view
    heartbeat_at: float | None = None
    blob_bytes: int = 0
    blob_names: tuple[str, ...] = ()


SHARE_ID_LENGTH = 16  # a share's id: the first hex digits of its token's hash (not the token)
_SHARE_ID_PATTERN = re.compile(f"[0-9a-f]{{{SHARE_ID_LENGTH}}}")


@dataclass(frozen=True)
class ShareRecord:
    """One share link of a lab, for "Stop sharing": which run, since when; never its token."""

    share_id: str
    run_id: int
    run_name: str
    created_at: float


# The fields save_run takes from a RunRecord and update_run may change.
RUN_FIELDS = ("name", "dataset", "source", "state", "status", "spec", "history", "metrics",
              "seconds", "epochs_done", "sweep")
_JSON_FIELDS = ("spec", "history", "metrics")
_TEXT_FIELDS = ("name", "status", "spec", "history", "metrics", "sweep")  # what record_bytes counts


def encode_run_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Column values for RunRecord fields: JSON as text, numbers as plain numbers, state checked."""
    if "state" in fields and fields["state"] not in RUN_STATES:
        raise ValueError(f"state must be one of {', '.join(RUN_STATES)}, not {fields['state']!r}")
    values = dict(fields)
    for name in _JSON_FIELDS:
        if name in values and not (name == "spec" and values[name] is None):
            values[name] = to_json(values[name])
    if "seconds" in values:
        values["seconds"] = float(values["seconds"])
    if "epochs_done" in values:
        values["epochs_done"] = int(values["epochs_done"])
    return values


def record_from_row(row: Any, blob_names: Sequence[str] = ()) -> RunRecord:
    """A RunRecord from a row of the runs table."""
    return RunRecord(
        name=row.name, dataset=row.dataset, source=row.source, state=row.state, status=row.status,
        spec=json.loads(row.spec) if row.spec is not None else None,
        history=json.loads(row.history), metrics=json.loads(row.metrics),
        seconds=row.seconds, epochs_done=row.epochs_done, sweep=row.sweep,
        run_id=row.id, lab_id=row.lab_id, created_at=row.created_at, updated_at=row.updated_at,
        owner=row.owner, heartbeat_at=row.heartbeat_at, blob_bytes=int(row.blob_bytes),
        blob_names=tuple(blob_names),
    )


def check_blobs(files: Mapping[str, bytes] | None) -> dict[str, bytes]:
    """Blob names and bytes, checked: names of 1..64 characters, bytes-like data."""
    checked = {}
    for name, data in (files or {}).items():
        if not isinstance(name, str) or not 0 < len(name) <= 64:
            raise ValueError(f"a blob name must be a string of 1 to 64 characters, not {name!r}")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"blob {name!r} must be bytes, not {type(data).__name__}")
        checked[name] = bytes(data)
    return checked


def record_size(values: Mapping[str, Any]) -> int:
    """Characters of a run's texts among encoded `values` (name, status, JSON fields, sweep): its record_bytes."""
    return sum(len(values[name]) for name in _TEXT_FIELDS if values.get(name) is not None)


def blob_digests(files: Mapping[str, bytes]) -> dict[str, str]:
    """Each blob's checksum, by name (computed once per save: 0.5 ms per MB)."""
    return {name: checksum(data) for name, data in files.items()}


def new_data_bytes(conn: Connection, files: Mapping[str, bytes], digests: Mapping[str, str]) -> int:
    """Bytes of `files` the database does not hold yet (blobs are stored once by checksum)."""
    sums = {digests[name]: len(data) for name, data in files.items()}
    if not sums:
        return 0
    held = set(conn.scalars(select(blob_data_table.c.sha256).where(blob_data_table.c.sha256.in_(sums))))
    return sum(size for sha, size in sums.items() if sha not in held)


def store_blob_data(conn: Connection, sha256: str, data: bytes) -> None:
    """Keep `data` under its checksum unless it is there already."""
    values = {"sha256": sha256, "size": len(data), "data": data}
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_upsert

        # DO UPDATE locks the row until commit, so a concurrent free_blob_data cannot delete it
        # between here and our `blobs` row (the bytes themselves are not rewritten: TOAST).
        statement = postgresql_upsert(blob_data_table).values(values)
        conn.execute(statement.on_conflict_do_update(index_elements=["sha256"],
                                                     set_={"size": statement.excluded.size}))
    else:  # SQLite's writers take turns: nothing can come between
        from sqlalchemy.dialects.sqlite import insert as sqlite_upsert

        conn.execute(sqlite_upsert(blob_data_table).values(values).on_conflict_do_nothing(index_elements=["sha256"]))


def inserted_id(result: CursorResult[Any]) -> int:
    """The id of the one row an INSERT made."""
    key = result.inserted_primary_key
    assert key is not None, "an INSERT of one row has its key"
    return key[0]


def insert_blobs(conn: Connection, run_id: int, files: Mapping[str, bytes], digests: Mapping[str, str]) -> None:
    for name, data in files.items():
        sha256 = digests[name]
        store_blob_data(conn, sha256, data)
        conn.execute(insert(blobs_table).values(run_id=run_id, name=name, size=len(data), sha256=sha256))


def blob_checksums(conn: Connection, condition: ColumnElement[bool]) -> list[str]:
    """The checksums of the blobs of the runs `condition` picks (on runs_table): what deleting them may free."""
    return list(conn.scalars(
        select(blobs_table.c.sha256).join(runs_table, runs_table.c.id == blobs_table.c.run_id)
        .where(condition).distinct()
    ))


def free_blob_data(conn: Connection, checksums: Sequence[str]) -> int:
    """Delete the stored bytes of these checksums that no run holds any more; how many."""
    if not checksums:
        return 0
    unreferenced = ~select(blobs_table.c.run_id).where(blobs_table.c.sha256 == blob_data_table.c.sha256).exists()
    statement = delete(blob_data_table).where(blob_data_table.c.sha256.in_(list(checksums)), unreferenced)
    if conn.dialect.name != "postgresql":
        return conn.execute(statement).rowcount
    try:
        with conn.begin_nested():
            return conn.execute(statement).rowcount
    except IntegrityError:  # a transaction that had not committed yet took these bytes: they stay
        return 0


def own_run(run_id: int, lab_id: int) -> ColumnElement[bool]:
    """The condition that picks run `run_id` only when it belongs to lab `lab_id`."""
    return and_(runs_table.c.id == run_id, runs_table.c.lab_id == lab_id)


def lock_lab(conn: Connection, lab_id: int) -> None:
    """Check that the lab exists, and hold its row until commit: two saves cannot both pass a limit."""
    # FOR UPDATE on PostgreSQL; SQLite has none, but its writers already hold the database lock.
    if conn.scalar(select(labs_table.c.id).where(labs_table.c.id == lab_id).with_for_update()) is None:
        raise NotFound(message(LAB_GONE))


def lab_usage(conn: Connection, lab_id: int) -> tuple[int, int]:
    """(runs, bytes) the lab holds: its runs (texts and blobs, shared bytes counted per lab), digits, shares."""
    runs, run_bytes = conn.execute(
        select(func.count(), func.coalesce(func.sum(runs_table.c.blob_bytes + runs_table.c.record_bytes), 0))
        .where(runs_table.c.lab_id == lab_id)
    ).one()
    digits = conn.execute(select(func.count()).where(digits_table.c.lab_id == lab_id)).scalar_one()
    pixels = 0
    if digits:  # a lab's digits have one shape (add_digits): no need to read each row
        pixels = conn.scalar(select(digits_table.c.height * digits_table.c.width)
                             .where(digits_table.c.lab_id == lab_id).limit(1)) or 0
    shares = conn.execute(select(func.count()).select_from(shares_table)
                          .join(runs_table, runs_table.c.id == shares_table.c.run_id)
                          .where(runs_table.c.lab_id == lab_id)).scalar_one()
    # int(): PostgreSQL sums bigints as numeric (a Decimal)
    total = (LAB_ROW_BYTES + int(run_bytes) + runs * RUN_ROW_BYTES + digits * (pixels + DIGIT_ROW_BYTES)
             + shares * SHARE_ROW_BYTES)
    return runs, total


def database_bytes(conn: Connection) -> int:
    """What the whole database holds, each stored blob counted once.

    SQLite: its pages in use (page_count - freelist_count), read from the file's header, so
    constant time. PostgreSQL, whose files do not shrink after a delete: the sum of what the rows
    hold, as lab_usage counts it but each blob once.
    """
    if conn.dialect.name == "sqlite":
        pragma = conn.exec_driver_sql
        pages = pragma("PRAGMA page_count").scalar_one() - pragma("PRAGMA freelist_count").scalar_one()
        return int(pages * pragma("PRAGMA page_size").scalar_one())
    parts = (
        select(func.coalesce(func.sum(blob_data_table.c.size), 0)),
        select(func.coalesce(func.sum(runs_table.c.record_bytes + RUN_ROW_BYTES), 0)),
        select(func.coalesce(func.sum(digits_table.c.height * digits_table.c.width + DIGIT_ROW_BYTES), 0)),
        select(func.count() * SHARE_ROW_BYTES).select_from(shares_table),
        select(func.count() * LAB_ROW_BYTES).select_from(labs_table),
    )
    return sum(int(conn.execute(part).scalar_one()) for part in parts)


def check_database_room(conn: Connection, new_bytes: int) -> None:
    """Raise StorageFull when `new_bytes` more would take the database past max_database_bytes()."""
    if new_bytes <= 0:
        return
    limit, used = max_database_bytes(), database_bytes(conn)
    if used + new_bytes > limit:
        raise StorageFull(message(
            "The app's storage is full: its database holds {used} MB of the {limit} MB it may "
            "use, so this cannot be saved. Your work so far is kept, and deleting runs you no longer need "
            "makes room (the app's administrator can raise {setting}).",
            used=megabytes(used), limit=megabytes(limit), setting=MAX_DB_MB_ENV,
        ))


def check_room(conn: Connection, lab_id: int, new_runs: int, new_bytes: int, stored_bytes: int | None = None) -> None:
    """Raise LabFullError when the lab cannot take `new_runs` more runs and `new_bytes` more bytes.

    Raise StorageFull when the database cannot take `stored_bytes` more (default `new_bytes`;
    less when some bytes are stored already, as a copied run's blobs are).
    """
    count, used = lab_usage(conn, lab_id)
    if new_runs > 0 and count + new_runs > max_runs():
        raise LabFullError(message(
            "This lab holds {count} runs, the most it can: delete some on the Train page to save more.",
            count=Number(count),
        ))
    limit = max_lab_bytes()
    if new_bytes > 0 and used + new_bytes > limit:
        raise LabFullError(message(
            "This lab's saved work (models, histories, digits, share links) takes {used} MB of the "
            "{limit} MB it can hold, and this needs {needed} MB more: delete some runs "
            "on the Train page to save more.",
            used=megabytes(used), limit=megabytes(limit), needed=megabytes(new_bytes),
        ))
    check_database_room(conn, new_bytes if stored_bytes is None else stored_bytes)


def check_digits(labels: Sequence[int], images: Sequence[np.ndarray] | np.ndarray
                 ) -> tuple[list[int], list[np.ndarray]]:
    """Labels 0..9 and same-shaped 2-D uint8 images, one per label; ValueError otherwise."""
    pictures = [np.asarray(image) for image in images]
    numbers = [int(label) for label in labels]
    if len(numbers) != len(pictures):
        raise ValueError(f"{len(numbers)} labels for {len(pictures)} images")
    if any(not 0 <= label <= 9 for label in numbers):
        raise ValueError(f"labels must be digits 0..9, not {numbers}")
    shapes = {picture.shape for picture in pictures}
    if any(picture.ndim != 2 or picture.dtype != np.uint8 for picture in pictures) or len(shapes) > 1:
        raise ValueError(f"images must be 2-D uint8 arrays of one shape, not {sorted(shapes)}")
    return numbers, pictures

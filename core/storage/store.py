"""Persistence for everything a visitor makes: labs, their runs and model files, share links, digits.

A *lab* is one visitor's private space, reached only through its key: a random URL-safe string
that the visitor keeps; the database holds only its SHA-256. Every run, blob and digit belongs to
one lab, and every method that touches them takes the lab id and matches it in SQL, so a lab can
never reach another lab's rows. A share link is a second random token (hash stored) that opens one
run read-only. A blob's bytes are kept once by their SHA-256 (`blob_data`), however many runs hold
them, and freed with the last; ids are never given twice. Limits: per lab (runs, and every byte it
holds) and for the whole database (DIGITLAB_MAX_DB_MB), each with a message in plain words.

The database is SQLite by default (`$DIGITLAB_HOME/digitlab.db`, WAL mode) or PostgreSQL
(`DIGITLAB_DATABASE_URL`, or the same key in Streamlit's secrets), through SQLAlchemy Core. The
app creates and upgrades the schema itself (`MIGRATIONS`). Every write is one transaction, so a
crash never leaves half a run. Every database failure reaches the caller as a `StoreError` whose
message can be shown as is; the app then keeps working without saving.

Times are Unix seconds (floats). JSON fields are written with Python's `json` (NaN allowed: a
diverged training has NaN losses, and only this app reads them back).

This module is the `Store` class alone (about 600 lines): each method is one transaction over the
helpers of core.storage.records, engine, schema, secrets and owners. It stays one class because
every page holds one store and its methods share the transaction helpers (`reading`, `writing`);
split by concern (labs, runs, shares, digits, housekeeping) it would be mixins over one engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from secrets import token_urlsafe
from typing import Any

import numpy as np
from sqlalchemy import (
    Integer,
    delete,
    func,
    insert,
    inspect,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql import Select

from core.i18n import N_, Number, message, term
from core.limits import lab_days, max_shares_per_run
from core.storage.classes import ClassStore
from core.storage.engine import (
    LAB_GONE,
    DamagedBlob,
    LabFullError,
    NotFound,
    StoreError,
    StoreUnavailable,
    create_store_engine,
    database_url,
    describe_location,
    plain_errors,
)
from core.storage.owners import is_owner_gone, process_owner
from core.storage.records import (
    _SHARE_ID_PATTERN,
    _TEXT_FIELDS,
    DIGIT_ROW_BYTES,
    MAX_DIGITS,
    RUN_FIELDS,
    RUN_ROW_BYTES,
    SHARE_ID_LENGTH,
    SHARE_ROW_BYTES,
    RunRecord,
    ShareRecord,
    blob_checksums,
    blob_digests,
    check_blobs,
    check_digits,
    check_room,
    database_bytes,
    encode_run_fields,
    free_blob_data,
    insert_blobs,
    inserted_id,
    interrupted_status,
    lab_usage,
    lock_lab,
    new_data_bytes,
    own_run,
    record_from_row,
    record_size,
)
from core.storage.schema import (
    _MIGRATION_LOCK,
    MIGRATIONS,
    blob_data_table,
    blobs_table,
    digits_table,
    labs_table,
    runs_table,
    schema_version,
    shares_table,
)
from core.storage.secrets import SECRET_BYTES, checksum, hash_secret, is_well_formed

HOUSEKEEP_SECONDS = 3600  # how often the housekeeping thread (core.server.housekeeper) works
HOUSEKEEP_BATCH = 50  # labs (or unreferenced blobs) deleted per housekeeping transaction
SHARE_GONE = N_("This share link does not work (it is mistyped, or the run was deleted).")
# A stored file's name (core.storage.sink) in words, for the messages that name it.
BLOB_WORDS = {"model": N_("model"), "checkpoint": N_("model"), "epoch_predictions": N_("answers after each epoch")}


class Store:
    """One database of labs. Thread-safe; open one per process (the app caches it)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def __repr__(self) -> str:
        return f"Store({describe_location(self.engine.url)})"

    @property
    def classes(self) -> ClassStore:
        """The classes of this database (core.storage.classes): teachers' boards, students, challenges."""
        return ClassStore(self)

    def close(self) -> None:
        """Close the pooled connections."""
        self.engine.dispose()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads: one consistent snapshot, never waits for writers (SQLite WAL)."""
        with plain_errors(self.engine.url), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def writing(self, foreign_keys: bool = True) -> Iterator[Connection]:
        """A connection in one transaction: committed at the end, rolled back on any error.

        foreign_keys=False (schema upgrades on SQLite): no ON DELETE CASCADE while tables are
        rebuilt; every reference is checked before the commit instead.
        """
        with plain_errors(self.engine.url), self.engine.connect() as conn:
            conn.execution_options(digitlab_write=True)  # begin_sqlite: BEGIN IMMEDIATE
            raw = conn.connection.dbapi_connection if conn.dialect.name == "sqlite" and not foreign_keys else None
            if raw is not None:
                raw.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction: before BEGIN
            try:
                with conn.begin():
                    yield conn
                    if raw is not None and conn.exec_driver_sql("PRAGMA foreign_key_check").first():
                        raise StoreError(message("The lab's database could not be upgraded (a reference between "
                                                 "its tables is broken); nothing was changed."))
            finally:
                if raw is not None:
                    raw.execute("PRAGMA foreign_keys = ON")

    # -- schema -----------------------------------------------------------------------------

    def read_schema_version(self, conn: Connection) -> int:
        """How many MIGRATIONS steps this database has had (0 for an empty one)."""
        if not inspect(conn).has_table(schema_version.name):
            return 0
        version = conn.scalar(select(func.max(schema_version.c.version))) or 0
        if version > len(MIGRATIONS):
            raise StoreError(message(
                "The lab's database was written by a newer version of Digit Lab (schema {version}; "
                "this one knows {known}). Update the app; nothing was changed.", version=version, known=len(MIGRATIONS)
            ))
        return version

    def upgrade_schema(self, steps: Sequence[Callable[[Connection], None]] = MIGRATIONS) -> int:
        """Apply the steps this database lacks, in one transaction; the schema version after."""
        with self.reading() as conn:
            if self.read_schema_version(conn) >= len(steps):
                return len(steps)
        with self.writing(foreign_keys=False) as conn:
            if conn.dialect.name == "postgresql":  # one process upgrades, the others wait here
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            version = self.read_schema_version(conn)  # again: another process may have upgraded
            if not inspect(conn).has_table(schema_version.name):
                conn.execute(CreateTable(schema_version))
                conn.execute(insert(schema_version).values(version=0))
            for step in steps[version:]:
                step(conn)
            conn.execute(update(schema_version).values(version=max(version, len(steps))))
        return max(version, len(steps))

    # -- labs -------------------------------------------------------------------------------

    def create_lab(self) -> str:
        """A new lab; its key (the only way in: the database keeps just its hash)."""
        key = token_urlsafe(SECRET_BYTES)
        now = time.time()
        with self.writing() as conn:
            conn.execute(insert(labs_table).values(key_hash=hash_secret(key), created_at=now, opened_at=now))
        return key

    def open_lab(self, key: object) -> int | None:
        """The id of the lab with this key, marked as opened now; None for any other input."""
        if not is_well_formed(key):
            return None
        key_hash = hash_secret(key)
        with self.reading() as conn:  # unknown keys cost no write
            lab_id = conn.scalar(select(labs_table.c.id).where(labs_table.c.key_hash == key_hash))
        if lab_id is not None:
            with self.writing() as conn:
                conn.execute(update(labs_table).where(labs_table.c.id == lab_id).values(opened_at=time.time()))
        return lab_id

    def rekey_lab(self, lab_id: int) -> str:
        """Give the lab a new key; the new key. The old one opens nothing from now on. NotFound if it is gone."""
        key = token_urlsafe(SECRET_BYTES)
        with self.writing() as conn:
            changed = conn.execute(update(labs_table).where(labs_table.c.id == lab_id)
                                   .values(key_hash=hash_secret(key))).rowcount
        if not changed:
            raise NotFound(message(LAB_GONE))
        return key

    def set_current_run(self, lab_id: int, run_id: int | None) -> None:
        """Remember which run the lab uses on Evaluate and Draw (None: the newest finished one)."""
        with self.writing() as conn:
            conn.execute(update(labs_table).where(labs_table.c.id == lab_id).values(current_run_id=run_id))

    def current_run(self, lab_id: int) -> int | None:
        """The run the lab chose as its current model, or None."""
        with self.reading() as conn:
            return conn.scalar(select(labs_table.c.current_run_id).where(labs_table.c.id == lab_id))

    def delete_lab(self, lab_id: int) -> bool:
        """Delete a lab with all its runs, blobs, share links and digits; False if it was gone."""
        with self.writing() as conn:
            checksums = blob_checksums(conn, runs_table.c.lab_id == lab_id)
            deleted = conn.execute(delete(labs_table).where(labs_table.c.id == lab_id)).rowcount > 0
            free_blob_data(conn, checksums)
        return deleted

    def lab_bytes(self, lab_id: int) -> int:
        """What the lab holds against its cap (max_lab_bytes): runs, blobs, digits and share links."""
        with self.reading() as conn:
            return lab_usage(conn, lab_id)[1]

    def database_bytes(self) -> int:
        """What the whole database holds against max_database_bytes() (each stored blob once)."""
        with self.reading() as conn:
            return database_bytes(conn)

    # -- runs -------------------------------------------------------------------------------

    def save_run(self, lab_id: int, record: RunRecord, blobs: Mapping[str, bytes] | None = None) -> int:
        """Insert a run and its blobs in one transaction; the new run id.

        A `running` record is marked as this process's (owner, heartbeat). Raises LabFullError
        (nothing written) when the lab holds max_runs() runs or the blobs would pass max_lab_bytes().
        """
        files = check_blobs(blobs)
        digests = blob_digests(files)
        values = encode_run_fields({name: getattr(record, name) for name in RUN_FIELDS})
        now = time.time()
        size = sum(len(data) for data in files.values())
        record_bytes = record_size(values)
        values.update(lab_id=lab_id, created_at=now, updated_at=now, blob_bytes=size, record_bytes=record_bytes,
                      owner=process_owner() if record.state == "running" else None, heartbeat_at=now)
        row_bytes = record_bytes + RUN_ROW_BYTES
        with self.writing() as conn:
            lock_lab(conn, lab_id)
            check_room(conn, lab_id, new_runs=1, new_bytes=size + row_bytes,
                       stored_bytes=new_data_bytes(conn, files, digests) + row_bytes)
            run_id = inserted_id(conn.execute(insert(runs_table).values(values)))
            insert_blobs(conn, run_id, files, digests)
        return run_id

    def update_run(self, run_id: int, lab_id: int, *, blobs: Mapping[str, bytes] | None = None,
                   drop_blobs: Sequence[str] = (), **fields: Any) -> None:
        """Change fields of a run (RUN_FIELDS), replace or add blobs and drop others, in one transaction.

        Used at each epoch end (history, epochs_done, the model as a checkpoint) and at the end (the
        final model in, the checkpoint dropped). Blobs not named are kept. Refreshes the heartbeat.
        Raises NotFound for another lab's run, LabFullError (nothing written) when bigger blobs would
        pass the lab's byte cap.
        """
        unknown = set(fields) - set(RUN_FIELDS)
        if unknown:
            raise TypeError(f"update_run() cannot change {', '.join(sorted(unknown))}")
        files = check_blobs(blobs)
        digests = blob_digests(files)
        now = time.time()
        values = encode_run_fields(fields) | {"updated_at": now, "heartbeat_at": now}
        if fields.get("state") == "running":
            values["owner"] = process_owner()
        texts = [name for name in _TEXT_FIELDS if name in values]
        with self.writing() as conn:
            row = conn.execute(
                select(runs_table.c.blob_bytes, runs_table.c.record_bytes,
                       *(func.coalesce(func.length(runs_table.c[name]), 0).label(name) for name in texts))
                .where(own_run(run_id, lab_id))
            ).first()
            if row is None:
                raise NotFound(message("Run {run_id} is not in this lab (it may have been deleted).", run_id=run_id))
            values["record_bytes"] = int(row.record_bytes) + record_size(values) - sum(row._mapping[n] for n in texts)
            grown = values["record_bytes"] - int(row.record_bytes)
            replaced, old, old_checksums = None, 0, []
            if files or drop_blobs:
                replaced = (blobs_table.c.run_id == run_id) & blobs_table.c.name.in_([*files, *drop_blobs])
                old = int(conn.execute(select(func.coalesce(func.sum(blobs_table.c.size), 0)).where(replaced))
                          .scalar_one())
                old_checksums = list(conn.scalars(select(blobs_table.c.sha256).where(replaced)))
            delta = sum(len(data) for data in files.values()) - old
            if files or grown > 0:
                lock_lab(conn, lab_id)
                check_room(conn, lab_id, new_runs=0, new_bytes=delta + grown,
                           stored_bytes=new_data_bytes(conn, files, digests) + max(grown, 0))
            if replaced is not None:
                conn.execute(delete(blobs_table).where(replaced))
                insert_blobs(conn, run_id, files, digests)
                values["blob_bytes"] = int(row.blob_bytes) + delta
            conn.execute(update(runs_table).where(own_run(run_id, lab_id)).values(values))
            free_blob_data(conn, old_checksums)

    def refresh_heartbeat(self, run_id: int, lab_id: int) -> None:
        """Mark a running run as still alive; call it at least every STALE_SECONDS / 2 in long epochs."""
        with self.writing() as conn:
            conn.execute(update(runs_table).where(own_run(run_id, lab_id)).values(heartbeat_at=time.time()))

    def list_runs(self, lab_id: int) -> list[RunRecord]:
        """The lab's runs, oldest first, without their blobs (blob_names says which there are)."""
        with self.reading() as conn:
            rows = conn.execute(
                select(runs_table).where(runs_table.c.lab_id == lab_id).order_by(runs_table.c.id)
            ).all()
            names = conn.execute(
                select(blobs_table.c.run_id, blobs_table.c.name)
                .join(runs_table, runs_table.c.id == blobs_table.c.run_id)
                .where(runs_table.c.lab_id == lab_id).order_by(blobs_table.c.name)
            ).all()
        by_run: dict[int, list[str]] = {}
        for run_id, name in names:
            by_run.setdefault(run_id, []).append(name)
        return [record_from_row(row, by_run.get(row.id, ())) for row in rows]

    def get_run(self, run_id: int, lab_id: int) -> RunRecord | None:
        """One run of the lab without its blobs; None when it is not the lab's."""
        with self.reading() as conn:
            row = conn.execute(select(runs_table).where(own_run(run_id, lab_id))).first()
            if row is None:
                return None
            names = conn.scalars(select(blobs_table.c.name).where(blobs_table.c.run_id == run_id)
                                 .order_by(blobs_table.c.name)).all()
        return record_from_row(row, names)

    def fetch_blob(self, run_ids: Select, name: str) -> bytes:
        """Blob `name` of the run whose id `run_ids` selects, checked against its checksum."""
        with self.reading() as conn:
            row = conn.execute(
                select(blob_data_table.c.data, blobs_table.c.sha256, runs_table.c.name.label("run_name"))
                .join(runs_table, runs_table.c.id == blobs_table.c.run_id)
                .join(blob_data_table, blob_data_table.c.sha256 == blobs_table.c.sha256)
                .where(blobs_table.c.run_id.in_(run_ids), blobs_table.c.name == name)
            ).first()
        if row is None:
            raise NotFound(message("There is no saved {name} for this run (it may have been deleted).",
                                    name=term(BLOB_WORDS.get(name, name))))
        data = bytes(row.data)
        if checksum(data) != row.sha256:
            raise DamagedBlob(message(
                "The saved {name} of “{run}” is damaged (its checksum does not match), "
                "so it cannot be loaded; delete that run. The other runs are not affected.",
                name=term(BLOB_WORDS.get(name, name)), run=row.run_name,
            ))
        return data

    def load_blob(self, run_id: int, lab_id: int, name: str) -> bytes:
        """Blob `name` ("model", ...) of a run of this lab. NotFound, or DamagedBlob on a bad checksum."""
        return self.fetch_blob(select(runs_table.c.id).where(own_run(run_id, lab_id)), name)

    def delete_run(self, run_id: int, lab_id: int) -> bool:
        """Delete a run of this lab with its blobs and share links; False when it is not there."""
        with self.writing() as conn:
            checksums = blob_checksums(conn, own_run(run_id, lab_id))
            deleted = conn.execute(delete(runs_table).where(own_run(run_id, lab_id))).rowcount > 0
            free_blob_data(conn, checksums)
        return deleted

    def recover_interrupted(self, lab_id: int) -> list[int]:
        """Mark the lab's running runs whose trainer is gone as interrupted; their ids.

        Status becomes "Interrupted after epoch k"; the last checkpoint's blobs stay loadable.
        Call it when a lab is opened, before list_runs. Runs of this process stay running.
        """
        now = time.time()
        with self.reading() as conn:
            rows = conn.execute(
                select(runs_table.c.id, runs_table.c.owner, runs_table.c.heartbeat_at, runs_table.c.epochs_done)
                .where(runs_table.c.lab_id == lab_id, runs_table.c.state == "running")
            ).all()
        gone = [row for row in rows if is_owner_gone(row.owner, row.heartbeat_at, now)]
        recovered = []
        if gone:
            with self.writing() as conn:
                for row in gone:
                    # Unchanged heartbeat: the trainer did not write a checkpoint meanwhile.
                    result = conn.execute(
                        update(runs_table)
                        .where(own_run(row.id, lab_id), runs_table.c.state == "running",
                               runs_table.c.heartbeat_at == row.heartbeat_at)
                        .values(state="interrupted", status=interrupted_status(row.epochs_done),
                                updated_at=now)
                    )
                    if result.rowcount:
                        recovered.append(row.id)
        return recovered

    # -- shares -----------------------------------------------------------------------------

    def share_run(self, lab_id: int, run_id: int) -> str:
        """A new share token for a run of this lab (only its hash is stored).

        Every call makes a new token; earlier ones keep working until unshare_run or the run is
        deleted (a stored hash cannot give the old token back).
        """
        token = token_urlsafe(SECRET_BYTES)
        with self.writing() as conn:
            lock_lab(conn, lab_id)
            if conn.scalar(select(runs_table.c.id).where(own_run(run_id, lab_id))) is None:
                raise NotFound(message("Run {run_id} is not in this lab (it may have been deleted).", run_id=run_id))
            shares = conn.execute(select(func.count()).where(shares_table.c.run_id == run_id)).scalar_one()
            if shares >= max_shares_per_run():
                raise LabFullError(message("This run has {shares} share links, the most it can: stop sharing one "
                                           "of them to make another.", shares=Number(shares)))
            check_room(conn, lab_id, new_runs=0, new_bytes=SHARE_ROW_BYTES)
            conn.execute(insert(shares_table).values(token_hash=hash_secret(token), run_id=run_id,
                                                     created_at=time.time()))
        return token

    def list_shares(self, lab_id: int, run_id: int | None = None) -> list[ShareRecord]:
        """The lab's share links (of one run, or all), oldest first; never their tokens."""
        condition = runs_table.c.lab_id == lab_id
        if run_id is not None:
            condition &= runs_table.c.id == run_id
        with self.reading() as conn:
            rows = conn.execute(
                select(shares_table.c.token_hash, shares_table.c.run_id, shares_table.c.created_at,
                       runs_table.c.name).join(runs_table, runs_table.c.id == shares_table.c.run_id)
                .where(condition).order_by(shares_table.c.created_at, shares_table.c.token_hash)
            ).all()
        return [ShareRecord(share_id=row.token_hash[:SHARE_ID_LENGTH], run_id=row.run_id, run_name=row.name,
                            created_at=row.created_at) for row in rows]

    def delete_share(self, lab_id: int, share_id: object) -> bool:
        """Make one share link of this lab stop working (`share_id` from list_shares); False when none matched."""
        if not isinstance(share_id, str) or not _SHARE_ID_PATTERN.fullmatch(share_id):
            return False
        run_ids = select(runs_table.c.id).where(runs_table.c.lab_id == lab_id)
        with self.writing() as conn:
            return conn.execute(delete(shares_table).where(
                func.substr(shares_table.c.token_hash, 1, SHARE_ID_LENGTH) == share_id,
                shares_table.c.run_id.in_(run_ids),
            )).rowcount > 0

    def unshare_run(self, lab_id: int, run_id: int) -> int:
        """Make every share link of a run of this lab stop working; how many there were."""
        run_ids = select(runs_table.c.id).where(own_run(run_id, lab_id))
        with self.writing() as conn:
            return conn.execute(delete(shares_table).where(shares_table.c.run_id.in_(run_ids))).rowcount

    def open_shared_run(self, token: object) -> RunRecord | None:
        """The run a share token opens, read-only (lab_id and owner blanked); None for any other input."""
        if not is_well_formed(token):
            return None
        with self.reading() as conn:
            row = conn.execute(
                select(runs_table).join(shares_table, shares_table.c.run_id == runs_table.c.id)
                .where(shares_table.c.token_hash == hash_secret(token))
            ).first()
            if row is None:
                return None
            names = conn.scalars(select(blobs_table.c.name).where(blobs_table.c.run_id == row.id)
                                 .order_by(blobs_table.c.name)).all()
        record = record_from_row(row, names)
        record.lab_id, record.owner = None, None  # the viewer learns nothing about the owner's lab
        return record

    def load_shared_blob(self, token: object, name: str) -> bytes:
        """Blob `name` of the run a share token opens. NotFound, or DamagedBlob on a bad checksum."""
        if not is_well_formed(token):
            raise NotFound(message(SHARE_GONE))
        token_hash = hash_secret(token)
        return self.fetch_blob(select(shares_table.c.run_id).where(shares_table.c.token_hash == token_hash), name)

    def copy_shared_run(self, token: object, lab_id: int) -> int:
        """Copy the run a share token opens, with its blobs, into lab `lab_id`; the new run id.

        Counts against that lab's limits (LabFullError). The copy's blobs are the shared run's
        stored bytes, not a second copy of them. A run still training is copied as interrupted at
        its last checkpoint. Its share links are not copied. A trained run's copy has the source
        "copied": a class challenge counts only runs trained in the student's own lab.
        """
        if not is_well_formed(token):
            raise NotFound(message(SHARE_GONE))
        now = time.time()
        with self.writing() as conn:
            lock_lab(conn, lab_id)
            source = conn.execute(
                select(runs_table).join(shares_table, shares_table.c.run_id == runs_table.c.id)
                .where(shares_table.c.token_hash == hash_secret(token))
            ).first()
            if source is None:
                raise NotFound(message(SHARE_GONE))
            row_bytes = int(source.record_bytes) + RUN_ROW_BYTES
            # The blobs' bytes count against this lab too, but the database keeps them once.
            check_room(conn, lab_id, new_runs=1, new_bytes=int(source.blob_bytes) + row_bytes, stored_bytes=row_bytes)
            values = {name: getattr(source, name) for name in RUN_FIELDS}
            if source.state == "running":
                values.update(state="interrupted", status=interrupted_status(source.epochs_done))
            values.update(lab_id=lab_id, created_at=now, updated_at=now, owner=None, heartbeat_at=None,
                          blob_bytes=source.blob_bytes)
            if source.source == "trained":  # someone else trained it: it does not count as this lab's own work
                values["source"] = "copied"
            values["record_bytes"] = record_size(values)  # the status may have changed
            new_id = inserted_id(conn.execute(insert(runs_table).values(values)))
            columns = ("name", "size", "sha256")
            conn.execute(insert(blobs_table).from_select(
                ["run_id", *columns],
                select(literal(new_id, Integer), *(blobs_table.c[c] for c in columns))
                .where(blobs_table.c.run_id == source.id),
            ))
        return new_id

    # -- digits -----------------------------------------------------------------------------

    def add_digits(self, lab_id: int, labels: Sequence[int],
                   images: Sequence[np.ndarray] | np.ndarray) -> list[int]:
        """Save handwritten digits (2-D uint8 images, one shape per lab) all or nothing; their ids.

        ValueError for labels outside 0..9 or images of another shape than the lab's digits;
        LabFullError past MAX_DIGITS.
        """
        numbers, pictures = check_digits(labels, images)
        now = time.time()
        with self.writing() as conn:
            lock_lab(conn, lab_id)
            count = conn.execute(select(func.count()).where(digits_table.c.lab_id == lab_id)).scalar_one()
            if count + len(numbers) > MAX_DIGITS:
                raise LabFullError(message(
                    "This lab holds {count} digits, the most it can is {limit}: delete some to add more.",
                    count=Number(count), limit=Number(MAX_DIGITS),
                ))
            kept = conn.execute(select(digits_table.c.height, digits_table.c.width)
                                .where(digits_table.c.lab_id == lab_id).limit(1)).first()
            if kept is not None and pictures and tuple(kept) != pictures[0].shape:
                raise ValueError(f"this lab's digits are {tuple(kept)} images, not {pictures[0].shape}")
            check_room(conn, lab_id, new_runs=0,
                       new_bytes=sum(picture.size + DIGIT_ROW_BYTES for picture in pictures))
            ids = []
            for label, picture in zip(numbers, pictures, strict=True):
                result = conn.execute(insert(digits_table).values(
                    lab_id=lab_id, label=label, height=picture.shape[0], width=picture.shape[1],
                    image=np.ascontiguousarray(picture).tobytes(), created_at=now,
                ))
                ids.append(inserted_id(result))
        return ids

    def list_digits(self, lab_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The lab's digits, oldest first: ids (N,), labels (N,) uint8, images (N, H, W) uint8, times (N,)."""
        with self.reading() as conn:
            rows = conn.execute(
                select(digits_table).where(digits_table.c.lab_id == lab_id).order_by(digits_table.c.id)
            ).all()
        if not rows:
            return (np.zeros(0, np.int64), np.zeros(0, np.uint8), np.zeros((0, 0, 0), np.uint8),
                    np.zeros(0, np.float64))
        try:
            images = np.stack([np.frombuffer(bytes(row.image), np.uint8).reshape(row.height, row.width)
                               for row in rows])
        except ValueError as error:
            raise DamagedBlob(message("A saved digit is damaged; delete your digits to start again.")) from error
        return (np.array([row.id for row in rows], np.int64), np.array([row.label for row in rows], np.uint8),
                images, np.array([row.created_at for row in rows], np.float64))

    def delete_digits(self, lab_id: int, ids: Sequence[int] | None = None) -> int:
        """Delete the lab's digits with these ids (None: all of them); how many were deleted."""
        condition = digits_table.c.lab_id == lab_id
        if ids is not None:
            condition &= digits_table.c.id.in_([int(i) for i in ids])
        with self.writing() as conn:
            return conn.execute(delete(digits_table).where(condition)).rowcount

    # -- housekeeping -----------------------------------------------------------------------

    def remove_stale_labs(self, days: float | None = None, batch: int = HOUSEKEEP_BATCH) -> int:
        """Delete labs not opened for `days` (default lab_days()) with everything in them; how many.

        `batch` labs per transaction, so that other writers wait for one batch at most.
        """
        with plain_errors(self.engine.url):  # a bad DIGITLAB_LAB_DAYS is a StoreError, as the housekeeper expects
            cutoff = time.time() - (lab_days() if days is None else days) * 86_400
        stale = labs_table.c.opened_at < cutoff  # checked again on delete: a lab opened meanwhile stays
        removed = 0
        while True:
            with self.writing() as conn:
                ids = list(conn.scalars(select(labs_table.c.id).where(stale).order_by(labs_table.c.id).limit(batch)))
                if not ids:
                    return removed
                checksums = blob_checksums(conn, runs_table.c.lab_id.in_(ids))
                removed += conn.execute(delete(labs_table).where(labs_table.c.id.in_(ids), stale)).rowcount
                free_blob_data(conn, checksums)
            if len(ids) < batch:
                return removed

    def sweep_blob_data(self, batch: int = HOUSEKEEP_BATCH) -> int:
        """Delete stored bytes that no run holds (a race between two writers can leave some); how many."""
        unreferenced = ~select(blobs_table.c.run_id).where(blobs_table.c.sha256 == blob_data_table.c.sha256).exists()
        freed = 0
        while True:
            with self.writing() as conn:
                checksums = list(conn.scalars(select(blob_data_table.c.sha256).where(unreferenced).limit(batch)))
                freed += free_blob_data(conn, checksums)
            if len(checksums) < batch:
                return freed

    def housekeep(self, batch: int = HOUSEKEEP_BATCH) -> tuple[int, int]:
        """Remove stale labs, then unreferenced blob bytes, `batch` per transaction; (labs, blobs) removed."""
        return self.remove_stale_labs(batch=batch), self.sweep_blob_data(batch)


def open_store(url: str | None = None) -> Store:
    """The store at `url` (default: database_url()), its schema created or upgraded.

    Creates the SQLite file's folder when needed. Raises a StoreError when the database cannot
    be opened; the app then runs without saving.
    """
    engine = create_store_engine(url or database_url())
    if engine.url.get_backend_name() == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        folder = Path(engine.url.database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreUnavailable(message(
                "The lab's database folder `{folder}` cannot be created ({error}); "
                "your work is not being saved.", folder=str(folder), error=str(error.strerror)
            )) from error
    store = Store(engine)
    try:
        store.upgrade_schema()
    except BaseException:
        engine.dispose()
        raise
    return store

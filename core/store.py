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
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from secrets import token_urlsafe
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql import ColumnElement, Select

DATABASE_URL_KEY = "DIGITLAB_DATABASE_URL"  # an environment variable, or a key of st.secrets
HOME_ENV = "DIGITLAB_HOME"
# The limits: each has an environment setting (read when it is needed, so a restart is not
# required to change it) and a message in plain words when it is reached.
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
MAX_DIGITS = 5_000  # per lab
LAB_DAYS = 30  # labs not opened for this long are removed by housekeeping
# New labs per hour: a browser session rarely needs more than a couple; an address is often a
# whole school behind one router, so it allows two new labs an hour for each pupil of a class.
MAX_NEW_LABS_PER_SESSION = 10
MAX_NEW_LABS_PER_ADDRESS = 60
# What a row costs besides the bytes counted exactly (keys, numbers, the database's own overhead):
RUN_ROW_BYTES = 300
DIGIT_ROW_BYTES = 60  # plus its height * width pixels
SHARE_ROW_BYTES = 150
LAB_ROW_BYTES = 150
STALE_SECONDS = 120  # a running row of another host with no heartbeat for this long is dead
HOUSEKEEP_SECONDS = 3600  # how often the housekeeping thread (core.housekeeper) works
HOUSEKEEP_BATCH = 50  # labs (or unreferenced blobs) deleted per housekeeping transaction
BUSY_TIMEOUT_SECONDS = 5.0  # how long SQLite waits for another writer before giving up
CONNECT_TIMEOUT_SECONDS = 5  # how long a PostgreSQL connection attempt may take
RUN_STATES = ("running", "finished", "stopped", "interrupted", "failed")
SECRET_BYTES = 24  # lab keys and share tokens: 192 random bits
_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")  # what token_urlsafe(24) gives
_MIGRATION_LOCK = 0x6469676974  # any constant: PostgreSQL's advisory lock id for schema upgrades

HOST = socket.gethostname()
# Made once per process: tells this process from an earlier one that had the same pid (a
# restarted container often gives the server the same pid again).
BOOT_ID = uuid.uuid4().hex

class StoreError(Exception):
    """Saving or loading failed; the message says what happened in plain words, for the user."""


class StoreUnavailable(StoreError):
    """The database cannot be opened, or its server cannot be reached."""


class StoreBusy(StoreError):
    """The database stayed locked by another program for longer than the busy timeout."""


class StoreFull(StoreError):
    """No disk space is left for the database."""


class StorageFull(StoreFull):
    """The database holds DIGITLAB_MAX_DB_MB already; nothing was written."""


class StoreDamaged(StoreError):
    """The database file is damaged, or is not a database at all."""


class LabFullError(StoreError):
    """A lab's limit (runs, megabytes, digits) would be exceeded; nothing was written."""


class DamagedBlob(StoreError):
    """A stored file's checksum does not match: that file is lost, the rest of the lab is fine."""


class NotFound(StoreError, LookupError):
    """No such lab, run or blob for this lab (or share link): it was deleted, or is another lab's."""


# ---------------------------------------------------------------------------------------------
# Schema. These Table objects are the current schema. To change it, append a step to
# MIGRATIONS; never edit a step that has shipped (databases out there have already run it).
# Steps 1-2 build version 2's tables (frozen below, as they shipped); step 3 turns them into
# these. A new database runs every step, so every database has the same layout.

metadata = MetaData()

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, nullable=False),  # one row: how many MIGRATIONS steps have run
)

# sqlite_autoincrement: SQLite otherwise gives a new row the highest deleted id again, and a lab
# id still known elsewhere (a queued job, a tab) would then reach another visitor's lab.
# PostgreSQL's sequences never hand out a number twice.
labs_table = Table(
    "labs", metadata,
    Column("id", Integer, primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),  # sha256 hex; the key never
    Column("created_at", Float, nullable=False),
    Column("opened_at", Float, nullable=False),
    Column("current_run_id", Integer),  # the run Evaluate and Draw use; NULL: the newest finished one
    sqlite_autoincrement=True,
)

runs_table = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("lab_id", Integer, ForeignKey("labs.id", ondelete="CASCADE"), nullable=False),
    # Before the long texts: SQLite then reads it without their overflow pages.
    Column("record_bytes", BigInteger, nullable=False),  # characters of its texts below, for the caps
    Column("name", Text, nullable=False),
    Column("dataset", String(40), nullable=False),
    Column("source", String(40), nullable=False),  # trained | uploaded | fine-tuned | ...
    Column("state", String(20), nullable=False),  # one of RUN_STATES
    Column("status", Text, nullable=False),  # how it went, in words
    Column("spec", Text),  # JSON; NULL for uploaded models without one
    Column("history", Text, nullable=False),  # JSON {metric: [value per epoch]}
    Column("metrics", Text, nullable=False),  # JSON {metric: value of the weights kept}
    Column("seconds", Float, nullable=False),
    Column("epochs_done", Integer, nullable=False),
    Column("sweep", Text),  # the sweep this run belongs to, if any
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("owner", Text),  # "host:pid:boot id" of the process that trains (or trained) it
    Column("heartbeat_at", Float),  # the owner's last sign of life
    Column("blob_bytes", BigInteger, nullable=False),  # its blobs' total size, for the lab's cap
    sqlite_autoincrement=True,
)

# A blob's bytes are stored once however many runs hold them (a shared run's copies): blob_data
# is keyed by their SHA-256, and a blob_data row no `blobs` row names any more is deleted
# (free_blob_data, and housekeeping's sweep for what a race left behind).
blob_data_table = Table(
    "blob_data", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),  # before `data`: summing sizes never reads the bytes
    Column("data", LargeBinary, nullable=False),
)

blobs_table = Table(
    "blobs", metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(64), primary_key=True),  # "model", "epoch_predictions", ...
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), ForeignKey("blob_data.sha256"), nullable=False),
)

shares_table = Table(
    "shares", metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 hex; the token never
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", Float, nullable=False),
)

digits_table = Table(
    "digits", metadata,
    Column("id", Integer, primary_key=True),
    Column("lab_id", Integer, ForeignKey("labs.id", ondelete="CASCADE"), nullable=False),
    Column("label", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("width", Integer, nullable=False),
    Column("image", LargeBinary, nullable=False),  # height * width uint8 pixels, row by row
    Column("created_at", Float, nullable=False),
    sqlite_autoincrement=True,
)

# Every page looks up a lab's runs or digits; deleting a run looks up its shares (PostgreSQL
# does not index foreign keys by itself, SQLite neither); housekeeping looks for old labs.
LOOKUP_INDEXES = (
    Index("ix_runs_lab_id", runs_table.c.lab_id),
    Index("ix_digits_lab_id", digits_table.c.lab_id),
    Index("ix_shares_run_id", shares_table.c.run_id),
    Index("ix_labs_opened_at", labs_table.c.opened_at),
)
# Freeing a blob's bytes asks whether any run still holds them.
BLOB_INDEXES = (Index("ix_blobs_sha256", blobs_table.c.sha256),)

# Version 2's tables, as steps 1-2 made them (frozen: step 1 must build exactly what it built).
_version2 = MetaData()
Table(
    "labs", _version2,
    Column("id", Integer, primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("opened_at", Float, nullable=False),
    Column("current_run_id", Integer),
)
Table(
    "runs", _version2,
    Column("id", Integer, primary_key=True),
    Column("lab_id", Integer, ForeignKey("labs.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("dataset", String(40), nullable=False),
    Column("source", String(40), nullable=False),
    Column("state", String(20), nullable=False),
    Column("status", Text, nullable=False),
    Column("spec", Text),
    Column("history", Text, nullable=False),
    Column("metrics", Text, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("epochs_done", Integer, nullable=False),
    Column("sweep", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("owner", Text),
    Column("heartbeat_at", Float),
    Column("blob_bytes", BigInteger, nullable=False),
)
Table(
    "blobs", _version2,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("data", LargeBinary, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
)
Table(
    "shares", _version2,
    Column("token_hash", String(64), primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", Float, nullable=False),
)
Table(
    "digits", _version2,
    Column("id", Integer, primary_key=True),
    Column("lab_id", Integer, ForeignKey("labs.id", ondelete="CASCADE"), nullable=False),
    Column("label", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("width", Integer, nullable=False),
    Column("image", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
)
_DATA_TABLES = ("labs", "runs", "blobs", "shares", "digits")  # parents first


def create_tables(conn: Connection) -> None:
    """Migration step 1: version 2's tables, without indexes (step 2 adds them)."""
    for name in _DATA_TABLES:
        conn.execute(CreateTable(_version2.tables[name]))  # CreateTable leaves out the table's indexes


def add_lookup_indexes(conn: Connection) -> None:
    """Migration step 2: the indexes that keep opening a lab fast as the database grows."""
    for index in LOOKUP_INDEXES:
        index.create(conn)


# SQL for a run's record_bytes from its columns (what record_size computes in Python).
_RECORD_BYTES_SQL = ("length(name) + length(status) + coalesce(length(spec), 0) + length(history) "
                     "+ length(metrics) + coalesce(length(sweep), 0)")


def share_blobs_and_keep_ids(conn: Connection) -> None:
    """Migration step 3: blobs stored once by checksum (blob_data), runs' record_bytes, ids never reused.

    SQLite: every table is built again as today's (AUTOINCREMENT: sqlite_sequence starts at each
    table's highest id), rows and ids copied. PostgreSQL's sequences already never reuse an id:
    there the step only moves the blobs' bytes and adds the column.
    """
    if conn.dialect.name == "sqlite":
        rebuild_sqlite_tables(conn)
        return
    conn.execute(CreateTable(blob_data_table))
    conn.execute(text("INSERT INTO blob_data (sha256, size, data) "
                      "SELECT DISTINCT ON (sha256) sha256, size, data FROM blobs ORDER BY sha256"))
    conn.execute(text("ALTER TABLE blobs DROP COLUMN data"))
    conn.execute(text("ALTER TABLE blobs ADD CONSTRAINT blobs_sha256_fkey FOREIGN KEY (sha256) "
                      "REFERENCES blob_data (sha256)"))
    conn.execute(text("ALTER TABLE runs ADD COLUMN record_bytes BIGINT NOT NULL DEFAULT 0"))
    conn.execute(text(f"UPDATE runs SET record_bytes = {_RECORD_BYTES_SQL}"))
    for index in BLOB_INDEXES:
        index.create(conn)


def rebuild_sqlite_tables(conn: Connection) -> None:
    """Step 3 on SQLite: rename the tables away, create today's, copy every row, drop the old ones.

    Runs with foreign keys off (upgrade_schema): dropping a table would otherwise cascade.
    """
    for name in _DATA_TABLES:
        conn.exec_driver_sql(f"ALTER TABLE {name} RENAME TO old_{name}")  # our own names, no input
    conn.execute(CreateTable(blob_data_table))
    for name in _DATA_TABLES:
        conn.execute(CreateTable(metadata.tables[name]))
    copied = {
        "labs": "id, key_hash, created_at, opened_at, current_run_id",
        "shares": "token_hash, run_id, created_at",
        "digits": "id, lab_id, label, height, width, image, created_at",
    }
    for name, columns in copied.items():
        conn.exec_driver_sql(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM old_{name}")
    run_columns = ("id, lab_id, name, dataset, source, state, status, spec, history, metrics, seconds, "
                   "epochs_done, sweep, created_at, updated_at, owner, heartbeat_at, blob_bytes")
    conn.exec_driver_sql(f"INSERT INTO runs ({run_columns}, record_bytes) "
                         f"SELECT {run_columns}, {_RECORD_BYTES_SQL} FROM old_runs")
    conn.exec_driver_sql("INSERT OR IGNORE INTO blob_data (sha256, size, data) "
                         "SELECT sha256, size, data FROM old_blobs")  # one copy of each checksum
    conn.exec_driver_sql("INSERT INTO blobs (run_id, name, size, sha256) SELECT run_id, name, size, sha256 "
                         "FROM old_blobs")
    for name in reversed(_DATA_TABLES):
        conn.exec_driver_sql(f"DROP TABLE old_{name}")
    for index in (*LOOKUP_INDEXES, *BLOB_INDEXES):
        index.create(conn)
    # Explicit ids raise sqlite_sequence to each table's highest id already; this names it.
    for name in ("labs", "runs", "digits"):
        conn.exec_driver_sql(f"DELETE FROM sqlite_sequence WHERE name = '{name}'")
        conn.exec_driver_sql(f"INSERT INTO sqlite_sequence (name, seq) SELECT '{name}', coalesce(max(id), 0) "
                             f"FROM {name}")


MIGRATIONS: tuple[Callable[[Connection], None], ...] = (create_tables, add_lookup_indexes, share_blobs_and_keep_ids)


# ---------------------------------------------------------------------------------------------
# Where the database is, and how to connect to it.

def home_dir() -> Path:
    """The folder of the default SQLite database: DIGITLAB_HOME, default `~/.digitlab`."""
    return Path(os.environ.get(HOME_ENV, "").strip() or "~/.digitlab").expanduser()


def normalize_url(url: str) -> str:
    """Make `postgres://` and `postgresql://` URLs (as hosting services give them) use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def database_url(secrets: Mapping[str, Any] | None = None) -> str:
    """The database URL: env DIGITLAB_DATABASE_URL, else that key in `secrets`, else SQLite in home_dir().

    The app passes `st.secrets` (core/ never imports streamlit).
    """
    url = os.environ.get(DATABASE_URL_KEY, "").strip()
    if not url and secrets is not None:
        try:
            url = str(secrets.get(DATABASE_URL_KEY) or "").strip()
        except FileNotFoundError:  # st.secrets raises this when the app has no secrets file
            url = ""
    if not url:
        return f"sqlite:///{home_dir() / 'digitlab.db'}"
    return normalize_url(url)


def prepare_sqlite(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    """Set up every new SQLite connection: our own BEGIN, busy timeout, foreign keys, WAL."""
    # pysqlite's implicit transactions skip SELECTs and DDL; with isolation_level None it leaves
    # BEGIN to us (begin_sqlite), so that every transaction is a real one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # PRAGMA takes no bound parameters; the value is our own integer.
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        cursor.execute("PRAGMA foreign_keys = ON")  # off by default: ON DELETE CASCADE needs it
        cursor.execute("PRAGMA journal_mode = WAL")  # readers never wait for a writer
    finally:
        cursor.close()


def begin_sqlite(conn: Connection) -> None:
    """Start a SQLite transaction: IMMEDIATE for writes, a plain (snapshot) BEGIN for reads."""
    # A writer takes the write lock at BEGIN, so that what it checked (e.g. "fewer than 100
    # runs") still holds when it inserts, and a lock wait happens at BEGIN, under busy_timeout.
    write = conn.get_execution_options().get("digitlab_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def create_store_engine(url: str) -> Engine:
    """A SQLAlchemy engine for `url`, set up for this store (SQLite pragmas, PostgreSQL timeouts)."""
    try:
        parsed = make_url(normalize_url(url))
        backend = parsed.get_backend_name()
        if backend == "sqlite":
            engine = create_engine(parsed, connect_args={"check_same_thread": False})
            event.listen(engine, "connect", prepare_sqlite)
            event.listen(engine, "begin", begin_sqlite)
            return engine
        connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS} if backend == "postgresql" else {}
        # pre_ping: a server restart would otherwise break every pooled connection once.
        return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    except (ArgumentError, ImportError, ValueError) as error:
        raise StoreUnavailable(
            f"{DATABASE_URL_KEY} is not a database URL this app can use ({error}). Use "
            "postgresql://user:password@host/database or sqlite:///path/to/file.db; "
            "your work is not being saved."
        ) from error


def describe_location(url: URL) -> str:
    """Where the database is, for messages: the SQLite file, or host/database (never a password)."""
    if url.get_backend_name() == "sqlite":
        return f"`{url.database or 'in memory'}`"
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def explain_error(error: Exception, url: URL) -> StoreError:
    """The StoreError, in plain words, for a database error (what a user or admin can do about it)."""
    detail = str(getattr(error, "orig", None) or error).strip()
    first_line = detail.splitlines()[0][:200] if detail else type(error).__name__
    lowered = detail.lower()
    where = describe_location(url)
    if any(s in lowered for s in ("disk is full", "no space left", "disk full", "could not extend file")):
        return StoreFull(
            "The lab's database is full (no disk space left); your work so far is kept but "
            "new runs cannot be saved."
        )
    if any(s in lowered for s in ("database is locked", "database table is locked", "lock timeout",
                                  "could not obtain lock")):
        return StoreBusy(
            f"The lab's database is busy: another program has kept it locked for more than "
            f"{BUSY_TIMEOUT_SECONDS:g} seconds. Your work so far is kept; try again in a moment."
        )
    if any(s in lowered for s in ("not a database", "malformed", "file is encrypted")):
        return StoreDamaged(
            f"The lab's database file {where} is damaged or is not a database, so nothing can be "
            "saved or loaded. Move the file away (the app then starts an empty one) or restore it "
            "from a backup."
        )
    if "readonly database" in lowered or "read-only" in lowered:
        return StoreUnavailable(
            f"The lab's database {where} is read-only, so new work cannot be saved. Make the file "
            "and its folder writable."
        )
    if "unable to open database" in lowered:
        return StoreUnavailable(
            f"The lab's database {where} cannot be opened (check that its folder exists and can "
            "be written); your work is not being saved."
        )
    if url.get_backend_name() != "sqlite" and isinstance(error, OperationalError):
        return StoreUnavailable(
            f"The lab's database server {where} cannot be reached ({first_line}); your work is "
            "not being saved. It will be again once the server is back."
        )
    return StoreError(
        f"The lab's database failed ({first_line}); this could not be saved or loaded."
    )


# ---------------------------------------------------------------------------------------------
# Small pure helpers.

def hash_secret(secret: str) -> str:
    """The SHA-256 (hex) under which a lab key or share token is stored; the secret never is."""
    return hashlib.sha256(secret.encode()).hexdigest()


def is_well_formed(secret: object) -> bool:
    """True for strings shaped like our keys and tokens; anything else is refused unseen."""
    return isinstance(secret, str) and _SECRET_PATTERN.fullmatch(secret) is not None


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def env_number(name: str, default: float) -> float:
    """A positive limit from environment variable `name`, or `default` when it is unset."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not number > 0:
        raise StoreError(f"{name} must be a number above 0, not {value!r}; fix it and restart the app.")
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


def format_mb(n_bytes: int) -> str:
    return f"{n_bytes / 1_000_000:.1f} MB"


def to_json(value: Any) -> str:
    return json.dumps(value, default=plain_value)


def plain_value(value: Any) -> Any:
    """numpy numbers and arrays as plain ones (Keras histories often hold np.float32)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"a {type(value).__name__} cannot be saved as JSON")


def process_owner() -> str:
    """'host:pid:boot id' of this process, written on the runs it trains."""
    return f"{HOST}:{os.getpid()}:{BOOT_ID}"


def is_pid_alive(pid: int) -> bool:
    """True when a process `pid` exists on this host (and is not a zombie)."""
    if pid <= 0:
        return False
    if os.name == "nt":
        return True  # os.kill(pid, 0) would send Ctrl-C on Windows: rely on the heartbeat there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    try:
        # A killed process that its parent has not reaped yet still takes signal 0.
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def is_owner_gone(owner: str | None, heartbeat_at: float | None, now: float) -> bool:
    """True when the process that was training a run cannot be training it any more.

    On this host: it is this process (same pid and boot id: still training), an earlier process
    with this pid (gone), or another process (gone when its pid is dead, else judged by its
    heartbeat, since the pid may have been reused). Another host's process is judged by its
    heartbeat alone: silent for more than STALE_SECONDS means gone. Assumes one pid namespace
    per host name, as containers have.
    """
    stale = heartbeat_at is None or now - heartbeat_at > STALE_SECONDS
    parts = (owner or "").rsplit(":", 2)
    if len(parts) != 3 or parts[0] != HOST or not parts[1].isdigit():
        return stale
    pid, boot_id = int(parts[1]), parts[2]
    if pid == os.getpid():
        return boot_id != BOOT_ID
    return stale or not is_pid_alive(pid)


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
    dataset: str  # a key of core.datasets.DATASETS
    source: str = "trained"  # trained | uploaded | fine-tuned | ...
    state: str = "finished"  # one of RUN_STATES
    status: str = ""  # how it went, in words
    spec: dict[str, Any] | None = None  # core.spec.spec_to_dict(...); None for uploads without one
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
        from sqlalchemy.dialects.postgresql import insert as upsert

        # DO UPDATE locks the row until commit, so a concurrent free_blob_data cannot delete it
        # between here and our `blobs` row (the bytes themselves are not rewritten: TOAST).
        statement = upsert(blob_data_table).values(values)
        conn.execute(statement.on_conflict_do_update(index_elements=["sha256"],
                                                     set_={"size": statement.excluded.size}))
    else:  # SQLite's writers take turns: nothing can come between
        from sqlalchemy.dialects.sqlite import insert as upsert

        conn.execute(upsert(blob_data_table).values(values).on_conflict_do_nothing(index_elements=["sha256"]))


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
        raise NotFound("This lab no longer exists (labs not opened for a long time are removed).")


def lab_usage(conn: Connection, lab_id: int) -> tuple[int, int]:
    """(runs, bytes) the lab holds: its runs (texts and blobs, shared bytes counted per lab), digits, shares."""
    runs, run_bytes = conn.execute(
        select(func.count(), func.coalesce(func.sum(runs_table.c.blob_bytes + runs_table.c.record_bytes), 0))
        .where(runs_table.c.lab_id == lab_id)
    ).one()
    digits = conn.scalar(select(func.count()).where(digits_table.c.lab_id == lab_id))
    pixels = 0
    if digits:  # a lab's digits have one shape (add_digits): no need to read each row
        pixels = conn.scalar(select(digits_table.c.height * digits_table.c.width)
                             .where(digits_table.c.lab_id == lab_id).limit(1)) or 0
    shares = conn.scalar(select(func.count()).select_from(shares_table)
                         .join(runs_table, runs_table.c.id == shares_table.c.run_id)
                         .where(runs_table.c.lab_id == lab_id))
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
        pages = pragma("PRAGMA page_count").scalar() - pragma("PRAGMA freelist_count").scalar()
        return int(pages * pragma("PRAGMA page_size").scalar())
    parts = (
        select(func.coalesce(func.sum(blob_data_table.c.size), 0)),
        select(func.coalesce(func.sum(runs_table.c.record_bytes + RUN_ROW_BYTES), 0)),
        select(func.coalesce(func.sum(digits_table.c.height * digits_table.c.width + DIGIT_ROW_BYTES), 0)),
        select(func.count() * SHARE_ROW_BYTES).select_from(shares_table),
        select(func.count() * LAB_ROW_BYTES).select_from(labs_table),
    )
    return sum(int(conn.scalar(part)) for part in parts)


def check_database_room(conn: Connection, new_bytes: int) -> None:
    """Raise StorageFull when `new_bytes` more would take the database past max_database_bytes()."""
    if new_bytes <= 0:
        return
    limit, used = max_database_bytes(), database_bytes(conn)
    if used + new_bytes > limit:
        raise StorageFull(
            f"The app's storage is full: its database holds {format_mb(used)} of the {format_mb(limit)} it may "
            "use, so this cannot be saved. Your work so far is kept, and deleting runs you no longer need "
            f"makes room (the app's administrator can raise {MAX_DB_MB_ENV})."
        )


def check_room(conn: Connection, lab_id: int, new_runs: int, new_bytes: int, stored_bytes: int | None = None) -> None:
    """Raise LabFullError when the lab cannot take `new_runs` more runs and `new_bytes` more bytes.

    Raise StorageFull when the database cannot take `stored_bytes` more (default `new_bytes`;
    less when some bytes are stored already, as a copied run's blobs are).
    """
    count, used = lab_usage(conn, lab_id)
    if new_runs > 0 and count + new_runs > max_runs():
        raise LabFullError(
            f"This lab holds {count} runs, the most it can: delete some on the Train page to save more."
        )
    limit = max_lab_bytes()
    if new_bytes > 0 and used + new_bytes > limit:
        raise LabFullError(
            f"This lab's saved work (models, histories, digits, share links) takes {format_mb(used)} of the "
            f"{format_mb(limit)} it can hold, and this needs {format_mb(new_bytes)} more: delete some runs "
            "on the Train page to save more."
        )
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


@contextmanager
def plain_errors(url: URL) -> Iterator[None]:
    """Turn database errors raised inside into StoreErrors in plain words."""
    try:
        yield
    except (SQLAlchemyError, sqlite3.Error) as error:  # sqlite3: raised raw by a connect hook
        raise explain_error(error, url) from error


# ---------------------------------------------------------------------------------------------
# The store.

class Store:
    """One database of labs. Thread-safe; open one per process (the app caches it)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def __repr__(self) -> str:
        return f"Store({describe_location(self.engine.url)})"

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
                        raise StoreError("The lab's database could not be upgraded (a reference between "
                                         "its tables is broken); nothing was changed.")
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
            raise StoreError(
                f"The lab's database was written by a newer version of Digit Lab (schema {version}; "
                f"this one knows {len(MIGRATIONS)}). Update the app; nothing was changed."
            )
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
        key_hash = hash_secret(key)  # type: ignore[arg-type]  (checked above)
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
            raise NotFound("This lab no longer exists (labs not opened for a long time are removed).")
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
            run_id = conn.execute(insert(runs_table).values(values)).inserted_primary_key[0]
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
                raise NotFound(f"Run {run_id} is not in this lab (it may have been deleted).")
            values["record_bytes"] = int(row.record_bytes) + record_size(values) - sum(row._mapping[n] for n in texts)
            grown = values["record_bytes"] - int(row.record_bytes)
            replaced, old, old_checksums = None, 0, []
            if files or drop_blobs:
                replaced = (blobs_table.c.run_id == run_id) & blobs_table.c.name.in_([*files, *drop_blobs])
                old = int(conn.scalar(select(func.coalesce(func.sum(blobs_table.c.size), 0)).where(replaced)))
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
            raise NotFound(f"There is no saved {name!r} for this run (it may have been deleted).")
        data = bytes(row.data)
        if checksum(data) != row.sha256:
            raise DamagedBlob(
                f"The saved {name} of “{row.run_name}” is damaged (its checksum does not match), "
                "so it cannot be loaded; delete that run. The other runs are not affected."
            )
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
                raise NotFound(f"Run {run_id} is not in this lab (it may have been deleted).")
            shares = conn.scalar(select(func.count()).where(shares_table.c.run_id == run_id))
            if shares >= max_shares_per_run():
                raise LabFullError(f"This run has {shares} share links, the most it can: stop sharing one "
                                   "of them to make another.")
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
                .where(shares_table.c.token_hash == hash_secret(token))  # type: ignore[arg-type]
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
            raise NotFound("This share link does not work (it is mistyped, or the run was deleted).")
        token_hash = hash_secret(token)  # type: ignore[arg-type]  (checked above)
        return self.fetch_blob(select(shares_table.c.run_id).where(shares_table.c.token_hash == token_hash), name)

    def copy_shared_run(self, token: object, lab_id: int) -> int:
        """Copy the run a share token opens, with its blobs, into lab `lab_id`; the new run id.

        Counts against that lab's limits (LabFullError). The copy's blobs are the shared run's
        stored bytes, not a second copy of them. A run still training is copied as interrupted at
        its last checkpoint. Its share links are not copied.
        """
        if not is_well_formed(token):
            raise NotFound("This share link does not work (it is mistyped, or the run was deleted).")
        now = time.time()
        with self.writing() as conn:
            lock_lab(conn, lab_id)
            source = conn.execute(
                select(runs_table).join(shares_table, shares_table.c.run_id == runs_table.c.id)
                .where(shares_table.c.token_hash == hash_secret(token))  # type: ignore[arg-type]
            ).first()
            if source is None:
                raise NotFound("This share link does not work (it is mistyped, or the run was deleted).")
            row_bytes = int(source.record_bytes) + RUN_ROW_BYTES
            # The blobs' bytes count against this lab too, but the database keeps them once.
            check_room(conn, lab_id, new_runs=1, new_bytes=int(source.blob_bytes) + row_bytes, stored_bytes=row_bytes)
            values = {name: getattr(source, name) for name in RUN_FIELDS}
            if source.state == "running":
                values.update(state="interrupted", status=interrupted_status(source.epochs_done))
            values.update(lab_id=lab_id, created_at=now, updated_at=now, owner=None, heartbeat_at=None,
                          blob_bytes=source.blob_bytes)
            values["record_bytes"] = record_size(values)  # the status may have changed
            new_id = conn.execute(insert(runs_table).values(values)).inserted_primary_key[0]
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
            count = conn.scalar(select(func.count()).where(digits_table.c.lab_id == lab_id))
            if count + len(numbers) > MAX_DIGITS:
                raise LabFullError(
                    f"This lab holds {count} digits, the most it can is {MAX_DIGITS}: delete some to add more."
                )
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
                ids.append(result.inserted_primary_key[0])
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
            raise DamagedBlob("A saved digit is damaged; delete your digits to start again.") from error
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
            raise StoreUnavailable(
                f"The lab's database folder `{folder}` cannot be created ({error.strerror}); "
                "your work is not being saved."
            ) from error
    store = Store(engine)
    try:
        store.upgrade_schema()
    except BaseException:
        engine.dispose()
        raise
    return store

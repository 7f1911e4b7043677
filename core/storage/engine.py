"""The database's engine: its URL (DIGITLAB_DATABASE_URL, or SQLite under DIGITLAB_HOME), the
engine made for it (SQLite in WAL mode, PostgreSQL with a connect timeout), and every database
failure turned into a `StoreError` whose message can be shown as is.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    create_engine,
    event,
)
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from core.i18n import N_, Number, message, message_of
from core.limits import SettingError

DATABASE_URL_KEY = "DIGITLAB_DATABASE_URL"  # an environment variable, or a key of st.secrets
HOME_ENV = "DIGITLAB_HOME"


BUSY_TIMEOUT_SECONDS = 5.0  # how long SQLite waits for another writer before giving up
CONNECT_TIMEOUT_SECONDS = 5  # how long a PostgreSQL connection attempt may take
LAB_GONE = N_("This lab no longer exists (labs not opened for a long time are removed).")


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
        raise StoreUnavailable(message(
            "{setting} is not a database URL this app can use ({error}). Use "
            "postgresql://user:password@host/database or sqlite:///path/to/file.db; "
            "your work is not being saved.", setting=DATABASE_URL_KEY, error=str(error)
        )) from error


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
        return StoreFull(message(
            "The lab's database is full (no disk space left); your work so far is kept but "
            "new runs cannot be saved."
        ))
    if any(s in lowered for s in ("database is locked", "database table is locked", "lock timeout",
                                  "could not obtain lock")):
        return StoreBusy(message(
            "The lab's database is busy: another program has kept it locked for more than "
            "{seconds} seconds. Your work so far is kept; try again in a moment.", seconds=Number(BUSY_TIMEOUT_SECONDS)
        ))
    if any(s in lowered for s in ("not a database", "malformed", "file is encrypted")):
        return StoreDamaged(message(
            "The lab's database file {where} is damaged or is not a database, so nothing can be "
            "saved or loaded. Move the file away (the app then starts an empty one) or restore it "
            "from a backup.", where=where
        ))
    if "readonly database" in lowered or "read-only" in lowered:
        return StoreUnavailable(message(
            "The lab's database {where} is read-only, so new work cannot be saved. Make the file "
            "and its folder writable.", where=where
        ))
    if "unable to open database" in lowered:
        return StoreUnavailable(message(
            "The lab's database {where} cannot be opened (check that its folder exists and can "
            "be written); your work is not being saved.", where=where
        ))
    if url.get_backend_name() != "sqlite" and isinstance(error, OperationalError):
        return StoreUnavailable(message(
            "The lab's database server {where} cannot be reached ({detail}); your work is "
            "not being saved. It will be again once the server is back.", where=where, detail=first_line
        ))
    return StoreError(message(
        "The lab's database failed ({detail}); this could not be saved or loaded.", detail=first_line
    ))


@contextmanager
def plain_errors(url: URL) -> Iterator[None]:
    """Turn database errors, and a bound's bad setting (core.limits), raised inside into StoreErrors in plain words."""
    try:
        yield
    except (SQLAlchemyError, sqlite3.Error) as error:  # sqlite3: raised raw by a connect hook
        raise explain_error(error, url) from error
    except SettingError as error:  # a lab's bound read while writing: the page shows it as the store's error
        raise StoreError(message_of(error)) from error

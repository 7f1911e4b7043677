"""The schema: these Table objects are the current one; `MIGRATIONS` builds and upgrades it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Boolean,
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
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateTable

_MIGRATION_LOCK = 0x6469676974  # any constant: PostgreSQL's advisory lock id for schema upgrades


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

# A class (issue 24): a teacher's board over the labs of its students. The teacher key is a
# secret like a lab key (only its hash kept); the code is what students type, so it is short and
# public: it opens joining and nothing else.
classes_table = Table(
    "classes", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),  # the teacher's words, plain text, at most CLASS_NAME_MAX
    Column("code", String(12), nullable=False, unique=True),  # 6 characters of CODE_ALPHABET
    Column("teacher_hash", String(64), nullable=False, unique=True),  # sha256 hex; the key never
    Column("created_at", Float, nullable=False),
    Column("opened_at", Float, nullable=False),  # the teacher's last visit: DIGITLAB_CLASS_DAYS counts from it
    Column("closed", Boolean, nullable=False, default=False),  # no new joins
    sqlite_autoincrement=True,
)

# A lab is in at most one class: its id is the key. Names are unique in a class, compared
# without case or surrounding space (name_key).
memberships_table = Table(
    "memberships", metadata,
    Column("lab_id", Integer, ForeignKey("labs.id", ondelete="CASCADE"), primary_key=True),
    Column("class_id", Integer, ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),  # as the student typed it (plain text)
    Column("name_key", Text, nullable=False),  # casefolded, for uniqueness
    Column("joined_at", Float, nullable=False),  # runs made before it are not the teacher's to see
    UniqueConstraint("class_id", "name_key", name="uq_memberships_class_name"),
)

# The class's challenge, at most one: a dataset and a rule (at most max_params parameters).
challenges_table = Table(
    "challenges", metadata,
    Column("class_id", Integer, ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
    Column("dataset", String(40), nullable=False),
    Column("max_params", BigInteger),  # NULL: no bound on the parameters
    Column("set_at", Float, nullable=False),
)
CLASS_TABLES = (classes_table, memberships_table, challenges_table)  # parents first
CLASS_INDEXES = (
    Index("ix_memberships_class_id", memberships_table.c.class_id),
    Index("ix_classes_opened_at", classes_table.c.opened_at),
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


# The lessons (core/lessons): where each lab is in each lesson, and the small events its checks need.
lesson_progress_table = Table(
    "lesson_progress", metadata,
    Column("lab_id", Integer, ForeignKey("labs.id", ondelete="CASCADE"), primary_key=True),
    Column("lesson", String(80), primary_key=True),  # the lesson file's name without .toml
    Column("step", Integer, nullable=False),  # 0-based: the step the learner is on
    Column("finished", Integer, nullable=False),  # 1 once its last step was done
    Column("active", Integer, nullable=False),  # 1 for the lab's lesson in progress (at most one)
    Column("answers", Text, nullable=False),  # JSON {step index: the learner's answer}
    Column("updated_at", Float, nullable=False),
)
lab_events_table = Table(
    "lab_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("lab_id", Integer, ForeignKey("labs.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(40), nullable=False),  # core.lessons.state.EVENT_KINDS
    Column("value", String(80), nullable=False),
    Column("created_at", Float, nullable=False),
    sqlite_autoincrement=True,
)
LESSON_INDEXES = (Index("ix_lab_events_lab_id", lab_events_table.c.lab_id),)


def add_lesson_tables(conn: Connection) -> None:
    """Migration step 4: the lessons' progress and events (tables new in this step: today's definitions)."""
    conn.execute(CreateTable(lesson_progress_table))
    conn.execute(CreateTable(lab_events_table))
    for index in LESSON_INDEXES:
        index.create(conn)



# Step 5's tables, as it made them (frozen like _version2: a later change to the tables above is a new
# step, and step 5 must still build exactly this). `labs` is a stub for the foreign key only.
_version5 = MetaData()
Table("labs", _version5, Column("id", Integer, primary_key=True))
Table(
    "classes", _version5,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("code", String(12), nullable=False, unique=True),
    Column("teacher_hash", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("opened_at", Float, nullable=False),
    Column("closed", Boolean, nullable=False, default=False),
    sqlite_autoincrement=True,
)
Table(
    "memberships", _version5,
    Column("lab_id", Integer, ForeignKey("labs.id", ondelete="CASCADE"), primary_key=True),
    Column("class_id", Integer, ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("name_key", Text, nullable=False),
    Column("joined_at", Float, nullable=False),
    UniqueConstraint("class_id", "name_key", name="uq_memberships_class_name"),
)
Table(
    "challenges", _version5,
    Column("class_id", Integer, ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
    Column("dataset", String(40), nullable=False),
    Column("max_params", BigInteger),
    Column("set_at", Float, nullable=False),
)
_VERSION5_INDEXES = (("ix_memberships_class_id", "memberships", "class_id"),
                     ("ix_classes_opened_at", "classes", "opened_at"))


def add_classes(conn: Connection) -> None:
    """Migration step 5: classes, their students (memberships) and challenge (issue 24). Adds tables only."""
    for name in ("classes", "memberships", "challenges"):
        conn.execute(CreateTable(_version5.tables[name]))
    for index_name, table, column in _VERSION5_INDEXES:
        Index(index_name, _version5.tables[table].c[column]).create(conn)


MIGRATIONS: tuple[Callable[[Connection], None], ...] = (create_tables, add_lookup_indexes, share_blobs_and_keep_ids,
                                                        add_lesson_tables, add_classes)

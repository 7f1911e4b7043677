"""The storage layer: everything a visitor keeps, in one database.

- engine: the URL, the engine, `StoreError` and its kinds (every failure in plain words).
- schema: the tables and `MIGRATIONS`. A new table is a new migration step here.
- secrets: lab keys and share tokens (stored hashed). owners: which process trains a run.
- records: `RunRecord`, `ShareRecord`, blobs and the room checks. store: the `Store`.
- sink: runs <-> records, and `StoreSink`, which keeps a training's work as it goes.

Imports core.training (the sink), core.model, core.analysis, core.data, core.limits.
"""

from core.storage.engine import LabFullError, NotFound, StoreBusy, StoreError, StoreFull, database_url
from core.storage.records import RunRecord, ShareRecord
from core.storage.store import Store, open_store

__all__ = ["LabFullError", "NotFound", "StoreBusy", "StoreError", "StoreFull", "database_url", "RunRecord",
           "ShareRecord", "Store", "open_store"]

"""Where spans, runs and assessments live: the ``Store`` interface and its two backends.

``open_store(db)`` opens ``analyzers.store.sqlite.SqliteStore`` for a file path (the embedded default)
or ``analyzers.store.postgres.PostgresStore`` for a ``postgresql://`` URL (several analyzer replicas on
one database). ``analyzers.store.exporter.StoreSpanExporter`` writes an SDK's finished spans straight
into a store; ``analyzers.assembly`` turns stored spans into runs.
"""

from __future__ import annotations

import re
from pathlib import Path

from analyzers.store.base import Store

__all__ = ["Store", "db_location", "display_name", "is_postgres_url", "open_store"]

DB_HELP = "the store: an SQLite file path, or postgresql://user@host:port/dbname"


def db_location(text: str) -> str | Path:
    """``--db``'s argparse type: a PostgreSQL URL kept as text, anything else a ``Path``."""
    return text if is_postgres_url(text) else Path(text)


def is_postgres_url(db: str | Path) -> bool:
    """``True`` when ``db`` names a PostgreSQL database (``postgresql://`` or ``postgres://``)."""
    return isinstance(db, str) and db.startswith(("postgresql://", "postgres://"))


def display_name(db: str | Path) -> str:
    """``db`` as it may be printed or logged: a PostgreSQL URL without its password."""
    return re.sub(r"(//[^/:@]*):[^/@]*@", r"\1:***@", str(db)) if is_postgres_url(db) else str(db)


def open_store(db: str | Path, *, create_parent: bool = False, synchronous: str = "FULL") -> Store:
    """The store ``db`` names: a ``postgresql://user@host:port/dbname`` URL or an SQLite file path.

    ``create_parent`` creates a missing directory for an SQLite file (embedded stores at a default
    path); otherwise a missing directory is a ``StoreLocationError``. ``synchronous`` applies to SQLite.
    """
    if is_postgres_url(db):
        from analyzers.store.postgres import PostgresStore

        return PostgresStore(str(db))
    from analyzers.store.sqlite import SqliteStore

    return SqliteStore(db, create_parent=create_parent, synchronous=synchronous)

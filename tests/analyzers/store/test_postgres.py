"""What only ``PostgresStore`` promises, on a real server: versioned schema, one-line errors for an
unreachable server or a newer schema, and no password in what it prints."""

from __future__ import annotations

import socket

import psycopg
import pytest

from analyzers.errors import StoreConnectionError, StoreVersionError
from analyzers.store import open_store
from analyzers.store._pg_schema import SCHEMA_VERSION
from analyzers.store.postgres import PostgresStore, lock_key


def test_schema_is_versioned_and_a_newer_one_is_refused(postgres_url):
    with PostgresStore(postgres_url) as store:
        assert store.schema_version == SCHEMA_VERSION
    with PostgresStore(postgres_url) as again:  # a second start migrates nothing
        assert again.schema_version == SCHEMA_VERSION
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE otel_meta_schema SET version = 99")
    with pytest.raises(StoreVersionError, match="newer than this otel-meta .*upgrade otel-meta"):
        PostgresStore(postgres_url)


def test_an_unreachable_server_is_one_line_naming_the_fix():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    with pytest.raises(StoreConnectionError) as caught:
        open_store(f"postgresql://otel:s3cret@127.0.0.1:{port}/otel_meta")
    message = str(caught.value)
    assert "\n" not in message and "check that PostgreSQL runs" in message
    assert "s3cret" not in message and "otel:***@127.0.0.1" in message


def test_learning_lock_keys_are_stable_and_distinct():
    assert lock_key("a") == lock_key("a") != lock_key("b")
    assert -(2**63) <= lock_key("a") < 2**63

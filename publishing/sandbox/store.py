"""SQLite state of the X sandbox: one connection guarded by one lock.

Every operation is short, so a single serialised connection is both the simplest and the safest choice for a
threaded server: no SQLITE_BUSY, no torn multi-statement updates, and ":memory:" works for tests too.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS apps (
    consumer_key TEXT PRIMARY KEY,
    consumer_secret TEXT NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    client_secret TEXT NOT NULL,
    redirect_uri TEXT NOT NULL DEFAULT '',
    scopes TEXT NOT NULL DEFAULT ''  -- the app's permissions; empty: every scope
);
CREATE TABLE IF NOT EXISTS accounts (
    user_id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    consumer_key TEXT NOT NULL REFERENCES apps(consumer_key),
    access_token TEXT NOT NULL UNIQUE,
    access_token_secret TEXT NOT NULL,
    oauth1_revoked INTEGER NOT NULL DEFAULT 0,
    post_limit INTEGER NOT NULL,
    post_window_secs INTEGER NOT NULL,
    daily_post_limit INTEGER NOT NULL DEFAULT 10000,
    timeline_lag_secs REAL NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS nonces (
    consumer_key TEXT NOT NULL,
    nonce TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (consumer_key, nonce, timestamp)
);
CREATE TABLE IF NOT EXISTS oauth2_codes (
    code TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    code_challenge_method TEXT NOT NULL,
    expires_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS oauth2_tokens (
    token TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    expires_at REAL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS media (
    id TEXT PRIMARY KEY,
    media_key TEXT NOT NULL,
    user_id TEXT NOT NULL,
    media_type TEXT NOT NULL,
    media_category TEXT NOT NULL,
    total_bytes INTEGER NOT NULL,
    state TEXT NOT NULL,
    outcome TEXT,
    error_name TEXT,
    error_message TEXT,
    duration_ms INTEGER,
    width INTEGER,
    height INTEGER,
    created_at REAL NOT NULL,
    finalized_at REAL,
    expires_at REAL NOT NULL,
    sha256 TEXT REFERENCES blobs(sha256)
);
-- Finalized files, stored once per content: a benchmark posting one clip 10,000 times keeps one copy.
CREATE TABLE IF NOT EXISTS blobs (sha256 TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS media_segments (
    media_id TEXT NOT NULL,
    segment_index INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (media_id, segment_index)
);
CREATE TABLE IF NOT EXISTS posts (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    text TEXT NOT NULL,
    media_id TEXT,
    media_key TEXT,
    made_with_ai INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    deleted_at REAL
);
CREATE INDEX IF NOT EXISTS posts_user_created ON posts (user_id, created_at);
CREATE INDEX IF NOT EXISTS posts_user_text ON posts (user_id, text);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    remaining INTEGER NOT NULL,
    path_prefix TEXT NOT NULL DEFAULT '',
    status INTEGER,
    delay REAL,
    reset_header INTEGER NOT NULL DEFAULT 1,
    reset_in INTEGER NOT NULL DEFAULT 60,
    method TEXT NOT NULL DEFAULT '',  -- empty: any method
    lands INTEGER NOT NULL DEFAULT 0  -- 1: the call takes effect, then the fault answers in its place
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

# Ids look like X's snowflakes (19 digits) so clients that validate ^[0-9]{1,19}$ accept them.
ID_BASE = {"user": 1_500_000_000_000_000_000, "post": 1_860_000_000_000_000_000, "media": 1_870_000_000_000_000_000}


class Store:
    """The sandbox database. Use `with store.tx() as db:` for anything; calls are serialised."""

    def __init__(self, db_path: str | Path) -> None:
        path = str(db_path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.row_factory = sqlite3.Row
        if path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)
        self._upgrade()

    def _upgrade(self) -> None:
        """Add columns that later versions introduced to sandbox files made by earlier ones."""
        for table, column, definition in (("accounts", "daily_post_limit", "INTEGER NOT NULL DEFAULT 10000"),
                                          ("media", "sha256", "TEXT"), ("apps", "scopes", "TEXT NOT NULL DEFAULT ''"),
                                          ("accounts", "timeline_lag_secs", "REAL NOT NULL DEFAULT 0"),
                                          ("faults", "method", "TEXT NOT NULL DEFAULT ''"),
                                          ("faults", "lands", "INTEGER NOT NULL DEFAULT 0")):
            columns = {row["name"] for row in self._conn.execute(f"PRAGMA table_info({table})")}
            if column not in columns:
                self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @staticmethod
    def next_id(db: sqlite3.Connection, kind: str) -> str:
        db.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1",
            (kind,),
        )
        (value,) = db.execute("SELECT value FROM counters WHERE name = ?", (kind,)).fetchone()
        return str(ID_BASE[kind] + value)


def token(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)


def now() -> float:
    return time.time()

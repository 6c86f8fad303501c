"""What is worth keeping between runs (index answers, decisions, Dockerfile scans): one store in
the user's cache folder, safe for runs that share it.

One sqlite database, as pre-commit's store keeps one: sqlite's own locking with a write-ahead
log and a busy timeout, so that two runs at once neither lose each other's entries nor read half
of one. Every key is stored under a digest of this tool's source files: what an older reader
stored is never taken for what this one would read. Values are JSON; one that does not load is
a miss, and a database that is not one is replaced. Past MAX_ENTRIES the oldest go.
"""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from typing import Any, Iterable, Iterator, Mapping

from release_hook import digests

MAX_ENTRIES = 60_000  # scans are most of them: about 1 KB each
TOUCH_AFTER = 86400.0  # an entry read is marked recent again at most once a day (a write)
_BUSY_MS = 10_000
# A table with rowids, whose key index holds the keys alone: most values are about 1 KB, and
# in a WITHOUT ROWID table (the first store, cache.sqlite3) they filled its one tree three times
# as large, so that looking up 1,000 keys read 2.5 to 5 times as many pages.
_FILE = "cache-2.sqlite3"
# written: for the callers' ages (a page list is trusted 10 minutes); used: for eviction.
_SCHEMA = ("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, written REAL NOT NULL, "
           "used REAL NOT NULL, value TEXT NOT NULL)",
           "CREATE INDEX IF NOT EXISTS entries_used ON entries (used)")


def folder() -> str:
    if os.environ.get("RELEASE_HOOK_CACHE_DIR"):
        return os.environ["RELEASE_HOOK_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "release-hook")


def path() -> str:
    return os.path.join(folder(), _FILE)


class _Store:
    """This process's connection to the store in the current folder (one at a time)."""

    def __init__(self) -> None:
        # (file, its inode, pid): a forked child opens its own; a file removed (the folder
        # deleted by hand) is opened anew when a run begins (recheck)
        self.where: tuple[str, int, int] | None = None
        self.settings: tuple[str | None, ...] | None = None  # what chose the file, and the pid
        self.recheck = True
        self.db: sqlite3.Connection | None = None
        self.evicted = False

    def connection(self) -> sqlite3.Connection | None:
        settings = (os.environ.get("RELEASE_HOOK_CACHE_DIR"), os.environ.get("XDG_CACHE_HOME"),
                    os.environ.get("HOME"), str(os.getpid()))
        if settings == self.settings and not self.recheck:
            return self.db  # asked per Dockerfile: no stat each time
        self.settings, self.recheck = settings, False
        file = path()
        try:
            inode = os.stat(file).st_ino
        except OSError:
            inode = -1
        where = (file, inode, os.getpid())
        if self.where != where:
            self.close()
            self.evicted = False
            deadline = time.monotonic() + _BUSY_MS / 1000
            while True:
                try:
                    self.db = self._open(file)
                except sqlite3.DatabaseError as e:
                    if _busy(e) and time.monotonic() < deadline:
                        time.sleep(0.02)  # another run is creating the store: sqlite does not wait here
                        continue
                    # not a database (a torn or foreign file): start anew; read-only, or busy for
                    # too long: no cache this run, every answer is read again
                    self.db = self._replace(file) if _corrupt(e) else None
                except OSError:
                    self.db = None
                break
            try:
                self.where = (file, os.stat(file).st_ino, os.getpid())
            except OSError:
                self.where = (file, -1, os.getpid())  # not tried again while the file is missing
        return self.db

    @staticmethod
    def _open(file: str) -> sqlite3.Connection:
        os.makedirs(os.path.dirname(file), exist_ok=True)
        db = sqlite3.connect(file, timeout=_BUSY_MS / 1000, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, never torn
            if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'entries'").fetchone() is None:
                for statement in _SCHEMA:
                    db.execute(statement)
        except BaseException:
            db.close()
            raise
        return db

    def _replace(self, file: str) -> sqlite3.Connection | None:
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(file + suffix)
            except OSError:
                pass
        try:
            return self._open(file)
        except (sqlite3.Error, OSError):
            return None

    def failed(self, error: sqlite3.Error) -> None:
        """A query failed: a store found damaged is replaced for the next use; a busy one is left."""
        if _corrupt(error):
            self.close()
            self._replace(path())

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
        self.db = None
        self.where, self.recheck = None, True


def _busy(error: sqlite3.Error) -> bool:
    name = getattr(error, "sqlite_errorname", None)  # Python 3.11+
    if name is not None:
        return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
    return "locked" in str(error) or "busy" in str(error)


def _corrupt(error: sqlite3.Error) -> bool:
    """SQLITE_NOTADB or SQLITE_CORRUPT; never a locked or busy store (another run's)."""
    name = getattr(error, "sqlite_errorname", None)  # Python 3.11+
    if name is not None:
        return name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT"))
    text = str(error)
    return "file is not a database" in text or "malformed" in text


_store = _Store()


def close() -> None:
    """The store's connection closed (at the end of a process: sqlite checkpoints its log)."""
    _store.close()


def begin_run() -> None:
    """A run begins: the store's file is looked for again (a user may have removed the folder
    since this process last used it), once, not on every lookup."""
    _store.recheck = True


@contextlib.contextmanager
def _writing(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taking the write lock at once (waiting up to the busy timeout)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _namespaced(key: str) -> str:
    return f"{code_digest()} {key}"


def get(key: str, max_age: float | None) -> Any | None:
    """The cached value, if present, whole, for this key, and younger than max_age seconds."""
    db = _store.connection()
    if db is None:
        return None
    stored = _namespaced(key)
    try:
        row = db.execute("SELECT written, used, value FROM entries WHERE key = ?", (stored,)).fetchone()
        if row is None or (max_age is not None and time.time() - row[0] > max_age):
            return None
        value = json.loads(row[2])
        if time.time() - row[1] > TOUCH_AFTER:  # in use: not the oldest to evict
            with _writing(db):
                db.execute("UPDATE entries SET used = ? WHERE key = ?", (time.time(), stored))
        return value
    except ValueError:
        return None  # not trusted: read again and overwritten
    except sqlite3.Error as e:
        _store.failed(e)
        return None


def get_many(keys: Iterable[str], max_age: float | None = None) -> dict[str, str]:
    """The cached values of these keys that are present and young enough, as their JSON text:
    the caller loads them, and keeps a text (no objects for the collector to walk) where it
    may need one again. A text that does not load is a miss for the caller."""
    db = _store.connection()
    keys = list(keys)
    if db is None or not keys:
        return {}
    out: dict[str, str] = {}
    stale: list[str] = []
    now = time.time()
    try:
        for stored, written, used, text in _rows(db, "key, written, used, value", keys):
            if max_age is not None and now - written > max_age:
                continue
            out[stored.split(" ", 1)[1]] = text
            if now - used > TOUCH_AFTER:
                stale.append(stored)
        if stale:  # in use: not the oldest to evict
            with _writing(db):
                db.executemany("UPDATE entries SET used = ? WHERE key = ?", [(now, k) for k in stale])
    except sqlite3.Error as e:
        _store.failed(e)
        return out
    return out


def present(keys: Iterable[str]) -> set[str]:
    """Which of these keys the store holds, their values unread."""
    db = _store.connection()
    keys = list(keys)
    if db is None or not keys:
        return set()
    try:
        return {stored.split(" ", 1)[1] for (stored,) in _rows(db, "key", keys)}
    except sqlite3.Error as e:
        _store.failed(e)
        return set()


def _rows(db: sqlite3.Connection, columns: str, keys: list[str]) -> Iterator[Any]:
    """The rows of these keys (this code's), in queries of 500 keys (sqlite's bound on a
    statement's parameters was 999)."""
    for start in range(0, len(keys), 500):
        chunk = [_namespaced(k) for k in keys[start:start + 500]]
        yield from db.execute(f"SELECT {columns} FROM entries WHERE key IN ({','.join('?' * len(chunk))})",
                              chunk).fetchall()


def put(key: str, value: Any) -> None:
    put_many({key: value})


def put_many(items: Mapping[str, Any]) -> None:
    """Store entries in one transaction; a store that cannot be written only costs a later read."""
    db = _store.connection()
    if db is None or not items:
        return
    now = time.time()
    rows = [(_namespaced(k), now, now, json.dumps(v, separators=(",", ":"))) for k, v in items.items()]
    try:
        with _writing(db):
            db.executemany("INSERT OR REPLACE INTO entries (key, written, used, value) VALUES (?, ?, ?, ?)",
                           rows)
        if not _store.evicted:
            _store.evicted = True
            _evict(db)
    except sqlite3.Error as e:
        _store.failed(e)


def _evict(db: sqlite3.Connection) -> None:
    """Keep the store bounded: past MAX_ENTRIES, the oldest tenth goes (once per run)."""
    (count,) = db.execute("SELECT count(*) FROM entries").fetchone()
    if count > MAX_ENTRIES:
        excess = count - MAX_ENTRIES + MAX_ENTRIES // 10
        with _writing(db):
            db.execute("DELETE FROM entries WHERE key IN (SELECT key FROM entries ORDER BY used LIMIT ?)",
                       (excess,))


_digest: str | None = None


def code_digest() -> str:
    """A digest of release_hook's source and data files: what read a cached entry.

    Hashing the sources costs a few milliseconds, so the digest is kept per signature of the
    files' names, sizes and modification times; a file changed in place changes its time."""
    global _digest
    if _digest is None:
        root = os.path.dirname(os.path.abspath(__file__))
        files: list[tuple[str, int, int]] = []
        _sources(root, "", files)
        signature = "code " + digests.hexdigest(repr(files).encode())
        _digest = _code_digest_by_signature(signature, root, [f[0] for f in files])
    return _digest


def _sources(top: str, rel: str, out: list[tuple[str, int, int]]) -> None:
    """(relative path, size, modification time) of the .py and .json files under top, in name
    order: scandir's entries, not os.walk's joins and relpaths (half of this on every run)."""
    try:
        with os.scandir(top) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        return  # a folder that cannot be listed is left out, as os.walk left it
    for e in entries:
        if e.name.endswith((".py", ".json")) and e.is_file():
            st = e.stat()
            out.append((rel + e.name, st.st_size, st.st_mtime_ns))
    for e in entries:
        if e.is_dir(follow_symlinks=False) and e.name != "__pycache__":  # as os.walk did
            _sources(e.path, f"{rel}{e.name}/", out)


def _code_digest_by_signature(signature: str, root: str, files: list[str]) -> str:
    db = _store.connection()
    try:
        row = db.execute("SELECT value FROM entries WHERE key = ?", (signature,)).fetchone() if db else None
        if row is not None and isinstance(json.loads(row[0]), str):
            return str(json.loads(row[0]))
    except (sqlite3.Error, ValueError):
        pass
    h = digests.hasher()
    for rel in files:
        with open(os.path.join(root, rel), "rb") as f:
            h.update(rel.encode() + b"\0" + f.read() + b"\0")
    digest = h.hexdigest()[:16]
    if db is not None:
        try:
            with _writing(db):
                db.execute("INSERT OR REPLACE INTO entries (key, written, used, value) VALUES (?, ?, ?, ?)",
                           (signature, time.time(), time.time(), json.dumps(digest)))
        except sqlite3.Error:
            pass
    return digest

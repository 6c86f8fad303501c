"""The shared store: bounded, keyed by the code that wrote it, never trusting what does not
load, and a run that cannot use it still works."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from release_hook import cache, dockerfile
from release_hook.scancache import ScanCache

TEXT = "FROM python:3.11\nRUN pip install numpyro==0.6.0 jax==0.2.10\n"


def test_values_round_trip_and_age(monkeypatch: pytest.MonkeyPatch) -> None:
    cache.put("k", {"a": [1, "b", None]})
    assert cache.get("k", None) == {"a": [1, "b", None]}
    assert cache.get("k", 60) == {"a": [1, "b", None]}
    assert cache.get("missing", None) is None
    import time

    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 120)
    assert cache.get("k", 60) is None  # older than asked for
    assert cache.get("k", None) is not None  # but kept, for --offline


def test_every_key_belongs_to_the_code_that_wrote_it() -> None:
    cache.put("k", 1)
    with sqlite3.connect(cache.path()) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM entries") if not k.startswith("code ")]
    assert keys == [f"{cache.code_digest()} k"]
    # the digest is of the sources' content: a copy elsewhere has the same one
    out = subprocess.run([sys.executable, "-c", "from release_hook import cache; print(cache.code_digest())"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == cache.code_digest()


def test_an_entry_that_does_not_load_is_a_miss_and_is_rewritten() -> None:
    cache.put("k", 1)
    with sqlite3.connect(cache.path()) as db:
        db.execute("UPDATE entries SET value = '{torn' WHERE key = ?", (f"{cache.code_digest()} k",))
    assert cache.get("k", None) is None
    cache.put("k", 2)
    assert cache.get("k", None) == 2


def test_a_store_that_is_not_a_database_is_replaced() -> None:
    os.makedirs(cache.folder(), exist_ok=True)
    Path(cache.path()).write_bytes(b"not a database, whatever wrote it" * 100)
    cache._store.close()
    cache._store.where = None
    assert cache.get("k", None) is None
    cache.put("k", 3)
    assert cache.get("k", None) == 3
    with sqlite3.connect(cache.path()) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_cache_folder_that_cannot_be_used_costs_only_the_cache(cli, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("RELEASE_HOOK_CACHE_DIR", str(blocked / "cache"))
    cache.put("k", 1)
    assert cache.get("k", None) is None
    (tmp_path / "Dockerfile").write_text(TEXT)
    r = cli("sync", "Dockerfile", "--version", "0.7.0", "--pin", "jax==0.2.13", "--no-commit")
    assert r.code == 0 and "cache" not in r.err, r.err
    assert "numpyro==0.7.0 jax==0.2.13" in (tmp_path / "Dockerfile").read_text()


def test_the_store_is_bounded_and_the_least_recently_used_go() -> None:
    for n in range(150):
        cache.put(f"entry {n}", n)
    # a later run that writes evicts past the bound: the oldest first
    subprocess.run([sys.executable, "-c", "from release_hook import cache; cache.MAX_ENTRIES = 100; "
                    "cache.put('newest', 1)"], check=True, env=os.environ.copy())
    with sqlite3.connect(cache.path()) as db:
        (count,) = db.execute("SELECT count(*) FROM entries").fetchone()
    assert count <= 100
    assert cache.get("newest", None) == 1
    assert all(cache.get(f"entry {n}", None) == n for n in range(100, 150))
    assert all(cache.get(f"entry {n}", None) is None for n in range(50))


def test_scans_are_looked_up_one_by_one_and_no_cache_turns_them_off(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELEASE_HOOK_NO_CACHE", raising=False)
    path = str(tmp_path / "Dockerfile")
    first = ScanCache("numpyro", str(tmp_path))
    scanned = first.scan_all([(path, TEXT.encode())])[0]
    first.save()
    statements: list[str] = []
    db = cache._store.connection()
    assert db is not None
    db.set_trace_callback(statements.append)
    try:
        def no_parse(*args: object) -> None:
            raise AssertionError("parsed again")

        with monkeypatch.context() as m:
            m.setattr(dockerfile, "parse", no_parse)  # what a scan that misses calls first
            assert ScanCache("numpyro", str(tmp_path)).scan_all([(path, TEXT.encode())]) == [scanned]
    finally:
        db.set_trace_callback(None)
    reads = [s for s in statements if s.startswith("SELECT")]
    assert reads and all("WHERE key = " in s or "WHERE key IN (" in s for s in reads), reads  # by key, never all
    monkeypatch.setenv("RELEASE_HOOK_NO_CACHE", "1")
    calls = []
    real = dockerfile.parse
    monkeypatch.setattr(dockerfile, "parse", lambda *a: calls.append(1) or real(*a))  # type: ignore[func-returns-value]
    off = ScanCache("numpyro", str(tmp_path))
    assert off.scan_all([(path, TEXT.encode())]) == [scanned] and calls == [1]
    off.save()
    assert off.added == {}


def test_a_store_busy_with_another_run_is_waited_for_never_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    cache.put("theirs", 1)
    cache._store.close()
    cache._store.where = None
    monkeypatch.setattr(cache, "_BUSY_MS", 300)
    other = sqlite3.connect(cache.path(), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another run is writing
    try:
        cache.put("mine", 2)  # waits 0.3 s, then does without
        assert cache.get("theirs", None) == 1  # readers are not blocked (write-ahead log)
    finally:
        other.execute("COMMIT")
        other.close()
    assert cache.get("theirs", None) == 1 and cache.get("mine", None) is None
    cache.put("mine", 2)
    assert cache.get("mine", None) == 2


WRITER = """
import sys, time
from release_hook import cache
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
cache.put_many({f"{sys.argv[1]} {n}": n for n in range(50)})
"""


def test_runs_that_create_the_store_at_the_same_moment_lose_nothing(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """sqlite refuses at once (it does not wait) a connection that would read a store another
    process is creating: the run tries again rather than working without its cache."""
    import time

    for round in range(2):  # the race is won or lost in a millisecond: two rounds, five runs
        monkeypatch.setenv("RELEASE_HOOK_CACHE_DIR", str(tmp_path / f"store-{round}"))
        start = str(time.time() + 0.4)
        runs = [subprocess.Popen([sys.executable, "-c", WRITER, tag, start], env=os.environ.copy())
                for tag in "abcde"]
        assert [r.wait(timeout=60) for r in runs] == [0] * 5
        found = cache.get_many([f"{tag} {n}" for tag in "abcde" for n in range(50)])
        assert len(found) == 250


def test_the_code_digest_lists_the_sources_as_a_walk_of_the_tree_would(tmp_path: Path) -> None:
    """The sources behind the digest, listed with scandir: the same files in the same order as
    os.walk gave them (name order, a folder's files before its folders), links to folders not
    followed (a link back up the tree once made the listing fail), __pycache__ left out."""
    for rel in ("a.py", "b.json", "c.txt", "z/y.py", "z/__pycache__/y.cpython-311.pyc", "z/__pycache__/q.py",
                "m/n/o.py", "m/a.py", "m.py", "B/x.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    (tmp_path / "m" / "n" / "up").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "link").symlink_to(tmp_path / "m", target_is_directory=True)
    walked = []
    for top, dirs, names in os.walk(tmp_path):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith((".py", ".json")):
                full = os.path.join(top, name)
                st = os.stat(full)
                walked.append((os.path.relpath(full, tmp_path), st.st_size, st.st_mtime_ns))
    listed: list[tuple[str, int, int]] = []
    cache._sources(str(tmp_path), "", listed)
    assert listed == walked
    assert [p for p, _, _ in listed] == ["a.py", "b.json", "m.py", "B/x.py", "m/a.py", "m/n/o.py", "z/y.py"]

"""What is worth keeping between runs (index answers, Dockerfile scans), in the user's cache folder.

Entries are whole JSON files written atomically; one that does not parse, or has not the
expected shape, is ignored and rebuilt, never trusted.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from typing import Any


def folder() -> str:
    if os.environ.get("RELEASE_HOOK_CACHE_DIR"):
        return os.environ["RELEASE_HOOK_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "release-hook")


def _path(key: str) -> str:
    return os.path.join(folder(), hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")


def get(key: str, max_age: float | None) -> Any | None:
    """The cached value, if present, whole, for this key, and younger than max_age seconds."""
    try:
        with open(_path(key), encoding="utf-8") as f:
            entry = json.load(f)
        if not isinstance(entry, dict) or entry.get("key") != key or "value" not in entry:
            return None
        if max_age is not None and time.time() - float(entry["time"]) > max_age:
            return None
        return entry["value"]
    except (OSError, ValueError, TypeError, KeyError):
        return None


def put(key: str, value: Any) -> None:
    path = _path(key)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"key": key, "time": time.time(), "value": value}, f)
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written only costs a later read

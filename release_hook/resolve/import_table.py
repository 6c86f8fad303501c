"""The shipped table of import breaks already proved: for a release of a package, the newest
jax it imports with and the first that it does not, on the Python it was proved on.

No metadata says that numpyro 0.13.0 cannot import jax 0.7.0 (`pjit_p` is gone); an import
shows it. The table is what `--offline` and machines without the image's Python know of those
imports. It is rebuilt from real imports by scripts/build_import_table.py, never written by hand.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

PATH = os.path.join(os.path.dirname(__file__), "data", "import_breaks.json")
# Another table (a path), or none (""): the tests' made-up indexes must not meet real breaks.
TABLE_VARIABLE = "RELEASE_HOOK_IMPORT_TABLE"


@dataclass(frozen=True)
class Break:
    package: str  # canonical name
    release: str
    python: str  # the interpreter it was proved on: "3.11.7"
    proved: str  # the date: "2026-11-24"
    last_imports: str | None  # the newest jax that imports (None: none tried did)
    first_fails: str | None  # the oldest jax newer than that which does not (None: no break seen)
    fails_with: str = ""  # what the first failing import printed last
    newest_tried: str | None = None  # the newest jax the table knows of for this release

    def says(self, jax: str) -> bool | None:
        """Whether the release imports with this jax, as far as the table knows."""
        try:
            v = Version(jax)
            if self.first_fails is not None and v >= Version(self.first_fails):
                return False
            if self.last_imports is not None and v <= Version(self.last_imports):
                return True
        except InvalidVersion:
            return None
        return None


def rows(package: str, release: str, path: str | None = None) -> tuple[Break, ...]:
    """The table's rows for a release (one per Python it was proved on), newest Python first."""
    path = os.environ.get(TABLE_VARIABLE, PATH) if path is None else path
    if not path:
        return ()
    try:
        key = str(Version(release))
    except InvalidVersion:
        return ()
    return _load(path).get((canonicalize_name(package), key), ())


def says(package: str, release: str, jax: str, path: str | None = None) -> tuple[bool | None, Break | None]:
    """The table's answer for one jax and the row that gave it: a failure anywhere wins, since
    an API jax removed is gone on every Python."""
    found = rows(package, release, path)
    for row in found:
        if row.says(jax) is False:
            return False, row
    for row in found:
        if row.says(jax):
            return True, row
    return None, found[0] if found else None


@lru_cache(maxsize=4)
def _load(path: str) -> dict[tuple[str, str], tuple[Break, ...]]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        out: dict[tuple[str, str], tuple[Break, ...]] = {}
        for package, releases in data["packages"].items():
            for release, by_python in releases.items():
                found = [Break(canonicalize_name(package), release, str(r["python"]), str(r["proved"]),
                               r.get("last_imports"), r.get("first_fails"), str(r.get("fails_with", "")),
                               r.get("newest_tried"))
                         for r in by_python.values()]
                found.sort(key=lambda b: Version(b.python), reverse=True)
                out[(canonicalize_name(package), str(Version(release)))] = tuple(found)
        return out
    except (OSError, ValueError, KeyError, TypeError, AttributeError, InvalidVersion):
        return {}  # a damaged table knows nothing; the import itself still decides

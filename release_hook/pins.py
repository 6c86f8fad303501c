"""What a Dockerfile pins: the names the rest of the tool has long imported from here.

The walk itself is `release_hook.walk`, imported only when a file is read (a run whose scans
all come from the scan cache never loads it); the values are `release_hook.found`'s.
"""
from __future__ import annotations

from typing import Iterable

from release_hook.dockerfile import Dockerfile
from release_hook.found import Chars, Note, Pin, Scan
from release_hook.textlines import line_of

__all__ = ["Chars", "Note", "Pin", "Scan", "find_pins", "line_of"]


def find_pins(df: Dockerfile, package: str, kept: Iterable[str] | None = None) -> Scan:
    """The file's `Scan`: its pins, and what each stage says of its Python and pip installs."""
    from release_hook.walk import JAX_PACKAGES, walk

    return walk(df, package, JAX_PACKAGES if kept is None else kept)

"""Digests of content for the caches' keys, without hashlib's start-up.

`import hashlib` loads OpenSSL before anything else: 2.5 ms of every run, a tenth of what a hook
does of its own. BLAKE2b is one of hashlib's guaranteed algorithms; CPython builds it into
`_blake2`, the module hashlib itself takes it from.
"""
from __future__ import annotations

try:
    from _blake2 import blake2b
except ImportError:  # an interpreter without CPython's module: hashlib has the algorithm
    from hashlib import blake2b


def hexdigest(data: bytes) -> str:
    return blake2b(data, digest_size=32).hexdigest()


def hasher() -> blake2b:
    """For content fed in pieces (`update`), digested like `hexdigest` of the pieces joined."""
    return blake2b(digest_size=32)

"""Package names compared as the index compares them (PEP 503 normalization)."""
from __future__ import annotations

import re

_RUNS = re.compile(r"[-_.]+")


def normalize(name: str) -> str:
    """`Jax_CUDA12.Plugin` and `jax-cuda12-plugin` are one project."""
    return _RUNS.sub("-", name).lower()

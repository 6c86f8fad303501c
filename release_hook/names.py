"""Package names compared as the index compares them (PEP 503), and version text read as PEP 440 reads it.

packaging.utils.canonicalize_name says the same, but importing packaging.utils imports
packaging.tags (it probes the platform: about 8 ms); the modules of a hook's common path
(the walker, the report, the release's requirements, requirements files) use this instead."""
from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version

_RUNS = re.compile(r"[-_.]+")


def normalize(name: str) -> str:
    """`Jax_CUDA12.Plugin` and `jax-cuda12-plugin` are one project."""
    return _RUNS.sub("-", name).lower()


def is_version(text: str) -> bool:
    """Whether `text` is a version as PEP 440 reads it (`0.4.25+cuda11.cudnn86` is)."""
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True

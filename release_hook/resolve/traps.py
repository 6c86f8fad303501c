"""Runtime traps no metadata declares, reported as warnings at the pin (the pins are still written).

- jaxlib before 0.4.26 was built against NumPy 1 and cannot import NumPy 2 (jax's CHANGELOG,
  jaxlib 0.4.26: "JAX now supports NumPy 2.0"), yet declares `numpy>=1.x` with no upper bound:
  with NumPy left unpinned, pip installs NumPy 2 wherever it exists (Python 3.9 and newer).
"""
from __future__ import annotations

import re
from typing import Iterable

from packaging.version import Version

from release_hook.pins import Pin

NUMPY2_JAXLIB = Version("0.4.26")
_NUMPY_BOUND = re.compile(r"""(?<![\w.-])numpy\s*(\[[^\]]*\])?\s*(==|<|<=|~=|===)""", re.I)


def numpy_trap(jaxlib: Version, python: tuple[int, int] | None, pins: Iterable[Pin],
               text: str) -> list[str]:
    """`file:line: ...` for each jaxlib pin that gets NumPy 2 it cannot import."""
    if jaxlib >= NUMPY2_JAXLIB or (python is not None and python < (3, 9)):
        return []
    if _NUMPY_BOUND.search(text):
        return []  # the file bounds NumPy itself
    return [f"{p.path}:{p.line}: jaxlib {jaxlib} cannot import NumPy 2, which pip installs when "
            "numpy is not pinned: add numpy<2 to this pip install" for p in pins]

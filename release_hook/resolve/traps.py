"""Runtime traps no metadata declares, reported as warnings at the pin (the pins are still written).

- jaxlib before 0.4.26 was built against NumPy 1 and cannot import NumPy 2 (jax's CHANGELOG,
  jaxlib 0.4.26: "JAX now supports NumPy 2.0"), yet declares `numpy>=1.x` with no upper bound:
  with NumPy left unpinned, pip installs NumPy 2 wherever it exists (Python 3.9 and newer).
- jax before 0.4.24 wraps `scipy.linalg.tril` at import (jax's CHANGELOG, jax 0.4.24, removes
  `jax.scipy.linalg.tril` and `triu`), which SciPy 1.13 removed; jax declares `scipy>=1.x` with
  no upper bound, so with SciPy unpinned `import jax` fails on Python 3.9 and newer.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable

from packaging.version import Version

from release_hook.found import Note, Pin

if TYPE_CHECKING:
    from release_hook.resolve.solver import Answer

NUMPY2_JAXLIB = Version("0.4.26")
SCIPY113_JAX = Version("0.4.24")


def _bound(package: str) -> re.Pattern[str]:
    return re.compile(rf"""(?<![\w.-]){package}\s*(\[[^\]]*\])?\s*(==|<|<=|~=|===)""", re.I)


class _Bounded:
    """Whether a text pins or bounds the package; the pattern (a case-blind search with a
    look-behind, 20 us over a Dockerfile) runs only where the name occurs at all."""

    def __init__(self, package: str) -> None:
        self.package, self.pattern = package, _bound(package)

    def search(self, text: str) -> bool:
        return self.package in text.lower() and self.pattern.search(text) is not None


_NUMPY_BOUND = _Bounded("numpy")
_SCIPY_BOUND = _Bounded("scipy")


def numpy_trap(jaxlib: Version, python: tuple[int, int] | None, pins: Iterable[Pin],
               text: str) -> list[Note]:
    """A note at each jaxlib pin that gets NumPy 2 it cannot import."""
    if jaxlib >= NUMPY2_JAXLIB or (python is not None and python < (3, 9)):
        return []
    if _NUMPY_BOUND.search(text):
        return []  # the file bounds NumPy itself
    return _once(pins, f"jaxlib {jaxlib} cannot import NumPy 2, which pip installs when numpy is not "
                       "pinned: add numpy<2 to this pip install")


def numpy_trap_by_extra(jax: Version, python: tuple[int, int] | None, pins: Iterable[Pin],
                        text: str) -> list[Note]:
    """The same trap where jaxlib comes from an extra of jax (`jax[cuda12_pip]==0.4.13`), unpinned:
    the jaxlib it brings is never newer than jax (jax's own bound), so below 0.4.26 it is NumPy 1's."""
    if jax >= NUMPY2_JAXLIB or (python is not None and python < (3, 9)) or _NUMPY_BOUND.search(text):
        return []
    pins = list(pins)
    extras = ",".join(sorted(pins[0].extras)) if pins else ""
    return _once(pins, f"jax[{extras}] {jax} brings jaxlib {jax} or older, and jaxlib before {NUMPY2_JAXLIB} "
                       "cannot import NumPy 2, which pip installs when numpy is not pinned: add numpy<2 to "
                       "this pip install")


def scipy_trap(jax: Version, python: tuple[int, int] | None, pins: Iterable[Pin], text: str) -> list[Note]:
    """A note at each jax pin that imports scipy.linalg.tril, gone from SciPy 1.13."""
    if jax >= SCIPY113_JAX or (python is not None and python < (3, 9)) or _SCIPY_BOUND.search(text):
        return []
    return _once(pins, f"jax {jax} fails at import with SciPy 1.13 or newer (no scipy.linalg.tril), "
                       "which pip installs when scipy is not pinned: add scipy<1.13 to this pip install")


def _once(pins: Iterable[Pin], message: str) -> list[Note]:
    """One note per file, at its first pin: a file of 1,000 such pins is one warning, not 1,000."""
    first: dict[str, Pin] = {}
    count: dict[str, int] = {}
    for p in pins:
        if p.path not in first or p.line < first[p.path].line:
            first[p.path] = p
        count[p.path] = count.get(p.path, 0) + 1
    return [Note(path, p.line, message + (f" (and {count[path] - 1} more pins in this file)"
                                           if count[path] > 1 else ""))
            for path, p in first.items()]


def in_answer(jax: Version | None, jaxlib: Version | None,
              answer: "Answer") -> tuple[str, str, tuple[str, Version]] | None:
    """(kind, why, floor) when the versions the resolver would install break jax at import:
    NumPy 2 under a jaxlib before 0.4.26, SciPy 1.13 under a jax before 0.4.24; the floor is
    the lowest release that imports beside them. The answer's own jax and jaxlib count (an extra
    such as `jax[cuda11_pip]` brings jaxlib without a pin)."""
    lib = answer.version_of("jaxlib") or jaxlib
    numpy = answer.version_of("numpy")
    if lib is not None and numpy is not None and lib < NUMPY2_JAXLIB and numpy.major >= 2:
        return ("numpy", f"jaxlib {lib} cannot import NumPy {numpy}, which this install would get",
                ("jaxlib", NUMPY2_JAXLIB))
    jx = answer.version_of("jax") or jax
    scipy = answer.version_of("scipy")
    if jx is not None and scipy is not None and jx < SCIPY113_JAX and scipy >= Version("1.13"):
        return ("scipy", f"jax {jx} fails at import with SciPy {scipy} (no scipy.linalg.tril), which this "
                "install would get", ("jax", SCIPY113_JAX))
    return None

"""Package indexes shared by several test files, built from wheels whose metadata reproduce
real conflicts (served on loopback by pkgindex.py)."""
from __future__ import annotations

from pathlib import Path

from packaging.version import Version

from pkgindex import PackageIndex

ROWS_JAX = ("0.4.20", "0.4.25", "0.4.26", "0.4.34", "0.4.35", "0.6.1", "0.6.2", "0.7.0", "0.10.2")


def rows_index(root: Path) -> PackageIndex:
    """Issue 14's conflicts: jax 0.6.2 and newer need SciPy 1.12; jax 0.4.35 and newer need
    ml-dtypes 0.4, which TensorFlow 2.15 refuses; wheels for Python 3.11 and 3.12."""
    idx = PackageIndex(root)
    for v in ROWS_JAX:
        scipy = "scipy>=1.12" if Version(v) >= Version("0.6.2") else "scipy>=1.9"
        dtypes = "ml-dtypes>=0.4" if Version(v) >= Version("0.4.35") else "ml-dtypes>=0.2"
        idx.wheel("jax", v, [f"jaxlib<={v},>={v}", "numpy>=1.22", scipy, dtypes], requires_python=">=3.10")
        for cp in ("311", "312"):
            idx.wheel("jaxlib", v, ["numpy>=1.22", scipy, dtypes], tag=f"cp{cp}-cp{cp}-manylinux2014_x86_64")
    for name, versions in (("numpy", ("1.26.4", "2.2.0")), ("scipy", ("1.11.4", "1.12.0", "1.15.0")),
                           ("ml-dtypes", ("0.2.0", "0.4.0"))):
        for v in versions:
            idx.wheel(name, v)
    idx.wheel("tensorflow", "2.15.1", ["ml-dtypes~=0.2.0", "numpy<2"])
    for v, floor in (("0.13.2", "0.4.14"), ("0.15.0", "0.4.14"), ("0.19.0", "0.4.25"), ("0.22.0", "0.7.0")):
        idx.wheel("numpyro", v, [f"jax>={floor}", f"jaxlib>={floor}"])
    return idx

#!/usr/bin/env python3
"""Build release_hook/resolve/data/jaxlib_cuda_builds.json from the public record.

The jaxlib versions are the `## jaxlib X` headings of jax's CHANGELOG.md; which CUDA builds each
version was published with, and on which find-links page, follow the eras recorded in jax's
CHANGELOG and installation docs (summarised in ../shared/jax-wheel-eras.md):

  0.1.52-0.1.56  cuda100 (dropped in 0.1.57), cuda101, cuda102, cuda110; cuda111 from 0.1.56
  0.1.61-0.1.65  cuda112 as well
  0.1.66-0.1.70  no cuda112 wheel any more ("use the CUDA 11.1 wheel")
  0.1.71         drops CUDA 10.1 and 11.0;  0.1.72 drops CUDA 10.2
  0.1.73-0.3.25  cuda11.cudnn82, cuda11.cudnn805
  0.4.0-0.4.6    cuda11.cudnn86, cuda11.cudnn82
  0.4.7          cuda12.cudnn88, cuda11.cudnn86, cuda11.cudnn82; 0.4.8 drops CUDA 11.4 (cudnn82)
  0.4.13-0.4.25  cuda12.cudnn89, cuda11.cudnn86
  0.4.26-0.4.28  cuda12.cudnn89 (CUDA 11.8 dropped)
  0.4.29         cuda12.cudnn91 (the last build with a local tag)
CUDA wheels moved from jax_releases.html to jax_cuda_releases.html in June 2022 (jaxlib 0.3.14).

The Python versions each build was published for (its `cpXY` wheel tags), from jax's CHANGELOG
and, where the CHANGELOG is silent, jax's own build files at each jaxlib release tag:

  0.1.52-0.1.56  3.6-3.8   build/build_jaxlib_wheels.sh PYTHON_VERSIONS="3.6.8 3.7.2 3.8.0"
  0.1.57-0.1.69  3.6-3.9   the same file adds 3.9.0 at jaxlib-v0.1.57
  0.1.70-0.1.74  3.7-3.9   CHANGELOG jaxlib 0.1.70: "Support for Python 3.6 has been dropped"
  0.1.75-0.3.22  3.7-3.10  CHANGELOG jaxlib 0.1.75: "Support for python 3.10"
  0.3.24-0.3.25  3.7-3.11  jaxlib/setup.py classifiers at jaxlib-v0.3.24 add Python 3.11
  0.4.0-0.4.13   3.8-3.11  CHANGELOG jaxlib 0.4.1: "Support for Python 3.7 has been dropped"
                           (python_requires '>=3.8' from jaxlib-v0.4.0)
  0.4.14-0.4.16  3.9-3.11  CHANGELOG jaxlib 0.4.14: "Python 3.8 support has been dropped"
  0.4.17-0.4.29  3.9-3.12  CHANGELOG jaxlib 0.4.17: "Python 3.12 wheels were added in this release"

Release dates, from the same headings (`## jaxlib 0.4.14 (July 27, 2023)`), are recorded for
every jaxlib version that has one: find-links pages carry no upload times, and `latest` as of a
date needs them.

Usage: python scripts/build_cuda_snapshot.py path/to/jax/CHANGELOG.md > release_hook/resolve/data/jaxlib_cuda_builds.json
"""
from __future__ import annotations

import json
import re
import sys

from packaging.version import Version

V = Version


def builds(v: Version) -> list[str]:
    if v < V("0.1.52") or v > V("0.4.29"):
        return []
    if v <= V("0.1.72"):
        tags = []
        if v <= V("0.1.56"):
            tags.append("cuda100")
        if v <= V("0.1.70"):
            tags.append("cuda101")
        if v <= V("0.1.71"):
            tags.append("cuda102")
        if v <= V("0.1.70"):
            tags.append("cuda110")
        if v >= V("0.1.56"):
            tags.append("cuda111")
        if V("0.1.61") <= v <= V("0.1.65"):
            tags.append("cuda112")
        return tags
    if v <= V("0.3.25"):
        return ["cuda11.cudnn82", "cuda11.cudnn805"]
    if v <= V("0.4.6"):
        return ["cuda11.cudnn86", "cuda11.cudnn82"]
    if v <= V("0.4.12"):
        return ["cuda12.cudnn88", "cuda11.cudnn86"] + (["cuda11.cudnn82"] if v == V("0.4.7") else [])
    if v <= V("0.4.25"):
        return ["cuda12.cudnn89", "cuda11.cudnn86"]
    if v <= V("0.4.28"):
        return ["cuda12.cudnn89"]
    return ["cuda12.cudnn91"]


def pythons(v: Version) -> list[str]:
    low, high = ((3, 6), (3, 8)) if v <= V("0.1.56") else ((3, 6), (3, 9)) if v <= V("0.1.69") else \
        ((3, 7), (3, 9)) if v <= V("0.1.74") else ((3, 7), (3, 10)) if v <= V("0.3.22") else \
        ((3, 7), (3, 11)) if v <= V("0.3.25") else ((3, 8), (3, 11)) if v <= V("0.4.13") else \
        ((3, 9), (3, 11)) if v <= V("0.4.16") else ((3, 9), (3, 12))
    return [f"cp3{m}" for m in range(low[1], high[1] + 1)]


_MONTHS = {m[:3].lower(): i for i, m in enumerate(
    ("January February March April May June July August September October November December").split(), 1)}


def release_date(text: str) -> str | None:
    """`July 27, 2023`, `Sept 18, 2023`, `Dec 4 2023` -> 2023-07-27."""
    m = re.fullmatch(r"\s*([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})\s*", text)
    if m is None or m.group(1)[:3].lower() not in _MONTHS:
        return None
    return f"{int(m.group(3)):04d}-{_MONTHS[m.group(1)[:3].lower()]:02d}-{int(m.group(2)):02d}"


def page(v: Version) -> str:
    return "jax_cuda_releases.html" if v >= V("0.3.14") else "jax_releases.html"


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as f:
        changelog = f.read()
    headings = re.findall(r"^## jaxlib v?(\d+\.\d+\.\d+)\b(?:\s*\(([^)]*)\))?", changelog, re.M)
    jaxlib = {Version(v) for v, _ in headings}
    dates: dict[str, str] = {}
    for version, when in headings:
        day = release_date(when) if when else None
        if day:
            dates.setdefault(str(Version(version)), day)
    snapshot = {
        "about": "jaxlib CUDA builds 0.1.52-0.4.29 with their Python tags, and release dates, from "
                 "jax's CHANGELOG, installation docs and build files; made by scripts/build_cuda_snapshot.py",
        "builds": {str(v): {"tags": builds(v), "page": page(v), "python": pythons(v)}
                   for v in sorted(jaxlib) if builds(v)},
        "dates": {v: dates[v] for v in sorted(dates, key=Version)},
    }
    json.dump(snapshot, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

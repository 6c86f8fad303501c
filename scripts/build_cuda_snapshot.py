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


def page(v: Version) -> str:
    return "jax_cuda_releases.html" if v >= V("0.3.14") else "jax_releases.html"


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as f:
        changelog = f.read()
    found = {Version(m) for m in re.findall(r"^## jaxlib v?(\d+\.\d+\.\d+)\b", changelog, re.M)}
    snapshot = {
        "about": "jaxlib CUDA builds 0.1.52-0.4.29, from jax's CHANGELOG and installation docs; "
                 "made by scripts/build_cuda_snapshot.py",
        "builds": {str(v): {"tags": builds(v), "page": page(v)} for v in sorted(found) if builds(v)},
    }
    json.dump(snapshot, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

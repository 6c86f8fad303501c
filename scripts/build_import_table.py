#!/usr/bin/env python3
"""Rebuild release_hook/resolve/data/import_breaks.json from real imports (needs the index).

For each release of the package in the range, and each Python asked for, the candidates are
the jax releases that the release's own metadata accepts, that are neither yanked nor
pre-releases and whose Requires-Python takes that Python, newest first. Each is tried as
`PACKAGE==R jax==J jaxlib<=J` (uv picks the jaxlib within jax's own requirements), with
`numpy<2` where jaxlib is before 0.4.26 and `scipy<1.13` where jax is before 0.4.24 (the
traps of resolve/traps.py, which the tool's choices avoid the same way), installed into a new
virtualenv of that Python and imported by release_hook.resolve.smoke; import_search's bisect
finds the boundary. Each row records what was measured, never a guess: the newest jax that
imports, the first newer one that fails and what it printed last, the Python's full version,
the date, the tries, and what uv installed for the last one that imports.

Usage:
  python scripts/build_import_table.py --package numpyro --from 0.13.0 --to 0.19.0 --python 3.11
      [--python 3.12] [--output release_hook/resolve/data/import_breaks.json]
Rows are merged into the existing table (a release measured again replaces its row).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from release_hook.resolve import import_table, pythons, smoke, traps
from release_hook.resolve.import_search import IMPORT, Release, newest_that_imports
from release_hook.resolve.index import Index
from release_hook.resolve.pipconf import index_urls


def _takes(requires_python: str | None, python: tuple[int, int]) -> bool:
    if not requires_python:
        return True
    try:
        spec = SpecifierSet(requires_python)
    except InvalidSpecifier:
        return True
    return any(spec.contains(f"{python[0]}.{python[1]}.{patch}") for patch in (0, 99))


def releases(index: Index, package: str, low: str, high: str) -> list[str]:
    found = {d.version for d in index.dists(package) if not d.yanked and not d.version.is_prerelease}
    return [str(v) for v in sorted(found) if Version(low) <= v <= Version(high)]


def candidates(index: Index, package: str, release: str, python: tuple[int, int]) -> list[str] | str:
    """The jax releases to try, newest first, or why the release has none on that Python."""
    meta = index.metadata(package, Version(release))
    if not _takes(meta.requires_python, python):
        return f"{package} {release} requires Python {meta.requires_python}"
    env = {"python_version": "{}.{}".format(*python), "extra": ""}
    wanted = SpecifierSet()
    for line in meta.requires_dist:
        req = Requirement(line)
        if canonicalize_name(req.name) == "jax" and (req.marker is None or req.marker.evaluate(env)):
            wanted &= req.specifier
    by_version: dict[Version, list[Any]] = {}
    for dist in index.dists("jax"):
        by_version.setdefault(dist.version, []).append(dist)
    out = [v for v, files in by_version.items()
           if not v.is_prerelease and not all(f.yanked for f in files) and wanted.contains(v)
           and any(_takes(f.requires_python, python) for f in files)]
    return [str(v) for v in sorted(out, reverse=True)]


def install_of(package: str, release: str) -> Any:
    def install(jax: str) -> smoke.SmokeSet:
        limits = []
        if Version(jax) < traps.NUMPY2_JAXLIB:
            limits.append("numpy<2")
        if Version(jax) < traps.SCIPY113_JAX:
            limits.append("scipy<1.13")
        return smoke.SmokeSet((f"{package}=={release}", f"jax=={jax}", f"jaxlib<={jax}"),
                             constraints=tuple(limits))
    return install


def measure(package: str, release: str, python: tuple[int, int], jax: list[str],
            how: smoke.Settings) -> dict[str, object] | str:
    """One row of the table, or why there is none."""
    found = newest_that_imports(jax, install_of(package, release), str, Release(package, release),
                                smoke.Target(python, smoke.machine_platform() or "linux/amd64"), how,
                                table=os.devnull)
    if found.how != IMPORT:
        return f"not proved: {found.reason}"
    verdicts = dict(found.tried)
    ran = next(iter(verdicts.values()))
    row: dict[str, object] = {
        "python": ran.python, "proved": datetime.datetime.now(datetime.timezone.utc).date().isoformat(),
        "last_imports": found.chosen, "first_fails": None, "fails_with": "",
        "newest_tried": jax[0], "tries": len(found.tried)}
    if found.failed is not None:
        candidate, verdict = found.failed
        row["first_fails"] = candidate
        row["fails_with"] = f"{verdict.step}: {verdict.reason}"
    if found.chosen is not None:
        kept = ("jax", "jaxlib", "numpy", "scipy", canonicalize_name(package))
        row["installed"] = {n: v for n, v in verdicts[found.chosen].installed if canonicalize_name(n) in kept}
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", default="numpyro")
    parser.add_argument("--from", dest="low", required=True)
    parser.add_argument("--to", dest="high", required=True)
    parser.add_argument("--python", action="append", required=True, metavar="X.Y")
    parser.add_argument("--output", default=import_table.PATH)
    args = parser.parse_args(argv)
    index = Index(index_urls())
    how = smoke.settings()
    try:
        with open(args.output, encoding="utf-8") as f:
            table = json.load(f)
    except FileNotFoundError:
        table = {}
    table["about"] = ("package -> release -> Python -> the newest jax that imports the release and the "
                      "first newer one that does not, measured by scripts/build_import_table.py")
    rows = table.setdefault("packages", {}).setdefault(canonicalize_name(args.package), {})
    for text in args.python:
        python = tuple(int(p) for p in text.split("."))[:2]
        if isinstance(pythons.find(python, how.python_downloads), str):  # type: ignore[arg-type]
            print(f"no Python {text} here: skipped", file=sys.stderr)
            continue
        for release in releases(index, args.package, args.low, args.high):
            jax = candidates(index, args.package, release, python)  # type: ignore[arg-type]
            row = jax if isinstance(jax, str) else measure(args.package, release, python, jax, how)  # type: ignore[arg-type]
            if isinstance(row, str):
                print(f"{args.package} {release} on Python {text}: {row}", file=sys.stderr)
                continue
            print(f"{args.package} {release} on Python {row['python']}: imports up to jax "
                  f"{row['last_imports']}; {row['first_fails'] or 'no break'} {row['fails_with']} "
                  f"({row['tries']} tries)", file=sys.stderr)
            rows.setdefault(release, {})["{}.{}".format(*python)] = row
    table["packages"][canonicalize_name(args.package)] = dict(sorted(rows.items(), key=lambda kv: Version(kv[0])))
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump(table, f, indent=1, sort_keys=False)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

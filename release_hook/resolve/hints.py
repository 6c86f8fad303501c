"""What a refusal suggests instead: a release whose whole chain installs in the image.

"Newest that fits" must not point at a release the tool then refuses (numpyro 0.20.0 declares
Python >=3.9 but needs jax >=0.7.0, which needs 3.11): the resolver is asked for the newest
release of the package that installs with everything it requires, for the image's Python and
platform; where none does, the oldest Python that would take the requested release is named.
Without a resolver (--offline, --no-verify) each release's own needs are walked instead, a few
releases deep.
"""
from __future__ import annotations

from typing import Callable, Sequence

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from release_hook.errors import UserError
from release_hook.resolve import solver
from release_hook.resolve.image import Target

PYTHONS = ((3, 9), (3, 10), (3, 11), (3, 12), (3, 13), (3, 14))
WALKED = 8  # releases whose requirements are read, newest first, without a resolver


def newest_installing(package: str, target: Target, resolver: solver.Resolver) -> Version | None:
    """The newest release of `package` that installs with its whole chain on `target`."""
    answer = solver.ask(solver.Ask((package,), target), resolver)
    return answer.version_of(package) if answer.state == "installs" else None


def python_that_takes(requirement: str, target: Target, resolver: solver.Resolver) -> tuple[int, int] | None:
    """The oldest Python (of those current) on which `requirement` installs, else None."""
    for python in PYTHONS:
        if python <= target.python:
            continue
        answer = solver.ask(solver.Ask((requirement,), Target(python, target.platform, target.arch,
                                                               target.glibc)), resolver)
        if answer.state == "installs":
            return python
    return None


def walked(package: str, releases: Sequence[Version], requires_of: Callable[[str, Version], Sequence[str]],
           fits: Callable[[str, str], bool]) -> Version | None:
    """Without a resolver: the newest of `releases` (ascending) whose jax and jaxlib
    requirements have a release that fits the image (`fits(project, specifier)`)."""
    for version in list(reversed(releases))[:WALKED]:
        try:
            lines = requires_of(package, version)
        except UserError:
            continue
        if all(fits(name, spec) for name, spec in _needs(lines)):
            return version
    return None


def _needs(lines: Sequence[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for line in lines:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if canonicalize_name(req.name) in ("jax", "jaxlib") and (req.marker is None or req.marker.evaluate({"extra": ""})):
            out.append((canonicalize_name(req.name), str(req.specifier)))
    return out


def suggestion(package: str, version: str, target: Target | None, resolver: solver.Resolver | None,
               fallback: Callable[[], Version | None]) -> str:
    """`; newest that installs there: 0.19.0`, or what base image would take `version`."""
    found: Version | None = None
    if target is not None and resolver is not None:
        found = newest_installing(package, target, resolver)
    else:
        found = fallback()
    if found is not None:
        return f"; newest {package} that installs there: {found}"
    if target is not None and resolver is not None:
        python = python_that_takes(f"{package}=={version}", target, resolver)
        if python is not None:
            return (f"; no release of {package} installs there; {package} {version} installs on Python "
                    f"{python[0]}.{python[1]} (a base image such as python:{python[0]}.{python[1]}-slim)")
    return f"; no release of {package} installs there"

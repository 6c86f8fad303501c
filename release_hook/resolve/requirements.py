"""A release's own jax and jaxlib requirements: from its packaging metadata in the repository
(pyproject.toml, setup.cfg, or setup.py read statically, never run) or from the package index."""
from __future__ import annotations

import configparser
import os
from typing import TYPE_CHECKING, Callable, Optional

from release_hook import cache
from release_hook.config import read_toml
from release_hook.digests import hexdigest
from release_hook.errors import UserError
from release_hook.resolve.index_errors import IndexUnavailable, NotOnIndex
from release_hook.names import normalize as canonicalize_name
from release_hook.records import NamedTuple

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

ReadFile = Callable[[str], Optional[bytes]]
METADATA_FILES = ("pyproject.toml", "setup.cfg", "setup.py")
WANTED = ("jax", "jaxlib")


class RawRequirements(NamedTuple):
    """The release's requirement lines as written, before parsing."""

    lines: tuple[str, ...]
    source: str  # where they were read, for the plan
    requires_python: str | None = None  # the release's own Requires-Python / python_requires

    def parse(self) -> ReleaseRequirements:
        return ReleaseRequirements(_select(list(self.lines), self.source), self.source)


class ReleaseRequirements(NamedTuple):
    specifiers: dict[str, SpecifierSet]  # jax / jaxlib -> what the release needs
    source: str  # where they were read, for the plan

    def text(self, package: str) -> str:
        spec = self.specifiers.get(package)
        return f"{package}{spec}" if spec is not None and str(spec) else f"{package} (any)"


def _select(lines: list[str], where: str) -> dict[str, SpecifierSet]:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import SpecifierSet

    found: dict[str, SpecifierSet] = {}
    optional: dict[str, SpecifierSet] = {}
    for line in lines:
        try:
            req = Requirement(line)
        except InvalidRequirement as e:
            raise UserError(f"cannot parse requirement {line!r}: {str(e).splitlines()[0]}", where) from None
        name = canonicalize_name(req.name)
        if name not in WANTED:
            continue
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            found[name] = found.get(name, SpecifierSet()) & req.specifier
            continue
        # jax behind an extra (dm-haiku: `jax>=0.4.28; extra == "jax"`): installed beside the
        # release, that jax is what the release was built for, so the extra's bound applies
        from release_hook.resolve.pairing import extras_in

        for extra in extras_in(req.marker):
            if req.marker.evaluate({"extra": extra}):
                optional[name] = optional.get(name, SpecifierSet()) & req.specifier
                break
    return {**optional, **found}



def declared(read: ReadFile, package: str) -> RawRequirements | None:
    """The first metadata file in the repository that declares `package`, and its requirements."""
    for name in METADATA_FILES:
        data = read(name)
        if data is None:
            continue
        project, lines, python = _read_kept(name, data, name)
        if project is not None and canonicalize_name(project) == canonicalize_name(package):
            return RawRequirements(tuple(lines), name, python)
    return None


def _read_kept(kind: str, data: bytes, where: str) -> tuple[str | None, list[str], str | None]:
    """What a metadata file declares, kept by its content: a bump's hook reads the release's
    metadata each time, and importing tomllib (or ast, for a setup.py) and parsing cost it 3 ms."""
    key = f"metadata {kind} {hexdigest(data)}"
    enabled = not os.environ.get("RELEASE_HOOK_NO_CACHE")
    known = cache.get(key, None) if enabled else None
    if isinstance(known, list) and len(known) == 3 and isinstance(known[1], list):
        return known[0], [str(line) for line in known[1]], known[2]
    found = _READERS[kind](data.decode("utf-8", "replace"), where)
    if enabled:
        cache.put(key, list(found))
    return found


def from_file(read: ReadFile, path: str, package: str) -> RawRequirements:
    data = read(path)
    if data is None:
        raise UserError("no such requirements file", path)
    kind = next((k for k in METADATA_FILES if path.endswith(k)), None)
    if kind is None:
        raise UserError("requirements must be a pyproject.toml, setup.cfg or setup.py, or 'index'", path)
    _, lines, python = _read_kept(kind, data, path)
    return RawRequirements(tuple(lines), path, python)


def from_index(index: object, package: str, version: str) -> RawRequirements:
    from packaging.version import Version

    meta = index.metadata(package, Version(version))  # type: ignore[attr-defined]
    return RawRequirements(tuple(meta.requires_dist), f"{package} {version} metadata on the package index",
                           meta.requires_python)


ELSEWHERE = "--requirements PATH reads them from the release's pyproject.toml, setup.cfg or setup.py"


class ReleaseUnavailable(IndexUnavailable):
    """The index could not say what the release requires (down, or --offline without a cache):
    still "unavailable" to a push, which may let it by; the command line adds the next step
    that only the release's requirements have."""


def for_release(read: ReadFile, index: Callable[[], object], source: str | None, package: str,
                version: str) -> RawRequirements:
    """The release's requirements from where the settings say: a metadata file, the index, or
    (unset) the repository's own metadata when it declares the package, else the index.

    A release is bumped and tagged before it is uploaded: while the index does not have it yet,
    the repository's own metadata answers when the repository is that package."""
    if source is None:
        found = declared(read, package)
        if found is not None:
            return found
    elif source != "index":
        return from_file(read, source, package)
    try:
        return from_index(index(), package, version)
    except NotOnIndex as e:
        own = declared(read, package)
        if own is None:
            raise UserError(f"{e.message}; if it is not uploaded yet, {ELSEWHERE}") from None
        return RawRequirements(own.lines, f"{own.source}, as {package} {version} is not on the package "
                               "index yet", own.requires_python)
    except IndexUnavailable as e:  # still "unavailable" to a push, which may let it by
        raise ReleaseUnavailable(e.message, e.path, e.line) from None


# -- the three metadata formats ----------------------------------------------------------------

def _pyproject(text: str, where: str) -> tuple[str | None, list[str], str | None]:
    project = read_toml(text, where).get("project", {})
    python = project.get("requires-python")
    return (project.get("name"), [str(x) for x in project.get("dependencies", [])],
            str(python) if python else None)


def _setup_cfg(text: str, where: str) -> tuple[str | None, list[str], str | None]:
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=where)
    except configparser.Error as e:
        raise UserError(f"cannot read: {str(e).splitlines()[0]}", where) from None
    name = parser.get("metadata", "name", fallback=None)
    raw = parser.get("options", "install_requires", fallback="")
    lines = [ln.split("#", 1)[0].strip() for ln in raw.splitlines()]
    python = parser.get("options", "python_requires", fallback="").strip() or None
    return name, [ln for ln in lines if ln], python


def _setup_py(text: str, where: str) -> tuple[str | None, list[str], str | None]:
    from release_hook.resolve import setup_py  # ast: 1.6 ms that a release with pyproject.toml never needs

    return setup_py.read(text, where)


_READERS = {"pyproject.toml": _pyproject, "setup.cfg": _setup_cfg, "setup.py": _setup_py}

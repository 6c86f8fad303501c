"""jax <-> jaxlib: which pairs import together, from each jax release's own metadata.

A pair is good when
- jaxlib satisfies what jax requires of it for the extras the file installs (`jax[cuda12]`
  needs `jaxlib ==0.4.25`), and is not older than jax's declared minimum jaxlib (the
  `minimum-jaxlib` extra; for old sdist-only releases `_minimum_jaxlib_version` in jax/version.py);
- jaxlib is not newer than jax: a rule no metadata declares. It lives only in jax's runtime
  check, `check_jaxlib_version` in jax/_src/lib/__init__.py (from jax 0.3.0): "jaxlib version X
  is newer than and incompatible with jax version Y" (versions compared by their numeric prefix);
- every extra the file installs exists in that jax release (Provides-Extra, or a Requires-Dist
  marker naming it; `cuda12_pip` and `cuda12-pip` are one name, PEP 685);
- the plugin and pjrt packages the file pins satisfy what that extra requires of them
  (`jax-cuda12-plugin ==0.4.22 ; extra == 'cuda12'`), and a tagged jaxlib build is the one the
  extra names (`jax[cuda12_pip]` installs `jaxlib ==X+cuda12.cudnn89`).
"""
from __future__ import annotations

import re
from typing import Iterable

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from release_hook.names import normalize as canonicalize_name
from release_hook.records import NamedTuple

RUNTIME_CHECK_FROM = Version("0.3.0")  # the first jax with check_jaxlib_version's upper bound
_EXTRA_IN_MARKER = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]""")


def extras_in(marker: object) -> list[str]:
    """The extras a requirement's marker names (`extra == "cuda12"`), as written."""
    return _EXTRA_IN_MARKER.findall(str(marker))


def normalize_extra(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class JaxRelease(NamedTuple):
    """What one jax release says about its jaxlib and plugins."""

    version: Version
    requires: tuple[Requirement, ...]
    extras: frozenset[str]  # normalized; empty when the metadata lists none (old sdists)
    minimum_jaxlib: Version | None

    @property
    def declares_extras(self) -> bool:
        return bool(self.extras)


def read_jax(version: Version, requires_dist: Iterable[str], provides_extra: Iterable[str],
             version_py: str | None = None) -> JaxRelease:
    """From a release's Requires-Dist and Provides-Extra; `version_py` is jax/version.py of
    its sdist, read when the metadata has no Requires-Dist (jax before wheels carried them)."""
    requires = []
    extras = {normalize_extra(e) for e in provides_extra}
    minimum = None
    for line in requires_dist:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        requires.append(req)
        if req.marker is not None:
            extras.update(normalize_extra(e) for e in extras_in(req.marker))
            if canonicalize_name(req.name) == "jaxlib" and req.marker.evaluate({"extra": "minimum-jaxlib"}):
                exact = next((s.version for s in req.specifier if s.operator == "=="), None)
                minimum = Version(exact) if exact else None
    if minimum is None and version_py:
        m = re.search(r"^_minimum_jaxlib_version\s*=\s*['\"]([^'\"]+)['\"]", version_py, re.M)
        minimum = Version(m.group(1)) if m else None
    extras.discard("minimum-jaxlib")
    return JaxRelease(version, tuple(requires), frozenset(extras), minimum)


def requires_txt(text: str) -> tuple[list[str], list[str]]:
    """Requires-Dist lines and extras from an sdist's `jax.egg-info/requires.txt` (setuptools'
    form: bare lines, then `[extra]`, `[extra:marker]` or `[:marker]` sections), for the releases
    whose PKG-INFO has none: jax 0.3.16's `[cuda11_cudnn82]` asks `jaxlib==0.3.15+cuda11.cudnn82`."""
    lines: list[str] = []
    extras: list[str] = []
    extra, marker = "", ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            extra, _, marker = line[1:-1].partition(":")
            extra = extra.strip()
            if extra and extra not in extras:
                extras.append(extra)
            continue
        conditions = [f'extra == "{extra}"'] if extra else []
        conditions += [f"({marker.strip()})"] if marker.strip() else []
        lines.append(f"{line}; {' and '.join(conditions)}" if conditions else line)
    return lines, extras


def _applies(req: Requirement, extras: Iterable[str]) -> bool:
    if req.marker is None:
        return True
    if req.marker.evaluate({"extra": "minimum-jaxlib"}) and not req.marker.evaluate({"extra": ""}):
        return False
    return any(req.marker.evaluate({"extra": normalize_extra(e)}) for e in extras)


def requirement_of(jax: JaxRelease, package: str, extras: Iterable[str]) -> SpecifierSet:
    """What jax (with these extras) requires of `package`, local tags dropped: the tag of a
    `jaxlib ==0.4.25+cuda12.cudnn89` is a build, chosen per image elsewhere."""
    spec = SpecifierSet()
    extras = list(extras)
    for req in jax.requires:
        if canonicalize_name(req.name) == package and _applies(req, extras):
            spec &= SpecifierSet(",".join(f"{s.operator}{s.version.split('+')[0]}" for s in req.specifier))
    return spec


def jaxlib_tags(jax: JaxRelease, extras: Iterable[str]) -> set[str]:
    """The local tags an extra asks of jaxlib (`jax[cuda12_pip]` 0.4.25: `+cuda12.cudnn89`);
    empty when it asks for none."""
    extras = list(extras)
    return {s.version.split("+", 1)[1] for req in jax.requires
            if canonicalize_name(req.name) == "jaxlib" and req.marker is not None and _applies(req, extras)
            for s in req.specifier if "+" in s.version}


def jaxlib_bounds(jax: JaxRelease, extras: Iterable[str]) -> SpecifierSet:
    """Every bound jax declares on jaxlib, its minimum included."""
    spec = requirement_of(jax, "jaxlib", extras)
    if jax.minimum_jaxlib is not None:
        spec &= SpecifierSet(f">={jax.minimum_jaxlib}")
    return spec


def _numeric(v: Version) -> tuple[int, ...]:
    return v.release


def runtime_allows(jax: Version, jaxlib: Version) -> bool:
    """jax's import-time check (jax/_src/lib/__init__.py, check_jaxlib_version): a jaxlib
    newer than jax raises "jaxlib version X is newer than and incompatible with jax version Y"."""
    return jax < RUNTIME_CHECK_FROM or _numeric(jaxlib) <= _numeric(jax)


def missing_extras(jax: JaxRelease, extras: Iterable[str]) -> list[str]:
    """The extras the file installs that this jax release does not have (none are known
    missing when its metadata lists no extras at all)."""
    if not jax.declares_extras:
        return []
    return sorted(e for e in extras if normalize_extra(e) not in jax.extras)


def pair_problem(jax: JaxRelease, jaxlib: Version | None, extras: Iterable[str],
                 plugins: Iterable[tuple[str, Version]] = ()) -> str | None:
    """Why jax and jaxlib (and the plugin packages pinned beside them) do not go together;
    None when they do."""
    extras = sorted(extras)
    missing = missing_extras(jax, extras)
    if missing:
        return f"jax {jax.version} has no extra {', '.join(missing)}"
    if jaxlib is not None:
        if not runtime_allows(jax.version, jaxlib):
            return f"jaxlib {jaxlib} is newer than jax {jax.version} (jax refuses it at import)"
        bounds = jaxlib_bounds(jax, extras)
        if not bounds.contains(jaxlib, prereleases=True):
            return f"jax {jax.version}{_extras(extras)} needs jaxlib{bounds}, not {jaxlib}"
    for package, version in plugins:
        need = requirement_of(jax, package, extras)
        if str(need) and not need.contains(version, prereleases=True):
            return f"jax {jax.version}{_extras(extras)} needs {package}{need}, not {version}"
    return None


def _extras(extras: list[str]) -> str:
    return f"[{','.join(extras)}]" if extras else ""


def plugin_requirements(requires_dist: Iterable[str], extras: Iterable[str]) -> list[tuple[str, SpecifierSet]]:
    """What a plugin package's own metadata requires of the other jax-cudaNN packages
    (jax-cuda12-plugin 0.4.22 requires jax-cuda12-pjrt ==0.4.22, which was never published)."""
    extras = list(extras)
    out = []
    for line in requires_dist:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        name = canonicalize_name(req.name)
        if not re.fullmatch(r"jax-cuda\d+-(plugin|pjrt)", name):
            continue
        if req.marker is None or req.marker.evaluate({"extra": ""}) or _applies(req, extras):
            out.append((name, req.specifier))
    return out


def lacks_extras(requires_dist: Iterable[str], provides_extra: Iterable[str], extras: Iterable[str]) -> list[str]:
    """The extras asked of a release that its metadata does not name (in Provides-Extra or a
    Requires-Dist marker): pip and uv install it without them and only warn, so an old
    jax-cuda12-plugin pinned `[with_cuda]` would install without its CUDA libraries."""
    named = {normalize_extra(e) for e in provides_extra}
    for line in requires_dist:
        named.update(normalize_extra(e) for e in extras_in(line.partition(";")[2]))
    return sorted(e for e in extras if normalize_extra(e) not in named)


def extra_plugins(jax: JaxRelease, extras: Iterable[str]) -> list[str]:
    """The plugin packages an extra of this jax release installs (`jax-cuda12-plugin`...)."""
    extras = list(extras)
    return sorted({canonicalize_name(r.name) for r in jax.requires
                   if r.marker is not None and _applies(r, extras)
                   and re.fullmatch(r"jax-cuda\d+-(plugin|pjrt)", canonicalize_name(r.name))})

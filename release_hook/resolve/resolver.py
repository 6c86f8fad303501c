"""Decide every pin's target: --version and --pin first, then the release's requirements, the
versions that really exist, and the CUDA build each image can run."""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Optional, Sequence

from packaging.version import Version

from release_hook.errors import UserError
from release_hook.names import normalize as canonicalize_name
from release_hook.pins import Pin, Scan
from release_hook.resolve import cuda
from release_hook.request import policy_function
from release_hook.resolve.targets import PLUGINS, Resolution, Targets, public

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

    from release_hook.config import Config
    from release_hook.resolve.index import Index
    from release_hook.resolve.requirements import RawRequirements, ReleaseRequirements
    from release_hook.request import Request

ReadFile = Callable[[str], Optional[bytes]]
MAX_JAX_TRIES = 12  # jax releases looked at (their metadata downloaded) per jaxlib
PAIR_TTL = 600.0  # as long as the index's release lists are trusted (see index.PAGE_TTL)


def resolve(config: Config, request: Request, scans: Sequence[Scan], partial: bool = False,
            root_files: ReadFile | None = None) -> Resolution:
    """Targets for every pin. With `partial`, what cannot be decided offline is listed, not raised."""
    policy_of = policy_function(config, request)
    read = root_files or _disk_reader(config.root)
    shared = _Shared(config, request, read)
    by_policy: dict[str, Targets] = {}
    for policy in sorted({policy_of(s.path) for s in scans}):
        pins = [p for s in scans if policy_of(s.path) == policy for p in s.pins]
        try:
            by_policy[policy] = _Policy(shared, policy, pins).run()
        except UserError as e:
            from release_hook.resolve.index import IndexUnavailable

            if not (partial and isinstance(e, IndexUnavailable)):
                raise
            missing = {p.package for p in pins if p.package != config.package}
            by_policy[policy] = Targets(config.package, request.version, {},
                                        unresolved={m: str(e) for m in missing}, policy=policy)
    return Resolution(by_policy, policy_of)


def _disk_reader(root: str) -> ReadFile:
    def read(path: str) -> bytes | None:
        try:
            with open(os.path.join(root, path), "rb") as f:
                return f.read()
        except OSError:
            return None

    return read


@dataclass
class _Shared:
    """What every policy reads once: the index, the release's requirements."""

    config: Config
    request: Request
    read: ReadFile
    _index: Index | None = None
    _raw: RawRequirements | None = None
    _requirements: ReleaseRequirements | None = None
    releases_cache: dict[str, list[Version]] = field(default_factory=dict)

    def index_urls(self) -> list[str]:
        from release_hook.resolve.pipconf import index_urls

        return index_urls()

    @property
    def index(self) -> Index:
        if self._index is None:
            from release_hook.resolve.index import Index

            self._index = Index(self.index_urls(), offline=self.request.offline)
        return self._index

    def raw_requirements(self) -> RawRequirements:
        if self._raw is None:
            from release_hook.resolve import requirements as reqs

            source = self.request.requirements or self.config.requirements
            package, version = self.config.package, self.request.version
            if source is None:
                self._raw = reqs.declared(self.read, package)
                source = "index"
            if self._raw is None:
                if source == "index":
                    self._raw = reqs.from_index(self.index, package, version)
                else:
                    self._raw = reqs.from_file(self.read, str(source), package)
        return self._raw

    def requirements(self) -> ReleaseRequirements:
        if self._requirements is None:
            self._requirements = self.raw_requirements().parse()
        return self._requirements

    def released(self, project: str, spec: SpecifierSet | None = None) -> list[Version]:
        """Versions on the index that satisfy spec: not yanked (unless pinned exactly), no
        pre-releases unless the specifier asks for one."""
        if project not in self.releases_cache:
            self.releases_cache[project] = [r.version for r in self.index.releases(project)
                                            if not r.yanked or _exact(spec, r.version)]
        if spec is None:
            return [v for v in self.releases_cache[project] if not v.is_prerelease]
        allow_pre = bool(spec.prereleases)
        return [v for v in self.releases_cache[project] if spec.contains(v, prereleases=allow_pre)]


def _lower_bound_allows(spec: SpecifierSet, version: Version) -> bool:
    """Whether the lower bounds alone of spec allow version (upper bounds are checked later)."""
    for s in spec:
        if s.operator in (">=", "==", "~=", "===") and "*" not in s.version:
            if version < Version(s.version.split("+")[0]):
                return False
        elif s.operator == ">" and version <= Version(s.version):
            return False
    return True


def _exact(spec: SpecifierSet | None, version: Version) -> bool:
    """A yanked release stays available to a requirement that pins it exactly (PEP 592)."""
    return spec is not None and any(s.operator in ("==", "===") and "*" not in s.version and Version(s.version) == version
               for s in spec)


@dataclass
class _Policy:
    shared: _Shared
    policy: str
    pins: list[Pin]

    def __post_init__(self) -> None:
        c = self.shared.config
        self.package = canonicalize_name(c.package)
        self.explicit = dict(self.shared.request.pins)
        self.needed = {p.package for p in self.pins if p.package != self.package}
        self.sources: dict[str, str] = {name: "--pin" for name in self.explicit}
        self.requirement_text: dict[str, str] = {}
        self.unreachable: dict[str, str] = {}  # find-links pages that did not answer
        given = set(self.explicit) | (set(PLUGINS) if "jaxlib" in self.explicit else set())
        # Everything given on the command line: read nothing from anywhere but the snapshot.
        # (--offline still reads, from the cache only.)
        self.fetch = not self.needed <= given

    def order(self, versions: Iterable[Version]) -> list[Version]:
        return sorted(versions, reverse=self.policy == "latest")

    def run(self) -> Targets:
        request = self.shared.request
        versions: dict[str, str] = {}
        for name in self.needed:
            if name in self.explicit:
                versions[name] = self.explicit[name]
        jaxlib_pins = [p for p in self.pins if p.package == "jaxlib"]
        plugin_pins = [p for p in self.pins if p.package in PLUGINS]
        wants_jaxlib = bool(jaxlib_pins or plugin_pins) and "jaxlib" not in self.explicit
        wants_jax = "jax" in self.needed and "jax" not in self.explicit
        memo = self.memo_key(jaxlib_pins + plugin_pins) if wants_jax or wants_jaxlib else None
        if memo is not None:
            from release_hook import cache

            known = cache.get(memo, None if request.offline else PAIR_TTL)
            if isinstance(known, dict) and isinstance(known.get("sources"), dict):
                known["sources"] = {k: f"{v} (decided earlier, cached)" for k, v in known["sources"].items()}
                try:
                    return Targets(self.package, request.version, **known)
                except TypeError:
                    pass  # not trusted: decided again below
        if wants_jax or wants_jaxlib:
            jax, jaxlib = self.choose_pair(wants_jax, wants_jaxlib, jaxlib_pins, plugin_pins)
            if wants_jax:
                versions["jax"] = str(jax)
            if wants_jaxlib:
                versions["jaxlib"] = str(jaxlib)
        targets = self.finish(versions, jaxlib_pins, plugin_pins)
        if memo is not None:
            from release_hook import cache

            cache.put(memo, {"versions": dict(targets.versions), "cuda_tags": dict(targets.cuda_tags),
                             "pages": dict(targets.pages), "sources": dict(targets.sources),
                             "requirements": dict(targets.requirements), "policy": targets.policy})
        return targets

    def memo_key(self, pins: list[Pin]) -> str:
        """Everything the choice of a jax/jaxlib pair depends on, as one string: the same
        question asked again (every bump asks it) is answered from the cache."""
        raw = self.shared.raw_requirements()
        request = self.shared.request
        shape = sorted({(p.package, tuple(sorted(p.extras)), p.image, "+" in p.version,
                         tuple(c.text for _, c in p.addresses)) for p in self.pins})
        return json.dumps(["pair", self.package, self.policy, raw.source, raw.lines,
                           sorted(self.explicit.items()), shape,
                           request.cuda or self.shared.config.cuda, self.shared.index_urls()])

    def finish(self, versions: dict[str, str], jaxlib_pins: list[Pin], plugin_pins: list[Pin]) -> Targets:
        request = self.shared.request
        tags, pages = {}, {}
        if "jaxlib" in versions and "+" not in versions["jaxlib"]:
            chosen = Version(versions["jaxlib"])
            for image in {p.image for p in jaxlib_pins + plugin_pins}:
                tag, page = self.build_for(chosen, image, [p for p in jaxlib_pins if p.image == image],
                                           [p for p in plugin_pins if p.image == image])
                if tag is not None:
                    tags[image] = tag
                if page:
                    pages[image] = page
        return Targets(self.package, request.version, versions, tags, pages, self.sources,
                       policy=self.policy, requirements=self.requirement_text)

    # -- jax and jaxlib as a pair --------------------------------------------------------------

    def choose_pair(self, wants_jax: bool, wants_jaxlib: bool, jaxlib_pins: list[Pin],
                    plugin_pins: list[Pin]) -> tuple[Version | None, Version | None]:
        """jaxlib first, in policy order, among the versions with a build for every image (known
        locally); then the jax that accepts it. jax's own demands on jaxlib come from its
        metadata, one download per release looked at, so jax is searched, not scanned."""
        from packaging.specifiers import SpecifierSet

        shared = self.shared
        reqs = shared.requirements()
        need_jax = reqs.specifiers.get("jax", SpecifierSet())
        need_jaxlib = reqs.specifiers.get("jaxlib", SpecifierSet())
        self.requirement_text = {"jax": reqs.text("jax"), "jaxlib": reqs.text("jaxlib")}
        if wants_jax:
            jax_candidates = sorted(shared.released("jax", need_jax))
            if not jax_candidates:
                raise UserError(f"no released jax satisfies {reqs.text('jax')} (from {reqs.source})")
            self.sources["jax"] = f"{self.policy} of {reqs.text('jax')}, {shared.index.answered.get('jax', 'index')}"
        elif "jax" in self.explicit:
            jax_candidates = [Version(self.explicit["jax"])]
        else:
            jax_candidates = []
        extras = {e for p in self.pins if p.package == "jax" for e in p.extras}
        if not wants_jaxlib:
            jaxlib = Version(public(self.explicit["jaxlib"])) if "jaxlib" in self.explicit else None
            if jaxlib is None:
                return self.order(jax_candidates)[0], None
            jax = self.jax_for(jaxlib, jax_candidates, extras)
            if jax is None:
                raise UserError(f"no released jax satisfying {reqs.text('jax')} accepts jaxlib {jaxlib}")
            return jax, None
        images = {p.image for p in jaxlib_pins + plugin_pins}
        tried: list[str] = []
        allow_pre = bool(need_jaxlib.prereleases)
        for jaxlib in self.order(v for v in self.jaxlib_versions() if need_jaxlib.contains(v, prereleases=allow_pre)):
            try:
                for image in images:
                    self.build_for(jaxlib, image, [p for p in jaxlib_pins if p.image == image],
                                   [p for p in plugin_pins if p.image == image], probe=True)
            except cuda.NoBuild as e:
                tried.append(str(e))
                continue
            if not jax_candidates:
                jax = None
            else:
                jax = self.jax_for(jaxlib, jax_candidates, extras)
                if jax is None:
                    tried.append(f"no jax satisfying {reqs.text('jax')} accepts jaxlib {jaxlib}")
                    continue
            self.sources["jaxlib"] = (f"{self.policy} of {need_jaxlib or 'any'} with a build for "
                                      "every image" + (f", accepted by jax {jax}" if jax else ""))
            return jax, jaxlib
        raise UserError(f"no jax/jaxlib pair satisfies the release ({reqs.text('jax')}, "
                        f"{reqs.text('jaxlib')}) with a build for every image: {tried[0] if tried else ''}")

    def jax_for(self, jaxlib: Version, candidates: list[Version], extras: set[str]) -> Version | None:
        """The jax (lowest or highest, per policy) that accepts this jaxlib.

        A jax release's minimum jaxlib never decreases with its version, so the releases whose
        minimum allows `jaxlib` are a prefix of the sorted list, found by bisection; within it,
        the first in policy order whose full demands (upper bounds, extras, plugins) hold wins.
        """
        from release_hook.resolve.cuda import NoBuild

        lo, hi = 0, len(candidates)
        while lo < hi:
            mid = (lo + hi) // 2
            low = self.jax_needs_jaxlib(candidates[mid], extras)
            if _lower_bound_allows(low, jaxlib):
                lo = mid + 1
            else:
                hi = mid
        for jax in self.order(candidates[:lo])[:MAX_JAX_TRIES]:
            if not self.jax_needs_jaxlib(jax, extras).contains(jaxlib, prereleases=True):
                continue
            try:
                self.plugin_allowed(jax, jaxlib, extras)
            except (UserError, NoBuild):
                continue
            return jax
        return None

    def jaxlib_versions(self) -> list[Version]:
        """Every jaxlib public version known: the index, the find-links pages, the snapshot."""
        found = set(self.shared.released("jaxlib"))
        for v in cuda.snapshot():
            found.add(Version(v))
        for url in self.page_urls() if self.fetch else []:
            listed = self.read_page(url)
            found.update(Version(public(v)) for v in listed or ())
        return sorted(found)

    def read_page(self, url: str) -> dict[str, str] | None:
        """A find-links page's listing; None when it cannot be reached (the snapshot answers)."""
        from release_hook.resolve.index import IndexUnavailable

        try:
            return self.shared.index.find_links(url)
        except IndexUnavailable as e:
            self.unreachable[url] = e.message
            return None

    def jax_needs_jaxlib(self, jax: Version, extras: set[str]) -> SpecifierSet:
        """What jax itself asks of jaxlib: its requirements (for the extras the file installs),
        and its declared minimum jaxlib (the `minimum-jaxlib` extra, or, for old sdist-only
        releases without Requires-Dist, `_minimum_jaxlib_version` in jax/version.py)."""
        from packaging.requirements import InvalidRequirement, Requirement
        from packaging.specifiers import SpecifierSet

        lines = self.shared.index.requires_dist("jax", jax)
        spec = SpecifierSet()
        minimum = None
        for line in lines:
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue
            if canonicalize_name(req.name) != "jaxlib":
                continue
            untagged = SpecifierSet(",".join(str(s) for s in req.specifier if "+" not in s.version))
            if req.marker is not None and req.marker.evaluate({"extra": "minimum-jaxlib"}):
                minimum = next((s.version for s in req.specifier if s.operator == "=="), None)
            elif req.marker is None or any(req.marker.evaluate({"extra": e}) for e in extras):
                spec &= untagged
        if not lines:
            text = self.shared.index.sdist_member("jax", jax, "jax/version.py")
            m = re.search(r"^_minimum_jaxlib_version\s*=\s*['\"]([^'\"]+)['\"]", text or "", re.M)
            minimum = m.group(1) if m else None
        if minimum:
            spec &= SpecifierSet(f">={minimum}")
        return spec

    def plugin_allowed(self, jax: Version, jaxlib: Version, extras: set[str]) -> None:
        from packaging.requirements import InvalidRequirement, Requirement

        for line in self.shared.index.requires_dist("jax", jax):
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue
            name = canonicalize_name(req.name)
            if name in PLUGINS and req.marker is not None and any(
                    req.marker.evaluate({"extra": e}) for e in extras):
                if not req.specifier.contains(jaxlib, prereleases=True):
                    raise UserError(f"jax {jax}[{','.join(sorted(extras))}] needs {req}, not {jaxlib}")

    # -- CUDA builds -----------------------------------------------------------------------------

    def page_urls(self) -> list[str]:
        urls: list[str] = []
        for pin in self.pins:
            for _, chars in pin.addresses:
                base = chars.text.rsplit("/", 1)[-1]
                if base in cuda.PAGES and not chars.computed and not chars.undefined:
                    head = chars.text[: -len(base)]
                    urls.extend(head + page for page in cuda.PAGES)
        return sorted(set(urls))

    def image_cuda(self, image: str) -> cuda.Cuda | None:
        found = cuda.image_cuda(image)
        if found is None:
            given = self.shared.request.cuda or self.shared.config.cuda
            if given:
                found = cuda.parse_cuda(given)
        return found

    def builds(self, version: Version) -> tuple[list[str], str, str]:
        """(tags, page, source) of the CUDA builds of a jaxlib version."""
        for url in self.page_urls() if self.fetch else []:
            listed = self.read_page(url)
            if listed is None:
                continue
            tags = [v.split("+", 1)[1] for v, page in listed.items()
                    if "+" in v and public(v) == str(version) and page == url.rsplit("/", 1)[-1]]
            if tags:
                return tags, url.rsplit("/", 1)[-1], self.shared.index.answered.get(url, "find-links page")
        known = cuda.snapshot().get(str(version))
        if known:
            why = "; ".join(sorted(set(self.unreachable.values())))
            source = "snapshot" + (f", because {why}" if why else "")
            return list(known["tags"]), str(known["page"]), source  # type: ignore[call-overload]
        return [], "", "snapshot"

    def build_for(self, version: Version, image: str, jaxlib_pins: list[Pin], plugin_pins: list[Pin],
                  probe: bool = False) -> tuple[str | None, str]:
        """The jaxlib tag ("" for none) and find-links page for `image`, or an error."""
        try:
            return self._build_for(version, image, jaxlib_pins, plugin_pins, probe)
        except UserError as e:
            if e.path is None and (jaxlib_pins or plugin_pins):
                first = (jaxlib_pins or plugin_pins)[0]
                e.path, e.line = first.path, first.line
            raise

    def _build_for(self, version: Version, image: str, jaxlib_pins: list[Pin], plugin_pins: list[Pin],
                   probe: bool) -> tuple[str | None, str]:
        image_cuda = self.image_cuda(image)
        for pin in plugin_pins:
            if pin.package in self.explicit:
                continue  # taken as given
            cuda.check_plugin(pin.package, version, image_cuda, image)
            if self.fetch and version not in self.shared.released(pin.package):
                raise cuda.NoBuild(f"{pin.package} {version} is not on the package index")
        if not jaxlib_pins:
            return None, ""
        tagged = any("+" in p.version for p in jaxlib_pins)
        if version > cuda.LAST_TAGGED:
            cuda_elsewhere = plugin_pins or any(
                e.startswith("cuda") for p in self.pins if p.package == "jax" and p.image == image
                for e in p.extras)
            if tagged and not cuda_elsewhere:
                raise cuda.NoBuild(f"jaxlib {version} has no CUDA build of its own (from 0.4.30 CUDA "
                                   f"comes from jax-cuda12-plugin): pin the plugin, or jax[cuda12], "
                                   f"in {image}'s stage")
            if not probe:
                self.sources[f"build for {image}"] = "no tag: CUDA comes from the plugin packages"
            return "", ""
        if image_cuda is None and not tagged:
            return "", ""  # a CPU image with a CPU jaxlib
        if image_cuda is None:
            raise UserError(f"cannot tell the CUDA version of {image}: set [release_hook] cuda in "
                            "setup.cfg or pass --cuda")
        tags, page, source = self.builds(version)
        if not tags:
            raise cuda.NoBuild(f"jaxlib {version} has no known CUDA builds")
        tag = cuda.choose(version, tags, image_cuda, image)
        if not probe:
            self.sources[f"build for {image}"] = f"+{tag} for {image_cuda} ({source})"
        return tag, page

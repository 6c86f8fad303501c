"""Decide every pin's target: wires what is read once (sources.py), the image's view of the
index (view.py), jax's pairing rules (pairing.py), the jaxlib build and plugins per image
(builds.py), the policy's search (search.py), the remembered decision (memo.py) and the runtime
traps (traps.py) for each group of images, and returns the answers with what decided each (a
value, for `--explain`).

Images are grouped by policy, Python and platform: one jax/jaxlib pair per group, so two images
of one Python share their answer and an image of another Python gets its own.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Mapping, Sequence

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from release_hook.errors import UserError
from release_hook.names import normalize as canonicalize_name
from release_hook.pins import Note, Pin, Scan
from release_hook.request import policy_function
from release_hook.resolve import builds as jaxlib_builds
from release_hook.resolve import memo, pairing, search, traps
from release_hook.resolve.cuda import NoBuild
from release_hook.resolve.image import Image, images_of
from release_hook.resolve.sources import ReadFile, Sources, disk_reader
from release_hook.resolve.targets import PLUGINS, Resolution, Targets, public
from release_hook.resolve.view import View, python_accepts

if TYPE_CHECKING:
    from release_hook.config import Config
    from release_hook.request import Request


@dataclass(frozen=True, order=True)
class GroupKey:
    policy: str
    python: tuple[int, int] | None
    platform: str | None  # None: the build decides (an error once a choice depends on it)

    def __str__(self) -> str:
        py = f"{self.python[0]}.{self.python[1]}" if self.python else "unknown"
        return f"{self.policy}, Python {py}, {self.platform}"


def resolve(config: Config, request: Request, scans: Sequence[Scan], partial: bool = False,
            root_files: ReadFile | None = None) -> Resolution:
    """Targets for every pin. With `partial`, what cannot be decided offline is listed, not raised."""
    policy_of = policy_function(config, request)
    shared = Sources(config, request, root_files or disk_reader(config.root))
    members: dict[GroupKey, list[tuple[Pin, Image]]] = {}
    group_of: dict[tuple[str, int], object] = {}
    images: dict[tuple[str, int], Image] = {}
    texts = {s.path: s.text for s in scans}
    for scan in scans:
        if not scan.pins:
            continue
        stage_images = images_of(scan, config, request)
        for pin in scan.pins:
            image = stage_images[pin.stage]
            key = GroupKey(policy_of(scan.path), image.python, image.platform)
            members.setdefault(key, []).append((pin, image))
            group_of[(pin.path, pin.stage)] = key
            images[(pin.path, pin.stage)] = image
    groups: dict[object, Targets] = {}
    for key in sorted(members, key=lambda k: (k.policy, k.python or (0, 0), k.platform)):
        try:
            groups[key] = _Group(shared, key, members[key], texts).run()
        except UserError as e:
            from release_hook.resolve.index import IndexUnavailable

            if not (partial and isinstance(e, IndexUnavailable)):
                raise
            missing = {p.package for p, _ in members[key] if p.package != config.package}
            groups[key] = Targets(config.package, request.version, {},
                                  unresolved={m: str(e) for m in missing}, policy=key.policy)
    warnings = tuple(w for t in groups.values() for w in t.warnings)
    return Resolution(groups, group_of, images, warnings, request.as_of)


class _Group:
    """One policy over the images of one Python and platform."""

    def __init__(self, shared: Sources, key: GroupKey, members: list[tuple[Pin, Image]],
                 texts: dict[str, str]) -> None:
        self.shared, self.key, self.texts = shared, key, texts
        c, request = shared.config, shared.request
        self.policy = key.policy
        self.package = canonicalize_name(c.package)
        self.pins = [p for p, _ in members]
        self.image_of = {p.image: i for p, i in members}
        self.image = members[0][1]
        self.explicit = dict(request.pins)
        self.needed = {p.package for p in self.pins if p.package != self.package}
        self.sources: dict[str, str] = {name: "--pin" for name in self.explicit}
        self.requirement_text: dict[str, str] = {}
        self.unreachable: dict[str, str] = {}  # find-links pages that did not answer
        given = set(self.explicit) | (set(PLUGINS) if "jaxlib" in self.explicit else set())
        # Everything given on the command line: read nothing from anywhere but the snapshot.
        # (--offline still reads, from the cache only.)
        self.fetch = not self.needed <= given
        # `latest` is judged as of a moment; `minimum` needs no date.
        self.as_of = request.as_of if self.policy == "latest" else None
        self.extras = sorted({e for p in self.pins if p.package == "jax" for e in p.extras})
        self._view: View | None = None
        self._builds: jaxlib_builds.Builds | None = None

    # -- inputs ------------------------------------------------------------------------------------

    @property
    def view(self) -> View:
        if self._view is None:
            self._view = View(self.image, self.shared.offers(self.image), self.as_of)
        return self._view

    @property
    def builds(self) -> jaxlib_builds.Builds:
        if self._builds is None:
            self._builds = jaxlib_builds.Builds(self.page_urls() if self.fetch else [], self.read_page,
                                                self.unreachable)
        return self._builds

    def page_urls(self) -> list[str]:
        urls: list[str] = []
        for pin in self.pins:
            for _, chars in pin.addresses:
                base = chars.text.rsplit("/", 1)[-1]
                if base in jaxlib_builds.PAGES and not chars.computed and not chars.undefined:
                    head = chars.text[: -len(base)]
                    urls.extend(head + page for page in jaxlib_builds.PAGES)
        return sorted(set(urls))

    def read_page(self, url: str) -> tuple[str, ...] | None:
        """A find-links page's wheels; None when it cannot be reached (the snapshot answers)."""
        from release_hook.resolve.index import IndexUnavailable

        try:
            return self.shared.index.find_links(url)
        except IndexUnavailable as e:
            self.unreachable[url] = e.message
            return None

    def stages(self) -> list[jaxlib_builds.Stage]:
        out = []
        for name, image in sorted(self.image_of.items()):
            mine = [p for p in self.pins if p.image == name]
            out.append(jaxlib_builds.Stage(image, tuple(p for p in mine if p.package == "jaxlib"),
                                           tuple(p for p in mine if p.package in PLUGINS)))
        return out

    def _at_pin(self, e: UserError, packages: Sequence[str]) -> UserError:
        if e.path is None:
            first = next((p for p in self.pins if p.package in packages), self.pins[0])
            e.path, e.line = first.path, first.line
        return e

    # -- the decision --------------------------------------------------------------------------------

    def run(self) -> Targets:
        request = self.shared.request
        versions = {name: self.explicit[name] for name in self.needed if name in self.explicit}
        jaxlib_pins = [p for p in self.pins if p.package == "jaxlib"]
        plugin_pins = [p for p in self.pins if p.package in PLUGINS]
        wants_jaxlib = bool(jaxlib_pins or plugin_pins) and "jaxlib" not in self.explicit
        wants_jax = "jax" in self.needed and "jax" not in self.explicit
        if self.fetch:
            try:
                choosing = f"choosing {', '.join(sorted(self.needed - set(self.explicit)))}"
                self.image.needs_python(choosing)
                self.image.needs_platform(choosing)
            except UserError as e:
                raise self._at_pin(e, ("jax", "jaxlib", *PLUGINS)) from None
        key = None
        if self.fetch and (wants_jax or wants_jaxlib):
            raw = self.shared.raw_requirements()
            key = memo.key(self.package, self.policy, raw, self.explicit, self.pins,
                           [(i.name, str(i.cuda)) for i in self.image_of.values()], self.key.python,
                           self.key.platform, self.as_of, request.cuda or self.shared.config.cuda,
                           self.shared.index_urls())
            known = memo.load(key, request.offline, self.package, request.version)
            if known is not None:
                return replace(known, warnings=self.traps(known.versions))
        if self.fetch:
            self.check_release()
        if wants_jax or wants_jaxlib:
            jax, jaxlib = self.choose_pair(wants_jax, wants_jaxlib)
            if wants_jax and jax is not None:
                versions["jax"] = str(jax)
            if wants_jaxlib and jaxlib is not None:
                versions["jaxlib"] = str(jaxlib)
        targets = self.finish(versions)
        if key is not None:
            memo.store(key, targets)
        return targets

    def check_release(self) -> None:
        """The released package itself must install in the image."""
        raw = self.shared.raw_requirements()
        python = self.image.python
        if python_accepts(raw.requires_python, python):
            return
        newest = ""
        try:
            fits = [o.version for o in self.shared.offers(self.image)(self.package)
                    if o.fits and not o.yanked and not o.version.is_prerelease]
            newest = f"; newest that fits: {fits[-1]}" if fits else "; no release of it fits"
        except UserError:
            pass
        pin = next((p for p in self.pins if p.package == self.package), self.pins[0])
        raise UserError(f"{self.package} {self.shared.request.version} needs Python {raw.requires_python}; "
                        f"the image has {self.image.python_text} ({self.image.name}){newest}",
                        pin.path, pin.line)

    def choose_pair(self, wants_jax: bool, wants_jaxlib: bool) -> tuple[Version | None, Version | None]:
        reqs = self.shared.requirements()
        need_jax = reqs.specifiers.get("jax", SpecifierSet())
        need_jaxlib = reqs.specifiers.get("jaxlib", SpecifierSet())
        self.requirement_text = {name: f"{reqs.text(name)} (from {reqs.source})"  # --explain says where
                                 for name in ("jax", "jaxlib")}
        fits = f"Python {self.image.python_text}, {self.image.platform}"
        dated = f", published by {self.as_of:%Y-%m-%d %H:%M %Z}" if self.as_of else ""
        jaxes: list[Version | None]
        if wants_jax:
            jaxes = list(self.view.versions("jax", need_jax))
            if not jaxes:
                raise self._at_pin(self.no_candidates("jax", need_jax, reqs.text("jax"), reqs.source), ("jax",))
            self.sources["jax"] = (f"{self.policy} of {reqs.text('jax')} that installs on {fits}{dated}, "
                                   f"{self.shared.index.answered.get('jax', 'index')}")
        elif "jax" in self.explicit:
            jaxes = [Version(public(self.explicit["jax"]))]
        else:
            jaxes = [None]
        jaxlibs: list[Version | None]
        if wants_jaxlib:
            jaxlibs = list(self.jaxlib_candidates(need_jaxlib))
            if not jaxlibs:
                raise self._at_pin(self.no_candidates("jaxlib", need_jaxlib, reqs.text("jaxlib"), reqs.source),
                                   ("jaxlib", *PLUGINS))
        elif "jaxlib" in self.explicit:
            jaxlibs = [Version(public(self.explicit["jaxlib"]))]
        else:
            jaxlibs = [None]
        try:
            outcome = search.first_pair(self.policy, jaxes, jaxlibs, self.cheap, self.problem)
        except UserError as e:
            raise self._at_pin(e, ("jaxlib", *PLUGINS, "jax")) from None
        if outcome.pair is None:
            why = outcome.reasons[0] if outcome.reasons else "jax refuses every jaxlib in range"
            what = "jax/jaxlib pair" if wants_jax and wants_jaxlib else "jax" if wants_jax else "jaxlib"
            raise self._at_pin(UserError(
                f"no {what} satisfies the release ({reqs.text('jax')}, {reqs.text('jaxlib')}) and jax's "
                f"pairing rules for {self.image.name} ({fits}): {why}"), ("jax", "jaxlib", *PLUGINS))
        jax, jaxlib = outcome.pair
        if wants_jaxlib and jaxlib is not None:
            self.sources["jaxlib"] = (f"{self.policy} pair with {reqs.text('jaxlib') if str(need_jaxlib) else 'any jaxlib'}"
                                      " that jax accepts (declared bounds, not newer than jax), with a build "
                                      f"for every image on {fits}{dated}"
                                      + (f", with jax {jax}" if jax else ""))
        if wants_jax and jax is not None and jaxlib is not None:
            self.sources["jax"] += f"; paired with jaxlib {jaxlib}"
        return jax, jaxlib

    def no_candidates(self, project: str, spec: SpecifierSet, text: str, source: str) -> UserError:
        refusal = self.view.refusal(project, spec)
        if refusal:
            return UserError(refusal)
        if self.as_of is not None and View(self.image, self.view.offers_of).versions(project, spec):
            return UserError(f"no {project} satisfying {text} (from {source}) was published by "
                             f"{self.as_of:%Y-%m-%d %H:%M %Z}")
        return UserError(f"no released {project} satisfies {text} (from {source})")

    def jaxlib_candidates(self, spec: SpecifierSet) -> list[Version]:
        """jaxlib versions in spec known anywhere: the index (not yanked), the find-links pages
        and the snapshot; whether each has a build for the image is asked per pair."""
        found: set[Version] = set()
        try:
            offered = self.shared.offers(self.image)("jaxlib")
        except UserError:
            if not self.builds.versions():
                raise
            offered = []
        found.update(o.version for o in offered if self.view.allowed(o, spec))
        dates = jaxlib_builds.release_dates()
        on_index = {o.version for o in offered}
        for v in self.builds.versions() - on_index:
            if not spec.contains(v, prereleases=bool(spec.prereleases)):
                continue
            day = dates.get(str(v))
            if self.as_of is not None and day is not None and day > self.as_of:
                continue
            found.add(v)
        return sorted(found)

    def cheap(self, jax: Version | None, jaxlib: Version | None) -> bool:
        return jax is None or jaxlib is None or pairing.runtime_allows(jax, jaxlib)

    def problem(self, jax: Version | None, jaxlib: Version | None) -> str | None:
        release = self.shared.jax(jax) if jax is not None and self.fetch else None
        if release is not None:
            plugins = [(p.package, jaxlib) for p in self.pins
                       if p.package in PLUGINS and p.package not in self.explicit and jaxlib is not None]
            why = pairing.pair_problem(release, jaxlib, self.extras, plugins)
            if why is not None:
                return why
        if jaxlib is None:
            return None
        if release is not None:
            why = self.plugins_problem(release, jaxlib)
            if why is not None:
                return why
        for stage in self.stages():
            try:
                tag, _, _ = self.build(jaxlib, stage, release)
            except NoBuild as e:
                return e.message
            if release is None or not tag:
                continue
            wanted = pairing.jaxlib_tags(release, self.stage_extras(stage))
            if wanted and tag not in wanted:
                return (f"jax {release.version}[{','.join(self.stage_extras(stage))}] installs jaxlib "
                        f"+{' or +'.join(sorted(wanted))}, but {stage.image.name} ({stage.image.cuda}) "
                        f"needs +{tag}")
        return None

    def stage_extras(self, stage: jaxlib_builds.Stage) -> list[str]:
        return sorted({e for p in self.pins if p.package == "jax" and p.image == stage.image.name
                       for e in p.extras})

    def plugins_problem(self, release: pairing.JaxRelease, jaxlib: Version) -> str | None:
        pinned = {p.package: p.extras for p in self.pins if p.package in PLUGINS and p.package not in self.explicit}
        return jaxlib_builds.plugin_problem(release, self.extras, pinned, jaxlib, self.view.versions,
                                            lambda name, v: self.shared.index.metadata(name, v).requires_dist,
                                            f"on the index for Python {self.image.python_text} on {self.image.platform}")

    def on_index(self, project: str, version: Version) -> bool:
        return not self.fetch or self.view.has(project, version)

    def build(self, jaxlib: Version, stage: jaxlib_builds.Stage,
              release: pairing.JaxRelease | None) -> tuple[str | None, str, str]:
        stage_extras = self.stage_extras(stage)
        if release is not None:
            uses_plugin = bool(stage.plugin_pins or pairing.extra_plugins(release, stage_extras))
        else:  # jax given, not read: its CUDA extras are taken to install the plugin
            uses_plugin = bool(stage.plugin_pins) or any(e.startswith("cuda") for e in stage_extras)
        for pin in stage.plugin_pins:
            if pin.package in self.explicit:
                continue  # taken as given
            try:
                jaxlib_builds.check_plugin_cuda(pin.package, stage.image)
            except UserError as e:
                raise self._at_pin(e, (pin.package,)) from None
            if not self.on_index(pin.package, jaxlib):
                offers = [o for o in self.shared.offers(stage.image)(pin.package) if o.version == jaxlib]
                why = offers[0].why_not if offers else "is not on the package index"
                raise NoBuild(f"{pin.package} {jaxlib} {why}")
        try:
            return jaxlib_builds.jaxlib_build(jaxlib, stage, uses_plugin, self.builds,
                                              self.shared.index.answered if self.fetch else {}, self.on_index,
                                              forced="jaxlib" in self.explicit)
        except NoBuild:
            raise
        except UserError as e:
            raise self._at_pin(e, ("jaxlib", *PLUGINS)) from None

    def finish(self, versions: dict[str, str]) -> Targets:
        request = self.shared.request
        tags, pages = {}, {}
        if "jaxlib" in versions:
            chosen = Version(public(versions["jaxlib"]))
            jax = Version(public(versions["jax"])) if "jax" in versions else None
            release = self.shared.jax(jax) if jax is not None and self.fetch else None
            for stage in self.stages():
                if "+" in versions["jaxlib"]:
                    continue  # a tagged --pin is written as given
                try:
                    tag, page, why = self.build(chosen, stage, release)
                except UserError as e:
                    at = (stage.jaxlib_pins or stage.plugin_pins)[0]
                    if e.path is None:
                        e.path, e.line = at.path, at.line
                    raise
                if tag is not None:
                    tags[stage.image.name] = tag
                if page:
                    pages[stage.image.name] = page
                if why:
                    self.sources[f"build for {stage.image.name}"] = why
            for name in sorted({p.package for p in self.pins if p.package in PLUGINS} - set(self.explicit)):
                need = pairing.requirement_of(release, name, self.extras) if release is not None else None
                self.sources[name] = f"follows jaxlib {chosen}" + (
                    f"; jax {jax}[{','.join(self.extras)}] requires {name}{need}" if need else "")
        return Targets(self.package, request.version, versions, tags, pages, self.sources,
                       policy=self.policy, requirements=self.requirement_text, warnings=self.traps(versions))

    def traps(self, versions: Mapping[str, str]) -> tuple[Note, ...]:
        """Runtime traps of the chosen versions, at each pin (never cached: lines move)."""
        by_path: dict[tuple[str, str], list[Pin]] = {}  # (path, package) -> pins
        for pin in self.pins:
            by_path.setdefault((pin.path, pin.package), []).append(pin)
        warnings: list[Note] = []
        for (path, package), mine in sorted(by_path.items()):
            text = self.texts.get(path, "")
            if package == "jax" and "jax" in versions:
                warnings += traps.scipy_trap(Version(public(versions["jax"])), self.key.python, mine, text)
            if package == "jaxlib" and "jaxlib" in versions:
                warnings += traps.numpy_trap(Version(public(versions["jaxlib"])), self.key.python, mine, text)
        return tuple(warnings)

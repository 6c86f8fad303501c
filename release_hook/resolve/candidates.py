"""jax's rules for one decision: which jax and jaxlib releases its images can take, the best
jaxlib for each jax (pairing.py), and the jaxlib build and plugin packages of each image
(builds.py). Reading the index's lists and each jax release's metadata; no resolver runs here.

A decision may span images of different Pythons (one requirements file copied into two images):
a release is a candidate only when it fits every one of them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from packaging.version import Version

from release_hook.found import Pin
from release_hook.resolve import builds as jaxlib_builds
from release_hook.resolve import cuda, pairing
from release_hook.resolve.cuda import NoBuild
from release_hook.resolve.image import Image
from release_hook.resolve.targets import PLUGINS
from release_hook.resolve.offered import Offered

if TYPE_CHECKING:
    import datetime

    from release_hook.resolve.dist_files import Metadata
    from release_hook.resolve.sources import Sources

MAX_JAX_READS = 40  # jax releases whose metadata is read before giving up


class Candidates:
    """What the rules allow, for the pins and images of one decision (what is offered: offered.py)."""

    def __init__(self, shared: Sources, pins: Sequence[Pin], images: dict[str, Image],
                 explicit: dict[str, str], fetch: bool, as_of: datetime.datetime | None) -> None:
        self.shared, self.pins, self.image_of = shared, list(pins), images
        self.explicit, self.fetch, self.as_of = explicit, fetch, as_of
        self.extras = sorted({e for p in self.pins if p.package == "jax" for e in p.extras})
        self.offered = Offered(shared, self.pins, images, fetch, as_of)
        self.images = self.offered.images
        self.read: set[Version] = set()  # jax releases whose metadata was read
        # (plugin, extra the file asks of it) -> each plugin release read: whether it has the extra
        self.extras_read: dict[tuple[str, str], dict[Version, bool]] = {}

    # -- the rules for a pair -----------------------------------------------------------------

    def stages(self) -> list[jaxlib_builds.Stage]:
        out = []
        for name, image in sorted(self.image_of.items()):
            mine = [p for p in self.pins if p.image == name]
            out.append(jaxlib_builds.Stage(image, tuple(p for p in mine if p.package == "jaxlib"),
                                           tuple(p for p in mine if p.package in PLUGINS)))
        return out

    def stage_extras(self, stage: jaxlib_builds.Stage) -> list[str]:
        return sorted({e for p in self.pins if p.package == "jax" and p.image == stage.image.name
                       for e in p.extras})

    def release(self, jax: Version | None) -> pairing.JaxRelease | None:
        if jax is None or not self.fetch:
            return None
        self.read.add(jax)
        return self.shared.jax(jax)

    def problem(self, jax: Version | None, jaxlib: Version | None) -> str | None:
        """Why the pair breaks one of jax's rules for these images; None when it keeps them."""
        if jax is not None and jaxlib is not None and not pairing.runtime_allows(jax, jaxlib):
            return f"jaxlib {jaxlib} is newer than jax {jax} (jax refuses it at import)"
        release = self.release(jax)
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

    def runtime_problem(self, jax: Version | None) -> str | None:
        """A rule jax enforces when its GPU backend starts (cuda.py, runtime_refuses)."""
        if jax is None:
            return None
        for stage in self.stages():
            image = stage.image
            if image.cuda is None or not self.uses_gpu(stage):
                continue
            if any(jaxlib_builds.plugin_major(p.package) not in (None, image.cuda.major) for p in stage.plugin_pins):
                continue  # a plugin for another CUDA: builds.check_plugin_cuda says so, more plainly
            why = cuda.runtime_refuses(jax, image.cuda)
            if why:
                return f"{why}: {image.name} would run jax on the CPU"
        return None

    def uses_gpu(self, stage: jaxlib_builds.Stage) -> bool:
        """The stage installs a CUDA build: a tagged jaxlib, a plugin, or jax's CUDA extra."""
        return (any("+" in p.version for p in stage.jaxlib_pins) or bool(stage.plugin_pins)
                or any(e.startswith("cuda") for e in self.stage_extras(stage)))

    def plugins_problem(self, release: pairing.JaxRelease, jaxlib: Version) -> str | None:
        pinned = {p.package: p.extras for p in self.pins if p.package in PLUGINS and p.package not in self.explicit}
        first = self.images[0]
        return jaxlib_builds.plugin_problem(release, self.extras, pinned, jaxlib, self.offered.versions,
                                            self.plugin_metadata,
                                            f"on the index for Python {first.python_text} on {first.platform}")

    def plugin_metadata(self, name: str, version: Version) -> Metadata:
        """A plugin release's metadata, noting whether it has each extra the file asks of it."""
        meta = self.shared.index.metadata(name, version)
        for extra in sorted({e for p in self.pins if p.package == name for e in p.extras}):
            has = not pairing.lacks_extras(meta.requires_dist, meta.provides_extra, [extra])
            self.extras_read.setdefault((name, extra), {})[version] = has
        return meta

    def extra_nowhere(self) -> tuple[str, str, list[Version]] | None:
        """(plugin, extra, releases read) for an extra the file asks of a plugin that no release
        read has: then no candidate can be right, whatever else refused it."""
        for (name, extra), seen in sorted(self.extras_read.items()):
            if seen and not any(seen.values()):
                return name, extra, sorted(seen)
        return None

    def build(self, jaxlib: Version, stage: jaxlib_builds.Stage,
              release: pairing.JaxRelease | None) -> tuple[str | None, str, str]:
        """(tag, page, why) of the stage's jaxlib build (see builds.jaxlib_build)."""
        stage_extras = self.stage_extras(stage)
        if release is not None:
            uses_plugin = bool(stage.plugin_pins or pairing.extra_plugins(release, stage_extras))
        else:  # jax given, not read: its CUDA extras are taken to install the plugin
            uses_plugin = bool(stage.plugin_pins) or any(e.startswith("cuda") for e in stage_extras)
        for pin in stage.plugin_pins:
            if pin.package in self.explicit:
                continue  # taken as given
            jaxlib_builds.check_plugin_cuda(pin.package, stage.image)
            if not self.offered.has(pin.package, jaxlib):
                offers = [o for o in self.shared.offers(stage.image)(pin.package) if o.version == jaxlib]
                why = offers[0].why_not if offers else "is not on the package index"
                raise NoBuild(f"{pin.package} {jaxlib} {why}")
        return jaxlib_builds.jaxlib_build(jaxlib, stage, uses_plugin, self.offered.builds,
                                          self.shared.index.answered if self.fetch else {}, self.offered.has,
                                          forced="jaxlib" in self.explicit)

    def within_bounds(self, jax: Version | None, reasons: Sequence[tuple[Version | None, str]]
                      ) -> tuple[tuple[Version | None, str], ...]:
        """The refused jaxlibs that jax's declared bounds allow: outside them, the bounds are the
        whole story (the jaxlib line says "pair that jax accepts")."""
        release = self.release(jax)
        bounds = pairing.jaxlib_bounds(release, self.extras) if release is not None else None
        return tuple((lib, why) for lib, why in reasons
                     if bounds is None or lib is None or bounds.contains(lib, prereleases=True))

    def best_pair(self, policy: str, jax: Version | None, jaxlibs: Sequence[Version | None]
                  ) -> tuple[Version | None, str, tuple[tuple[Version | None, str], ...]]:
        """The policy's best jaxlib for `jax` by the rules, or (None, why there is none); and the
        jaxlibs within jax's bounds that the rules passed over before it, with why (a plugin
        without the file's extra, no build for the image)."""
        if len(self.read) >= MAX_JAX_READS and jax is not None and jax not in self.read:
            return None, f"stopped after reading {MAX_JAX_READS} jax releases", ()
        refused = self.runtime_problem(jax)
        if refused:
            return None, refused, ()
        order: list[Version | None] = [*sorted((v for v in jaxlibs if v is not None), reverse=policy == "latest")]
        order = order or [None]
        reasons: list[tuple[Version | None, str]] = []
        for lib in order:
            if jax is not None and lib is not None and not pairing.runtime_allows(jax, lib):
                continue
            why = self.problem(jax, lib)
            if why is None:
                return lib, "", self.within_bounds(jax, reasons)
            reasons.append((lib, why))
        if reasons:
            # said of a jaxlib jax accepts, when one was tried: `jax 0.4.13 needs jaxlib>=0.4.11,
            # not 0.1.52` (the lowest on the index) says nothing of why 0.4.11 to 0.4.13 failed
            fitting = [why for _, why in self.within_bounds(jax, reasons)]
            return None, (fitting or [reasons[0][1]])[0], ()
        low = min((v for v in order if v is not None), default=None)
        return None, (f"every jaxlib it could take (from {low}) is newer than jax {jax}, which jax refuses "
                      "at import" if low is not None else f"no jaxlib in range for jax {jax}"), ()

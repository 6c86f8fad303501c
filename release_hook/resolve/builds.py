"""Which build of a jaxlib version an image installs, and where it is listed.

Three ways have been used (see scripts/build_cuda_snapshot.py): a tagged jaxlib wheel on a
find-links page (`+cuda112`, `+cuda11.cudnn86`), an untagged jaxlib from the index with CUDA
from the `jax-cuda12-plugin` packages (whenever a jax extra installs them, from jax 0.4.22 per
its metadata), or a CPU jaxlib. Which tagged builds exist comes from the live find-links page
when it answers, else from the snapshot shipped in `data/`, which also records each build's
Python tags and each jaxlib's release date. Whether a plugin exists is the index's answer.
"""
from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from release_hook.errors import UserError
from release_hook.records import NamedTuple
from release_hook.resolve import cuda, pairing
from release_hook.resolve.image import arch_of
from release_hook.resolve.view import wheel_fits

if TYPE_CHECKING:
    from release_hook.pins import Pin
    from release_hook.resolve.dist_files import Metadata
    from release_hook.resolve.image import Image

PLUGIN_MAJORS = (12, 13)  # jax-cudaNN-plugin packages ever published
LAST_CUDA11 = Version("0.4.25")  # CUDA 11.8 wheels were dropped in jaxlib 0.4.26


class Tagged(NamedTuple):
    """A published tagged build: its tag, its page, and the wheels (or Python tags) it has."""

    tag: str
    page: str
    wheels: tuple[str, ...] = ()  # file names, when a live page was read
    pythons: tuple[str, ...] = ()  # `cp39`..., from the snapshot

    def fits(self, image: Image) -> bool:
        if self.wheels:
            image.needs_platform("choosing a jaxlib build")
            return any(wheel_fits(w, image) for w in self.wheels)
        if arch_of(image.needs_platform("choosing a jaxlib build")) != "x86_64":
            return False  # tagged CUDA builds were published for manylinux x86_64 only
        return image.python is None or not self.pythons or \
            f"cp{image.python[0]}{image.python[1]}" in self.pythons


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    # Beside this module, as import_table.py reads its table: importlib.resources would bring
    # zipfile and its readers (about 5 ms of every run that decides) for an install never zipped.
    with open(os.path.join(os.path.dirname(__file__), "data", "jaxlib_cuda_builds.json"), encoding="utf-8") as f:
        return json.load(f)  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def snapshot() -> dict[str, dict[str, object]]:
    """Known tagged jaxlib builds shipped with the package, for offline use and tests."""
    return _data()["builds"]  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def release_dates() -> dict[str, datetime.datetime]:
    """jaxlib release dates from jax's CHANGELOG (find-links pages carry none)."""
    data = _data()
    out = {}
    for version, day in (data.get("dates") or {}).items():
        try:
            out[version] = datetime.datetime.fromisoformat(day).replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            continue
    return out


def parse_listing(files: Sequence[str], page: str) -> dict[str, list[Tagged]]:
    """A find-links page's wheels grouped as public version -> tagged builds."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    wheels: dict[tuple[str, str], list[str]] = {}
    for name in files:
        try:
            _, version, _, _ = parse_wheel_filename(name)
        except (InvalidWheelFilename, InvalidVersion):
            continue
        if version.local:
            wheels.setdefault((version.public, version.local), []).append(name)
    out: dict[str, list[Tagged]] = {}
    for (public, tag), names in sorted(wheels.items()):
        out.setdefault(public, []).append(Tagged(tag, page, tuple(sorted(names))))
    return out


ReadPage = Callable[[str], "tuple[str, ...] | None"]


@dataclass
class Builds:
    """Tagged jaxlib builds: the live pages first (read with `read_page`), then the snapshot."""

    page_urls: Sequence[str]
    read_page: ReadPage
    unreachable: Mapping[str, str]

    def listings(self) -> list[tuple[str, dict[str, list[Tagged]]]]:
        out = []
        for url in self.page_urls:
            files = self.read_page(url)
            if files is not None:
                out.append((url, parse_listing(files, url.rsplit("/", 1)[-1])))
        return out

    def _answered(self) -> set[str]:
        """The pages (by name) whose live listing was read: those replace the snapshot."""
        return {url.rsplit("/", 1)[-1] for url, _ in self.listings()}

    def versions(self) -> set[Version]:
        live = self._answered()
        found = {Version(v) for v, known in snapshot().items() if known["page"] not in live}
        for _, listing in self.listings():
            found.update(Version(v) for v in listing)
        return found

    def tagged(self, version: Version, answered: Mapping[str, str]) -> tuple[list[Tagged], str]:
        """(builds, source) of a jaxlib version's tagged builds."""
        for url, listing in self.listings():
            if str(version) in listing:
                page = url.rsplit("/", 1)[-1]
                builds = [b for b in listing[str(version)] if b.page == page]
                if builds:
                    return builds, answered.get(url, "find-links page")
        known = snapshot().get(str(version))
        if known and known["page"] not in self._answered():
            why = "; ".join(sorted(set(self.unreachable.values())))
            source = "snapshot" + (f", because {why}" if why else "")
            pythons = tuple(str(p) for p in known.get("python", ()))  # type: ignore[attr-defined]
            return [Tagged(str(t), str(known["page"]), (), pythons)
                    for t in known["tags"]], source  # type: ignore[attr-defined]
        return [], "snapshot"


class Stage(NamedTuple):
    """The pins of one image (build stage) that decide its jaxlib build."""

    image: Image
    jaxlib_pins: tuple[Pin, ...]
    plugin_pins: tuple[Pin, ...]  # jax-cudaNN-plugin / -pjrt pinned in the stage


def plugin_major(package: str) -> int | None:
    import re

    m = re.fullmatch(r"jax-cuda(\d+)-(?:plugin|pjrt)", package)
    return int(m.group(1)) if m else None


def check_plugin_cuda(package: str, image: Image) -> None:
    """A plugin for one CUDA major on an image of another cannot load."""
    major = plugin_major(package)
    if major is None or image.cuda is None or image.cuda.major == major:
        return
    if image.cuda.major in PLUGIN_MAJORS:
        fix = f"change the base image or use jax-cuda{image.cuda.major}-plugin"
    else:  # no jax-cuda11-plugin was ever published: CUDA 11 builds were tagged jaxlib wheels
        era = f"; CUDA 11 builds of jaxlib stop at {LAST_CUDA11}" if image.cuda.major == 11 else ""
        fix = (f"jax's CUDA plugins exist for CUDA {' and '.join(map(str, PLUGIN_MAJORS))} only{era}: "
               "change the base image, or pin an older jaxlib")
    origin = image.origins.get("cuda")
    if origin is not None and origin.by == "base":
        said = f"{image.name} is {image.cuda}"
    else:
        whence = origin.words(image.name, "cuda") if origin is not None else "given"
        said = f"{image.name} has {image.cuda} ({whence})"
    raise UserError(f"{said}, but the file pins {package}: {fix}")


def jaxlib_build(version: Version, stage: Stage, uses_plugin: bool, builds: Builds,
                 answered: Mapping[str, str], on_index: Callable[[str, Version], bool],
                 forced: bool = False) -> tuple[str | None, str, str]:
    """(tag, page, source) of the jaxlib build for the stage: tag None when the stage pins no
    jaxlib, "" for an untagged jaxlib from the index; source says where the build was found
    ("plugin" when CUDA comes from the plugin packages). Raises NoBuild when this version has
    none. A version `forced` by --pin gets the build for the image's CUDA whatever its Python."""
    image = stage.image
    if not stage.jaxlib_pins:
        return None, "", ""
    tagged_pin = any("+" in p.version for p in stage.jaxlib_pins)

    def untagged(why: str) -> tuple[str, str, str]:
        if not on_index("jaxlib", version):
            raise cuda.NoBuild(f"jaxlib {version} has no wheel on the index for {image.runs_on}")
        return "", "", why

    plugin_why = "plugin"
    # an untagged jaxlib takes a CUDA build only where its pip command reads jax's own page:
    # the index has no `+cuda` wheels, and pip would find no such version
    if not tagged_pin and (uses_plugin or image.cuda is None or not _reads_jax_page(stage)):
        return untagged(plugin_why if uses_plugin else "")
    published, source = builds.tagged(version, answered)
    if not published:
        if uses_plugin or not tagged_pin:
            return untagged(plugin_why if uses_plugin else "")
        raise cuda.NoBuild(f"jaxlib {version} has no CUDA build of its own (from 0.4.30 CUDA comes "
                           f"from jax-cuda12-plugin): pin the plugin, or jax[cuda12], in {image.name}'s stage")
    if image.cuda is None:
        raise UserError(f"cannot tell the CUDA version of {image.name}: set [release_hook] cuda in "
                        "setup.cfg or pass --cuda")
    fitting = published if forced else [b for b in published if b.fits(image)]
    if not fitting:
        raise cuda.NoBuild(f"jaxlib {version} has no CUDA build for Python {image.python_text} on "
                           f"{image.platform} ({image.name})")
    tag = cuda.choose(version, [b.tag for b in fitting], image.cuda, image.name)
    page = next(b.page for b in fitting if b.tag == tag)
    return tag, page, source


def _reads_jax_page(stage: Stage) -> bool:
    """Whether pip reads jax's CUDA page where it reads the stage's jaxlib pins: a Dockerfile
    pin's own command, or for a requirements file's pin the command that reads the file, with
    every file it reads. Pins of one build that some read with the page and some without are
    refused: a tag does not install without the page, and an untagged pin read with it may get
    another CUDA's build (pip takes the highest local version)."""
    read: dict[bool, list[tuple[Pin, str]]] = {True: [], False: []}
    for pin in stage.jaxlib_pins:
        read[cuda.reads_jax_page(pin)].append((pin, cuda.page_texts(pin)[1]))
    if read[True] and read[False]:
        pin, without = read[False][0]
        with_page = read[True][0][1]
        raise UserError(f"jaxlib here is read by pip with jax's CUDA page ({with_page}) and without it ({without}): "
                        "a +cuda build does not install without the page, and an untagged pin read with it may "
                        f"get another CUDA's build; give the pip command at {without} the page's -f, or each "
                        "command a file of its own", pin.path, pin.line)
    return bool(read[True])


def plugin_problem(release: pairing.JaxRelease, extras: Sequence[str], pinned: Mapping[str, frozenset[str]],
                   jaxlib: Version, versions: Callable[[str, SpecifierSet | None], list[Version]],
                   metadata_of: Callable[[str, Version], Metadata], where: str) -> str | None:
    """Why the plugin packages pinned (at the jaxlib version) or installed by jax's extra cannot
    install with what their own metadata requires (jax-cuda12-plugin 0.4.22 needs a
    jax-cuda12-pjrt 0.4.22 that was never published), or lack an extra the file asks of them
    (`jax-cuda12-plugin[with_cuda]` before the plugin had it); None when they can. `versions`
    lists a project's releases that fit the image; `metadata_of` reads a release's metadata."""
    from release_hook.resolve.index import IndexUnavailable

    wanted: dict[str, tuple[SpecifierSet, frozenset[str]]] = {}
    for name in pairing.extra_plugins(release, extras):
        wanted[name] = (pairing.requirement_of(release, name, extras), frozenset())
    for name, pin_extras in pinned.items():
        wanted[name] = (SpecifierSet(f"=={jaxlib}"), pin_extras)
    for name, (spec, plugin_extras) in sorted(wanted.items()):
        try:
            found = [v for v in versions(name, spec) if v == jaxlib] or versions(name, spec)
            if not found:
                return f"{name}{spec} is not {where}"
            meta = metadata_of(name, found[-1])
            lacking = pairing.lacks_extras(meta.requires_dist, meta.provides_extra, plugin_extras)
            if lacking:
                return f"{name} {found[-1]} has no extra {', '.join(lacking)}"
            for dep, dep_spec in pairing.plugin_requirements(meta.requires_dist, plugin_extras):
                if not versions(dep, dep_spec or None):
                    return f"{name} {found[-1]} needs {dep}{dep_spec}, which is not {where}"
        except IndexUnavailable:
            raise
        except UserError as e:  # a project the index does not have at all
            return e.message
    return None

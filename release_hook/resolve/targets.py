"""Targets: the version each kept package should carry, and what decided it."""
from __future__ import annotations

import datetime  # imported on every run's path anyway (sqlite3's adapters)
import re
from types import MappingProxyType
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final, Mapping

from packaging.version import InvalidVersion, Version

from release_hook.errors import UserError
from release_hook.names import normalize as canonicalize_name
from release_hook.found import PLUGINS, Note, Pin  # noqa: F401 (PLUGINS re-exported)
from release_hook.records import NamedTuple
from release_hook.resolve.cuda import reads_jax_page

if TYPE_CHECKING:
    from release_hook.resolve.image import Image

EMPTY: Mapping[Any, Any] = MappingProxyType({})  # the default of a mapping field: shared, so never written

_PIN = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*(\S+)\s*")


def parse_pin(text: str) -> tuple[str, str]:
    m = _PIN.fullmatch(text)
    if m is None:
        raise UserError(f"--pin {text!r}: expected NAME==VERSION")
    try:
        Version(m.group(2))
    except InvalidVersion:
        raise UserError(f"--pin {text!r}: {m.group(2)!r} is not a valid PEP 440 version") from None
    return canonicalize_name(m.group(1)), m.group(2)


class Because(NamedTuple):
    """What decided one target, as values (report.py words them; the memo keeps them as they are)."""

    kind: str  # "given" (--pin), "chosen" (the search), "follows" (a plugin follows jaxlib), "build"
    policy: str = ""
    images: tuple[str, ...] = ()  # "Python 3.12, linux/amd64"
    as_of: str = ""  # when `latest` was judged as of a moment
    listed_by: str = ""  # where the releases were read: "index", "cache"
    proof: str = ""  # "installs", "unproved", "not asked"
    proof_why: str = ""  # why there was no answer
    skipped: int = 0  # candidates skipped before this one
    paired_with: str = ""  # the jax a jaxlib pairs with, the jaxlib a plugin follows
    tag: str = ""  # build: the jaxlib tag ("" for CUDA from the plugins)
    cuda: str = ""  # build: the image's CUDA
    found_in: str = ""  # build: "find-links page", "snapshot, because ...", "plugin"
    requires: str = ""  # follows: what jax's extra requires of the plugin ("jax 0.4.25[cuda12] requires ==0.4.25")
    # chosen jaxlib: the nearest jaxlib the rules passed over for its jax, and why
    # ("0.4.31: jax-cuda12-plugin 0.4.31 has no extra with_cuda"); `skipped` counts them
    passed: str = ""
    cached: bool = False  # decided by an earlier run

    def to_json(self) -> dict[str, object]:
        return {k: v for k, v in self._asdict().items() if k != "cached" and v not in ("", (), 0)}

    @staticmethod
    def from_json(value: dict[str, Any]) -> "Because":
        fields: dict[str, Any] = {k: (tuple(v) if isinstance(v, list) else v) for k, v in value.items()}
        return Because(**fields, cached=True)


class Proof(NamedTuple):
    """The real resolver's answer for one build stage's whole install, with the chosen versions."""

    state: str  # "installs", "refused", "unproved" (no answer) or "not asked"
    tool: str  # "uv 0.13.9"
    installs: tuple[tuple[str, str], ...]  # (name, version) it would install
    reason: str  # its words (refused, unproved) or why it was not asked
    cached: bool
    target: str  # "Python 3.12 linux/amd64"
    libc: str  # "glibc 2.36", "musl"
    left_out: tuple[str, ...] = ()  # what the question could not include, and why
    asked: tuple[str, ...] = ()  # the requirements asked about (the whole install)
    constraints: tuple[str, ...] = ()
    imported: str = ""  # the import proof's word ("imports on Python 3.12.1", the table's, ...)

    def to_json(self) -> list[object]:
        return [self.state, self.tool, [list(i) for i in self.installs], self.reason, self.target,
                self.libc, list(self.left_out), list(self.asked), list(self.constraints), self.imported]

    @staticmethod
    def from_json(value: list[Any]) -> "Proof":
        state, tool, installs, reason, target, libc, left_out, asked, constraints, imported = value
        return Proof(str(state), str(tool), tuple((str(n), str(v)) for n, v in installs),
                     str(reason), True, str(target), str(libc), tuple(map(str, left_out)),
                     tuple(map(str, asked)), tuple(map(str, constraints)), str(imported))


class Targets(NamedTuple):
    """What each pin should read under one policy.

    `versions` holds whole versions (a jaxlib with a tag was pinned with it); `cuda_tags` the
    jaxlib build chosen per base image ("" for a build without a tag); `pages` the find-links
    page that lists each image's jaxlib build.
    """

    package: str
    version: str
    versions: Mapping[str, str]
    cuda_tags: Mapping[str, str] = EMPTY
    pages: Mapping[str, str] = EMPTY
    why: Mapping[str, Because] = EMPTY  # package, or "build for IMAGE" -> what decided it
    unresolved: Mapping[str, str] = EMPTY  # package -> why not decided
    requirements: Mapping[str, str] = EMPTY  # package -> the release's need
    requirements_from: str = ""  # where the release's needs were read (its metadata on the index, setup.py)
    policy: str = ""
    warnings: tuple[Note, ...] = ()  # runtime traps of the chosen versions, at their pins
    proofs: Mapping[tuple[str, int], Proof] = EMPTY  # (path, stage) -> answer
    skipped: tuple[tuple[str, str, str], ...] = ()  # (candidate, what rejected it, why), in order tried

    def for_pin(self, pin: Pin) -> str | None:
        if pin.package == self.package:
            return self.version
        if pin.package in self.unresolved:
            return None
        wanted = self.versions.get(pin.package)
        if wanted is None and pin.package in PLUGINS and "jaxlib" in self.versions:
            wanted = Version(self.versions["jaxlib"]).public
        if wanted is None:
            return None
        if pin.package == "jaxlib" and "+" not in wanted:
            tag = self.cuda_tags.get(pin.image)
            if tag is None and "+" in pin.version:
                tag = pin.version.split("+", 1)[1]  # nothing chose a build: keep the file's
            # the build was chosen for the image; a stage of that image whose pip does not read
            # jax's page (`FROM gpu` below the stage that does) installs from the index, untagged
            if tag and ("+" in pin.version or reads_jax_page(pin)):
                wanted = f"{wanted}+{tag}"
        return wanted

    def page_for(self, pin: Pin) -> str | None:
        return self.pages.get(pin.image) if pin.package == "jaxlib" and reads_jax_page(pin) else None


class Resolution:
    """Targets per group of images (same policy, Python and platform), and which group each
    build stage belongs to. Made once per run and read after; its derived tables are made on
    first use."""

    def __init__(self, groups: Mapping[object, Targets], group_of: Mapping[tuple[str, int], object],
                 images: "Mapping[tuple[str, int], Image]" = EMPTY, warnings: tuple[Note, ...] = (),
                 as_of: datetime.datetime | None = None) -> None:
        self.groups: Final = groups
        self.group_of: Final = group_of  # (path, stage) -> key in groups
        self.images: Final = images  # (path, stage) -> image
        self.warnings: Final = warnings  # runtime traps, at their pins
        self.as_of: Final = as_of  # the moment `latest` was judged at

    def warning_also(self, more: tuple[Note, ...]) -> "Resolution":
        return Resolution(self.groups, self.group_of, self.images, self.warnings + more, self.as_of)

    def targets_for(self, pin: Pin) -> Targets:
        return self.groups[self.group_of[(pin.written_in, pin.stage)]]

    def targets(self, path: str) -> Targets | None:
        """The targets of the file's first stage that pins something."""
        key = self._first_group.get(path)
        return self.groups.get(key) if key is not None else None

    @cached_property
    def _first_group(self) -> dict[str, object]:
        # One pass, not a sort per file: a sync over 10,000 files asks this of each.
        first: dict[str, tuple[int, object]] = {}
        for (path, stage), key in self.group_of.items():
            if path not in first or stage < first[path][0]:
                first[path] = (stage, key)
        return {path: key for path, (_, key) in first.items()}

    def for_pin(self, pin: Pin) -> str | None:
        return self.targets_for(pin).for_pin(pin)

    def page_for(self, pin: Pin) -> str | None:
        return self.targets_for(pin).page_for(pin)

    def proofs(self) -> dict[tuple[str, int], Proof]:
        """Each stage's proof, from the decision that covers it."""
        return self._proofs

    @cached_property
    def _proofs(self) -> dict[tuple[str, int], Proof]:
        out: dict[tuple[str, int], Proof] = {}
        for t in self.groups.values():
            out.update(t.proofs)
        return out

    @cached_property
    def proofs_by_path(self) -> dict[str, list[tuple[int, Proof]]]:
        """path -> (stage, proof) of each of its stages, in order: asked per file, made once."""
        out: dict[str, list[tuple[int, Proof]]] = {}
        for (path, stage), proof in sorted(self._proofs.items()):
            out.setdefault(path, []).append((stage, proof))
        return out

    @cached_property
    def decisions_by_path(self) -> dict[str, list[Targets]]:
        """path -> the decisions that cover its stages, each once."""
        out: dict[str, list[Targets]] = {}
        for (path, _), key in sorted(self.group_of.items()):
            mine = out.setdefault(path, [])
            if all(t is not self.groups[key] for t in mine):
                mine.append(self.groups[key])
        return out

    @property
    def unresolved(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for t in self.groups.values():
            out.update(t.unresolved)
        return out

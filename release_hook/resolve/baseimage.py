"""What a base image's name says: its distribution release, that release's python3 and C library,
and its CPU. One table, read by everything that asks (the image's Python, the wheel tags it can
load, the resolver's target).

Nothing is pulled or run: `nvidia/cuda:12.3.2-cudnn9-runtime-ubuntu22.04`, `ubuntu:jammy`,
`python:3.11-slim-bookworm`, `arm64v8/python:3.12-alpine` are read as text.
"""

from __future__ import annotations

import re
from functools import lru_cache

from release_hook.records import NamedTuple


class Release(NamedTuple):
    """A distribution release: its python3 package and its C library."""

    distro: str  # "Ubuntu", "Debian", "Alpine"
    version: str  # "22.04", "12", "3.19"
    codename: str
    python: tuple[int, int] | None  # what its `python3` package installs
    glibc: int | None  # minor version of glibc 2.x; None for musl
    musl: bool = False

    def __str__(self) -> str:
        return f"{self.distro} {self.version}"


# python3-defaults and glibc of each release (the distributions' package pages).
RELEASES = (
    Release("Ubuntu", "16.04", "xenial", (3, 5), 23),
    Release("Ubuntu", "18.04", "bionic", (3, 6), 27),
    Release("Ubuntu", "20.04", "focal", (3, 8), 31),
    Release("Ubuntu", "22.04", "jammy", (3, 10), 35),
    Release("Ubuntu", "24.04", "noble", (3, 12), 39),
    Release("Ubuntu", "26.04", "resolute", (3, 14), 42),
    Release("Debian", "9", "stretch", (3, 5), 24),
    Release("Debian", "10", "buster", (3, 7), 28),
    Release("Debian", "11", "bullseye", (3, 9), 31),
    Release("Debian", "12", "bookworm", (3, 11), 36),
    Release("Debian", "13", "trixie", (3, 13), 41),
)
_BY_CODENAME = {r.codename: r for r in RELEASES}
_BY_VERSION = {(r.distro.lower(), r.version): r for r in RELEASES}
ALPINE = Release("Alpine", "", "alpine", None, None, musl=True)
# `python:3.X` and `python:3.X-slim` name no release: Debian 12 is the oldest they have been
# built on since 3.12, so its glibc is what such an image surely has.
PYTHON_IMAGE_DEFAULT = _BY_CODENAME["bookworm"]
# manylinux_2_28: the newest policy current wheels (jaxlib's among them) need; assumed where the
# name says nothing, so that no wheel is refused for want of knowledge.
DEFAULT_GLIBC = 28

_CODENAME = re.compile(r"(?:^|[-_.])(" + "|".join(_BY_CODENAME) + r")(?=$|[-_.\d])")
_UBUNTU_IN_TAG = re.compile(r"ubuntu-?(\d\d\.\d\d)")
_ARCH_PREFIX = {"arm64v8": "linux/arm64", "aarch64": "linux/arm64", "amd64": "linux/amd64",
                "ppc64le": "linux/ppc64le", "s390x": "linux/s390x", "arm32v7": "linux/arm/v7",
                "i386": "linux/386"}


class BaseImage(NamedTuple):
    """A base image as its name describes it."""

    name: str
    repo: str  # last path part of the repository: "python", "cuda", "ubuntu"
    tag: str
    release: Release | None  # None when the name does not say
    python: tuple[int, int] | None  # the `python3` it runs (the tag says it of `python` images)
    platform: str | None  # from an `arm64v8/` prefix or an `aarch64` part; None: not said

    @property
    def musl(self) -> bool:
        return self.release is not None and self.release.musl

    @property
    def glibc(self) -> int | None:
        """glibc 2.N of the image; None for musl. A name that says nothing gets DEFAULT_GLIBC."""
        if self.musl:
            return None
        return self.release.glibc if self.release is not None and self.release.glibc else DEFAULT_GLIBC

    @property
    def libc_how(self) -> str:
        if self.release is None:
            return f"{self.name} does not name its distribution; manylinux_2_{DEFAULT_GLIBC} assumed"
        if self.release.musl:
            return f"{self.name} is Alpine (musl)"
        said = "" if self.repo != "python" or self.release.codename in self.tag else \
            " (python images name no release: the oldest they are built on)"
        return f"{self.name} is {self.release}, glibc 2.{self.release.glibc}{said}"


def _reference(name: str) -> tuple[str, str]:
    """`docker.io/library/ubuntu:22.04@sha256:...` -> ("ubuntu", "22.04")."""
    ref = name.split("@", 1)[0].lower()
    repo, colon, tag = ref.rpartition(":")
    if not colon or "/" in tag:
        repo, tag = ref, "latest"
    return repo.rsplit("/", 1)[-1], tag


def _release(repo: str, tag: str) -> Release | None:
    if repo == "alpine" or "alpine" in tag:
        return ALPINE
    if repo == "ubuntu":
        if tag[:5] in {r.version for r in RELEASES if r.distro == "Ubuntu"}:
            return _BY_VERSION[("ubuntu", tag[:5])]
    elif repo in ("debian", "buildpack-deps") and (m := re.match(r"\d+(?=$|[-.])", tag)):
        return _BY_VERSION.get(("debian", m.group()))
    if (m := _UBUNTU_IN_TAG.search(tag)) and ("ubuntu", m.group(1)) in _BY_VERSION:
        return _BY_VERSION[("ubuntu", m.group(1))]
    if m := _CODENAME.search(tag):
        return _BY_CODENAME[m.group(1)]
    if repo == "python":
        return PYTHON_IMAGE_DEFAULT
    return None


def _platform(name: str) -> str | None:
    ref = name.split("@", 1)[0].lower()
    for part in ref.split("/")[:-1]:
        if part in _ARCH_PREFIX:
            return _ARCH_PREFIX[part]
    if re.search(r"aarch64|arm64", ref):
        return "linux/arm64"
    return None


_PYTHON_IN_TAG = re.compile(r"(?:^|[-_.])python(3)\.(\d+)(?=$|[-_.])")


@lru_cache(maxsize=4096)
def read(name: str) -> BaseImage:
    """What `name` says. An image of unknown Python has python None (the user is asked)."""
    repo, tag = _reference(name)
    release = _release(repo, tag)
    python: tuple[int, int] | None = None
    if repo == "python":  # the official images: the tag starts with the version
        m = re.match(r"(\d+)\.(\d+)", tag)
        if m:
            python = int(m.group(1)), int(m.group(2))
    elif repo not in ("pypy", "jython") and (m := _PYTHON_IN_TAG.search(tag)):
        python = int(m.group(1)), int(m.group(2))  # uv's `python3.12-bookworm-slim`: built on python:3.12
    elif repo not in ("pypy", "jython") and release is not None and release.python is not None:
        python = release.python
    return BaseImage(name, repo, tag, release, python, _platform(name))

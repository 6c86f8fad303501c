"""The image a pin is installed into: its Python, platform and CUDA, and where each came from.

The resolver takes an `Image` per build stage beside the release, so that every rule that
depends on the image (Requires-Python, wheel tags, CUDA builds) reads one small value.

Precedence, for the Python and the platform alike (first that answers):
1. `--python X.Y` / `--platform P`: the user's word for this run, for every image;
2. `[release_hook] python` / `platform` in setup.cfg, the first `glob=value` matching the file;
3. what the file itself does (`walk/`): the interpreter that runs the stage's `pip install`
   (`python3.11 -m pip`, a venv made by it, `update-alternatives`, `conda install python=`, ...),
   and `FROM --platform=`. A Python the file installs but does not run pip with changes nothing;
4. the base image: `python:3.X-*`, the `python3` of the Debian or Ubuntu release it names, an
   `arm64v8/` or `aarch64` name;
5. otherwise the platform is linux/amd64 and the Python is unknown: a rule that needs it asks
   the user to say (`needs_python`), naming the stage's FROM line.
Each stage built `FROM` an earlier one starts from what that stage did (done at scan time).
"""
from __future__ import annotations

import fnmatch
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Mapping

from release_hook.config import PLATFORMS, checked_platform, checked_python, platform_name
from release_hook.errors import UserError
from release_hook.found import Evidence, StageFacts
from release_hook.records import NamedTuple
from release_hook.resolve import baseimage
from release_hook.resolve import cuda as cuda_builds

if TYPE_CHECKING:
    from packaging.tags import Tag

    from release_hook.config import Config
    from release_hook.found import Scan
    from release_hook.request import Request

DEFAULT_PLATFORM = "linux/amd64"
def arch_of(platform: str) -> str:
    """`linux/arm64` (or `linux/arm64/v8`, `aarch64`) is aarch64; `linux/amd64` x86_64."""
    known = platform_name(platform)
    return PLATFORMS[known] if known else platform.rsplit("/", 1)[-1]


class Target(NamedTuple):
    """What an install must fit: CPython X.Y on a Linux CPU with a C library (glibc 2.N or musl)."""

    python: tuple[int, int]
    platform: str  # as the image says it: "linux/amd64"
    arch: str  # as wheel tags say it: "x86_64"
    glibc: int | None  # minor version of glibc 2.x; None for musl

    def __str__(self) -> str:
        return f"Python {self.python[0]}.{self.python[1]} {self.platform}"

    @property
    def libc(self) -> str:
        return "musl" if self.glibc is None else f"glibc 2.{self.glibc}"

    def platform_tags(self) -> list[str]:
        """Every platform tag a wheel for this target may carry, most specific first."""
        if self.glibc is None:
            return [f"musllinux_1_{n}_{self.arch}" for n in range(2, -1, -1)]
        tags = [f"manylinux_2_{n}_{self.arch}" for n in range(self.glibc, 4, -1)]
        tags.append(f"manylinux2014_{self.arch}")
        if self.arch in ("x86_64", "i686"):
            tags += [f"manylinux2010_{self.arch}", f"manylinux1_{self.arch}"]
        return tags + [f"linux_{self.arch}"]


@lru_cache(maxsize=64)
def supported_tags(target: Target) -> "frozenset[Tag]":
    """The wheel tags pip accepts for the target."""
    from packaging import tags

    python = target.python
    plats = target.platform_tags()
    xy = f"{python[0]}{python[1]}"
    abis = [f"cp{xy}"] + ([f"cp{xy}m"] if python < (3, 8) else [])
    found = set(tags.cpython_tags(python, abis=abis, platforms=plats))
    found.update(tags.compatible_tags(python, f"cp{xy}", plats))
    return frozenset(found)


class Origin(NamedTuple):
    """Where one of an image's facts came from, as a value; `words` says it for --explain and errors."""

    by: str  # "flag", "setting", "file", "base", "default", "none" (nothing says), "several"
    setting: str = ""  # a [release_hook] setting's `glob=value`
    evidence: Evidence | None = None  # by "file": the file's words and line
    pip_line: int = 0  # the pip command this Python runs, when not on the evidence's line
    problem: str = ""  # by "file": "unreadable", "build" (`docker build --platform`), "unknown"
    several: "tuple[tuple[str, Origin], ...]" = ()  # each Python the stage's pip commands run under
    overrides: "tuple[str, Origin] | None" = None  # what the file alone says, where the user's word differs
    unused: tuple[Evidence, ...] = ()  # Pythons the file installs that no pip command runs under

    def words(self, name: str, key: str) -> str:
        """Where the Python, platform or CUDA (`key`) of the image `name` came from, in words."""
        if self.by == "flag":
            said = f"--{key}"
        elif self.by == "setting":
            said = f"[release_hook] {key} {self.setting}".rstrip()
        elif self.by == "file" and self.evidence is not None:
            said = self.evidence.how + {"unreadable": ": its Python cannot be read from the file",
                                          "build": ": the build decides it (docker build --platform)",
                                          "unknown": ": not a platform this tool knows"}.get(self.problem, "")
        elif self.by == "base":
            base = baseimage.read(name)
            said = f"base image {name}" if key != "python" or base.python and (
                base.repo == "python" or base.release is None or base.python != base.release.python) else \
                f"base image {name}, {base.release}'s python3" if base.python else "the base image's python3"
        elif self.by == "default":
            said = "default: nothing in the file says otherwise"
        elif self.by == "several":
            listed = "; ".join(f"{v} ({o.words(name, key)})" for v, o in self.several)
            said = f"pip runs under more than one Python in this stage: {listed}"
        else:
            said = f"nothing in the file says which, and the base image {name} does not"
        if self.pip_line:
            said += f", which runs pip at line {self.pip_line}"
        if self.unused:
            listed = ", ".join(f"{e.value} ({e.how})" for e in self.unused)
            said += f"; the file also installs {listed}, but pip does not run under it"
        if self.overrides is not None:
            value, alone = self.overrides
            said += f" (the file alone says {value}: {alone.words(name, key)})"
        return said


class Image(NamedTuple):
    """One build stage's base, as the resolver needs it."""

    name: str  # the stage's root base image, variables resolved
    python: tuple[int, int] | None = None
    platform: str | None = DEFAULT_PLATFORM  # None: decided by the build (`$TARGETPLATFORM`)
    cuda: cuda_builds.Cuda | None = None
    origins: Mapping[str, Origin] = MappingProxyType({})  # shared: never written  # "python" / "platform" / "cuda"
    path: str = ""  # the Dockerfile and its FROM line, for messages
    line: int = 0
    glob: str = "*"  # the file as a `[release_hook]` glob names it (relative to the root)

    @property
    def python_text(self) -> str:
        return f"{self.python[0]}.{self.python[1]}" if self.python else "unknown"

    @property
    def runs_on(self) -> str:
        """`Python 3.12 on linux/amd64`, and `(musl)` where manylinux wheels do not install."""
        return f"Python {self.python_text} on {self.platform}" + (" (musl)" if self.base.musl else "")

    @property
    def machine(self) -> str | None:
        """The wheel tags' machine: `x86_64`, `aarch64`, ... (None when the build decides)."""
        return PLATFORMS.get(self.platform) if self.platform else None

    @property
    def base(self) -> baseimage.BaseImage:
        return baseimage.read(self.name)

    def target(self) -> Target | str:
        """The image as the resolvers see it, or why it cannot be one."""
        if self.python is None:
            return (f"the Python of {self.name} is unknown (set [release_hook] python in setup.cfg "
                    "or pass --python X.Y)")
        if self.platform is None:
            return f"the build decides the platform of {self.name} (set [release_hook] platform or pass --platform)"
        system, _, rest = self.platform.partition("/")
        arch = arch_of(self.platform) if system == "linux" else ""
        if arch not in ("x86_64", "aarch64"):
            return f"platform {self.platform} is not one the resolvers are asked about"
        return Target(self.python, self.platform, arch, self.base.glibc)

    def _error(self, what: str, key: str, fallback: str, example: str) -> UserError:
        reason = self.origins[key].words(self.name, key) if key in self.origins else fallback
        return UserError(f"{what} depends on the image's {key}, and {reason}: set "
                         f"[release_hook] {key} in setup.cfg (e.g. `{key} = {example}`) or pass "
                         f"--{key} {example.rpartition('=')[2]}", self.path or None, self.line or None)

    def needs_python(self, what: str) -> tuple[int, int]:
        """The image's Python, or an error at the FROM line that says how to give it."""
        if self.python is None:
            raise self._error(what, "python", f"{self.name} does not say which", f"{self.glob}=3.11")
        return self.python

    def needs_platform(self, what: str) -> str:
        if self.platform is None:
            raise self._error(what, "platform", "the build decides it", f"{self.glob}=linux/amd64")
        return self.platform


def parse_python(text: str, what: str) -> tuple[int, int]:
    major, minor = checked_python(text, what).split(".")
    return int(major), int(minor)


def _glob_value(pairs: tuple[tuple[str, str], ...], rel: str) -> tuple[str, str] | None:
    return next(((g, v) for g, v in pairs if fnmatch.fnmatchcase(rel, g)), None)


def _file_python(scan: "Scan", index: int, base: tuple[int, int] | None
                 ) -> tuple[tuple[int, int] | None, Origin] | None:
    """What the file says of stage `index`'s Python: None when it leaves it to the base image."""
    facts = scan.stages[index]
    runs = [r for r in facts.pips if r.pins] or list(facts.pips)  # the pip installs that hold a pin
    said = [(r.python, 0 if r.python and r.python.line == r.first else r.first) for r in runs] \
        or [(facts.default, 0)]
    if all(e is None for e, _ in said):
        return None
    for e, _ in said:
        if e is not None and not e.value:
            return None, Origin("file", evidence=e, problem="unreadable")
    values: dict[tuple[int, int] | None, Origin] = {}
    for e, pip_line in said:
        if e is None:
            values.setdefault(base, Origin("base", pip_line=pip_line))
        else:
            major, minor = e.value.split(".")
            values.setdefault((int(major), int(minor)), Origin("file", evidence=e, pip_line=pip_line))
    if len(values) > 1 or None in values:
        listed = tuple((".".join(map(str, v)) if v else "unknown", o) for v, o in values.items())
        return None, Origin("several", several=listed)
    (python, origin), = values.items()
    return python, origin


def _unused_installs(facts: StageFacts, python: tuple[int, int] | None) -> tuple[Evidence, ...]:
    chosen = f"{python[0]}.{python[1]}" if python else None
    return tuple(e for e in facts.installs if e.value and e.value != chosen)


def image_of_stage(scan: "Scan", index: int, config: "Config", request: "Request", rel: str) -> Image:
    root = scan.images[index]
    facts = scan.stages[index] if index < len(scan.stages) else StageFacts(0)
    base = baseimage.read(root)
    origins: dict[str, Origin] = {}

    # The Python.
    found = _file_python(scan, index, base.python) if index < len(scan.stages) else None
    if found is not None:
        detected, detected_origin = found
    else:
        detected = base.python
        detected_origin = Origin("base" if detected else "none", unused=_unused_installs(facts, detected))
    configured = _glob_value(config.pythons, rel)
    origin: Origin
    if request.python:
        python: tuple[int, int] | None = parse_python(request.python, "--python")
        origin = Origin("flag")
    elif configured:
        python = parse_python(configured[1], "[release_hook] python")
        origin = Origin("setting", setting=f"{configured[0]}={configured[1]}")
    else:
        python, origin = detected, detected_origin
    if origin is not detected_origin and detected is not None and detected != python:
        origin = origin._replace(overrides=(f"{detected[0]}.{detected[1]}", detected_origin))
    origins["python"] = origin

    # The platform.
    configured = _glob_value(config.platforms, rel)
    platform: str | None
    if request.platform:
        platform, origin = checked_platform(request.platform, "--platform"), Origin("flag")
    elif configured:
        platform, origin = configured[1], Origin("setting", setting=f"{configured[0]}={configured[1]}")
    elif facts.platform is not None:
        platform = platform_name(facts.platform.value) if facts.platform.value else None
        problem = "build" if not facts.platform.value else "unknown" if platform is None else ""
        origin = Origin("file", evidence=facts.platform, problem=problem)
    elif (platform := base.platform) is not None:
        origin = Origin("base")
    else:
        platform, origin = DEFAULT_PLATFORM, Origin("default")
    origins["platform"] = origin

    # CUDA: the base image's name says it, else the user.
    cuda = cuda_builds.image_cuda(root)
    wanted_cuda = request.cuda or config.cuda
    if cuda is not None:
        origins["cuda"] = Origin("base")
    elif wanted_cuda:
        cuda = cuda_builds.parse_cuda(wanted_cuda)
        origins["cuda"] = Origin("flag") if request.cuda else Origin("setting")
    return Image(root, python, platform, cuda, origins, scan.path, facts.line, rel or "*")


def image_of(name: str, python: str | None = None, platform: str | None = None,
             cuda: str | None = None) -> Image:
    """The image of a base named `name` alone; the keyword values are the user's word."""
    from release_hook.config import Config
    from release_hook.found import Scan
    from release_hook.request import Request

    scan = Scan("", "", (), (), (), (name,))
    request = Request((), "", {}, "check", False, True, python=python, platform=platform, cuda=cuda)
    return image_of_stage(scan, 0, Config(""), request, "")


def images_of(scan: "Scan", config: "Config", request: "Request") -> tuple[Image, ...]:
    """One Image per build stage of `scan` (index = `Pin.stage`)."""
    from release_hook.request import relative

    rel = relative(config, scan.path) if scan.path else ""
    return tuple(image_of_stage(scan, i, config, request, rel) for i in range(len(scan.images)))

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
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

from release_hook.config import PLATFORMS, checked_platform, checked_python, platform_name
from release_hook.errors import UserError
from release_hook.resolve import cuda as cuda_builds
from release_hook.found import Evidence, StageFacts

if TYPE_CHECKING:
    from release_hook.config import Config
    from release_hook.found import Scan
    from release_hook.request import Request

DEFAULT_PLATFORM = "linux/amd64"

# The Python each release installs as `python3` (its python3-defaults package).
UBUNTU = {"16.04": ("xenial", (3, 5)), "18.04": ("bionic", (3, 6)), "20.04": ("focal", (3, 8)),
          "22.04": ("jammy", (3, 10)), "24.04": ("noble", (3, 12)), "26.04": ("resolute", (3, 14))}
DEBIAN = {"9": ("stretch", (3, 5)), "10": ("buster", (3, 7)), "11": ("bullseye", (3, 9)),
          "12": ("bookworm", (3, 11)), "13": ("trixie", (3, 13))}
DISTRO_PYTHON = {**{("ubuntu", v): p for v, (_, p) in UBUNTU.items()},
                 **{("debian", v): p for v, (_, p) in DEBIAN.items()}}
_BY_CODENAME = {**{c: ("Ubuntu", v, p) for v, (c, p) in UBUNTU.items()},
                **{c: ("Debian", v, p) for v, (c, p) in DEBIAN.items()}}
_CODENAME = re.compile(r"(?:^|[-_.])(" + "|".join(_BY_CODENAME) + r")(?=$|[-_.])")
_UBUNTU_IN_TAG = re.compile(r"ubuntu-?(\d\d\.\d\d)")
_ARCH_PREFIX = {"arm64v8": "linux/arm64", "aarch64": "linux/arm64", "amd64": "linux/amd64",
                "ppc64le": "linux/ppc64le", "s390x": "linux/s390x", "arm32v7": "linux/arm/v7",
                "i386": "linux/386"}


@dataclass(frozen=True)
class Image:
    """One build stage's base, as the resolver needs it."""

    name: str  # the stage's root base image, variables resolved
    python: tuple[int, int] | None = None
    platform: str | None = DEFAULT_PLATFORM  # None: decided by the build (`$TARGETPLATFORM`)
    cuda: cuda_builds.Cuda | None = None
    sources: Mapping[str, str] = field(default_factory=dict)  # "python" / "platform" / "cuda" -> why
    path: str = ""  # the Dockerfile and its FROM line, for messages
    line: int = 0
    glob: str = "*"  # the file as a `[release_hook]` glob names it (relative to the root)

    @property
    def python_text(self) -> str:
        return f"{self.python[0]}.{self.python[1]}" if self.python else "unknown"

    @property
    def machine(self) -> str | None:
        """The wheel tags' machine: `x86_64`, `aarch64`, ... (None when the build decides)."""
        return PLATFORMS.get(self.platform) if self.platform else None

    def _error(self, what: str, reason: str, key: str, example: str) -> UserError:
        return UserError(f"{what} depends on the image's {key}, and {reason}: set "
                         f"[release_hook] {key} in setup.cfg (e.g. `{key} = {example}`) or pass "
                         f"--{key} {example.rpartition('=')[2]}", self.path or None, self.line or None)

    def needs_python(self, what: str) -> tuple[int, int]:
        """The image's Python, or an error at the FROM line that says how to give it."""
        if self.python is None:
            reason = self.sources.get("python") or f"{self.name} does not say which"
            raise self._error(what, reason, "python", f"{self.glob}=3.11")
        return self.python

    def needs_platform(self, what: str) -> str:
        if self.platform is None:
            reason = self.sources.get("platform") or "the build decides it"
            raise self._error(what, reason, "platform", f"{self.glob}=linux/amd64")
        return self.platform


def parse_python(text: str, what: str) -> tuple[int, int]:
    major, minor = checked_python(text, what).split(".")
    return int(major), int(minor)


def _reference(name: str) -> tuple[str, str]:
    """`docker.io/library/ubuntu:22.04@sha256:...` -> ("ubuntu", "22.04")."""
    ref = name.split("@", 1)[0].lower()
    repo, colon, tag = ref.rpartition(":")
    if not colon or "/" in tag:
        repo, tag = ref, "latest"
    return repo.rsplit("/", 1)[-1], tag


def base_python(name: str) -> tuple[tuple[int, int], str] | None:
    """The Python a base image runs as `python3`, and why: `python:3.10-slim` is 3.10;
    `nvidia/cuda:12.3.2-...-ubuntu22.04` and `debian:bookworm` are their release's python3."""
    repo, tag = _reference(name)
    if repo == "python":  # the official images: the tag starts with the version
        m = re.match(r"(\d+)\.(\d+)", tag)
        return ((int(m.group(1)), int(m.group(2))), f"base image {name}") if m else None
    if repo in ("pypy", "jython"):
        return None  # not CPython: nothing here to say
    found: tuple[str, str, tuple[int, int]] | None = None
    if repo == "ubuntu" and tag[:5] in UBUNTU:
        found = ("Ubuntu", tag[:5], UBUNTU[tag[:5]][1])
    elif repo in ("debian", "buildpack-deps") and re.match(r"\d+(?=$|[-.])", tag):
        major = re.match(r"\d+", tag).group()  # type: ignore[union-attr]
        found = ("Debian", major, DEBIAN[major][1]) if major in DEBIAN else None
    elif (m := _UBUNTU_IN_TAG.search(tag)) and m.group(1) in UBUNTU:
        found = ("Ubuntu", m.group(1), UBUNTU[m.group(1)][1])
    elif m := _CODENAME.search(tag):
        found = _BY_CODENAME[m.group(1)]
    if found is None:
        return None
    distro, version, python = found
    return python, f"base image {name}, {distro} {version}'s python3"


def python_of_base(name: str) -> tuple[int, int] | None:
    found = base_python(name)
    return found[0] if found else None


def base_platform(name: str) -> str | None:
    """`arm64v8/python:3.11` and `quay.io/pypa/manylinux2014_aarch64` are linux/arm64."""
    ref = name.split("@", 1)[0].lower()
    parts = ref.split("/")
    for part in parts[:-1]:
        if part in _ARCH_PREFIX:
            return _ARCH_PREFIX[part]
    if re.search(r"aarch64|arm64", ref):
        return "linux/arm64"
    return None


def _glob_value(pairs: tuple[tuple[str, str], ...], rel: str) -> tuple[str, str] | None:
    return next(((g, v) for g, v in pairs if fnmatch.fnmatchcase(rel, g)), None)


def _at(e: Evidence) -> str:
    return e.how  # says its own line


def _file_python(scan: Scan, index: int, base: tuple[tuple[int, int], str] | None
                 ) -> tuple[tuple[int, int] | None, str] | None:
    """What the file says of stage `index`'s Python: None when it leaves it to the base image."""
    facts = scan.stages[index]
    runs = [r for r in facts.pips if r.pins] or list(facts.pips)  # the pip installs that hold a pin
    said = [(r.python, "" if r.python and r.python.line == r.first else f", which runs pip at line {r.first}")
            for r in runs] or [(facts.default, "")]
    if all(e is None for e, _ in said):
        return None
    for e, _ in said:
        if e is not None and not e.value:
            return None, f"{e.how}: its Python cannot be read from the file"
    values: dict[tuple[int, int] | None, str] = {}
    for e, runs_pip in said:
        if e is None:
            values.setdefault(base[0] if base else None,
                              (base[1] if base else "the base image's python3") + runs_pip)
        else:
            major, minor = e.value.split(".")
            values.setdefault((int(major), int(minor)), e.how + runs_pip)
    if len(values) > 1 or None in values:
        listed = "; ".join(f"{'.'.join(map(str, v)) if v else 'unknown'} ({why})" for v, why in values.items())
        return None, f"pip runs under more than one Python in this stage: {listed}"
    (python, why), = values.items()
    return python, why


def _unused_installs(facts: StageFacts, python: tuple[int, int] | None) -> str:
    chosen = f"{python[0]}.{python[1]}" if python else None
    other = [e for e in facts.installs if e.value and e.value != chosen]
    if not other:
        return ""
    listed = ", ".join(f"{e.value} ({e.how})" for e in other)
    return f"; the file also installs {listed}, but pip does not run under it"


def image_of_stage(scan: Scan, index: int, config: Config, request: Request, rel: str) -> Image:
    root = scan.images[index]
    facts = scan.stages[index] if index < len(scan.stages) else StageFacts(0)
    sources: dict[str, str] = {}

    # The Python.
    base = base_python(root)
    found = _file_python(scan, index, base) if index < len(scan.stages) else None
    if found is not None:
        detected, detected_why = found
    elif base is not None:
        detected, detected_why = base[0], base[1] + _unused_installs(facts, base[0])
    else:
        detected = None
        detected_why = f"nothing in the file says which, and the base image {root} does not"
        detected_why += _unused_installs(facts, None)
    configured = _glob_value(config.pythons, rel)
    if request.python:
        python: tuple[int, int] | None = parse_python(request.python, "--python")
        why = "--python"
    elif configured:
        python = parse_python(configured[1], "[release_hook] python")
        why = f"[release_hook] python {configured[0]}={configured[1]}"
    else:
        python, why = detected, detected_why
    if why != detected_why and detected is not None and detected != python:
        why += f" (the file alone says {detected[0]}.{detected[1]}: {detected_why})"
    sources["python"] = why

    # The platform.
    configured = _glob_value(config.platforms, rel)
    platform: str | None
    if request.platform:
        platform, why = checked_platform(request.platform, "--platform"), "--platform"
    elif configured:
        platform, why = configured[1], f"[release_hook] platform {configured[0]}={configured[1]}"
    elif facts.platform is not None:
        platform = platform_name(facts.platform.value) if facts.platform.value else None
        why = _at(facts.platform)
        if not facts.platform.value:
            why += ": the build decides it (docker build --platform)"
        elif platform is None:
            why += ": not a platform this tool knows"
    elif (platform := base_platform(root)) is not None:
        why = f"base image {root}"
    else:
        platform, why = DEFAULT_PLATFORM, "default: nothing in the file says otherwise"
    sources["platform"] = why

    # CUDA: the base image's name says it, else the user.
    cuda = cuda_builds.image_cuda(root)
    wanted_cuda = request.cuda or config.cuda
    if cuda is not None:
        sources["cuda"] = f"base image {root}"
    elif wanted_cuda:
        cuda = cuda_builds.parse_cuda(wanted_cuda)
        sources["cuda"] = "--cuda" if request.cuda else "[release_hook] cuda"
    return Image(root, python, platform, cuda, sources, scan.path, facts.line, rel or "*")


def image_of(name: str, python: str | None = None, platform: str | None = None,
             cuda: str | None = None) -> Image:
    """The image of a base named `name` alone; the keyword values are the user's word."""
    from release_hook.config import Config
    from release_hook.found import Scan
    from release_hook.request import Request

    scan = Scan("", "", (), (), (), (name,))
    request = Request((), "", {}, "check", False, True, python=python, platform=platform, cuda=cuda)
    return image_of_stage(scan, 0, Config(""), request, "")


def images_of(scan: Scan, config: Config, request: Request) -> tuple[Image, ...]:
    """One Image per build stage of `scan` (index = `Pin.stage`)."""
    from release_hook.request import relative

    rel = relative(config, scan.path) if scan.path else ""
    return tuple(image_of_stage(scan, i, config, request, rel) for i in range(len(scan.images)))

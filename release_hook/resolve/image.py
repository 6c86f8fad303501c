"""The image a pin is installed into: its Python, platform and CUDA, and where each came from.

The resolver takes an `Image` per build stage beside the release, so that every rule that
depends on the image (Requires-Python, wheel tags, CUDA builds) reads one small value.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

from release_hook.errors import UserError
from release_hook.resolve import cuda as cuda_builds

if TYPE_CHECKING:
    from release_hook.config import Config
    from release_hook.pins import Scan
    from release_hook.request import Request

DEFAULT_PLATFORM = "linux/amd64"

# The Python a distribution release installs as `python3` (its own package archive).
DISTRO_PYTHON = {
    ("ubuntu", "18.04"): (3, 6), ("ubuntu", "20.04"): (3, 8), ("ubuntu", "22.04"): (3, 10),
    ("ubuntu", "24.04"): (3, 12), ("ubuntu", "26.04"): (3, 13),
    ("debian", "10"): (3, 7), ("debian", "11"): (3, 9), ("debian", "12"): (3, 11),
    ("debian", "13"): (3, 13),
}
_PYTHON_IMAGE = re.compile(r"(?:^|/)python:(\d+)\.(\d+)")
_UBUNTU = re.compile(r"(?:^|/)ubuntu:(\d\d\.\d\d)|ubuntu(\d\d\.\d\d)")


@dataclass(frozen=True)
class Image:
    """One build stage's base, as the resolver needs it."""

    name: str  # the stage's root base image, variables resolved
    python: tuple[int, int] | None = None
    platform: str = DEFAULT_PLATFORM
    cuda: cuda_builds.Cuda | None = None
    sources: Mapping[str, str] = field(default_factory=dict)  # "python" / "platform" / "cuda" -> why

    @property
    def python_text(self) -> str:
        return f"{self.python[0]}.{self.python[1]}" if self.python else "unknown"

    def needs_python(self, what: str) -> tuple[int, int]:
        """The image's Python, or an error that says how to give it."""
        if self.python is None:
            raise UserError(f"{what} depends on the image's Python, and {self.name} does not say "
                            "which: set [release_hook] python in setup.cfg or pass --python X.Y")
        return self.python


def parse_python(text: str, what: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\.(\d+)(?:\.\d+)?\s*", text)
    if m is None:
        raise UserError(f"{what}: Python version {text!r}: expected MAJOR.MINOR, like 3.11")
    return int(m.group(1)), int(m.group(2))


def python_of_base(name: str) -> tuple[int, int] | None:
    """`python:3.10-slim` is 3.10; `nvidia/cuda:12.3.2-...-ubuntu22.04` ships Ubuntu's 3.10."""
    m = _PYTHON_IMAGE.search(name)
    if m:
        return int(m.group(1)), int(m.group(2))
    m = _UBUNTU.search(name)
    if m:
        return DISTRO_PYTHON.get(("ubuntu", m.group(1) or m.group(2)))
    return None


def image_of(name: str, python: str | None = None, platform: str | None = None,
             cuda: str | None = None) -> Image:
    """The image of a stage whose root base is `name`; the keyword values are the user's
    fallbacks (flag or setting) for what the base image does not say."""
    sources: dict[str, str] = {}
    found_python = python_of_base(name)
    if found_python is not None:
        sources["python"] = f"base image {name}"
    elif python:
        found_python = parse_python(python, "--python")
        sources["python"] = "--python / [release_hook] python"
    found_cuda = cuda_builds.image_cuda(name)
    if found_cuda is not None:
        sources["cuda"] = f"base image {name}"
    elif cuda:
        found_cuda = cuda_builds.parse_cuda(cuda)
        sources["cuda"] = "--cuda / [release_hook] cuda"
    sources["platform"] = "--platform / [release_hook] platform" if platform else "default"
    return Image(name, found_python, platform or DEFAULT_PLATFORM, found_cuda, sources)


def images_of(scan: Scan, config: Config, request: Request) -> tuple[Image, ...]:
    """One Image per build stage of `scan` (index = `Pin.stage`)."""
    return tuple(image_of(name, request.python, request.platform, request.cuda or config.cuda)
                 for name in scan.images)

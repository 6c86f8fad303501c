"""CUDA of an image, and what each tagged jaxlib build needs of it: which tag to write.

Tag names changed with jax's eras (see scripts/build_cuda_snapshot.py): `+cuda112`, then
`+cuda11.cudnn82`; which builds exist is `builds.py`'s question.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from packaging.version import Version

from release_hook.errors import UserError
from release_hook.records import NamedTuple

if TYPE_CHECKING:
    from release_hook.found import Pin

PAGES = ("jax_releases.html", "jax_cuda_releases.html")


def page_texts(pin: "Pin") -> tuple[list[str], str]:
    """The addresses pip reads where it reads the pin (its command's options and pip's
    variables; for a requirements file's pin, those of the command that reads the file), and
    where that is."""
    if pin.read_by is not None:
        return [t for _, t in pin.read_by.options], f"{pin.read_by.path}:{pin.read_by.line}"
    return [chars.text for _, chars in pin.addresses], f"{pin.path}:{pin.line}"


def reads_jax_page(pin: "Pin") -> bool:
    """Whether pip reads jax's own CUDA page where it reads this pin: only there does a
    `+cuda` jaxlib install."""
    return any(t.rstrip("/").rsplit("/", 1)[-1] in PAGES for t in page_texts(pin)[0])


_IMAGE = re.compile(r"(?:^|/)cuda:(\d+)\.(\d+)(?:\.\d+)?(?:-cudnn(\d+)?)?")
_TAG = re.compile(r"cuda(\d+)(?:\.cudnn(\d+))?$")


class NoBuild(UserError):
    """This jaxlib version has no build for the image; another version may."""


class Cuda(NamedTuple):
    major: int
    minor: int
    cudnn: int | None = None  # cuDNN major, when the image says

    def __str__(self) -> str:
        return f"CUDA {self.major}.{self.minor}" + (f" with cuDNN {self.cudnn}" if self.cudnn else "")


def image_cuda(image: str) -> Cuda | None:
    """`nvidia/cuda:11.2.2-cudnn8-devel-ubuntu20.04` is CUDA 11.2 with cuDNN 8."""
    m = _IMAGE.search(image)
    if m is None:
        return None
    return Cuda(int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None)


def parse_cuda(text: str) -> Cuda:
    from release_hook.config import checked_cuda

    return Cuda(*checked_cuda(text, ""))


class Need(NamedTuple):
    """What a build needs of the image."""

    cuda: tuple[int, int]  # at least this CUDA, same major
    cudnn: tuple[int, int] | None  # at least this cuDNN (major, minor)
    exact_minor: bool  # before CUDA 11.1 a wheel ran only on its own minor release


def need(tag: str, version: Version) -> Need:
    m = _TAG.fullmatch(tag)
    if m is None:
        raise UserError(f"jaxlib {version}+{tag}: not a CUDA build tag")
    cuda, cudnn = m.group(1), m.group(2)
    if cudnn is None:  # cudaNNN: CUDA N.N
        major, minor = int(cuda[:-1]), int(cuda[-1])
        return Need((major, minor), None, exact_minor=(major, minor) < (11, 1))
    dnn = (int(cudnn[0]), int(cudnn[1]) if len(cudnn) > 1 else 0)  # "805" is cuDNN 8.0.5
    major = int(cuda)
    floor = {  # the oldest CUDA each build supports, per jax's installation notes
        (11, (8, 0)): (11, 1), (11, (8, 2)): (11, 4), (11, (8, 6)): (11, 8),
    }.get((major, dnn))
    if floor is None:
        floor = (12, 2) if major == 12 and Version("0.4.17") <= version <= Version("0.4.25") else \
            (12, 1) if major == 12 and version >= Version("0.4.26") else (major, 0)
    return Need(floor, dnn, exact_minor=False)


def runs_on(tag: str, version: Version, image: Cuda) -> bool:
    n = need(tag, version)
    if image.major != n.cuda[0]:
        return False
    if n.exact_minor and image.minor != n.cuda[1]:
        return False
    if image.minor < n.cuda[1]:
        return False
    if n.cudnn is not None and image.cudnn is not None and image.cudnn != n.cudnn[0]:
        return False
    return True


def _rank(tag: str, version: Version) -> tuple[int, int, int, int]:
    n = need(tag, version)
    dnn = n.cudnn or (0, 0)
    return (n.cuda[0], n.cuda[1], dnn[0], dnn[1])


def choose(version: Version, tags: list[str], image: Cuda, image_name: str) -> str:
    """The best published build of `version` that `image` can run: the newest CUDA, then cuDNN."""
    fits = [t for t in tags if runs_on(t, version, image)]
    if not fits:
        offered = ", ".join(sorted({_describe(t, version) for t in tags})) or "none"
        raise NoBuild(f"no jaxlib {version} build runs on {image_name} ({image}); builds published: "
                        f"{offered}. Change the base image or pin another jaxlib")
    return max(fits, key=lambda t: _rank(t, version))


def _describe(tag: str, version: Version) -> str:
    n = need(tag, version)
    text = f"+{tag} (CUDA {n.cuda[0]}.{n.cuda[1]}+"
    if n.cudnn:
        text += f", cuDNN {n.cudnn[0]}.{n.cudnn[1]}+"
    return text + ")"


# From jax 0.4.26 the GPU backend checks, when it starts, the CUDA runtime and cuDNN it finds and
# refuses a CUDA older than 12.1 (jax's CHANGELOG for 0.4.26: CUDA 11 dropped, CUDA 12.1 and
# cuDNN 8.9 the minimum; the check is `_check_cuda_versions` in jax/_src/xla_bridge.py). It then
# falls back to the CPU with only a warning: the image installs and imports, and runs slowly.
GPU_RUNTIME_FLOOR = Version("0.4.26")
GPU_RUNTIME_CUDA = (12, 1)
GPU_RUNTIME_CUDNN = 8  # 8.9: an image name gives cuDNN's major only


def runtime_refuses(jax: Version, image: Cuda) -> str:
    """Why jax's GPU backend refuses the image's CUDA at start-up ("" when it accepts it)."""
    if jax < GPU_RUNTIME_FLOOR:
        return ""
    if (image.major, image.minor) < GPU_RUNTIME_CUDA or (image.cudnn is not None and image.cudnn < GPU_RUNTIME_CUDNN):
        return (f"jax {jax}'s GPU backend refuses {image} when it starts (from jax {GPU_RUNTIME_FLOOR} it "
                f"needs CUDA {GPU_RUNTIME_CUDA[0]}.{GPU_RUNTIME_CUDA[1]} and cuDNN 8.9 or newer)")
    return ""

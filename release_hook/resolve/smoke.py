"""Proof by import: an image's whole `pip install`, installed by uv into a throwaway virtualenv
of the image's Python, then `import jax, <package>` and one small computation on the CPU.

A resolver proves that pins install together; only an import shows what no metadata declares:
jax removing an API that an older release still imports (numpyro before 0.15 and jax 0.7's
`pjit_p`), or a jaxlib built against NumPy 1 meeting NumPy 2 (`_ARRAY_API not found`).
Verdicts are kept by the whole set, the Python, the platform and the index settings; uv's own
cache keeps the installs of a second run fast.
"""
from __future__ import annotations

import json
import os
import platform as machine
import re
import sys
import time
from dataclasses import dataclass, replace
from typing import Collection, Iterable, Protocol

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from release_hook import cache
from release_hook.resolve import pythons, smoke_venv, uvcli

IMPORTS, FAILS, UNPROVED = "imports", "fails", "unproved"
# What uv installs for what a set leaves open (NumPy, under exact pins of jax) changes with
# new releases: a verdict is kept a week for a set of exact pins, a day for one with ranges.
KEPT = 7 * 86400.0
LOOSE_KEPT = 86400.0
STEP_LIMIT = 600.0  # seconds for the install, and again for the import
DOWNLOADS_VARIABLE = "RELEASE_HOOK_SMOKE_PYTHON_DOWNLOADS"
TIMEOUT_VARIABLE = "RELEASE_HOOK_SMOKE_TIMEOUT"

# What a CPU cannot load or does not need: jax's GPU/TPU plugins and the CUDA runtime wheels.
ACCELERATOR = re.compile(r"jax-(cuda|rocm)\d*-(plugin|pjrt)|nvidia-.*|libtpu(-nightly)?")
_ACCELERATOR_EXTRA = re.compile(r"(cuda|rocm|tpu)")
# pip's options and uv's spelling of each (None: a flag); what is not here changes nothing in
# a fresh virtualenv (--upgrade, --no-cache-dir, --user, ...) or is left out, and said so.
_OPTIONS = {"-f": "--find-links", "--find-links": "--find-links", "-i": "--index-url",
            "--index-url": "--index-url", "--default-index": "--index-url",
            "--extra-index-url": "--extra-index-url", "--index": "--extra-index-url",
            "--no-index": None, "--no-deps": None, "--pre": "--prerelease",
            "--only-binary": "--only-binary", "--no-binary": "--no-binary"}
_NEUTRAL = {"-U", "--upgrade", "--user", "--no-cache-dir", "-q", "--quiet", "-v", "--verbose",
            "--break-system-packages", "--ignore-installed", "-I", "--force-reinstall",
            "--disable-pip-version-check", "--no-warn-script-location", "--root-user-action",
            "--progress-bar", "--no-input", "--compile", "--no-compile", "--system",
            "--prefer-binary", "--upgrade-strategy", "--python", "--no-build-isolation"}


@dataclass(frozen=True)
class SmokeSet:
    """What a build stage installs, as its pip commands say it: every requirement (the kept
    pins at the versions being tried, and their neighbours), the commands' options as (pip
    option, value) pairs (value "" for a flag: `("--no-deps", "")`), and the constraint lines."""

    requirements: tuple[str, ...]
    options: tuple[tuple[str, str], ...] = ()
    constraints: tuple[str, ...] = ()

    def __str__(self) -> str:
        return " ".join(self.requirements)


class Image(Protocol):
    """What the smoke needs of an image (resolve.image.Target has it)."""

    @property
    def python(self) -> tuple[int, int]: ...

    @property
    def platform(self) -> str | None: ...  # "linux/amd64"; None: the build decides

    @property
    def glibc(self) -> int | None: ...  # None: musl


@dataclass(frozen=True)
class Target:
    python: tuple[int, int]
    platform: str | None = "linux/amd64"
    glibc: int | None = 28  # minor version of glibc 2.x; None for musl


@dataclass(frozen=True)
class Settings:
    offline: bool = False  # only uv's cache, and verdicts already known
    python_downloads: bool = False  # may uv download a Python the machine lacks
    timeout: float = STEP_LIMIT


@dataclass(frozen=True)
class Verdict:
    state: str  # IMPORTS, FAILS or UNPROVED
    reason: str = ""  # FAILS: the last line it printed; UNPROVED: why it was not tried
    step: str = ""  # where it failed: "install" or "import"
    python: str = ""  # the interpreter that ran it: "3.12.1"
    installed: tuple[tuple[str, str], ...] = ()  # what uv installed, (name, version)
    left_out: tuple[str, ...] = ()
    seconds: float = 0.0
    cached: bool = False

    def __str__(self) -> str:
        cached = " [cached]" if self.cached else ""
        if self.state == IMPORTS:
            text = f"imports on Python {self.python}{cached}"
        elif self.state == FAILS:
            text = f"fails at {self.step} on Python {self.python}{cached}: {self.reason}"
        else:
            text = f"not proved by import: {self.reason}"
        return text + (f" (left out: {'; '.join(self.left_out)})" if self.left_out else "")


def settings(python_downloads: bool = False, offline: bool = False) -> Settings:
    """The user's settings ([release_hook] smoke_python_downloads) under the environment's."""
    allowed = os.environ.get(DOWNLOADS_VARIABLE, "").strip().lower()
    if allowed:
        python_downloads = allowed in ("1", "true", "yes", "on")
    try:
        limit = float(os.environ.get(TIMEOUT_VARIABLE, STEP_LIMIT))
    except ValueError:
        limit = STEP_LIMIT
    return Settings(offline, python_downloads, limit if limit > 0 else STEP_LIMIT)


def import_name(package: str) -> str:
    """The module a distribution is imported as, by the usual convention (`blackjax`)."""
    return canonicalize_name(package).replace("-", "_")


def accelerator_packages(requirements: Iterable[str]) -> tuple[str, ...]:
    """The GPU/TPU packages among requirements (canonical names), to leave out on a CPU."""
    names = []
    for text in requirements:
        name = _name(text)
        if name and ACCELERATOR.fullmatch(name):
            names.append(name)
    return tuple(dict.fromkeys(names))


def for_cpu(install: SmokeSet, leave_out: Collection[str]) -> tuple[SmokeSet, tuple[str, ...]]:
    """The install as a CPU can take it, and what was left out: the packages named, jax's
    accelerator extras (which pull them), and jaxlib's CUDA build (its CPU build instead)."""
    drop = {canonicalize_name(n) for n in leave_out}
    kept: list[str] = []
    said: list[str] = []
    for text in install.requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            kept.append(text)  # uv will say what is wrong with it
            continue
        name = canonicalize_name(req.name)
        if name in drop:
            said.append(f"{name} (an accelerator package)")
            continue
        extras = {e for e in req.extras if _ACCELERATOR_EXTRA.match(e)}
        if extras and name in ("jax", "jaxlib"):
            req.extras = set(req.extras) - extras
            said.append(f"{name}'s extra [{','.join(sorted(extras))}]")
        local = _local_pin(req)
        if local is not None:
            said.append(f"{name} {local} (its CPU build {Version(local).public} instead)")
        kept.append(str(req) if extras or local else text)
    return replace(install, requirements=tuple(kept)), tuple(said)


def at_hand(target: Image) -> str:
    """Why this machine cannot run the image's Python ("" when it can)."""
    if target.platform is None:
        return "the build decides the image's platform"
    here = machine_platform()
    wanted = "/".join(target.platform.split("/")[:2])
    if here != wanted:
        return f"the image is {target.platform}; this machine is {here or sys.platform}"
    if target.glibc is None:
        return "the image uses musl; this machine's Pythons use glibc"
    return ""


def smoke(install: SmokeSet, target: Image, module: str, leave_out: Collection[str] | None = None,
          how: Settings = Settings()) -> Verdict:
    """Install `install` into a new virtualenv of the image's Python, import jax and `module`,
    and compute one small thing with JAX_PLATFORMS=cpu. `leave_out` (default: the accelerator
    packages the install names) is not installed, and the verdict says so."""
    if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", module):
        raise ValueError(f"not a module name: {module!r}")
    if leave_out is None:
        leave_out = accelerator_packages(install.requirements)
    cpu, left_out = for_cpu(install, leave_out)
    left_out += _unpassed(cpu.options)
    key = _key(cpu, target, module)
    known = _cached(key)
    if known is not None:
        return replace(known, left_out=left_out, cached=True)
    why = at_hand(target)
    if why:
        return Verdict(UNPROVED, why, left_out=left_out)
    interpreter = pythons.find(target.python, how.python_downloads)
    if isinstance(interpreter, str):
        return Verdict(UNPROVED, interpreter, left_out=left_out)
    ran = smoke_venv.run(cpu.requirements, cpu.constraints, uv_options(cpu.options), interpreter.path,
                         check(module), how.timeout, how.offline)
    verdict = Verdict(ran.state, ran.reason, ran.step, interpreter.version, ran.installed, left_out,
                      ran.seconds)
    if verdict.state != UNPROVED:
        kept = KEPT if _exact(cpu) else LOOSE_KEPT
        cache.put(key, {"state": verdict.state, "reason": verdict.reason, "step": verdict.step,
                        "python": verdict.python, "installed": [list(i) for i in verdict.installed],
                        "seconds": verdict.seconds, "until": time.time() + kept})
    return verdict


def check(module: str) -> str:
    """What the interpreter runs: the imports, then one jitted computation that takes a NumPy
    array in and gives one back (a jaxlib built for NumPy 1 imports under NumPy 2, printing
    `_ARRAY_API not found`, and fails only when an array crosses)."""
    return (f"import numpy as np, jax, jax.numpy as jnp, {module}; "
            "x = jax.jit(lambda v: (v * v).sum())(np.arange(3.0)); "
            "assert float(np.asarray(x)) == 5.0, x")


def _key(install: SmokeSet, target: Image, module: str) -> str:
    return "smoke " + json.dumps({
        "requirements": sorted(install.requirements), "options": install.options,
        "constraints": sorted(install.constraints), "python": target.python,
        "platform": target.platform, "musl": target.glibc is None, "check": check(module),
        "index": uvcli.index_options()}, sort_keys=True)


def _cached(key: str) -> Verdict | None:
    hit = cache.get(key, None)
    if not isinstance(hit, dict) or float(hit.get("until", 0)) <= time.time():
        return None
    try:
        if hit["state"] not in (IMPORTS, FAILS):
            return None
        return Verdict(hit["state"], str(hit["reason"]), str(hit["step"]), str(hit["python"]),
                       tuple((str(n), str(v)) for n, v in hit["installed"]), (), float(hit["seconds"]))
    except (KeyError, TypeError, ValueError):
        return None  # not trusted: tried again


def _exact(install: SmokeSet) -> bool:
    """Every requirement pinned to one version, so the same packages install next time."""
    for text in install.requirements:
        try:
            specs = list(Requirement(text).specifier)
        except InvalidRequirement:
            return False
        if len(specs) != 1 or specs[0].operator not in ("==", "===") or "*" in specs[0].version:
            return False
    return True


def _unpassed(options: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    return tuple(f"option {o}" for o, _ in options if o not in _OPTIONS and o not in _NEUTRAL)


def uv_options(options: Iterable[tuple[str, str]]) -> list[str]:
    """pip's options of the command as uv's (what uv has no equivalent for is not passed)."""
    args: list[str] = []
    for option, value in options:
        if option not in _OPTIONS:
            continue
        spelled = _OPTIONS[option]
        if spelled is None:
            args.append(option)
        elif option == "--pre":
            args += [spelled, "allow"]
        else:
            args += [spelled, value]
    return args


def _local_pin(req: Requirement) -> str | None:
    """The version of `jaxlib==0.4.25+cuda11.cudnn86`, when the pin names a CUDA build."""
    if canonicalize_name(req.name) != "jaxlib":
        return None
    specs = list(req.specifier)
    if len(specs) != 1 or specs[0].operator != "==" or "+" not in specs[0].version:
        return None
    try:
        version = Version(specs[0].version)
    except InvalidVersion:
        return None
    req.specifier = type(req.specifier)(f"=={version.public}")
    return str(version)


def _name(text: str) -> str | None:
    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        return None


def machine_platform() -> str:
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
    return f"linux/{arch[machine.machine().lower()]}" if (
        sys.platform.startswith("linux") and machine.machine().lower() in arch) else ""


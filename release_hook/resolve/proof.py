"""Proof by a real resolver: does an image's final pin set install for its Python and platform?

Before anything is written, `sync` asks a resolver that is not ours whether each changed build
stage's pins install together for the image's Python, CPU and C library: uv's `pip compile`
when uv is installed, else pip's own `install --dry-run --report` (see benchmarks/bench.py for
the figures behind that order). Both read the index the user's pip is configured for, plus the
file's own `-f` / `-i` / `--extra-index-url` options. The verdict is cached by pin set, target
and index configuration, so the bump hook pays for it once.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

from release_hook import cache
from release_hook.names import normalize as canonicalize_name
from release_hook.pins import Note, Pin
from release_hook.resolve import index_errors as said
from release_hook.resolve import pipconf, uvcli
from release_hook.resolve.image import Image

INSTALLS_TTL = 30 * 86400.0  # a pin set that installed keeps installing (yanked pins still do)
REFUSED_TTL = 600.0  # as long as the index's release lists are trusted (index.PAGE_TTL)
RUN_LIMIT = 900.0  # seconds for one resolver run; pip fetches whole wheels without PEP 658

_ARCH = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}
# The C library of a distribution release, which decides the manylinux wheels it can load.
_GLIBC = {"ubuntu18.04": 27, "ubuntu20.04": 31, "ubuntu22.04": 35, "ubuntu24.04": 39,
          "ubuntu26.04": 42, "buster": 28, "bullseye": 31, "bookworm": 36, "trixie": 41,
          "debian10": 28, "debian11": 31, "debian12": 36, "debian13": 41}
_DISTRO = re.compile(r"ubuntu:?(\d\d\.\d\d)|(buster|bullseye|bookworm|trixie)|debian:(\d+)")
_PYTHON_IMAGE_GLIBC = 36  # python:3.X without a release in the tag: Debian 12 or newer
_DEFAULT_GLIBC = 28  # manylinux_2_28, what current wheels (jaxlib's among them) need at most
_UV_GLIBC = (17, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40)  # uv's --python-platform targets
_OPTION = {"-f": "--find-links", "--find-links": "--find-links", "-i": "--index-url",
           "--index-url": "--index-url", "--default-index": "--index-url",
           "--extra-index-url": "--extra-index-url", "--index": "--extra-index-url"}


@dataclass(frozen=True)
class Target:
    """What the pins must install into: CPython X.Y on a Linux CPU with a glibc."""

    python: tuple[int, int]
    platform: str  # as the image says it: "linux/amd64"
    arch: str  # as wheel tags say it: "x86_64"
    glibc: int  # minor version of glibc 2.x

    def __str__(self) -> str:
        return f"Python {self.python[0]}.{self.python[1]} {self.platform}"

    def manylinux(self) -> list[str]:
        """Every platform tag a wheel for this target may carry, newest first."""
        tags = [f"manylinux_2_{n}_{self.arch}" for n in range(self.glibc, 16, -1)]
        tags.append(f"manylinux2014_{self.arch}")
        if self.arch == "x86_64":
            tags += ["manylinux2010_x86_64", "manylinux1_x86_64"]
        return tags + [f"linux_{self.arch}"]


@dataclass(frozen=True)
class PinSet:
    """A stage's pins as they will be written, and the index options of their pip commands."""

    requirements: tuple[str, ...]
    options: tuple[tuple[str, str], ...] = ()  # ("--find-links", URL), ...
    left_out: tuple[str, ...] = ()  # what is not proved, and why

    def __str__(self) -> str:
        return " ".join(self.requirements)


@dataclass(frozen=True)
class Verdict:
    state: str  # "installs", "refused" or "unproved"
    reason: str = ""  # the resolver's reason (refused), or why there is no answer (unproved)
    tool: str = ""  # "uv 0.13.9", "pip 23.2.1"
    installs: tuple[tuple[str, str], ...] = ()  # (name, version) the resolver chose
    cached: bool = False


class Resolver(Protocol):
    name: str

    def version(self) -> str | None: ...

    def run(self, pins: PinSet, target: Target) -> Verdict: ...


# -- what is proved -----------------------------------------------------------------------------

def target_of(image: Image) -> Target | str:
    """The image as a resolver target, or why it cannot be one."""
    if image.python is None:
        return (f"the Python of {image.name} is unknown (set [release_hook] python in setup.cfg "
                "or pass --python X.Y)")
    if image.platform is None:
        return f"the build decides the platform of {image.name} (set [release_hook] platform or pass --platform)"
    system, _, rest = image.platform.partition("/")
    arch = _ARCH.get(rest.split("/")[0]) if system == "linux" else None
    if arch is None:
        return f"platform {image.platform} is not one the resolvers are asked about"
    if "alpine" in image.name:
        return f"{image.name} uses musl, not glibc"
    return Target(image.python, image.platform, arch, glibc_of(image.name))


def glibc_of(name: str) -> int:
    m = _DISTRO.search(name.lower())
    if m is not None:
        key = f"ubuntu{m.group(1)}" if m.group(1) else m.group(2) or f"debian{m.group(3)}"
        if key in _GLIBC:
            return _GLIBC[key]
    if re.search(r"(?:^|/)python:", name):
        return _PYTHON_IMAGE_GLIBC
    return _DEFAULT_GLIBC


def pin_set(pins: Sequence[Pin], package: str,
            published: Callable[[str, str], bool | None]) -> PinSet:
    """The requirements of one stage's pins (the last install of a package wins, as in the
    image), with their pip commands' index options. The released package is left out while it
    is not on the index yet (the bump commit comes before the upload); a source checkout of it
    cannot be asked about without building it."""
    chosen: dict[str, str] = {}
    options: dict[tuple[str, str], None] = {}
    left_out: list[str] = []
    release = canonicalize_name(package)
    for pin in pins:
        if pin.kind == "source":
            left_out.append(f"{pin.package} from source (line {pin.line})")
            continue
        if pin.package == release and published(pin.package, pin.version) is False:
            left_out.append(f"{pin.package} {pin.version} (not on the index yet)")
            continue
        chosen.pop(pin.package, None)
        chosen[pin.package] = pin.requirement
        for option, chars in pin.addresses:
            if chars.computed or chars.undefined:
                left_out.append(f"{option} {chars.text} (computed at build time; line {pin.line})")
            elif option in _OPTION:
                options[(_OPTION[option], chars.text)] = None
    return PinSet(tuple(chosen.values()), tuple(options), tuple(dict.fromkeys(left_out)))


def published_on_index(offline: bool) -> Callable[[str, str], bool | None]:
    """Whether a release is on the index the user's pip reads (None: cannot tell). The answer
    is kept: for good once it is there, for as long as a release list otherwise, so that a
    run whose verdict is cached does not read the index either."""
    def published(project: str, version: str) -> bool | None:
        from packaging.version import InvalidVersion, Version

        key = f"published {project} {version} {' '.join(pipconf.index_urls())}"
        known = cache.get(key, None)
        if isinstance(known, dict) and (known.get("published") or float(known.get("until", 0)) > time.time()):
            return bool(known.get("published"))
        from release_hook.errors import UserError
        from release_hook.resolve.index import Index, IndexUnavailable

        try:
            wanted = Version(version)
            found = any(d.version == wanted for d in Index(pipconf.index_urls(), offline).dists(project))
        except IndexUnavailable:
            return None
        except UserError:
            found = False  # not on the index at all
        except InvalidVersion:
            return None
        cache.put(key, {"published": found, "until": time.time() + REFUSED_TTL})
        return found

    return published


# -- asking a resolver, with a cache ------------------------------------------------------------

def choose_resolver() -> Resolver:
    """uv when it is installed (about 8x faster here, see the benchmark), else pip; the
    RELEASE_HOOK_RESOLVER variable (`uv` or `pip`) chooses."""
    wanted = os.environ.get("RELEASE_HOOK_RESOLVER", "")
    if wanted != "pip":
        uv = uvcli.binary()
        if uv is not None:
            return Uv(uv)
    return Pip()


def index_config() -> dict[str, str]:
    """The user's pip settings that decide what the resolver sees, for the cache key."""
    return {name: value for name in ("index-url", "extra-index-url", "find-links", "no-index")
            if (value := pipconf.setting(name)) is not None}


def prove(pins: PinSet, target: Target, resolver: Resolver) -> Verdict:
    """The resolver's verdict on pins for target: from the cache, or by running it."""
    if not pins.requirements:
        return Verdict("unproved", "nothing left to ask about")
    key = "proof " + json.dumps({"requirements": sorted(pins.requirements), "options": pins.options,
                                 "python": target.python, "arch": target.arch, "glibc": target.glibc,
                                 "resolver": resolver.name, "index": index_config()}, sort_keys=True)
    hit = cache.get(key, None)
    if isinstance(hit, dict) and float(hit.get("until", 0)) > time.time():
        try:
            return Verdict(str(hit["state"]), str(hit["reason"]), str(hit["tool"]),
                           tuple((str(n), str(v)) for n, v in hit["installs"]), cached=True)
        except (KeyError, TypeError, ValueError):
            pass  # not trusted: asked again
    verdict = resolver.run(pins, target)
    if verdict.state != "installs":
        blind = unreachable(pins)
        if blind:
            return Verdict("unproved", blind, verdict.tool)
    if verdict.state == "refused":
        source = source_only(verdict.reason)
        if source:
            verdict = Verdict("unproved", source, verdict.tool)
    if verdict.state in ("installs", "refused") or verdict.reason.endswith(_SOURCE_ONLY):
        ttl = REFUSED_TTL if verdict.state == "refused" else INSTALLS_TTL
        cache.put(key, {"state": verdict.state, "reason": verdict.reason, "tool": verdict.tool,
                        "installs": [list(i) for i in verdict.installs], "until": time.time() + ttl})
    return verdict


_SOURCE_ONLY = "is published as source only: asking would mean building it (running its setup.py)"


def source_only(reason: str) -> str:
    """Old jax releases (0.2.x) are source archives only: a resolver told not to build refuses
    them, which says nothing about the image, so that is not a refusal ("" when not so)."""
    m = re.search(r"Because ([\w.-]+)==(\S+) has no usable wheels", reason)  # uv says so
    if m is None:
        m = re.search(r"satisfies the requirement ([\w.-]+)(?:\[[^]]*\])?==(\S+) \(from versions: ([^)]*)\)", reason)
        if m is None or m.group(2) in m.group(3).split(", ") or not _sdists_only(m.group(1), m.group(2)):
            return ""
    return f"{m.group(1)} {m.group(2)} {_SOURCE_ONLY}"


def _sdists_only(project: str, version: str) -> bool:
    """Whether the user's index has files of this release and none of them is a wheel."""
    from pypi_simple import PyPISimple

    files = []
    for url in pipconf.index_urls():
        try:
            page = PyPISimple(endpoint=url).get_project_page(project, timeout=_timeout())
        except Exception:  # requests' and pypi-simple's errors, and a project not there
            continue
        files += [p.package_type for p in page.packages if p.version == version]
    return bool(files) and "wheel" not in files


def unreachable(pins: PinSet) -> str:
    """Why the resolver may not have seen the whole index: the first address of the file, or
    of the user's configuration, that does not answer ("" when all do)."""
    import requests

    addresses = [(opt, url) for opt, url in pins.options if url.startswith(("http://", "https://"))]
    addresses += [("--index-url", url) for url in pipconf.index_urls()]
    for option, url in addresses:
        try:
            answer = requests.get(url, timeout=_timeout())
        except requests.RequestException as e:
            return f"cannot read {_where(option, url)}: {said.reason(e, None, _timeout())}"
        if option == "--find-links" and answer.status_code >= 400:
            return f"cannot read {_where(option, url)}: HTTP {answer.status_code}"
    return ""


def _where(option: str, url: str) -> str:
    """`package index HOST`, or `HOST (PAGE)` for a find-links page: never a whole URL."""
    if option == "--find-links":
        return f"{said.host(url)} ({url.rstrip('/').rsplit('/', 1)[-1]})"
    return said.where(url)


def _timeout() -> float:
    try:
        return float(os.environ.get("RELEASE_HOOK_TIMEOUT", "20"))
    except ValueError:
        return 20.0


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _run(cmd: list[str], env: dict[str, str] | None = None,
         input: str | None = None) -> subprocess.CompletedProcess[str] | str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, env=env, input=input,
                              timeout=RUN_LIMIT, stdin=None if input is not None else subprocess.DEVNULL)
    except FileNotFoundError:
        return f"{cmd[0]} is not installed"
    except subprocess.TimeoutExpired:
        return f"no answer within {RUN_LIMIT:g}s"


# -- pip ----------------------------------------------------------------------------------------

class Pip:
    """pip's own resolver, with the user's configuration (no --isolated)."""

    name = "pip"

    def __init__(self, python: str = sys.executable) -> None:
        self.python = python
        self._version: str | None = None

    def version(self) -> str | None:
        if self._version is None:
            try:
                from importlib.metadata import version

                self._version = version("pip") if self.python == sys.executable else None
            except ImportError:
                self._version = None
        return self._version

    def command(self, pins: PinSet, target: Target, folder: str) -> list[str]:
        platforms = [arg for tag in target.manylinux() for arg in ("--platform", tag)]
        options = [arg for option in pins.options for arg in option]
        # --target: pip before 23.1 takes platform options only for an install into a folder;
        # --dry-run writes nothing there.
        return [self.python, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                "--only-binary=:all:", "--target", folder, "--python-version",
                "{}.{}".format(*target.python), "--implementation", "cp", *platforms,
                "--disable-pip-version-check", "--no-input", "--quiet", "--report", "-",
                *options, *pins.requirements]

    def run(self, pins: PinSet, target: Target) -> Verdict:
        tool = f"pip {self.version() or ''}".strip()
        with tempfile.TemporaryDirectory(prefix="release-hook-proof-") as folder:
            done = _run(self.command(pins, target, folder))
        if isinstance(done, str):
            return Verdict("unproved", done, tool)
        if done.returncode != 0:
            if "No module named pip" in done.stderr or "no such option" in done.stderr:
                return Verdict("unproved", f"{tool} cannot do a dry run (pip 22.2 or newer can): "
                               f"{_last_line(done.stderr)}", tool)
            if not re.search(r"^ERROR: (Could not find a version|No matching distribution|Cannot install"
                             r"|ResolutionImpossible)", done.stderr, re.MULTILINE):
                return Verdict("unproved", f"{tool} failed: {pip_reason(done.stderr)}", tool)
            return Verdict("refused", pip_reason(done.stderr), tool)
        missing = _missing_extra(done.stderr)
        if missing:
            return Verdict("refused", missing, tool)
        try:
            report = json.loads(done.stdout)
            installs = tuple((str(i["metadata"]["name"]), str(i["metadata"]["version"]))
                             for i in report["install"])
        except (ValueError, KeyError, TypeError):
            return Verdict("unproved", "pip's report did not parse", tool)
        wrong = _python_mismatch(report["install"], target.python)
        if wrong:
            return Verdict("refused", wrong, tool)
        return Verdict("installs", "", tool, installs)


def _python_mismatch(installs: list[dict[str, Any]], python: tuple[int, int]) -> str:
    """pip checks a release's Requires-Python against the target Python only where the index
    page carries it (data-requires-python); from the metadata it checks its own Python. The
    report holds the metadata, so the target's Python is checked here."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    for item in installs:
        meta = item.get("metadata", {})
        text = meta.get("requires_python")
        if not text:
            continue
        try:
            spec = SpecifierSet(str(text))
        except InvalidSpecifier:
            continue
        # the image's patch release is not known: any that fits is enough
        if not any(spec.contains(f"{python[0]}.{python[1]}.{patch}") for patch in (0, 99)):
            return (f"{meta.get('name')} {meta.get('version')} requires Python {text}; "
                    f"the image has {python[0]}.{python[1]}")
    return ""


def pip_reason(stderr: str) -> str:
    """pip's ERROR lines as one line: what it could not find, or which pins conflict."""
    errors = [line[len("ERROR: "):].strip() for line in stderr.splitlines() if line.startswith("ERROR: ")]
    errors = [e for e in errors if not e.startswith("ResolutionImpossible")]
    if any(e.startswith("Could not find a version") for e in errors):
        errors = [e for e in errors if not e.startswith("No matching distribution")]
    errors = [re.sub(r"\(from versions: ([^)]*)\)", _fewer_versions, e) for e in errors]
    wanted = {m.group(1) for e in errors for m in [re.search(r"the requirement \S+?==(\S+)", e)] if m}
    for i, e in enumerate(errors):  # of the releases pip skipped for their Python, the pinned one
        head, colon, entries = e.partition(": ")
        if head.startswith("Ignored the following versions") and wanted:
            kept = [x for x in entries.split("; ") if x.split(" ")[0] in wanted]
            errors[i] = f"{head}: {'; '.join(kept)}" if kept else ""
    errors = [e for e in errors if e]
    return "; ".join(errors) or _last_line(stderr) or "pip failed without saying why"


def _fewer_versions(m: re.Match[str]) -> str:
    versions = m.group(1).split(", ")
    if len(versions) > 8:
        versions = versions[:2] + ["..."] + versions[-5:]
    return f"(from versions: {', '.join(versions)})"


def _missing_extra(stderr: str) -> str:
    """An extra the pinned version does not have installs nothing, silently (jax 0.4.14 and
    `jax[cuda12]`): both resolvers only warn, but the image would lack its CUDA packages."""
    for line in stderr.splitlines():
        if "does not provide the extra" in line or "does not have an extra named" in line:
            return re.sub(r"^(WARNING|warning): ", "", line.strip())
    return ""


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return _short(lines[-1]) if lines else ""


# -- uv -----------------------------------------------------------------------------------------

class Uv:
    """uv's resolver (`uv pip compile`). uv does not read pip's configuration, so the index,
    extra indexes, find-links and certificate are passed from it explicitly."""

    name = "uv"

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self._version: str | None = None

    def version(self) -> str | None:
        if self._version is None:
            done = _run([self.binary, "--version"])
            if not isinstance(done, str) and done.returncode == 0:
                self._version = done.stdout.split()[1] if len(done.stdout.split()) > 1 else ""
        return self._version

    def command(self, pins: PinSet, target: Target) -> list[str]:
        glibc = max(n for n in _UV_GLIBC if n <= max(target.glibc, 17))
        cmd = [self.binary, "pip", "compile", "-", "--python-version", "{}.{}".format(*target.python),
               "--python-platform", f"{target.arch}-manylinux_2_{glibc}",
               # an interpreter given, so uv does not search the machine for one of that version
               "--python", sys.executable, "--no-config", "--no-build", "--no-header",
               "--no-annotate", "--color", "never",
               # pip's way: every index is searched for the best match, not the first that has it
               "--index-strategy", "unsafe-best-match"]
        cmd += uvcli.index_options()
        return cmd + [arg for option in pins.options for arg in option]

    def environment(self) -> dict[str, str]:
        return uvcli.environment()

    def run(self, pins: PinSet, target: Target) -> Verdict:
        tool = f"uv {self.version() or ''}".strip()
        done = _run(self.command(pins, target), self.environment(), "\n".join(pins.requirements) + "\n")
        if isinstance(done, str):
            return Verdict("unproved", done, tool)
        if done.returncode == 2 and "unexpected argument" in done.stderr:
            return Verdict("unproved", f"{tool} is too old: {_last_line(done.stderr)}", tool)
        if done.returncode != 0:
            if "No solution found" not in done.stderr:  # uv's own trouble, not an answer
                return Verdict("unproved", f"{tool} failed: {uv_reason(done.stderr)}", tool)
            return Verdict("refused", uv_reason(done.stderr), tool)
        missing = _missing_extra(done.stderr)
        if missing:
            return Verdict("refused", missing, tool)
        installs = []
        for line in done.stdout.splitlines():
            name, eq, version = line.strip().partition("==")
            if eq and not line.startswith("#"):
                installs.append((name.strip(), version.split(";")[0].strip()))
        return Verdict("installs", "", tool, tuple(installs))


def uv_reason(stderr: str) -> str:
    """uv's explanation (`cause:` and the lines that continue it, and a hint) as one line."""
    parts: list[str] = []
    for raw in stderr.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("error: No solution found"):
            continue
        line = re.sub(r"^(error|cause|Caused by|hint):\s*", lambda m: "hint: " if m.group(1) == "hint" else "", line)
        parts.append(line)
    text = " ".join(parts)
    return text or "uv failed without saying why"



# -- one file's stages --------------------------------------------------------------------------

@dataclass(frozen=True)
class StageProof:
    path: str
    stage: int
    line: int  # where a refusal points: the pin the resolver names, else the first that moved
    pins: PinSet
    target: Target | None
    verdict: Verdict

    def explain(self) -> str:
        v = self.verdict
        if v.state == "installs":
            asked = {canonicalize_name(re.split(r"[\[=~<>!;@ ]", r, maxsplit=1)[0]) for r in self.pins.requirements}
            named = [f"{n}=={ver}" for n, ver in v.installs if canonicalize_name(n) in asked]
            more = len(v.installs) - len(named)
            chose = " ".join(named) + (f" and {more} more" if more else "")
            text = (f"{v.tool} installs it for {self.target} (glibc 2.{self.target.glibc if self.target else '?'})"
                    f"{' [cached]' if v.cached else ''}: {chose}")
        elif v.state == "refused":
            text = f"refused by {v.tool}{' [cached]' if v.cached else ''}: {v.reason}"
        else:
            text = f"not proved: {v.reason}"
        if self.pins.left_out and v.state != "unproved":
            text += f" (left out: {'; '.join(self.pins.left_out)})"
        return f"stage {self.stage} proof: {text}"

    def refusal(self) -> str:
        tool = self.verdict.tool.split()[0] if self.verdict.tool else "the resolver"
        return f"{tool} cannot install {self.pins} for {self.target}: {self.verdict.reason}"


def prove_stages(path: str, pins: Sequence[Pin], moved: dict[int, int], images: Sequence[Image],
                 package: str, resolver: Resolver, published: Callable[[str, str], bool | None],
                 computed: Sequence[tuple[int, Note]] = ()) -> list[StageProof]:
    """Each stage in `moved` (stage -> the first line that moved there), with `pins` the file's
    pins as they will be written and `computed` the (stage, warning) of pins whose version is
    computed at build time, which cannot be asked about; stops at the first refusal."""
    out: list[StageProof] = []
    for stage in sorted(moved):
        here = [p for p in pins if p.stage == stage]
        chosen = pin_set(here, package, published)
        unknown = tuple(f"line {w.line}: computed at build time" for s, w in computed if s == stage)
        if unknown:
            chosen = PinSet(chosen.requirements, chosen.options, chosen.left_out + unknown)
        target = target_of(images[stage]) if stage < len(images) else "no base image"
        if isinstance(target, str):
            out.append(StageProof(path, stage, moved[stage], chosen, None, Verdict("unproved", target)))
            continue
        verdict = prove(chosen, target, resolver)
        out.append(StageProof(path, stage, _named_line(verdict.reason, here) or moved[stage], chosen,
                              target, verdict))
        if verdict.state == "refused":
            break
    return out


def _named_line(reason: str, pins: Sequence[Pin]) -> int | None:
    """The line of the pin whose name the reason mentions first."""
    best: tuple[int, int] | None = None
    for pin in pins:
        m = re.search(rf"(?<![\w.-]){re.escape(pin.package)}(?![\w-])", reason, re.IGNORECASE)
        if m is not None and (best is None or m.start() < best[0]):
            best = (m.start(), pin.line)
    return best[1] if best else None

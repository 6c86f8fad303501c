"""The install a build stage runs, as the resolver is asked about it.

A pin is right only if the image builds and imports with it, and the image installs whole pip
commands: the kept pins (whose versions are being chosen), every other requirement on the same
commands (the neighbours), the files they read with `-r`, the constraints of `-c` and
PIP_CONSTRAINT / UV_CONSTRAINT, and what the stage's other pip commands (and those of the stage
it is built FROM) put into the same environment. One `Install` per build stage holds all of it;
the search asks the resolver whether it installs with a candidate's versions written in.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

from release_hook.names import normalize as canonicalize_name

from release_hook.context import Followed
from release_hook.found import FileArg, Pin, PipInstall, Requirement, Scan
from release_hook.records import NamedTuple
from release_hook.resolve.cuda import PAGES
from release_hook.resolve.image import Image, Target

_OPTION = {"-f": "--find-links", "--find-links": "--find-links", "-i": "--index-url",
           "--index-url": "--index-url", "--default-index": "--index-url",
           "--extra-index-url": "--extra-index-url", "--index": "--extra-index-url"}


# Reads the file a FileArg names: what it brings, or why it cannot be read (a message).
ReadArg = Callable[[FileArg], "Followed | str"]


def no_files(arg: FileArg) -> Followed | str:
    return arg.why or f"{arg.how} is not read"


class Install(NamedTuple):
    """What one build stage installs with pip, for the resolver."""

    path: str
    stage: int
    line: int  # the first pip command that carries a kept pin: where a refusal points
    pins: tuple[Pin, ...]  # the kept pins, in order (the last of a package wins, as in the image)
    requirements: tuple[Requirement, ...] = ()  # every other requirement of the stage's installs
    constraints: tuple[Requirement, ...] = ()
    options: tuple[tuple[str, str], ...] = ()  # index options the question may use
    left_out: tuple[str, ...] = ()  # what the question cannot include, and why
    no_deps: bool = False  # every command of the stage installs without dependencies
    untrusted: tuple[str, ...] = ()  # of left_out: the index addresses left out for want of trust

    def lines(self, spec_of: Callable[[Pin], str | None], package: str,
              published: Callable[[str, str], bool | None] = lambda p, v: True) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(requirement lines, left out) with each kept pin's version replaced by what `spec_of`
        gives it: a version (`0.4.25`, written `==0.4.25`), a specifier (`>=0.4.25,<=0.6.1`),
        or None (as written). The released package is left out while it is not on the index
        yet (the bump commit comes before the upload); a source checkout of it cannot be asked
        about without building it."""
        chosen: dict[tuple[str, str], str] = {}  # (package, marker): a later pin replaces an earlier one
        left: list[str] = []
        release = canonicalize_name(package)
        for pin in self.pins:
            spec = spec_of(pin) or pin.version
            if pin.kind == "source":
                left.append(f"{pin.package} from source (line {pin.line})")
                continue
            if pin.package == release and spec[0].isdigit() and published(pin.package, spec) is False:
                left.append(f"{pin.package} {spec} (not on the index yet)")
                continue
            # lines of one file for other environments (`; python_version < "3.9"`) are all asked:
            # the resolver keeps those that apply to the image. One without a marker replaces all.
            marker = pin.requirement.partition(";")[2].strip() if pin.kind == "requirement" else ""
            for key in [k for k in chosen if k[0] == pin.package and (not marker or k[1] == marker)]:
                del chosen[key]
            chosen[(pin.package, marker)] = with_version(pin, spec)
        lines = list(chosen.values())
        lines += [r.text for r in self.requirements if not r.computed]
        return tuple(dict.fromkeys(lines)), tuple(dict.fromkeys(left))


_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def requirement_name(text: str) -> str | None:
    m = _NAME.match(text)
    return canonicalize_name(m.group(1)) if m else None


def with_version(pin: Pin, spec: str) -> str:
    """The pin's requirement with `spec` (a version, or a specifier) in place of its own
    (markers and extras kept)."""
    spec = "==" + spec if spec[0].isdigit() else spec
    text = pin.requirement
    at = text.find(pin.operator + pin.version) if pin.operator != "@" else -1
    if at < 0:
        extras = f"[{','.join(sorted(pin.extras))}]" if pin.extras else ""
        return f"{pin.package}{extras}{spec}"
    return text[:at] + spec + text[at + len(pin.operator) + len(pin.version):]


def _chain(scan: Scan, stage: int) -> list[int]:
    """The stage and those it is built FROM, earliest first."""
    out: list[int] = []
    seen: set[int] = set()
    at: int | None = stage
    while at is not None and at not in seen and at < len(scan.stages):
        seen.add(at)
        out.append(at)
        at = scan.stages[at].parent
    return out[::-1]


def installs_of(scan: Scan, read: Callable[[int], ReadArg] = lambda stage: no_files,
                trusted: bool = False) -> dict[int, Install]:
    """One Install per build stage that carries a kept pin (through its chain of FROM stages)."""
    out: dict[int, Install] = {}
    for stage in range(len(scan.stages)):
        chain = _chain(scan, stage)
        commands = [(s, pip) for s in chain for pip in scan.stages[s].pips]
        held = dict.fromkeys(i for _, pip in commands for i in pip.pins if i < len(scan.pins))
        # pins no pip command holds (a `git clone --branch`), and any a walker did not place
        held.update(dict.fromkeys(i for i, p in enumerate(scan.pins) if p.stage in chain))
        pins = [scan.pins[i] for i in held]  # by index: a file may hold 60,000 pins
        own = any(p.stage == stage for p in pins)
        inherited = bool(pins) and any(s == stage for s, _ in commands)
        files = any(pip.files for s, pip in commands if s == stage)  # may bring pins of their own
        if not (own or inherited or files):
            continue
        install = _install(scan, stage, commands, pins, read, trusted)
        if install.pins:
            out[stage] = install
    return out


def _install(scan: Scan, stage: int, commands: Sequence[tuple[int, PipInstall]], pins: list[Pin],
             read: Callable[[int], ReadArg], trusted: bool) -> Install:
    requirements: list[Requirement] = []
    constraints: list[Requirement] = []
    options: dict[tuple[str, str], None] = {}
    left: list[str] = []
    untrusted: list[str] = []
    for at, pip in commands:
        for r in pip.requirements:
            if r.computed:
                left.append(f"line {r.line}: {r.text or r.computed} (computed at build time)")
            elif _local(r.text):
                left.append(f"line {r.line}: {r.text} (a local path or URL)")
            else:
                requirements.append(r)
        for arg in pip.files:
            found = read(at)(arg)
            if isinstance(found, str):
                left.append(f"line {arg.line}: {arg.how} ({found})")
                continue
            (requirements if arg.option == "-r" else constraints).extend(found.requirements)
            have = {id(p) for p in pins}
            pins.extend(p for p in found.pins if id(p) not in have)
            for option, url in found.options:  # the file's own index lines: the same trust
                kept = _trusted_option(option, url, trusted)
                if kept is None:
                    left.append(f"{option} {url} (an index {arg.how} names: read only with "
                                "[release_hook] trust_file_indexes = true)")
                    untrusted.append(left[-1])
                else:
                    options[kept] = None
    addresses = [(o, c, pip.first) for _, pip in commands for o, c in pip.options]
    addresses += [(o, c, p.line) for p in pins for o, c in p.addresses]  # the same, seen from the pins
    for option, chars, line in addresses:
        if chars.computed or chars.undefined:
            left.append(f"{option} {chars.text} (computed at build time; line {line})")
            continue
        kept = _trusted_option(option, chars.text, trusted)
        if kept is None:
            left.append(f"{option} {chars.text} (an index the Dockerfile names: "
                        "read only with [release_hook] trust_file_indexes = true)")
            untrusted.append(left[-1])
        else:
            options[kept] = None
    first = min((p.line for p in pins if p.stage == stage and p.path == scan.path),
                default=min((pip.first for s, pip in commands if s == stage), default=scan.stages[stage].line))
    everyone_no_deps = bool(commands) and all(pip.no_deps for _, pip in commands)
    return Install(scan.path, stage, first, tuple(pins), tuple(requirements), tuple(constraints),
                   tuple(options), tuple(dict.fromkeys(left)), everyone_no_deps, tuple(dict.fromkeys(untrusted)))


def _trusted_option(option: str, url: str, trusted: bool) -> tuple[str, str] | None:
    name = _OPTION.get(option)
    if name is None:
        return None
    # jax's own pages, which list the CUDA builds of jaxlib and nothing else, need no trust
    if name == "--find-links" and url.rstrip("/").rsplit("/", 1)[-1] in PAGES:
        return (name, url)
    if not trusted:
        return None
    return ("--extra-index-url" if name == "--index-url" else name, url)


def _local(text: str) -> bool:
    return text.startswith((".", "/", "~")) or text.endswith((".whl", ".tar.gz", ".zip")) or \
        ("://" in text and " @ " not in text and not re.match(r"[\w.-]+\s*@", text))


class Case(NamedTuple):
    """One install and the image it is installed into."""

    install: Install
    image: Image
    target: Target

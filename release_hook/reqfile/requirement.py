"""What one requirement of a requirements file names, as pip tells the forms apart: a URL
(`https://...`, `git+https://...`, `file:`), a local path or archive (a wheel names its project
and version), or a PEP 508 requirement (`jax[cuda12]==0.4.25 ; python_version >= "3.10"`,
`name @ url`). Only the last can be a pin the tool keeps."""
from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from release_hook.names import is_version
from release_hook.names import normalize as canonicalize_name

PIN_OPERATORS = ("===", "==", "~=")
_SCHEMES = ("http", "https", "file", "ftp")
_VCS = ("git", "hg", "svn", "bzr")
_ARCHIVES = (".whl", ".tar.gz", ".tgz", ".tar", ".zip", ".tar.bz2", ".tbz", ".tar.xz", ".txz",
             ".tlz", ".tar.lz", ".tar.lzma")
# The common `name[extra]==1.2.3` needs no full PEP 508 parse; the classes cannot overlap, so
# the match is linear.
_SIMPLE_PIN = re.compile(r"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?:\[([A-Za-z0-9._,-]*)\])?"
                         r"(===|==|~=)([0-9][A-Za-z0-9.+!_-]*)")
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class Named:
    name: str  # canonical; "" when pip learns it only by building the project
    form: str  # "specifier", "URL", "path"
    operator: str = ""  # of a pin
    version: tuple[int, int] | None = None  # where a pin's version is written in the text
    extras: frozenset[str] = frozenset()
    wheel_version: str = ""  # the version a wheel's file name says

    def what(self, text: str) -> str:
        """How a mention names it: why it is not a pin the tool keeps."""
        if self.wheel_version:
            return f"{self.name} {self.wheel_version} from a wheel file ({text})"
        if self.form != "specifier":
            return f"{text!r} is a {self.form}"
        return f"{text!r} is a range" if any(c in text for c in "<>=~!") else f"{text!r} is not pinned"


def read_requirement(text: str, editable: bool) -> Named:
    """What `text` names; ValueError with pip's reason when pip would reject it."""
    if editable:
        return _link(text.strip(), "URL" if _is_url(text.strip()) else "path")
    if _is_url(text):
        url, _, marker = text.partition("; ")
        _marker(marker)
        return _link(url.strip(), "URL")
    body = text.split(";", 1)[0].strip()
    if (_looks_like_path(body) or body.lower().endswith(_ARCHIVES)) and not _pep508_url(body):
        _marker(text.partition(";")[2])
        return _link(body, "path")
    simple = _SIMPLE_PIN.fullmatch(text)
    if simple is not None and simple.group(3) != "~=" and is_version(simple.group(4)):
        extras = frozenset(e.strip().lower() for e in (simple.group(2) or "").split(",") if e.strip())
        return Named(canonicalize_name(simple.group(1)), "specifier", simple.group(3), simple.span(4),
                     extras)
    try:
        req = Requirement(text)
    except InvalidRequirement as e:
        reason = str(e).splitlines()[0]
        hint = " (= is not a valid operator: did you mean == ?)" if _single_equals(text) else ""
        raise ValueError(f"{reason}{hint}") from None
    name = canonicalize_name(req.name)
    extras = frozenset(e.lower() for e in req.extras)
    if req.url:
        return Named(name, "URL", extras=extras)
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in PIN_OPERATORS and not specs[0].version.endswith("*"):
        span = _version_span(text, specs[0].operator, specs[0].version)
        if span is not None:
            return Named(name, "specifier", specs[0].operator, span, extras)
    return Named(name, "specifier", extras=extras)


def _is_url(text: str) -> bool:
    scheme = text.split(":", 1)[0].strip().lower() if ":" in text else ""
    return scheme in _SCHEMES or scheme.split("+", 1)[0] in _VCS and "+" in scheme


def _looks_like_path(text: str) -> bool:
    return "/" in text or text.startswith(".")  # pip on Linux, where the images run


def _pep508_url(text: str) -> bool:
    """`name @ https://.../x.whl`: pip reads a requirement, not a file, when the part before the
    `@` does not look like a path."""
    head, at, _ = text.partition("@")
    return bool(at) and not _looks_like_path(head)


def _link(target: str, form: str) -> Named:
    filename = target.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    if filename.endswith(".whl"):
        try:
            name, version, _, _ = parse_wheel_filename(filename)
        except InvalidWheelFilename as e:
            raise ValueError(str(e)) from None
        return Named(canonicalize_name(name), form, wheel_version=str(version))
    egg = _EGG.search(target)
    return Named(canonicalize_name(egg.group(1)) if egg else "", form)


def _marker(text: str) -> None:
    if text.strip():
        try:
            Marker(text.strip())
        except InvalidMarker as e:
            raise ValueError(str(e).splitlines()[0]) from None


def _version_span(text: str, operator: str, version: str) -> tuple[int, int] | None:
    """Where the pinned version is written: after the operator, before any marker."""
    head = text.split(";", 1)[0]
    at = head.find(operator)
    while at >= 0:
        i = at + len(operator)
        while i < len(head) and head[i].isspace():
            i += 1
        if head.startswith(version, i):
            return i, i + len(version)
        at = head.find(operator, at + 1)
    return None


def _single_equals(text: str) -> bool:
    return "=" in text and not any(op in text for op in ("==", "!=", "<=", ">=", "~=", "==="))

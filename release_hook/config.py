"""Settings from `setup.cfg` `[release_hook]` and the version from `.bumpversion.cfg`."""

from __future__ import annotations

import configparser
import os
import re
import sys
from typing import Any, Callable, NoReturn, TypeVar

from packaging.version import InvalidVersion, Version

from release_hook.errors import UserError
from release_hook.records import NamedTuple

DEFAULT_DOCKERFILES = ("docker/**/Dockerfile*",)
# The settings' one home. A commit without this section was made before the tool was adopted
# (pre-push leaves such history alone once the repository has adopted it).
SETTINGS_FILE = "setup.cfg"
SECTION = "release_hook"
VERSION_FILES = (".bumpversion.cfg", "setup.cfg", ".bumpversion.toml", "pyproject.toml")
# bump2version and bump-my-version's commit, then bump-my-version's hooks.
VERSION_ENV = ("BUMPVERSION_NEW_VERSION", "BVHOOK_NEW_VERSION")


class Config(NamedTuple):
    root: str
    package: str = "numpyro"
    dockerfiles: tuple[str, ...] = DEFAULT_DOCKERFILES
    requirements: str | None = None  # where the release's jax/jaxlib requirements are read
    policies: tuple[tuple[str, str], ...] = (("docker/dev/*", "latest"), ("*", "minimum"))
    cuda: str | None = None  # the CUDA of images whose base does not say
    # (glob, value) pairs: the Python ("3.11") and platform ("linux/arm64") of matching files
    pythons: tuple[tuple[str, str], ...] = ()
    # (glob, folder) pairs: the build context of matching Dockerfiles, relative to the root
    # (`docker build -f docker/Dockerfile .`); by default a Dockerfile's own folder
    contexts: tuple[tuple[str, str], ...] = ()
    platforms: tuple[tuple[str, str], ...] = ()
    offline_push: str = "refuse"  # what pre-push does when it cannot check without the index
    # Whether an index or find-links address written in a Dockerfile may be read (jax's own
    # find-links pages always are): a Dockerfile in a pull request must not choose the hosts.
    trust_file_indexes: bool = False
    smoke: bool = False  # prove each changed stage by installing it and importing (sync --smoke)
    smoke_python_downloads: bool = False  # may uv download a Python the machine lacks for that


def _lines(value: str) -> tuple[str, ...]:
    return tuple(v for v in value.replace(",", "\n").split() if v)


# Docker's platform names and the machine of the wheels each runs (manylinux_*_<machine>).
PLATFORMS = {"linux/amd64": "x86_64", "linux/arm64": "aarch64", "linux/ppc64le": "ppc64le",
             "linux/s390x": "s390x", "linux/arm/v7": "armv7l", "linux/386": "i686"}
_PLATFORM_ALIASES = {"amd64": "linux/amd64", "x86_64": "linux/amd64", "linux/x86_64": "linux/amd64",
                     "arm64": "linux/arm64", "aarch64": "linux/arm64", "linux/aarch64": "linux/arm64",
                     "linux/arm64/v8": "linux/arm64", "arm64/v8": "linux/arm64",
                     "ppc64le": "linux/ppc64le", "s390x": "linux/s390x", "linux/arm": "linux/arm/v7"}


def platform_name(text: str) -> str | None:
    """`linux/arm64/v8`, `aarch64` and `arm64` are all `linux/arm64`; None when not a platform."""
    key = text.strip().lower()
    key = _PLATFORM_ALIASES.get(key, key)
    return key if key in PLATFORMS else None


def checked_platform(text: str, what: str, where: str | None = None) -> str:
    found = platform_name(text)
    if found is None:
        raise UserError(f"{what}: unknown platform {text!r}: expected one of {', '.join(PLATFORMS)}", where)
    return found


def checked_python(text: str, what: str, where: str | None = None) -> str:
    """`3.11` or `3.11.7` as `3.11`."""
    m = re.fullmatch(r"\s*(\d+)\.(\d+)(?:\.\d+)?\s*", text)
    if m is None:
        raise UserError(f"{what}: Python version {text!r}: expected MAJOR.MINOR, like 3.11", where)
    return f"{int(m.group(1))}.{int(m.group(2))}"


def checked_cuda(text: str, what: str) -> tuple[int, int]:
    """`12.2` or `12.2.2` as (12, 2)."""
    m = re.fullmatch(r"(\d+)\.(\d+)(?:\.\d+)?", text.strip())
    if m is None:
        raise UserError(f"{what}CUDA version {text!r}: expected MAJOR.MINOR, like 12.2")
    return int(m.group(1)), int(m.group(2))


_FLAGS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False,
          "0": False, "": False}


def _flag(section: Any, key: str) -> bool:
    text = section.get(key, "false").strip().lower()
    if text not in _FLAGS:
        raise UserError(f"[release_hook] {key}: expected true or false, not {text!r}")
    return _FLAGS[text]


def _per_glob(value: str) -> list[tuple[str, str]]:
    """`glob=value` items (a bare value means every file), as in `policy`."""
    return [(item.rpartition("=")[0], item.rpartition("=")[2]) if "=" in item else ("*", item)
            for item in _lines(value)]


def has_settings(text: str) -> bool:
    """Whether a setup.cfg's text holds the `[release_hook]` section (an unreadable file counts
    as holding it: reading it for real then reports what is wrong)."""
    if f"[{SECTION}]" not in text:
        return False
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text)
    except configparser.Error:
        return True
    return parser.has_section(SECTION)


def load(root: str) -> Config:
    path = os.path.join(root, SETTINGS_FILE)
    if not os.path.isfile(path):
        return Config(root)
    try:
        with open(path, encoding="utf-8-sig") as f:  # an editor's byte-order mark is no section header
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"cannot read: {e}", path) from None
    return from_text(root, text, path)


T = TypeVar("T")
KEYS = ("package", "dockerfiles", "requirements", "policy", "cuda", "python", "context", "platform",
        "offline_push", "trust_file_indexes", "smoke", "smoke_python_downloads")
# PEP 508's name, which is what a requirement can pin
_NAME = re.compile(r"[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]")


def from_text(root: str, text: str, where: str) -> Config:
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=where)
    except configparser.Error as e:
        raise _unreadable(e, where, text) from None
    if not parser.has_section(SECTION):
        return Config(root)
    s = parser[SECTION]
    lines = _key_lines(text)
    for key in s:
        if key not in KEYS and key not in parser.defaults():  # [DEFAULT]'s keys are in every section
            import difflib

            close = difflib.get_close_matches(key, KEYS, 1)
            raise UserError(f"[release_hook] unknown setting {key!r}: "
                            + (f"did you mean {close[0]!r}?" if close else f"known: {', '.join(KEYS)}"),
                            where, lines.get(key))

    def at(key: str, check: Callable[[], T]) -> T:
        try:
            return check()
        except UserError as e:
            if e.path is not None:  # said already, with its place
                raise
            raise UserError(e.message, where, lines.get(key)) from None

    return at("", lambda: _settings(root, s, at))


def _unreadable(e: configparser.Error, where: str, text: str) -> UserError:
    """configparser's error at its line: `[line  3]` and `, line 3` folded into the place."""
    errors = getattr(e, "errors", None)  # MissingSectionHeaderError is a ParsingError without them
    if isinstance(e, configparser.ParsingError) and errors:
        line = errors[0][0]
        bad = text.splitlines()[line - 1].strip() if 0 < line <= len(text.splitlines()) else ""
        return UserError(f"cannot read: not a setting, a [section] or a comment: {bad!r}", where, line)
    line = getattr(e, "lineno", None)
    first = str(e).splitlines()[0]
    if isinstance(e, configparser.DuplicateOptionError):
        first = f"{e.option!r} is set twice in [{e.section}]"
    elif isinstance(e, configparser.DuplicateSectionError):
        first = f"[{e.section}] appears twice"
    return UserError(f"cannot read: {first}", where, line)


def _settings(root: str, s: Any, at: Callable[[str, Callable[[], Any]], Any]) -> Config:
    default = Config(root)
    policies = default.policies
    if "policy" in s:
        pairs = []
        for item in _lines(s["policy"]):
            glob, _, policy = item.rpartition("=") if "=" in item else ("*", "", item)
            if policy not in ("minimum", "latest"):
                at("policy", _fail(f"[release_hook] policy: unknown policy {policy!r}: expected minimum or latest"))
            pairs.append((glob, policy))
        policies = tuple(pairs) + (("*", "minimum"),)
    pythons = at("python", lambda: tuple((glob, checked_python(v, f"[release_hook] python {glob}={v}"))
                                         for glob, v in _per_glob(s.get("python", ""))))
    platforms = at("platform", lambda: tuple((glob, checked_platform(v, f"[release_hook] platform {glob}={v}"))
                                             for glob, v in _per_glob(s.get("platform", ""))))
    offline_push = s.get("offline_push", default.offline_push)
    if offline_push not in ("refuse", "allow"):
        at("offline_push", _fail("[release_hook] offline_push must be refuse or allow"))
    cuda = s.get("cuda", "").strip() or None
    if cuda is not None:
        at("cuda", lambda: checked_cuda(cuda, "[release_hook] cuda: "))
    package = s.get("package", default.package).strip()
    if not _NAME.fullmatch(package):
        at("package", _fail(f"[release_hook] package: {package!r} is not a package name (like numpyro)"))
    return Config(
        root=root,
        package=package,
        dockerfiles=_lines(s.get("dockerfiles", "")) or DEFAULT_DOCKERFILES,
        requirements=s.get("requirements", "").strip() or None,
        policies=policies,
        cuda=cuda,
        pythons=pythons,
        contexts=tuple(_per_glob(s.get("context", ""))),
        platforms=platforms,
        offline_push=offline_push,
        trust_file_indexes=at("trust_file_indexes", lambda: _flag(s, "trust_file_indexes")),
        smoke=at("smoke", lambda: _flag(s, "smoke")),
        smoke_python_downloads=at("smoke_python_downloads", lambda: _flag(s, "smoke_python_downloads")),
    )


def _fail(message: str) -> Callable[[], NoReturn]:
    def fail() -> NoReturn:
        raise UserError(message)
    return fail


def _key_lines(text: str) -> dict[str, int]:
    """The line each key of the section starts on (configparser keeps no line numbers)."""
    found: dict[str, int] = {}
    inside = False
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = stripped == f"[{SECTION}]"
        elif inside and stripped and line[0] not in " \t" and stripped[0] not in "#;":
            found.setdefault(re.split(r"[=:]", stripped, maxsplit=1)[0].strip().lower(), n)
    return found


def find_root(start: str) -> str:
    here = os.path.abspath(start)
    while True:
        if any(os.path.exists(os.path.join(here, n)) for n in (*VERSION_FILES, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return os.path.abspath(start)
        here = parent


def version_from_text(text: str, where: str) -> str | None:
    """current_version of bump2version's INI files or bump-my-version's TOML files."""
    if where.endswith(".toml"):
        return _toml_version(text, where)
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=where)
    except configparser.Error as e:
        raise UserError(f"cannot read: {str(e).splitlines()[0]}", where) from None
    if parser.has_option("bumpversion", "current_version"):
        return parser.get("bumpversion", "current_version").strip()
    return None


def read_toml(text: str, where: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"cannot read: {e}", where) from None


def _toml_version(text: str, where: str) -> str | None:
    found = read_toml(text, where).get("tool", {}).get("bumpversion", {}).get("current_version")
    return str(found) if found else None


def current_version(root: str) -> str:
    return current_version_at(root)[0]


def current_version_at(root: str) -> tuple[str, str, int | None]:
    """current_version, the file that sets it and the line it is on (for messages)."""
    for name in VERSION_FILES:
        path = os.path.join(root, name)
        if os.path.isfile(path):
            try:
                with open(path, "rb") as f:
                    text = utf8(f.read(), name)
            except OSError as e:
                raise UserError(f"cannot read: {e.strerror}", name) from None
            found = version_from_text(text, path)
            if found:
                line = next((n for n, t in enumerate(text.splitlines(), 1)
                             if t.lstrip().startswith("current_version") and found in t), None)
                return found, name, line
    raise UserError("no version: give --version, or a .bumpversion.cfg with current_version")


def utf8(data: bytes, path: str) -> str:
    """The text of a file we read, or one line saying where it stops being UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise UserError(f"not UTF-8 text (byte 0x{data[e.start]:02x})", path, line) from None


def checked_version(text: str, what: str) -> str:
    # Version() strips spaces, but the text is what gets written: `numpyro== 0.15.0` breaks pip
    if text != text.strip():
        raise UserError(f"{what}: {text!r} has spaces around it; give the version alone")
    try:
        Version(text)
    except InvalidVersion:
        raise UserError(f"{what}: {text!r} is not a valid PEP 440 version") from None
    return text

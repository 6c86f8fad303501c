"""Settings from `setup.cfg` `[release_hook]` and the version from `.bumpversion.cfg`."""
from __future__ import annotations

import configparser
import os
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from release_hook.errors import UserError

DEFAULT_DOCKERFILES = ("docker/**/Dockerfile*",)
VERSION_FILES = (".bumpversion.cfg", "setup.cfg")


@dataclass(frozen=True)
class Config:
    root: str
    package: str = "numpyro"
    dockerfiles: tuple[str, ...] = DEFAULT_DOCKERFILES
    requirements: str | None = None  # where the release's jax/jaxlib requirements are read
    policies: tuple[tuple[str, str], ...] = (("docker/dev/*", "latest"), ("*", "minimum"))
    cuda: str | None = None  # the CUDA of images whose base does not say
    offline_push: str = "refuse"  # what pre-push does when it cannot check without the index


def _read(path: str) -> configparser.RawConfigParser | None:
    if not os.path.isfile(path):
        return None
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as e:
        raise UserError(f"cannot read: {str(e).splitlines()[0]}", path) from None
    return parser


def _lines(value: str) -> tuple[str, ...]:
    return tuple(v for v in value.replace(",", "\n").split() if v)


def load(root: str) -> Config:
    parser = _read(os.path.join(root, "setup.cfg"))
    if parser is None or not parser.has_section("release_hook"):
        return Config(root)
    s = parser["release_hook"]
    policies = Config.policies
    if "policy" in s:
        pairs = []
        for item in _lines(s["policy"]):
            glob, _, policy = item.rpartition("=") if "=" in item else ("*", "", item)
            if policy not in ("minimum", "latest"):
                raise UserError(f"[release_hook] policy: unknown policy {policy!r}",
                                os.path.join(root, "setup.cfg"))
            pairs.append((glob, policy))
        policies = tuple(pairs) + (("*", "minimum"),)
    offline_push = s.get("offline_push", Config.offline_push)
    if offline_push not in ("refuse", "allow"):
        raise UserError("[release_hook] offline_push must be refuse or allow",
                        os.path.join(root, "setup.cfg"))
    return Config(
        root=root,
        package=s.get("package", Config.package).strip(),
        dockerfiles=_lines(s.get("dockerfiles", "")) or DEFAULT_DOCKERFILES,
        requirements=s.get("requirements", "").strip() or None,
        policies=policies,
        cuda=s.get("cuda", "").strip() or None,
        offline_push=offline_push,
    )


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
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=where)
    except configparser.Error as e:
        raise UserError(f"cannot read: {str(e).splitlines()[0]}", where) from None
    if parser.has_option("bumpversion", "current_version"):
        return parser.get("bumpversion", "current_version").strip()
    return None


def current_version(root: str) -> str:
    for name in VERSION_FILES:
        path = os.path.join(root, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                found = version_from_text(f.read(), path)
            if found:
                return found
    raise UserError("no version: give --version, or a .bumpversion.cfg with current_version")


def checked_version(text: str, what: str) -> str:
    try:
        Version(text)
    except InvalidVersion:
        raise UserError(f"{what}: {text!r} is not a valid PEP 440 version") from None
    return text

"""What the user asked of one run: the release, the mode, the overrides.

It sits at the bottom beside `config.py`, so that every stage can read it and none imports it
back from the command that builds it.
"""
from __future__ import annotations

import datetime  # imported on every run's path anyway (sqlite3's adapters)
import fnmatch
import os
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, Mapping

from release_hook.records import NamedTuple

if TYPE_CHECKING:
    from release_hook.config import Config


class Request(NamedTuple):
    paths: tuple[str, ...]
    version: str
    pins: Mapping[str, str]
    mode: str  # "write", "dry-run" or "check"
    commit: bool
    offline: bool
    stage: bool = False  # `git add` what was written, for hooks that run inside a commit
    allow_dirty: bool = False
    allow_detached: bool = False
    explain: bool = False
    policy: str | None = None
    cuda: str | None = None
    requirements: str | None = None
    python: str | None = None  # the Python of images that do not say (`--python X.Y`)
    platform: str | None = None  # the platform of images that do not say (`--platform`)
    verify: bool = True  # ask a real resolver whether each image's pin set installs
    smoke: bool = False  # and install each changed stage and import it (`--smoke`, or the setting)
    # Judge `latest` as of this moment (a commit's date); None is now.
    as_of: datetime.datetime | None = None


def resolver_left_out(request: Request) -> str:
    """Why the request itself leaves the resolver out ("" when it is asked)."""
    return next((why for why, on in (
        ("--offline", request.offline), ("--no-verify", not request.verify),
        ("RELEASE_HOOK_VERIFY=0", os.environ.get("RELEASE_HOOK_VERIFY") == "0")) if on), "")


def relative(config: "Config", path: str) -> str:
    return _relative(config.root, path)


@lru_cache(maxsize=65536)
def _relative(root: str, path: str) -> str:
    # Asked per file by the policy, the image's settings and the report: relpath is not cheap.
    return os.path.relpath(os.path.abspath(path), root).replace(os.sep, "/")


def policy_function(config: "Config", request: Request) -> Callable[[str], str]:
    """Which policy each Dockerfile follows: the flag, else the first matching glob."""
    memo: dict[str, str] = {}

    def policy_of(path: str) -> str:
        if request.policy:
            return request.policy
        if path not in memo:
            rel = relative(config, path)
            memo[path] = next((p for glob, p in config.policies if fnmatch.fnmatchcase(rel, glob)),
                              "minimum")
        return memo[path]

    return policy_of

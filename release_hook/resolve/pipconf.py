"""The package index addresses the user's pip would use: environment, then pip's config files.

Read as pip documents them (PIP_INDEX_URL / PIP_EXTRA_INDEX_URL, PIP_CONFIG_FILE, the global,
user and site files, `[global]` then `[install]`); without any, the index client's default.
"""
from __future__ import annotations

import configparser
import os
import sys


def _config_files() -> list[str]:
    env = os.environ.get("PIP_CONFIG_FILE")
    if env == os.devnull:
        return []
    xdg_dirs = os.environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep)
    files = [os.path.join(d, "pip", "pip.conf") for d in reversed(xdg_dirs)] + ["/etc/pip.conf"]
    home = os.path.expanduser("~")
    files += [os.path.join(home, ".pip", "pip.conf"),
              os.path.join(os.environ.get("XDG_CONFIG_HOME", os.path.join(home, ".config")),
                           "pip", "pip.conf")]
    files.append(os.path.join(sys.prefix, "pip.conf"))
    if env:
        files.append(env)
    return files


def _parsed() -> configparser.RawConfigParser:
    """pip's config files, later ones over earlier ones; an unreadable file is skipped."""
    parser = configparser.RawConfigParser()
    for path in _config_files():
        if os.path.isfile(path):
            try:
                parser.read(path, encoding="utf-8")
            except (configparser.Error, UnicodeDecodeError):
                continue
    return parser


def index_urls() -> list[str]:
    """The main index first, then the extra ones; only http(s) addresses are read."""
    main: str | None = None
    extra: list[str] = []
    parser = _parsed()
    for section in ("global", "install"):
        if parser.has_option(section, "index-url"):
            main = parser.get(section, "index-url").strip()
        if parser.has_option(section, "extra-index-url"):
            extra = parser.get(section, "extra-index-url").split()
    main = os.environ.get("PIP_INDEX_URL", main)
    if "PIP_EXTRA_INDEX_URL" in os.environ:
        extra = os.environ["PIP_EXTRA_INDEX_URL"].split()
    if not main:
        from pypi_simple import PYPI_SIMPLE_ENDPOINT

        main = PYPI_SIMPLE_ENDPOINT
    urls = [main, *extra]
    return [u.rstrip("/") + "/" for u in urls if u.startswith(("http://", "https://"))]


def setting(name: str) -> str | None:
    """One pip option as pip would read it (`find-links`, `no-index`, `cert`...): its
    environment variable, else `[install]`, else `[global]` of the config files; raw text."""
    env = os.environ.get("PIP_" + name.upper().replace("-", "_"))
    if env is not None:
        return env
    parser = _parsed()
    for section in ("install", "global"):
        if parser.has_option(section, name):
            return parser.get(section, name).strip()
    return None

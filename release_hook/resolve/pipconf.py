"""pip's configuration, read the way pip reads it: the one reader of it in this tool.

Files (pip 23-25, Unix): `$XDG_CONFIG_DIRS/pip/pip.conf` in the order given and `/etc/pip.conf`
(global), then `~/.pip/pip.conf` and `$XDG_CONFIG_HOME/pip/pip.conf` (user), then
`sys.prefix/pip.conf` (site), then the file named by `PIP_CONFIG_FILE`, each overriding the one
before. When `PIP_CONFIG_FILE` names a file that exists, the user's files are not read at all;
when it is `os.devnull`, no file is read. Within the merged files `[install]` overrides
`[global]`; a `PIP_<NAME>` variable overrides both. Option names are pip's long options (either
alias: `timeout` or `default-timeout`), `_` and `-` alike; an empty value counts as unset.
"""

from __future__ import annotations

import configparser
import os
import sys
from typing import Iterator

from release_hook.errors import UserError
from release_hook.records import NamedTuple

_ALIASES = {"default-timeout": "timeout"}  # pip's options with two long names
_TRUE = ("y", "yes", "t", "true", "on", "1")
_FALSE = ("n", "no", "f", "false", "off", "0")


def config_files() -> list[str]:
    """The files pip reads, lowest precedence first (absent ones included: pip skips them)."""
    env = os.environ.get("PIP_CONFIG_FILE")
    if env == os.devnull:
        return []
    dirs = os.environ.get("XDG_CONFIG_DIRS", "")
    files = [os.path.join(os.path.expanduser(d), "pip", "pip.conf")
             for d in (dirs if dirs.strip() else "/etc/xdg").split(os.pathsep)]
    files.append("/etc/pip.conf")
    if not (env and os.path.exists(env)):  # pip: a PIP_CONFIG_FILE replaces the user's files
        home = os.path.expanduser("~")
        xdg_home = os.environ.get("XDG_CONFIG_HOME", "")
        files += [os.path.join(home, ".pip", "pip.conf"),
                  os.path.join(xdg_home if xdg_home.strip() else os.path.join(home, ".config"),
                               "pip", "pip.conf")]
    files.append(os.path.join(sys.prefix, "pip.conf"))
    if env:
        files.append(env)
    return files


def _name(key: str) -> str:
    key = key.lower().replace("_", "-")
    key = key[2:] if key.startswith("--") else key
    return _ALIASES.get(key, key)


def _file_values() -> dict[tuple[str, str], str]:
    """(section, option) -> raw value, over every file in pip's order."""
    values: dict[tuple[str, str], str] = {}
    for path in config_files():
        if not os.path.isfile(path):
            continue
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except configparser.ParsingError as e:
            errors = getattr(e, "errors", None)  # MissingSectionHeaderError has `lineno` instead
            line = getattr(e, "lineno", None) or (errors[0][0] if errors else None)
            raise UserError("pip's configuration does not parse (pip refuses it too)", path, line) from None
        except (configparser.Error, UnicodeDecodeError) as e:
            raise UserError(f"pip's configuration does not parse (pip refuses it too): "
                            f"{type(e).__name__}", path) from None
        for section in parser.sections():
            for key, value in parser.items(section):
                values[(section, _name(key))] = value
    return values


def _ordered() -> Iterator[tuple[str, str]]:
    """(option, value) in pip's override order: [global], [install], then PIP_* variables."""
    files = _file_values()
    for section in ("global", "install"):
        yield from ((key, value) for (s, key), value in files.items() if s == section)
    for var, value in os.environ.items():
        if var.startswith("PIP_") and var != "PIP_CONFIG_FILE":
            yield _name(var[4:]), value


def _merged() -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in _ordered():
        if value.strip():  # pip ignores an empty value
            out[key] = value.strip()
    return out


def setting(name: str) -> str | None:
    """One pip option as pip would take it (`find-links`, `no-index`, `cert`, ...): raw text."""
    return _merged().get(_name(name))


def _flag(name: str, value: str | None) -> bool:
    if value is None:
        return False
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise UserError(f"pip's setting {name} = {value!r} is not a yes/no value (pip refuses it too)")


def _number(name: str, value: str | None, kind: type[float] | type[int]) -> float | None:
    if value is None:
        return None
    try:
        number = kind(value)
    except ValueError:
        raise UserError(f"pip's setting {name} = {value!r} is not a number (pip refuses it too)") from None
    if number < 0:
        raise UserError(f"pip's setting {name} = {value!r} is negative")
    return number


class PipSettings(NamedTuple):
    """What of pip's configuration decides where and how packages are read."""

    index_url: str | None  # None: the client library's default index
    extra_index_urls: tuple[str, ...]
    find_links: tuple[str, ...]
    no_index: bool
    cert: str | None  # a CA bundle (PEM), instead of the default one
    client_cert: str | None  # a PEM file holding the client's certificate and key
    trusted_hosts: tuple[str, ...]  # host or host:port: no certificate check, plain http allowed
    retries: int | None
    timeout: float | None
    proxy: str | None  # pip's --proxy; the proxy variables are read by the HTTP library

    def index_urls(self) -> list[str]:
        """The main index first, then the extra ones, each ending in `/`; none with no-index."""
        if self.no_index:
            return []
        main = self.index_url or default_index()
        return [u.rstrip("/") + "/" for u in (main, *self.extra_index_urls)
                if u.startswith(("http://", "https://"))]


def default_index() -> str:
    """The index pip reads when nothing names one: pip's own default, read from the pip beside
    this tool (every virtualenv that `python -m venv` makes has one)."""
    try:
        from pip._internal.models.index import PyPI

        return str(PyPI.simple_url)
    except (ImportError, AttributeError):
        from release_hook.errors import UserError

        raise UserError("no package index is configured and no pip is installed beside release-hook "
                        "to name its default: set PIP_INDEX_URL, or index-url in pip's configuration") from None


def settings() -> PipSettings:
    values = _merged()
    retries = _number("retries", values.get("retries"), int)
    return PipSettings(
        index_url=values.get("index-url"),
        extra_index_urls=tuple(values.get("extra-index-url", "").split()),
        find_links=tuple(values.get("find-links", "").split()),
        no_index=_flag("no-index", values.get("no-index")),
        cert=values.get("cert"),
        client_cert=values.get("client-cert"),
        trusted_hosts=tuple(values.get("trusted-host", "").split()),
        retries=None if retries is None else int(retries),
        timeout=_number("timeout", values.get("timeout"), float),
        proxy=values.get("proxy"))


def index_urls() -> list[str]:
    """The index addresses pip would read, main first (http(s) only)."""
    return settings().index_urls()

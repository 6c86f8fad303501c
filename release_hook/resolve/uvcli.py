"""How this tool runs uv (a dependency): its binary, and the user's pip settings as uv's options.

uv does not read pip's configuration, so the index, extra indexes, find-links, certificate,
retries and timeout the user gave pip are passed explicitly; uv's own index variables are
cleared so that pip's settings alone decide, as they do for pip.
"""
from __future__ import annotations

import os
import shutil

from release_hook.resolve import pipconf

# uv's variables that would choose other indexes than the user's pip settings do.
_UV_INDEX_VARIABLES = ("UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX", "UV_DEFAULT_INDEX",
                       "UV_FIND_LINKS", "UV_NO_INDEX", "UV_CONSTRAINT", "UV_OVERRIDE")


def binary() -> str | None:
    try:
        from uv import find_uv_bin  # the `uv` wheel on the index ships its binary

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def timeout() -> float:
    try:
        return float(os.environ.get("RELEASE_HOOK_TIMEOUT", "20"))
    except ValueError:
        return 20.0


def index_options() -> list[str]:
    """pip's index settings as uv options."""
    args: list[str] = []
    main = pipconf.setting("index-url")
    if main:
        args += ["--index-url", main]
    for option in ("extra-index-url", "find-links"):
        args += [arg for url in (pipconf.setting(option) or "").split() for arg in (f"--{option}", url)]
    if (pipconf.setting("no-index") or "").lower() in ("1", "true", "yes", "on"):
        args.append("--no-index")
    return args


def environment() -> dict[str, str]:
    """The environment uv runs in: pip's certificate, retries and timeout; no uv index variables;
    never a Python download unless the caller allows one."""
    env = {k: v for k, v in os.environ.items() if k not in _UV_INDEX_VARIABLES}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.setdefault("UV_HTTP_TIMEOUT", str(int(timeout())))
    retries = pipconf.setting("retries")
    if retries and retries.isdigit():
        env.setdefault("UV_HTTP_RETRIES", retries)
    cert = pipconf.setting("cert")
    if cert and "SSL_CERT_FILE" not in env:
        env["SSL_CERT_FILE"] = cert
    return env

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
    from release_hook.resolve.client import timeout as bound

    return bound(pipconf.settings())  # the tool's own reads wait as long


def index_options() -> list[str]:
    """pip's index settings as uv options (a trusted-host is uv's --allow-insecure-host)."""
    conf = pipconf.settings()
    args: list[str] = []
    if conf.index_url:
        args += ["--index-url", conf.index_url]
    args += [arg for url in conf.extra_index_urls for arg in ("--extra-index-url", url)]
    args += [arg for url in conf.find_links for arg in ("--find-links", url)]
    args += [arg for host in conf.trusted_hosts for arg in ("--allow-insecure-host", host)]
    if conf.no_index:
        args.append("--no-index")
    if conf.extra_index_urls and not conf.no_index:
        # the user's own indexes searched as pip searches them (the best match across all); an
        # address taken from a Dockerfile is never among them unless the user trusts it
        args += ["--index-strategy", "unsafe-best-match"]
    return args


def environment() -> dict[str, str]:
    """The environment uv runs in: pip's certificate, client certificate, proxy, retries and
    timeout; no uv index variables; never a Python download unless the caller allows one."""
    conf = pipconf.settings()
    env = {k: v for k, v in os.environ.items() if k not in _UV_INDEX_VARIABLES}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.setdefault("UV_HTTP_TIMEOUT", str(max(1, int(timeout()))))
    if conf.retries is not None:
        env.setdefault("UV_HTTP_RETRIES", str(conf.retries))
    if conf.cert and "SSL_CERT_FILE" not in env:
        env["SSL_CERT_FILE"] = conf.cert
    if conf.client_cert and "SSL_CLIENT_CERT" not in env:
        env["SSL_CLIENT_CERT"] = conf.client_cert
    if conf.proxy:  # pip's --proxy applies to both schemes
        env.setdefault("HTTPS_PROXY", conf.proxy)
        env.setdefault("HTTP_PROXY", conf.proxy)
    return env

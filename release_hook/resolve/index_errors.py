"""Failures of the package index said in one short line: which host, and the HTTP status or
the reason (`package index 127.0.0.1:8080: HTTP 404 for jax`), never a library's exception text."""
from __future__ import annotations

from release_hook.errors import UserError

NOT_A_PAGE = "answered something that is not a package page"


class IndexUnavailable(UserError):
    """The index or page could not be read (down, offline, timed out)."""


class NotOnIndex(UserError):
    """The index answered, and has no such release (not uploaded yet, or a typo)."""


class Unparsable(ValueError):
    """The index answered something its parser cannot read."""


class Insecure(Exception):
    """A plain-http address of a host that is neither loopback nor a trusted-host."""


class RangesIgnored(Exception):
    """The server answered a byte-range request with the whole file."""

    def __init__(self, size: int | None) -> None:
        super().__init__(size)
        self.size = size


class TooLarge(Exception):
    """A body longer than the reader allows."""


def host(url: str) -> str:
    """host[:port] of an address (never its user name or password)."""
    from urllib.parse import urlsplit  # only on a failure: 3 ms of each hook run otherwise

    parts = urlsplit(url)
    name = parts.hostname or url
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{name}:{port}" if port else name


def where(url: str) -> str:
    return f"package index {host(url)}"


def _chain(error: BaseException) -> list[object]:
    """The error and what caused it (urllib3 wraps the OS error two or three levels down)."""
    seen: list[object] = []
    todo: list[object] = [error]
    while todo and len(seen) < 12:
        e = todo.pop(0)
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        if isinstance(e, BaseException):
            todo.extend([e.__cause__, e.__context__, getattr(e, "reason", None),
                         *[a for a in e.args if isinstance(a, BaseException)]])
    return seen


def reason(error: BaseException, project: str | None, timeout: float) -> str:
    """A few words for what went wrong."""
    if isinstance(error, Unparsable):
        return NOT_A_PAGE
    if isinstance(error, Insecure):
        return "plain http to a host that is not a trusted-host (pip ignores it too)"
    if isinstance(error, TooLarge):
        return "an answer larger than expected (not read)"
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int):
        return f"HTTP {status}" + (f" for {project}" if project else "")
    chain = _chain(error)
    names = {type(e).__name__ for e in chain}
    text = " ".join(str(e) for e in chain).lower()
    if "timed out" in text or any("Timeout" in n for n in names):
        return f"no answer within {timeout:g}s"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "connection refused" in text:
        return "connection refused"
    if "NameResolutionError" in names or "gaierror" in names or "name or service not known" in text:
        return "host not found"
    if any("SSL" in n for n in names):
        return "TLS handshake failed"
    if any(isinstance(e, ConnectionResetError) for e in chain) or "connection aborted" in text:
        return "connection reset"
    if names & {"ConnectionError", "NewConnectionError", "MaxRetryError"}:
        return "cannot connect"
    if names & {"ContentDecodingError", "ChunkedEncodingError"}:
        return NOT_A_PAGE
    return type(error).__name__

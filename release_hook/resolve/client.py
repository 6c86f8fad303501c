"""The one HTTP client of every read this tool makes itself (index pages, metadata, archives,
find-links pages, whether an address answers), set up from pip's configuration in one place.

As pip's session does: `cert` is the CA bundle and `client-cert` the client's certificate for
every request; a `trusted-host` (host, or host:port) is read without a certificate check and
may be plain http; other plain-http hosts are not read (pip ignores them too), loopback aside;
`retries` retries connections and the statuses pip retries (500, 503, 520, 527); `proxy` and
the usual proxy variables choose the proxy. Certificate and client certificate are passed with
each request, so that `REQUESTS_CA_BUNDLE` cannot override the bundle pip was told to use.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from release_hook.resolve.index_errors import Insecure, RangesIgnored, TooLarge
from release_hook.resolve.pipconf import PipSettings

if TYPE_CHECKING:
    import requests

DEFAULT_TIMEOUT = 20.0
# pip retries five times; inside a commit hook one retry is enough to ride out a blip.
DEFAULT_RETRIES = 1
RETRY_STATUSES = (500, 503, 520, 527)  # as pip


def network_errors() -> tuple[type[BaseException], ...]:
    """What a read can fail with that is the network's or the server's doing, not ours."""
    import requests

    return (requests.RequestException, Insecure, RangesIgnored, TooLarge)


def timeout(conf: PipSettings | None = None) -> float:
    """RELEASE_HOOK_TIMEOUT, else pip's timeout, else 20 s: each read's bound."""
    try:
        return float(os.environ["RELEASE_HOOK_TIMEOUT"])
    except (KeyError, ValueError):
        pass
    if conf is not None and conf.timeout is not None:
        return conf.timeout
    return DEFAULT_TIMEOUT


def _host_port(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or "").lower(), port


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Client:
    conf: PipSettings
    _session: Any = None

    @property
    def timeout(self) -> float:
        return timeout(self.conf)

    def trusted(self, url: str) -> bool:
        """Whether pip's trusted-host names this address's host (and port, when it gives one)."""
        host, port = _host_port(url)
        for entry in self.conf.trusted_hosts:
            t_host, t_port = _host_port("//" + entry)
            if t_host == host and (t_port is None or t_port == port):
                return True
        return False

    def secure(self, url: str) -> bool:
        """pip's secure origins: https, loopback, or a trusted host."""
        scheme = urlsplit(url).scheme.lower()
        return scheme == "https" or _loopback(_host_port(url)[0]) or self.trusted(url)

    def session(self) -> requests.Session:
        if self._session is None:
            import requests
            from requests.adapters import HTTPAdapter
            from urllib3.util.retry import Retry

            # pip's retries when it has them; ours retry a refused or reset connection and a
            # failing status once, not a read that timed out (a slow server is waited for once)
            retries = self.conf.retries if self.conf.retries is not None else DEFAULT_RETRIES
            read = None if self.conf.retries is not None else 0
            # raise_on_status=False: the last answer's status is reported, not "too many retries"
            retry = Retry(total=retries, read=read, status_forcelist=RETRY_STATUSES, backoff_factor=0.25,
                          raise_on_status=False, allowed_methods=frozenset({"GET", "HEAD"}))
            session = requests.Session()
            for scheme in ("http://", "https://"):
                session.mount(scheme, HTTPAdapter(max_retries=retry))
            session.headers["User-Agent"] = "release-hook"
            if self.conf.proxy:
                session.proxies = {"http": self.conf.proxy, "https": self.conf.proxy}
            self._session = session
        return self._session

    def get(self, url: str, headers: dict[str, str] | None = None,
            stream: bool = False) -> requests.Response:
        """GET with pip's certificate settings; raises requests' errors, or Insecure."""
        if not self.secure(url):
            raise Insecure(url)
        verify: bool | str = True
        if self.trusted(url):
            verify = False
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        elif self.conf.cert:
            verify = self.conf.cert
        return self.session().get(url, headers=headers, stream=stream, timeout=self.timeout,
                                  verify=verify, cert=self.conf.client_cert or None)

    def read(self, url: str, limit: int, headers: dict[str, str] | None = None) -> bytes:
        """A whole body of at most `limit` bytes (raises TooLarge past it, having stopped)."""
        with self.get(url, headers=headers, stream=True) as response:
            response.raise_for_status()
            return _bounded(response, limit)

    def read_range(self, url: str, start: int | None, length: int) -> tuple[bytes, int]:
        """`length` bytes from `start` (None: the last `length` bytes) and the file's size.
        Raises RangesIgnored, having read nothing more, when the server sends the whole file."""
        wanted = f"bytes=-{length}" if start is None else f"bytes={start}-{start + length - 1}"
        with self.get(url, headers={"Range": wanted, "Accept-Encoding": "identity"},
                      stream=True) as response:
            if response.status_code == 200:
                size = response.headers.get("Content-Length")
                raise RangesIgnored(int(size) if size and size.isdigit() else None)
            response.raise_for_status()
            total = response.headers.get("Content-Range", "").rpartition("/")[2]
            if response.status_code != 206 or not total.isdigit():
                import requests

                raise requests.HTTPError(f"no byte range in the answer ({response.status_code})",
                                         response=response)
            return _bounded(response, length), int(total)

    def answers(self, url: str, any_status: bool) -> None:
        """Whether an address answers, from its status line and headers alone (the body is
        never read). Raises as `get`; also HTTPError for an error status unless any_status."""
        with self.get(url, stream=True) as response:
            if not any_status:
                response.raise_for_status()


def _bounded(response: requests.Response, limit: int) -> bytes:
    size = response.headers.get("Content-Length")
    if size and size.isdigit() and int(size) > limit:
        raise TooLarge(int(size))
    chunks: list[bytes] = []
    got = 0
    for chunk in response.iter_content(64 * 1024):
        got += len(chunk)
        if got > limit:
            raise TooLarge(got)
        chunks.append(chunk)
    return b"".join(chunks)

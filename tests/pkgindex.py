"""A real package index on loopback for the tests: small wheels and sdists built here with real
METADATA (Requires-Dist, Requires-Python, Provides-Extra), project pages in both forms of the
simple API - PEP 691 JSON when the client's Accept header asks for it (with requires-python,
PEP 700 upload-time, yanked, core-metadata), else PEP 503 HTML (data-requires-python,
data-yanked, data-dist-info-metadata) - PEP 658 metadata files, and a flat find-links page of
the shape of jax's, served by a thread. Files are served in byte ranges when asked (as the
public index's file host does), unless `ranges` is off. Faults (slow, 500, garbage) are set per
path; `sent` counts the bytes of each answer's body."""
from __future__ import annotations

import contextlib
import functools
import hashlib
import html
import io
import os
import json
import re
import selectors
import socket
import ssl
import subprocess
import tarfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from pathlib import Path

from packaging.tags import parse_tag
from packaging.utils import canonicalize_name


@functools.lru_cache(maxsize=None)
def _wheel_bytes(dist: str, version: str, meta: bytes, tag: str, files: tuple[tuple[str, str], ...]) -> bytes:
    """A wheel's bytes, built once per content: the fixtures of the suite build the same
    wheels tens of thousands of times (2.7 s of CPU in a quarter of the suite). Each member's
    time is fixed, so that the same content is the same file in every test."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        members = [*files, (f"{dist}-{version}.dist-info/METADATA", meta),
                   # the tag makes each wheel of a release a different file, with its own digest
                   (f"{dist}-{version}.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n" +
                    "".join(f"Tag: {t}\n" for t in sorted(map(str, parse_tag(tag))))),
                   (f"{dist}-{version}.dist-info/RECORD", "")]
        for path, content in members:
            info = zipfile.ZipInfo(path, date_time=(2020, 2, 2, 0, 0, 0))
            info.external_attr = 0o600 << 16  # as writestr gives a name
            z.writestr(info, content)
    return buf.getvalue()


@dataclass
class _File:
    filename: str
    data: bytes
    yanked: bool
    metadata: bytes | None  # served as FILE.metadata (PEP 658) when set
    requires_python: str | None = None
    upload_time: str | None = None  # ISO 8601 with Z, PEP 700


@dataclass
class PackageIndex:
    root: Path
    projects: dict[str, list[_File]] = field(default_factory=dict)
    pages: dict[str, list[str]] = field(default_factory=dict)  # find-links path -> filenames
    # path prefix -> "slow" | "500" | "500-once" (then answers) | "garbage" | "html-as-json"
    faults: dict[str, str] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    accepts: list[str] = field(default_factory=list)  # the Accept header of each project page read
    json_api: bool = True  # serve PEP 691 JSON to clients that ask for it
    metadata_files: bool = True  # serve PEP 658 metadata files (a mirror may not)
    pep714_only: bool = False  # name them only as PEP 714 does (data-core-metadata, core-metadata)
    ranges: bool = True  # answer a Range header with 206 and those bytes
    sent: list[tuple[str, int]] = field(default_factory=list)  # (path, body bytes) of each answer
    port: int = 0
    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/simple/"

    def link_url(self, page: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/jax-releases/{page}"

    def wheel(self, name: str, version: str, requires: list[str] = (), yanked: bool = False,  # type: ignore[assignment]
              metadata_file: bool = True, tag: str = "py3-none-any", requires_python: str | None = None,
              upload_time: str | None = None, extras: list[str] | None = None,
              files: dict[str, str] | None = None) -> None:
        """A wheel whose METADATA says what real ones say: Requires-Dist, Requires-Python and
        Provides-Extra (by default the extras that the markers of `requires` name); `files`
        (path -> text) is its code, by default an empty `__init__.py`."""
        dist = name.replace("-", "_")
        if extras is None:
            extras = sorted({m for r in requires for m in re.findall(r"extra\s*==\s*['\"]([^'\"]+)['\"]", r)})
        meta = "Metadata-Version: 2.1\nName: {}\nVersion: {}\n{}{}{}".format(
            name, version, f"Requires-Python: {requires_python}\n" if requires_python else "",
            "".join(f"Provides-Extra: {e}\n" for e in extras),
            "".join(f"Requires-Dist: {r}\n" for r in requires)).encode()
        data = _wheel_bytes(dist, version, meta, tag, tuple((files or {f"{dist}/__init__.py": ""}).items()))
        filename = f"{dist}-{version}-{tag}.whl"
        self._add(name, _File(filename, data, yanked, meta if metadata_file else None,
                              requires_python, upload_time))

    def wheel_without_metadata(self, name: str, version: str) -> None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(f"{name.replace('-', '_')}/__init__.py", "")
        self._add(name, _File(f"{name.replace('-', '_')}-{version}-py3-none-any.whl", buf.getvalue(),
                              False, None))

    def sdist(self, name: str, version: str, files: dict[str, str], yanked: bool = False,
              requires_python: str | None = None, upload_time: str | None = None) -> None:
        """A source archive whose PKG-INFO carries no Requires-Dist, like old jax releases."""
        buf = io.BytesIO()
        top = f"{name}-{version}"
        members = {"PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", **files}
        with tarfile.open(fileobj=buf, mode="w:gz") as t:
            for path, text in members.items():
                data = text.encode()
                info = tarfile.TarInfo(f"{top}/{path}")
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
        self._add(name, _File(f"{top}.tar.gz", buf.getvalue(), yanked, None, requires_python, upload_time))

    def _add(self, name: str, f: _File) -> None:
        self.projects.setdefault(canonicalize_name(name), []).append(f)

    def find_links_page(self, page: str, filenames: list[str]) -> None:
        self.pages[page] = filenames

    # -- serving --------------------------------------------------------------------------------

    def body(self, path: str, accept: str = "") -> tuple[int, str, bytes]:
        parts = [p for p in path.split("?")[0].split("/") if p]
        if len(parts) == 2 and parts[0] == "simple":
            self.accepts.append(accept)
            files = self.projects.get(parts[1])
            if files is None:
                return 404, "text/html", b"not found"
            if self.json_api and _JSON in accept:
                return 200, _JSON, self._json_page(parts[1], files)
            links = []
            for f in files:
                digest = hashlib.sha256(f.data).hexdigest()
                attrs = ' data-yanked=""' if f.yanked else ""
                if f.requires_python:
                    attrs += f' data-requires-python="{html.escape(f.requires_python)}"'
                if f.metadata is not None and self.metadata_files:
                    names = ("data-core-metadata",) if self.pep714_only else ("data-dist-info-metadata",)
                    attrs += "".join(f' {n}="sha256={hashlib.sha256(f.metadata).hexdigest()}"' for n in names)
                links.append(f'<a href="/files/{f.filename}#sha256={digest}"{attrs}>{html.escape(f.filename)}</a><br/>')
            return 200, "text/html", ("<!DOCTYPE html><html><body>\n" + "\n".join(links) +
                                      "\n</body></html>\n").encode()
        if len(parts) == 2 and parts[0] == "files":
            for files in self.projects.values():
                for f in files:
                    if parts[1] == f.filename:
                        return 200, "application/octet-stream", f.data
                    if parts[1] == f.filename + ".metadata" and f.metadata is not None and self.metadata_files:
                        return 200, "text/plain", f.metadata
            return 404, "text/plain", b"not found"
        if len(parts) == 2 and parts[0] == "jax-releases" and parts[1] in self.pages:
            links = "".join(f'<a href="{html.escape(n)}">{html.escape(n)}</a><br>\n' for n in self.pages[parts[1]])
            return 200, "text/html", f"<html><head></head><body>\n{links}</body></html>\n".encode()
        return 404, "text/plain", b"not found"


    def _json_page(self, project: str, files: list[_File]) -> bytes:
        """PEP 691 JSON, with PEP 700's upload-time and versions (api-version 1.1)."""
        out = []
        for f in files:
            entry: dict[str, object] = {"filename": f.filename, "url": f"/files/{f.filename}",
                                        "hashes": {"sha256": hashlib.sha256(f.data).hexdigest()},
                                        "yanked": f.yanked}
            if f.requires_python:
                entry["requires-python"] = f.requires_python
            meta: object = ({"sha256": hashlib.sha256(f.metadata).hexdigest()}
                            if f.metadata is not None and self.metadata_files else False)
            entry["core-metadata"] = meta
            if not self.pep714_only:
                entry["dist-info-metadata"] = meta
            if f.upload_time:
                entry["upload-time"] = f.upload_time
            entry["size"] = len(f.data)
            out.append(entry)
        return json.dumps({"meta": {"api-version": "1.1"}, "name": project, "files": out,
                           "versions": sorted({_version_of(f.filename) for f in files})}).encode()


_JSON = "application/vnd.pypi.simple.v1+json"


def _version_of(filename: str) -> str:
    base = filename[:-len(".tar.gz")] if filename.endswith(".tar.gz") else filename
    return base.split("-")[1]


def _range(header: str, size: int) -> tuple[int, int] | None:
    """[start, end) of a single `bytes=` range (RFC 9110 14.1.2), None when it asks for none."""
    m = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if m is None or m.group(1) == m.group(2) == "":
        return None
    if m.group(1) == "":  # the last N bytes
        return max(0, size - int(m.group(2))), size
    start = int(m.group(1))
    end = min(size, int(m.group(2)) + 1) if m.group(2) else size
    return start, end


class _Server(ThreadingHTTPServer):
    """Stops at once: its loop waits on the socket and on a wake-up pair, not on a timer
    (socketserver's serve_forever looks for a shutdown request every 0.5 s)."""

    daemon_threads = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._wake, self._waker = socket.socketpair()
        self._stopped = threading.Event()
        self._stop = False

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake, selectors.EVENT_READ)
            try:
                while not self._stop:
                    for key, _ in selector.select():
                        if key.fileobj is self and not self._stop:
                            self.handle_request()
            finally:
                self._stopped.set()

    def shutdown(self) -> None:
        self._stop = True
        self._waker.send(b"x")
        self._stopped.wait()

    def server_close(self) -> None:
        super().server_close()
        self._wake.close()
        self._waker.close()


@dataclass(frozen=True)
class Certificates:
    """A test CA, a server certificate for 127.0.0.1 it signed, and a client certificate."""

    ca: Path
    server: Path  # certificate, then key
    client: Path  # certificate, then key (pip's client-cert takes one PEM file holding both)

    @staticmethod
    def make(folder: Path) -> Certificates:
        """Made with the openssl command (EC keys: fast), valid for two days."""
        folder.mkdir(parents=True, exist_ok=True)

        def run(*args: str) -> None:
            subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        for name, usage, alt in (("server", "serverAuth", "subjectAltName=IP:127.0.0.1\n"), ("client", "clientAuth", "")):
            (folder / f"{name}.ext").write_text(f"basicConstraints=CA:FALSE\nextendedKeyUsage={usage}\n{alt}")
            run("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
            run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext")
            (folder / f"{name}.pem").write_bytes((folder / f"{name}.crt").read_bytes() + (folder / f"{name}.key").read_bytes())
        return Certificates(folder / "ca.pem", folder / "server.pem", folder / "client.pem")

    def context(self, require_client: bool = False) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.server)
        if require_client:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(self.ca)
        return ctx


def serve(index: PackageIndex, tls: ssl.SSLContext | None = None) -> tuple[ThreadingHTTPServer, threading.Thread]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            index.hits.append(self.path)
            fault = next((v for k, v in index.faults.items() if self.path.startswith(k)), None)
            if fault == "slow":
                time.sleep(8)
            if fault == "500-once" and (index.hits.count(self.path) == 1):
                fault = "500"
            if fault == "500":
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status, kind, data = index.body(self.path, self.headers.get("Accept", ""))
            if fault == "garbage":
                status, kind, data = 200, "application/vnd.pypi.simple.v1+json", b"{not json"
            if fault == "html-as-json":
                status, kind, data = 200, "application/vnd.pypi.simple.v1+json", b"<html><body>hi</body></html>"
            wanted = _range(self.headers.get("Range", ""), len(data)) if index.ranges and status == 200 else None
            size = len(data)
            if wanted is not None:
                status, data = 206, data[wanted[0]:wanted[1]]
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            if wanted is not None:
                self.send_header("Content-Range", f"bytes {wanted[0]}-{wanted[1] - 1}/{size}")
            self.end_headers()
            sent = 0
            try:
                for at in range(0, len(data), 65536):  # a client that stops reading stops this
                    self.wfile.write(data[at:at + 65536])
                    sent += len(data[at:at + 65536])
            except (BrokenPipeError, ConnectionResetError):
                pass
            index.sent.append((self.path, sent))

        def log_message(self, *args: object) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    if tls is not None:
        index.scheme = "https"
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    index.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@contextlib.contextmanager
def served_as_pips_index(index: PackageIndex, monkeypatch: Any, timeout: str = "5") -> Iterator[PackageIndex]:
    """Serve `index` on loopback as the only index pip (and so the tool) reads: this machine's
    pip configuration (files and PIP_* variables: find-links, extra indexes, retries, a
    certificate...) is set aside."""
    server, _ = serve(index)
    for name in [n for n in os.environ if n.startswith("PIP_")]:  # retries, cert, no-index, ...
        monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_INDEX_URL", index.url)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("RELEASE_HOOK_TIMEOUT", timeout)
    try:
        yield index
    finally:
        server.shutdown()
        server.server_close()

"""The one client of every index read, with pip's settings: a CA bundle (`cert`) for every read,
a client certificate, trusted hosts, retries and timeouts; metadata checked against the index's
digests and read without downloading a wheel; and our own bugs never said as "unavailable"."""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import socket
import sys
import time
import zipfile
from pathlib import Path
from typing import Iterator

import pytest
from packaging.version import Version

from conftest import git
from pkgindex import Certificates, PackageIndex, serve, served_as_pips_index
from release_hook.cli import main
from release_hook.resolve import pipconf
from release_hook.resolve.client import Client
from release_hook.resolve.index import Index, IndexUnavailable

BIG = 24 * 1024 * 1024  # a jaxlib-sized wheel, as far as a test can afford


def releases(idx: PackageIndex) -> None:
    idx.wheel("numpyro", "0.7.0", ["jax>=0.2.13", "jaxlib>=0.1.65"], requires_python=">=3.6")
    idx.wheel("jax", "0.2.13", ["numpy>=1.12"], metadata_file=False)  # no PEP 658 file for this one
    idx.sdist("jax", "0.2.12", {"jax/version.py": '_minimum_jaxlib_version = "0.1.64"\n'})
    idx.find_links_page("jax_releases.html", ["jaxlib-0.1.65+cuda111-cp39-none-manylinux2010_x86_64.whl"])


def big_wheel(idx: PackageIndex, name: str, version: str) -> None:
    """A wheel of BIG incompressible bytes whose METADATA sits at its start, as in real
    wheels whose RECORD comes last: only its directory and METADATA need reading."""
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nRequires-Dist: numpy>=1.22\n".encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{name}-{version}.dist-info/METADATA", meta)
        z.writestr(f"{name}/xla_extension.so", os.urandom(BIG), compress_type=zipfile.ZIP_STORED)
        z.writestr(f"{name}-{version}.dist-info/RECORD", "")
    from pkgindex import _File

    idx._add(name, _File(f"{name}-{version}-cp311-cp311-manylinux2014_x86_64.whl", buf.getvalue(), False, None))


@pytest.fixture
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command makes the test CA")
    return Certificates.make(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def tls_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, certs: Certificates) -> Iterator[PackageIndex]:
    """The loopback index over https, with a certificate of the test CA; pip is configured
    only by the file PIP_CONFIG_FILE names, which each test writes."""
    idx = PackageIndex(tmp_path / "index")
    releases(idx)
    server, _ = serve(idx, certs.context())
    for name in [n for n in os.environ if n.startswith("PIP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", str(tmp_path / "pip.conf"))
    monkeypatch.setenv("RELEASE_HOOK_TIMEOUT", "5")
    # requests would let this variable override a bundle set on its session; pip's cert must win
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "no-such-bundle.pem"))
    try:
        yield idx
    finally:
        server.shutdown()
        server.server_close()


def every_read(index: Index, idx: PackageIndex) -> list[object]:
    """One read of each kind the tool makes itself."""
    return [[d.filename for d in index.dists("numpyro")],
            index.metadata("numpyro", Version("0.7.0")).requires_dist,  # a PEP 658 metadata file
            index.metadata("jax", Version("0.2.13")).requires_dist,  # byte ranges of the wheel
            index.sdist_member("jax", Version("0.2.12"), "jax/version.py"),  # a source archive
            index.find_links(idx.link_url("jax_releases.html")),
            index.reachable(idx.url, "numpyro")]


def test_cert_is_used_by_every_read(tmp_path: Path, tls_index: PackageIndex, certs: Certificates) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nindex-url = {tls_index.url}\n")
    with pytest.raises(IndexUnavailable, match="TLS handshake failed"):
        Index(pipconf.index_urls()).dists("numpyro")  # without the CA: refused
    assert Index(pipconf.index_urls()).reachable(tls_index.url, "numpyro") == "TLS handshake failed"
    conf.write_text(f"[global]\nindex-url = {tls_index.url}\n[install]\ncert = {certs.ca}\n")
    answers = every_read(Index(pipconf.index_urls()), tls_index)
    assert answers == [["numpyro-0.7.0-py3-none-any.whl"], ("jax>=0.2.13", "jaxlib>=0.1.65"), ("numpy>=1.12",),
                       '_minimum_jaxlib_version = "0.1.64"\n',
                       ("jaxlib-0.1.65+cuda111-cp39-none-manylinux2010_x86_64.whl",), None]
    assert any(p.endswith(".whl.metadata") for p in tls_index.hits)
    assert any(p.endswith(".tar.gz") for p in tls_index.hits)


def test_a_client_certificate_is_sent_when_pip_has_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      certs: Certificates) -> None:
    idx = PackageIndex(tmp_path / "index")
    releases(idx)
    server, _ = serve(idx, certs.context(require_client=True))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", idx.url)
    monkeypatch.setenv("PIP_CERT", str(certs.ca))
    try:
        with pytest.raises(IndexUnavailable):
            Index(pipconf.index_urls()).dists("numpyro")
        monkeypatch.setenv("PIP_CLIENT_CERT", str(certs.client))
        assert every_read(Index(pipconf.index_urls()), idx)[0] == ["numpyro-0.7.0-py3-none-any.whl"]
    finally:
        server.shutdown()
        server.server_close()


def test_a_trusted_host_is_read_without_a_certificate_check(tmp_path: Path, tls_index: PackageIndex,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pip.conf").write_text(f"[global]\nindex-url = {tls_index.url}\n"
                                       f"trusted-host = 127.0.0.1:{tls_index.port}\n")
    assert every_read(Index(pipconf.index_urls()), tls_index)[1] == ("jax>=0.2.13", "jaxlib>=0.1.65")
    (tmp_path / "pip.conf").write_text(f"[global]\nindex-url = {tls_index.url}\n"
                                       f"trusted-host = 127.0.0.1:{tls_index.port + 1}\n")  # another port
    monkeypatch.setenv("RELEASE_HOOK_CACHE_DIR", str(tmp_path / "cold"))  # no answer kept from above
    with pytest.raises(IndexUnavailable, match="TLS handshake failed"):
        Index(pipconf.index_urls()).dists("numpyro")


def test_plain_http_is_read_only_from_loopback_or_a_trusted_host(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = pipconf.PipSettings(None, (), (), False, None, None, ("mirror.example.invalid",), 0, 1.0, None)
    client = Client(conf)
    assert client.secure("http://127.0.0.1:1/simple/") and client.secure("https://pypi.example.invalid/")
    assert client.secure("http://mirror.example.invalid:8080/simple/")  # no port given: any port
    assert not client.secure("http://other.example.invalid/simple/")
    index = Index(["http://other.example.invalid/simple/"], _client=client)
    with pytest.raises(IndexUnavailable) as e:  # refused before any connection is tried
        index.dists("jax")
    assert e.value.message == ("cannot read jax's releases from package index other.example.invalid: plain http "
                               "to a host that is not a trusted-host (pip ignores it too)")


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PackageIndex]:
    idx = PackageIndex(tmp_path / "index")
    releases(idx)
    with served_as_pips_index(idx, monkeypatch, "5"):
        yield idx


@pytest.mark.parametrize("retries, answered", [("0", False), ("1", True), (None, True)])
def test_pips_retries_ride_out_a_failing_answer(index: PackageIndex, monkeypatch: pytest.MonkeyPatch,
                                                retries: str | None, answered: bool) -> None:
    index.faults["/simple/numpyro/"] = "500-once"
    if retries is not None:
        monkeypatch.setenv("PIP_RETRIES", retries)
    if answered:
        assert Index(pipconf.index_urls()).dists("numpyro")[0].version == Version("0.7.0")
    else:
        with pytest.raises(IndexUnavailable, match="HTTP 500 for numpyro"):
            Index(pipconf.index_urls()).dists("numpyro")
    assert index.hits.count("/simple/numpyro/") == (1 if retries == "0" else 2)


@pytest.mark.parametrize("retries, reads", [(None, 1), ("1", 2)])
def test_pips_timeout_bounds_each_read(index: PackageIndex, monkeypatch: pytest.MonkeyPatch,
                                       retries: str | None, reads: int) -> None:
    """pip's timeout bounds each read; a slow server is waited for again only when pip's own
    retries say so (ours retry connections and failing statuses, not a read that timed out)."""
    index.faults["/simple/numpyro/"] = "slow"
    monkeypatch.delenv("RELEASE_HOOK_TIMEOUT")
    monkeypatch.setenv("PIP_DEFAULT_TIMEOUT", "0.2")
    if retries is not None:
        monkeypatch.setenv("PIP_RETRIES", retries)
    start = time.monotonic()
    with pytest.raises(IndexUnavailable, match=r"no answer within 0.2s"):
        Index(pipconf.index_urls()).dists("numpyro")
    assert time.monotonic() - start < 3
    assert index.hits.count("/simple/numpyro/") == reads


def test_files_carry_their_digests_for_hash_locks(index: PackageIndex) -> None:
    dist = Index(pipconf.index_urls()).dists("numpyro")[0]
    data = index.projects["numpyro"][0].data
    assert dist.url == f"http://127.0.0.1:{index.port}/files/numpyro-0.7.0-py3-none-any.whl"
    assert dist.sha256 == hashlib.sha256(data).hexdigest()
    assert Index(pipconf.index_urls()).dists("numpyro") == [dist]  # from the cache, the same


@pytest.mark.parametrize("json_api, pep714_only", [(True, False), (False, False), (True, True), (False, True)])
def test_a_metadata_file_that_does_not_match_its_digest_is_not_trusted(index: PackageIndex, json_api: bool,
                                                                       pep714_only: bool, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    index.json_api, index.pep714_only = json_api, pep714_only
    assert Index(pipconf.index_urls()).metadata("numpyro", Version("0.7.0")).requires_dist[0] == "jax>=0.2.13"
    assert any(p.endswith(".metadata") for p in index.hits)  # the metadata file, by either name
    index.hits.clear()
    real = index.body

    def tampered(path: str, accept: str = "") -> tuple[int, str, bytes]:
        status, kind, data = real(path, accept)
        if path.endswith(".metadata"):
            data = data.replace(b"jax>=0.2.13", b"jax>=0.2.1")
        return status, kind, data

    index.body = tampered  # type: ignore[method-assign]
    monkeypatch.setenv("RELEASE_HOOK_CACHE_DIR", str(tmp_path / "cold"))  # not the answer read above
    with pytest.raises(Exception, match="numpyro-0.7.0-py3-none-any.whl does not match the sha256 digest"):
        Index(pipconf.index_urls()).metadata("numpyro", Version("0.7.0"))


def wheel_bytes(index: PackageIndex) -> int:
    return sum(n for path, n in index.sent if path.endswith(".whl"))


def test_a_mirror_without_metadata_files_is_read_in_byte_ranges(index: PackageIndex) -> None:
    index.metadata_files = False
    big_wheel(index, "jaxlib", "0.4.30")
    meta = Index(pipconf.index_urls()).metadata("jaxlib", Version("0.4.30"))
    assert meta.requires_dist == ("numpy>=1.22",)
    assert not any(p.endswith(".metadata") for p in index.hits)
    assert 0 < wheel_bytes(index) < 200_000  # the directory and METADATA, not 24 MB


def test_a_server_that_ignores_ranges_is_said_and_the_wheel_not_downloaded(index: PackageIndex) -> None:
    index.metadata_files = False
    index.ranges = False
    big_wheel(index, "jaxlib", "0.4.30")
    with pytest.raises(Exception) as e:
        Index(pipconf.index_urls()).metadata("jaxlib", Version("0.4.30"))
    assert str(e.value) == ("cannot read the metadata of jaxlib-0.4.30-cp311-cp311-manylinux2014_x86_64.whl: the "
                            "index has no metadata file for it and its server sends whole files, not byte ranges; "
                            "not downloading the wheel (24 MB)")
    time.sleep(0.2)  # the server notices the closed connection
    assert wheel_bytes(index) < BIG // 2
    # a small wheel from such a server is read whole (bounded), and checked against its digest
    assert Index(pipconf.index_urls()).metadata("jax", Version("0.2.13")).requires_dist == ("numpy>=1.12",)


def test_reachable_asks_for_a_project_page_never_the_root(index: PackageIndex) -> None:
    client_index = Index(pipconf.index_urls())
    assert client_index.reachable(index.url, "no-such-project") is None  # a 404 is an answer
    assert client_index.reachable(index.link_url("jax_releases.html")) is None
    assert client_index.reachable(index.link_url("missing.html")) == "HTTP 404"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/simple/"
    assert client_index.reachable(dead, "jax") == "connection refused"
    assert "/simple/" not in index.hits and "/simple/no-such-project/" in index.hits


# -- our own bugs stay ours ------------------------------------------------------------------------

def broken(*args: object, **kwargs: object) -> object:
    raise AttributeError("'NoneType' object has no attribute 'headers'")


def repository(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "docker" / "a").mkdir(parents=True)
    (root / "docker" / "a" / "Dockerfile").write_text("FROM python:3.11\nRUN pip install numpyro==0.7.0 jax==0.2.13\n")
    (root / "setup.cfg").write_text("[release_hook]\nrequirements = index\n")
    (root / ".bumpversion.cfg").write_text("[bumpversion]\ncurrent_version = 0.7.0\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    return root


def test_an_attribute_error_in_the_index_layer_is_a_bug_not_unavailable(
        tmp_path: Path, index: PackageIndex, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    root = repository(tmp_path)
    monkeypatch.chdir(root)
    working = Client.get
    monkeypatch.setattr(Client, "get", broken)
    with pytest.raises(AttributeError):
        main(["sync", "--check"])
    with pytest.raises(AttributeError):  # the pre-push check does not say "not checked"
        sha = git(root, "rev-parse", "HEAD").stdout.strip()
        monkeypatch.setattr(sys, "stdin", io.StringIO(f"refs/heads/main {sha} refs/heads/main {'0' * 40}\n"))
        main(["hook", "pre-push", "origin", str(tmp_path / "remote.git")])
    err = capsys.readouterr().err
    assert "unavailable" not in err and "not checked" not in err and "cannot read" not in err, err
    # the same run with the client working: the check answers
    monkeypatch.setattr(Client, "get", working)
    assert main(["sync", "--check"]) == 0, capsys.readouterr().err


def test_pips_find_links_pages_are_read_as_pip_reads_them(index: PackageIndex,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A release only on a find-links page of pip's configuration is found, and its metadata
    read from the wheel the page links to (in byte ranges: a page has no metadata files)."""
    big_wheel(index, "jaxlib", "0.4.30")
    wheel = index.projects.pop("jaxlib")[0]  # not on the index: only the page links to it
    index.pages["wheels.html"] = []
    real = index.body

    def body(path: str, accept: str = "") -> tuple[int, str, bytes]:
        if path == "/jax-releases/wheels.html":
            return 200, "text/html", f'<a href="/files/{wheel.filename}">{wheel.filename}</a>'.encode()
        if path == f"/files/{wheel.filename}":
            return 200, "application/octet-stream", wheel.data
        return real(path, accept)

    index.body = body  # type: ignore[method-assign]
    monkeypatch.setenv("PIP_FIND_LINKS", index.link_url("wheels.html"))
    found = Index(pipconf.index_urls())
    assert [d.filename for d in found.dists("jaxlib")] == [wheel.filename]
    assert found.metadata("jaxlib", Version("0.4.30")).requires_dist == ("numpy>=1.22",)
    assert 0 < wheel_bytes(index) < 200_000
    assert [d.filename for d in found.dists("numpyro")] == ["numpyro-0.7.0-py3-none-any.whl"]  # the index too


def test_no_index_is_honoured_as_pip_does(index: PackageIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # and PIP_INDEX_URL still names the loopback index
    with pytest.raises(IndexUnavailable, match="no package index to read: pip's configuration says no-index"):
        Index(pipconf.index_urls()).dists("numpyro")
    assert index.hits == []
    monkeypatch.setenv("PIP_FIND_LINKS", index.link_url("jax_releases.html"))  # a page pip would read
    assert [d.filename for d in Index(pipconf.index_urls()).dists("jaxlib")] == [
        "jaxlib-0.1.65+cuda111-cp39-none-manylinux2010_x86_64.whl"]

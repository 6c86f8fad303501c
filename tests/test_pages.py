"""Index pages as the specifications write them (PEP 503, 592, 658, 691, 700, 714), read by
resolve/pages.py, and the same pages read by pypi-simple (an independent reader, installed
for the tests only): both must see the same files."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pkgindex import PackageIndex
from release_hook.resolve import pages
from release_hook.resolve.index_errors import Unparsable

JSON = "application/vnd.pypi.simple.v1+json"
BASE = "https://mirror.example.invalid/simple/demo/"


def served(tmp_path: Path, json_api: bool, pep714_only: bool) -> PackageIndex:
    idx = PackageIndex(tmp_path / "index", json_api=json_api, pep714_only=pep714_only)
    idx.wheel("demo", "1.0", requires_python=">=3.8, <4", upload_time="2024-02-29T12:00:00Z")
    idx.wheel("demo", "1.1", yanked=True, metadata_file=False, upload_time="2024-03-01T00:00:00.25Z")
    idx.wheel("demo", "1.2", tag="cp312-cp312-manylinux2014_x86_64", requires_python=">3.11")
    idx.sdist("demo", "0.9", {}, requires_python="<3.10")
    return idx


@pytest.mark.parametrize("json_api, pep714_only", [(True, False), (True, True), (False, False), (False, True)])
def test_the_same_files_as_an_independent_reader_sees(tmp_path: Path, json_api: bool, pep714_only: bool) -> None:
    from pypi_simple import ProjectPage

    idx = served(tmp_path, json_api, pep714_only)
    status, kind, body = idx.body("/simple/demo/", pages.ACCEPT)
    assert status == 200 and (kind == JSON) == json_api
    ours = pages.project_page(body, kind, idx.url + "demo/")
    if kind == JSON:
        theirs = ProjectPage.from_json_data(json.loads(body), idx.url + "demo/").packages
    else:
        # pypi-simple reads only PEP 714's name of the attribute; pip (and pages.py) both
        theirs = ProjectPage.from_html("demo", body.replace(b"data-dist-info-metadata", b"data-core-metadata"),
                                       base_url=idx.url + "demo/").packages
    assert [(f.filename, f.url, dict(f.digests), f.requires_python, f.is_yanked, f.upload_time,
             f.has_metadata, None if f.metadata_digests is None else dict(f.metadata_digests)) for f in ours] == [
        (p.filename, p.url, p.digests, p.requires_python, p.is_yanked, p.upload_time,
         bool(p.has_metadata), p.metadata_digests if p.has_metadata else None) for p in theirs]
    assert [f.filename for f in ours] == ["demo-1.0-py3-none-any.whl", "demo-1.1-py3-none-any.whl",
                                          "demo-1.2-cp312-cp312-manylinux2014_x86_64.whl", "demo-0.9.tar.gz"]
    assert [f.is_yanked for f in ours] == [False, True, False, False]
    assert [f.has_metadata for f in ours] == [True, False, True, False]
    assert ours[0].metadata_url == f"http://127.0.0.1:0/files/{ours[0].filename}.metadata"
    if json_api:  # upload times are JSON's alone (PEP 700)
        assert ours[1].upload_time == datetime(2024, 3, 1, 0, 0, 0, 250000, tzinfo=timezone.utc)


def test_html_as_pep_503_writes_it() -> None:
    page = b"""<!DOCTYPE html><html><head>
<meta name="pypi:repository-version" content="1.1"><base href="/files/">
<title>Links for demo</title></head><body>
<a href="demo-1.0.tar.gz#sha256=ABCDEF" data-requires-python="&gt;=3.8,&lt;4" data-yanked>demo-1.0.tar.gz</a>
<a href="https://files.example.invalid/d/demo-1.1%2Blocal-py3-none-any.whl" data-yanked="broken build"
   data-dist-info-metadata="true"></a>
<a href="demo-1.2-py3-none-any.whl" data-core-metadata="sha256=00ff" data-dist-info-metadata="true">
  demo-1.2-py3-none-any.whl </a>
<a name="no-href">not a file</a>
</body></html>"""
    files = pages.project_page(page, "text/html; charset=utf-8", BASE)
    assert [f.filename for f in files] == ["demo-1.0.tar.gz", "demo-1.1+local-py3-none-any.whl",
                                           "demo-1.2-py3-none-any.whl"]
    first, second, third = files
    assert first.url == "https://mirror.example.invalid/files/demo-1.0.tar.gz"  # <base> wins, fragment off
    assert first.digests == {"sha256": "ABCDEF"} and first.requires_python == ">=3.8,<4" and first.is_yanked
    assert not first.has_metadata
    assert second.url == "https://files.example.invalid/d/demo-1.1%2Blocal-py3-none-any.whl"
    assert second.is_yanked and second.digests == {} and second.metadata_digests == {}  # "true": no digest
    assert third.metadata_digests == {"sha256": "00ff"}  # PEP 714's name before the old one
    assert pages.links(page, "text/html", BASE) == [f.filename for f in files]


def test_a_web_servers_folder_listing_is_read_by_address_as_pip_reads_it() -> None:
    """A find-links folder listed by a web server: the text of long names is cut short, and the
    parent folder is linked too."""
    page = b"""<html><head><title>Index of /wheels/</title></head><body><h1>Index of /wheels/</h1><hr><pre>
<a href="../">../</a>
<a href="jaxlib-0.4.20%2Bcuda11.cudnn86-cp311-cp311-manylinux2014_x86_64.whl">jaxlib-0.4.20+cuda11.cudnn86-cp311-cp311-manyl..&gt;</a> 01-Dec-2023 17:00  160M
</pre><hr></body></html>"""
    assert pages.links(page, "text/html", "https://host.example.invalid/wheels/") == [
        "jaxlib-0.4.20+cuda11.cudnn86-cp311-cp311-manylinux2014_x86_64.whl"]


def test_json_as_pep_691_writes_it() -> None:
    page = {"meta": {"api-version": "1.3", "_last-serial": 7}, "name": "demo", "versions": ["1.0"],
            "files": [
                {"filename": "demo-1.0-py3-none-any.whl", "url": "../../files/demo-1.0-py3-none-any.whl",
                 "hashes": {"sha256": "aa", "blake2b": "bb"}, "requires-python": "", "yanked": "", "size": 1,
                 "dist-info-metadata": {"sha256": "cc"}, "upload-time": "2024-01-02T03:04:05.1234Z"},
                {"filename": "demo-1.0.tar.gz", "url": "https://files.example.invalid/demo-1.0.tar.gz",
                 "hashes": {}, "yanked": False, "core-metadata": True, "dist-info-metadata": False},
            ]}
    whl, sdist = pages.project_page(json.dumps(page).encode(), f"{JSON}; charset=utf-8", BASE)
    assert whl.url == "https://mirror.example.invalid/files/demo-1.0-py3-none-any.whl"
    assert whl.digests == {"sha256": "aa", "blake2b": "bb"} and whl.requires_python is None
    assert whl.is_yanked  # a string is a reason; an empty one (which PEP 691 forbids) as uv reads it
    assert whl.metadata_digests == {"sha256": "cc"}
    assert whl.upload_time == datetime(2024, 1, 2, 3, 4, 5, 123400, tzinfo=timezone.utc)
    assert not sdist.is_yanked and sdist.metadata_digests == {} and sdist.upload_time is None  # core-metadata first
    offset = dict(page, files=[dict(page["files"][0], **{"upload-time": "2024-01-02T03:04:05+02:00"})])
    only, = pages.project_page(json.dumps(offset).encode(), JSON, BASE)
    assert only.upload_time == datetime(2024, 1, 2, 1, 4, 5, tzinfo=timezone.utc) and \
        only.upload_time.utcoffset() == timedelta(hours=2)
    naive = dict(page, files=[dict(page["files"][0], **{"upload-time": "2024-01-02T03:04:05"})])
    only, = pages.project_page(json.dumps(naive).encode(), JSON, BASE)
    assert only.upload_time == datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize("kind, body", [
    (JSON, b"{not json"),
    (JSON, b"\xff\xfe"),
    (JSON, b"[]"),
    (JSON, b'{"meta": {"api-version": "1.0"}}'),
    (JSON, b'{"meta": {"api-version": "2.0"}, "files": []}'),  # a major version we do not know
    (JSON, b'{"meta": {"api-version": "1.0"}, "files": [{"filename": "a.whl"}]}'),
    (JSON, b'{"files": [{"filename": "a.whl", "url": "http://[::1/a.whl"}]}'),
    ("text/html", b'<meta name="pypi:repository-version" content="2.0"><a href="a.whl">a.whl</a>'),
    ("text/html", b'<a href="http://[::1/a-1.0.tar.gz">a-1.0.tar.gz</a>'),  # urllib: "Invalid IPv6 URL"
    ("application/octet-stream", b"PK\x03\x04"),
])
def test_what_is_not_a_project_page_is_unparsable(kind: str, body: bytes) -> None:
    with pytest.raises(Unparsable):
        pages.project_page(body, kind, BASE)


def test_what_pip_reads_of_an_odd_page_is_read_the_same() -> None:
    """Shapes where pip's reading is the guide: fragments with other fields, a commented-out
    link left unterminated, optional JSON fields absent or unreadable."""
    page = b"""<a href="a-1.0.tar.gz#egg=a&amp;sha256=AA&amp;subdirectory=x">a</a>
<a href="a-1.1.tar.gz#SHA256=BB">a</a> <a href="a-1.2.tar.gz#blake2b=CC&amp;md5=DD">a</a>
<!-- withdrawn: <a href="a-1.3.tar.gz">a</a>
<a href="a-1.4.tar.gz">a</a>"""
    files = pages.project_page(page, "text/html", BASE)
    assert [(f.filename, dict(f.digests)) for f in files] == [
        ("a-1.0.tar.gz", {"sha256": "AA"}), ("a-1.1.tar.gz", {}), ("a-1.2.tar.gz", {"md5": "DD"})]
    lenient = {"files": [{"filename": "a-1.0.tar.gz", "url": "a-1.0.tar.gz", "upload-time": "yesterday"},
                         {"filename": "a-1.1.tar.gz", "url": "a-1.1.tar.gz", "hashes": {"sha256": None}}]}
    first, second = pages.project_page(json.dumps(lenient).encode(), JSON, BASE)
    assert first.digests == {} and first.upload_time is None and second.digests == {}


def test_a_page_in_another_charset_is_decoded_as_it_says() -> None:
    page = "<a href='x/caf\u00e9-1.0.tar.gz'>caf\u00e9-1.0.tar.gz</a>".encode("latin-1")
    assert [f.filename for f in pages.project_page(page, "text/html; charset=latin-1", BASE)] == ["caf\u00e9-1.0.tar.gz"]
    assert [f.filename for f in pages.project_page(page, 'text/html; charset="no-such"', BASE)] == [
        "caf\ufffd-1.0.tar.gz"]  # an unknown charset: UTF-8, what does not decode replaced
    for odd in ("idna", "base64"):  # codecs that fail on a page, or are no text encoding
        assert len(pages.project_page(b"<a href='a-1.0.tar.gz'>", f"text/html; charset={odd}", BASE)) == 1
    served_as = pages.packages_on(page, "application/octet-stream; charset=latin-1", BASE)
    assert [f.filename for f in served_as] == ["caf\u00e9-1.0.tar.gz"]  # a find-links page, any type


def test_reading_pages_imports_no_heavy_parser() -> None:
    """The reason pages.py exists: the hooks read the index on a bump, and an HTML or model
    library costs more to import than the whole bump (a subprocess: this one has them loaded)."""
    import subprocess
    import sys

    code = ("import sys; from release_hook.resolve import pages, index; "
            "pages.project_page(b'<a href=\"a-1.0.tar.gz\">a-1.0.tar.gz</a>', 'text/html', 'http://x/'); "
            "print(sorted(m for m in ('bs4', 'pydantic', 'pypi_simple', 'mailbits', 'requests') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

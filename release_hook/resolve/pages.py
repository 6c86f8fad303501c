"""An index's project page and a flat find-links page, read with the standard library.

The two formats are small specifications: PEP 503 HTML (anchors, with PEP 592's data-yanked,
data-requires-python and PEP 658/714's metadata attributes) and PEP 691 JSON (with PEP 700's
upload times). A page that is not one of them, or of a repository version above 1, raises
Unparsable: the index's doing, said as such; nothing else is caught here.

Not pypi-simple: importing it (pydantic, BeautifulSoup with soupsieve, mailbits) took 250 ms,
on every hook run that reads the index, against 56 ms for all of `bump2version minor`.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Any, Mapping, Optional
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from release_hook.resolve.index_errors import Unparsable

# JSON first (only it carries upload times), then either HTML
ACCEPT = ("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
          "text/html;q=0.01")
_JSON = "application/vnd.pypi.simple.v1+json"
_HTML = ("text/html", "application/vnd.pypi.simple.v1+html")


@dataclass(frozen=True)
class File:
    """One file a page lists, as the tool uses it."""
    filename: str
    url: str  # without the #hash fragment
    digests: Mapping[str, str]
    requires_python: Optional[str] = None
    is_yanked: bool = False
    upload_time: Optional[datetime] = None  # JSON pages only (PEP 700)
    metadata_digests: Optional[Mapping[str, str]] = None  # None: no metadata file (PEP 658)

    @property
    def has_metadata(self) -> bool:
        return self.metadata_digests is not None

    @property
    def metadata_url(self) -> str:
        return self.url + ".metadata"


def project_page(body: bytes, content_type: str, url: str) -> list[File]:
    """The files of an index's project page, from the response's body, Content-Type and URL."""
    kind, _, params = content_type.partition(";")
    kind = kind.strip().lower()
    if kind == _JSON:
        return _from_json(body, url)
    if kind in _HTML:
        return _from_html(body, url, _charset(params))
    raise Unparsable(f"Content-Type {kind}")


def packages_on(html: bytes, content_type: str, url: str) -> list[File]:
    """The files a flat find-links page links to, of any project. Its Content-Type gives only
    the charset: a page served as another type is still read (as uv reads it)."""
    return _from_html(html, url, _charset(content_type.partition(";")[2]))


def links(html: bytes, content_type: str, url: str) -> list[str]:
    """The file names (without folders) a flat find-links page links to."""
    return [os.path.basename(f.filename) for f in packages_on(html, content_type, url)]


def _charset(params: str) -> Optional[str]:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"') or None
    return None


def _check_version(version: object) -> None:
    """Major version 1 is what these specifications describe; a later major may change meaning."""
    if not isinstance(version, str) or not re.fullmatch(r"1(\.\d+)*", version.strip()):
        raise Unparsable(f"repository version {version!r}")


# -- PEP 691 -----------------------------------------------------------------------------------

def _from_json(body: bytes, url: str) -> list[File]:
    try:
        page = json.loads(body)
    except (ValueError, RecursionError):  # JSONDecodeError and undecodable bytes are ValueErrors
        raise Unparsable("not JSON") from None
    if not isinstance(page, dict) or not isinstance(page.get("files"), list):
        raise Unparsable("not a project page")
    meta = page.get("meta")
    _check_version(meta.get("api-version", "1.0") if isinstance(meta, dict) else "1.0")
    return [_json_file(f, url) for f in page["files"]]


def _json_file(entry: Any, base: str) -> File:
    if not isinstance(entry, dict):
        raise Unparsable("a file that is not an object")
    filename, href = entry.get("filename"), entry.get("url")
    if not isinstance(filename, str) or not isinstance(href, str):
        raise Unparsable("a file without filename and url")
    python = entry.get("requires-python")
    yanked = entry.get("yanked", False)
    # PEP 714: "core-metadata", formerly "dist-info-metadata"; pip reads either, the new first
    metadata = entry.get("core-metadata", entry.get("dist-info-metadata", False))
    return File(
        filename=filename,
        url=_address(base, href)[0],
        # PEP 691 makes hashes required; pip reads a file without them, and so do we
        digests=_digests(entry.get("hashes")) or {},
        requires_python=python if isinstance(python, str) and python.strip() else None,
        # a string is a reason, so yanked; PEP 691 allows no empty one, which uv (the resolver
        # that proves the pins) reads as yanked too
        is_yanked=yanked is True or isinstance(yanked, str),
        upload_time=_instant(entry.get("upload-time")),
        metadata_digests={} if metadata is True else _digests(metadata))


def _digests(value: object) -> Optional[dict[str, str]]:
    """A JSON object's string entries (hash names to hex digests), else None."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}
    return None


def _address(base: str, href: str) -> tuple[str, str]:
    """The absolute address of a link, without its fragment, and the fragment."""
    try:
        return urldefrag(urljoin(base, href))
    except ValueError:  # what urllib cannot parse (a broken IPv6 host, say)
        raise Unparsable(f"a link to {href!r}") from None


def _instant(value: object) -> Optional[datetime]:
    """PEP 700's ISO 8601 upload time (`Z` for UTC; Python before 3.11 reads only `+00:00`);
    None when there is none, or none that reads: an informational field, as pip treats it."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    text = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    whole, dot, rest = text.partition(".")
    if dot:  # fractions of any length, as Python before 3.11 reads only 3 or 6 digits
        digits = re.match(r"\d*", rest).group()  # type: ignore[union-attr]
        text = f"{whole}.{(digits + '000000')[:6]}{rest[len(digits):]}"
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        return None
    # PEP 700 writes UTC; a time without a zone is taken as UTC, never compared naive
    return found if found.tzinfo is not None else found.replace(tzinfo=timezone.utc)


# -- PEP 503 -----------------------------------------------------------------------------------

def _from_html(body: bytes, url: str, charset: Optional[str]) -> list[File]:
    try:
        text = body.decode(charset or "utf-8", errors="replace")
    except (LookupError, ValueError):  # a charset Python does not know, or no text encoding
        text = body.decode("utf-8", errors="replace")
    reader = _Anchors()
    # no close(): what an unterminated comment or tag leaves unread stays unread, as pip and
    # uv leave it (close() would read a commented-out link)
    reader.feed(text)
    if reader.version is not None:
        _check_version(reader.version)
    base = _address(url, reader.base)[0] if reader.base else url
    files = (_html_file(href, attrs, base) for href, attrs in reader.anchors)
    return [f for f in files if f.filename]  # a link to a folder names no file


def _html_file(href: str, attrs: Mapping[str, Optional[str]], base: str) -> File:
    address, fragment = _address(base, href)
    # the name pip takes: the address's, not the anchor's text (PEP 503 makes them the same on
    # an index; a web server's listing of a find-links folder may shorten the text)
    filename = unquote(os.path.basename(urlsplit(address).path))
    metadata = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
    python = attrs.get("data-requires-python")
    return File(
        filename=filename,
        url=address,
        digests=_fragment_digests(fragment),
        requires_python=python if python and python.strip() else None,
        is_yanked="data-yanked" in attrs,
        metadata_digests=_metadata_attribute(metadata))


def _fragment_digests(fragment: str) -> dict[str, str]:
    """The digests a link's fragment gives (`sha256=...`, among other `&`-joined fields such as
    `egg=`), of the hashes pip reads there."""
    pairs = (field.partition("=") for field in fragment.split("&"))
    return {name: value for name, _, value in pairs if name in _FRAGMENT_HASHES and value}


_FRAGMENT_HASHES = ("sha512", "sha384", "sha256", "sha224", "sha1", "md5")


def _metadata_attribute(value: Optional[str]) -> Optional[Mapping[str, str]]:
    if value is None:
        return None
    if value.strip().lower() == "true":
        return {}
    found = re.fullmatch(r"\s*(\w+)=([0-9A-Fa-f]+)\s*", value)
    return {found.group(1): found.group(2)} if found else None


class _Anchors(HTMLParser):
    """Each <a href>'s address and attributes; the first <base href>; the repository version of
    a <meta name="pypi:repository-version">. Attribute values come unescaped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[str, dict[str, Optional[str]]]] = []
        self.base: Optional[str] = None
        self.version: Optional[str] = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        values = dict(attrs)
        href = values.get("href")
        if tag == "a" and href is not None:
            self.anchors.append((href, values))
        elif tag == "base" and self.base is None and href:
            self.base = href
        elif tag == "meta" and (values.get("name") or "").lower() == "pypi:repository-version":
            self.version = values.get("content") or ""

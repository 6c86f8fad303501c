"""The package index and find-links pages as this tool reads them: each project's files, a
release's metadata, a source archive's member, whether an address answers. Read with the one
client (client.py, pip's settings), parsed by pages.py (PEP 503 HTML, PEP 691 JSON, PEP 592
yanking, PEP 658/714 metadata, PEP 700 upload times), kept in the shared cache.

Only the network's and the index's failures become IndexUnavailable: a bug of ours (an
AttributeError, a TypeError) is not caught here, so it is never reported as "unavailable".
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Iterator, Optional, TypeVar

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from release_hook import cache
from release_hook.errors import UserError
from release_hook.resolve import dist_files, pages
from release_hook.resolve import index_errors as said
from release_hook.resolve.index_errors import IndexUnavailable, NotOnIndex
from release_hook.resolve.client import Client, network_errors
from release_hook.resolve.dist_files import Metadata
from release_hook.resolve.listing import Listing, Source, version_of
from release_hook.resolve.pages import File

__all__ = ["Dist", "Index", "IndexUnavailable", "Metadata", "NotOnIndex"]

PAGE_TTL = 600.0  # a project's list of releases changes with each release
LINKS_TTL = 86400.0  # jax's find-links pages stopped changing with jaxlib 0.4.29
UNREACHABLE_TTL = 600.0  # a page that did not answer is not waited for again this soon
T = TypeVar("T")


@dataclass(frozen=True)
class Dist:
    """One file of a release as the index lists it (PEP 691 / PEP 503 with PEP 592, 700)."""

    filename: str
    version: Version
    yanked: bool
    requires_python: Optional[str] = None  # PEP 503 data-requires-python / PEP 691 requires-python
    upload_time: Optional[str] = None  # ISO 8601, PEP 700 (JSON pages only)
    url: Optional[str] = None  # where the file is (for a hash lock: `url#sha256=...`)
    sha256: Optional[str] = None  # the file's digest as the index gives it

    def to_json(self) -> list[object]:
        return [self.filename, str(self.version), self.yanked, self.requires_python, self.upload_time,
                self.url, self.sha256]

    @staticmethod
    def from_json(v: list[Any]) -> Dist:
        filename, version, yanked, python, uploaded, url, sha256 = v
        return Dist(str(filename), Version(version), bool(yanked), python, uploaded, url, sha256)


def _failures() -> tuple[type[BaseException], ...]:
    """The network's and the index's failures (evaluated only when something was raised)."""
    return (*network_errors(), said.Unparsable)


@contextlib.contextmanager
def _progress(what: str) -> Iterator[None]:
    """One line on stderr when reading takes more than a moment, for a person at a terminal (as
    pip's and uv's progress): a log or a caller reading stderr gets only the outcome's lines."""
    if not sys.stderr.isatty():
        yield
        return
    timer = threading.Timer(0.7, lambda: print(f"release-hook: reading {what} ...", file=sys.stderr, flush=True))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@contextlib.contextmanager
def _reading(what: str, source: Source, project: Optional[str], timeout: float) -> Iterator[None]:
    """The network's and the index's failures, said in one line; nothing else is caught."""
    try:
        yield
    except _failures() as e:
        raise IndexUnavailable(f"cannot read {what} from {source.where()}: "
                               f"{said.reason(e, project, timeout)}") from None


@dataclass
class _Remembered:
    """Answers already read: this run's, else the shared cache's (of any age when offline)."""

    offline: bool
    answered: dict[str, str]  # the Index's: what -> the source that answered
    memo: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, ttl: Optional[float], what: str, read: Callable[[], T], encode: Callable[[T], Any],
            decode: Callable[[Any], T], source: tuple[str, str] = ("", "")) -> T:
        """This run's answer, else the cache's (any age offline), else `read` and keep it.
        `source`: what `answered` says of an answer from the cache."""
        if key in self.memo:
            return self.memo[key]  # type: ignore[no-any-return]
        found = cache.get(key, None if self.offline else ttl)
        if found is not None:
            try:
                value = decode(found)
                self.memo[key] = value
                if source[0]:
                    self.answered[source[0]] = source[1]
                return value
            except (InvalidVersion, TypeError, ValueError, KeyError):
                pass  # not trusted: read again
        if self.offline:
            raise IndexUnavailable(f"--offline, and no cached {what}")
        value = read()
        cache.put(key, encode(value))
        self.memo[key] = value
        return value


@dataclass
class Index:
    """The index as this tool reads it. `urls`: the indexes; `links`: pip's find-links pages
    (None: from pip's configuration; only http(s) pages are read)."""

    urls: list[str]
    offline: bool = False
    answered: dict[str, str] = field(default_factory=dict)  # what -> the source that answered
    links: Optional[list[str]] = None
    _client: Optional[Client] = None
    _listing: Optional[Listing] = None

    def __post_init__(self) -> None:
        self._cached = _Remembered(self.offline, self.answered).get
        cache.begin_run()

    def _reading(self, what: str, source: Source, project: Optional[str] = None) -> ContextManager[None]:
        return _reading(what, source, project, self.client.timeout)

    @property
    def client(self) -> Client:
        if self._client is None:
            from release_hook.resolve.pipconf import settings

            self._client = Client(settings())
        return self._client

    @property
    def listing(self) -> Listing:
        if self._listing is None:
            if self.links is None:
                from release_hook.resolve.pipconf import settings

                self.links = [u for u in settings().find_links if u.startswith(("http://", "https://"))]
            self._listing = Listing.of(self.client, self.urls, self.links)
        return self._listing

    def _sources(self) -> list[Source]:
        if not self.listing.sources:
            raise IndexUnavailable("no package index to read: pip's configuration says no-index and names "
                                   "no find-links page on http(s)")
        return self.listing.sources

    def _key(self) -> str:
        return " ".join(s.url for s in self.listing.sources)

    def _files(self, project: str, source: Source, version: Optional[Version] = None) -> Optional[list[File]]:
        with _progress(f"{project} from {source.where()}"):
            return self.listing.releases(project, source, version)

    # -- what the index lists ----------------------------------------------------------------------

    def dists(self, project: str) -> list[Dist]:
        """Every file of every release of `project` on the configured indexes and pages."""
        project = canonicalize_name(project)
        found = self._cached(f"dists {project} {self._key()}", PAGE_TTL, f"copy of {project}'s releases",
                             lambda: self._read_dists(project), lambda ds: [d.to_json() for d in ds],
                             lambda v: [Dist.from_json(d) for d in v], source=(project, "cache"))
        self.answered.setdefault(project, "index")
        return found

    def _read_dists(self, project: str) -> list[Dist]:
        found: list[Dist] = []
        missing: list[str] = []  # why each source had nothing
        for source in self._sources():
            with self._reading(f"{project}'s releases", source, project):
                files = self._files(project, source)
            if files is None:
                missing.append(f"{source.where()}: HTTP 404 for {project}")
            elif not files:
                missing.append(f"{source.where()}: lists no release of {project}")
            for pkg in files or ():
                name = os.path.basename(pkg.filename)
                version = version_of(project, name)
                if version is not None:  # always: releases() keeps only these
                    uploaded = pkg.upload_time.isoformat() if pkg.upload_time is not None else None
                    found.append(Dist(name, version, bool(pkg.is_yanked), pkg.requires_python, uploaded, pkg.url,
                                      pkg.digests.get("sha256")))
        if not found:
            raise UserError("; ".join(dict.fromkeys(missing)) or f"{project} is not on the package index")
        return found

    # -- what a release says -----------------------------------------------------------------------

    def metadata(self, project: str, version: Version) -> Metadata:
        """A published release's core metadata (its metadata file, else read from its file)."""
        project = canonicalize_name(project)
        return self._cached(f"metadata {project} {version} {self._key()}", None,
                            f"metadata of {project} {version}",
                            lambda: self._read_release(project, version, "metadata", ""),
                            Metadata.to_json, _metadata_from_json)

    def sdist_member(self, project: str, version: Version, suffix: str) -> Optional[str]:
        """A text file of a release's source archive (old jax sdists carry no Requires-Dist)."""
        project = canonicalize_name(project)
        found = self._cached(f"sdist {project} {version} {suffix} {self._key()}", None,
                             f"copy of {project} {version}'s {suffix}",
                             lambda: self._read_release(project, version, f"source ({suffix})", suffix),
                             lambda text: {"text": text}, lambda v: v["text"])
        return found

    def _read_release(self, project: str, version: Version, what: str, member: str) -> Any:
        for source in self._sources():
            with self._reading(f"{project} {version} {what}", source, project):
                files = [p for p in self._files(project, source, version) or ()
                         if not member or p.filename.endswith(".tar.gz")]
                if files:
                    with _progress(f"{project} {version} {what} from {source.where()}"):
                        if member:
                            return dist_files.sdist_member(self.client, files[0], member)
                        return dist_files.metadata(self.client, files[0])
        if member:
            return None
        raise NotOnIndex(f"{project} {version} is not on the package index "
                         f"({', '.join(said.host(s.url) for s in self.listing.sources)})")

    # -- find-links pages, and whether an address answers ------------------------------------------

    def find_links(self, url: str) -> tuple[str, ...]:
        """The jaxlib wheel file names (without folders) listed on a flat find-links page."""
        return self._cached(f"find-links files {url}", LINKS_TTL, f"copy of {url}", lambda: self._read_links(url),
                            list, _names, source=(url, "find-links cache"))

    def _read_links(self, url: str) -> tuple[str, ...]:
        failed = cache.get(f"unreachable {url}", UNREACHABLE_TTL)
        if isinstance(failed, str):
            raise IndexUnavailable(failed)  # tried a moment ago: do not wait for it again
        try:
            with self._reading("the find-links page", Source(url, True)), _progress(url):
                response = self.client.get(url)
                response.raise_for_status()
                names = pages.links(response.content, response.headers.get("Content-Type", ""), url)
        except IndexUnavailable as e:
            cache.put(f"unreachable {url}", e.message)
            raise
        found = tuple(sorted({n for n in names if version_of("jaxlib", n) is not None}))
        if not found:
            raise UserError(f"find-links page {url} lists no jaxlib wheels")
        self.answered[url] = "find-links page"
        return found

    def reachable(self, url: str, project: Optional[str] = None) -> Optional[str]:
        """None when `url` answers, else why not in a few words (`connection refused`, `HTTP 404`).
        An index is asked for its page of `project`, where any HTTP answer will do (never its
        root page: the public index's is about 40 MB); a find-links page must answer without
        an HTTP error. Only the status line and headers are read."""
        target = url.rstrip("/") + "/" + canonicalize_name(project) + "/" if project else url
        try:
            self.client.answers(target, any_status=project is not None)
        except network_errors() as e:
            return said.reason(e, None, self.client.timeout)
        return None


def _metadata_from_json(value: Any) -> Metadata:
    found = Metadata.from_json(value)
    if found is None:
        raise ValueError("not metadata")
    return found


def _names(value: Any) -> tuple[str, ...]:
    if not (isinstance(value, list) and value and all(isinstance(x, str) for x in value)):
        raise ValueError("not a list of file names")
    return tuple(value)

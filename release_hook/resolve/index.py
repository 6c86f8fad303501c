"""Package index and find-links pages, read with pypi-simple (PEP 503 HTML, PEP 691 JSON,
PEP 592 yanking, PEP 658 metadata), cached in the user's cache folder.

pypi-simple is used rather than hand-written parsing: it follows the simple-API specifications,
and its HTML reader also reads jax's flat find-links pages.
"""
from __future__ import annotations

import io
import os
import sys
import tarfile
import threading
import zipfile
from dataclasses import dataclass, field
from typing import Any, Iterator

from packaging.version import InvalidVersion, Version

from release_hook.errors import UserError
from release_hook.names import normalize as canonicalize_name
from release_hook import cache

PAGE_TTL = 600.0  # a project's list of releases changes with each release
LINKS_TTL = 86400.0  # jax's find-links pages stopped changing with jaxlib 0.4.29
UNREACHABLE_TTL = 600.0  # a page that did not answer is not waited for again this soon


class IndexUnavailable(UserError):
    """The index or page could not be read (down, offline, timed out)."""


class NotOnIndex(UserError):
    """The index answered, and has no such release (not uploaded yet, or a typo)."""


@dataclass(frozen=True)
class Dist:
    """One file of a release as the index lists it (PEP 691 / PEP 503 with PEP 592, 700)."""

    filename: str
    version: Version
    yanked: bool
    requires_python: str | None = None  # PEP 503 data-requires-python / PEP 691 requires-python
    upload_time: str | None = None  # ISO 8601, PEP 700 (JSON pages only)


@dataclass(frozen=True)
class Metadata:
    """What a release's core metadata says about installing it."""

    requires_dist: tuple[str, ...]
    requires_python: str | None
    provides_extra: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"requires_dist": list(self.requires_dist), "requires_python": self.requires_python,
                "provides_extra": list(self.provides_extra)}

    @staticmethod
    def from_json(value: object) -> Metadata | None:
        if not isinstance(value, dict):
            return None
        rd, rp, pe = value.get("requires_dist"), value.get("requires_python"), value.get("provides_extra")
        if not (isinstance(rd, list) and isinstance(pe, list) and (rp is None or isinstance(rp, str))):
            return None
        return Metadata(tuple(map(str, rd)), rp, tuple(map(str, pe)))


def timeout() -> float:
    try:
        return float(os.environ.get("RELEASE_HOOK_TIMEOUT", "20"))
    except ValueError:
        return 20.0


def _version_of(project: str, filename: str) -> Version | None:
    from packaging.utils import (InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename,
                                 parse_wheel_filename)

    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return version if name == canonicalize_name(project) else None


class _Progress:
    """One line on stderr when reading takes more than a moment."""

    def __init__(self, what: str) -> None:
        self.timer = threading.Timer(0.7, lambda: print(f"release-hook: reading {what} ...",
                                                         file=sys.stderr, flush=True))
        self.timer.daemon = True

    def __enter__(self) -> None:
        self.timer.start()

    def __exit__(self, *exc: object) -> None:
        self.timer.cancel()


@dataclass
class Index:
    urls: list[str]
    offline: bool = False
    answered: dict[str, str] = field(default_factory=dict)  # what -> the source that answered
    _session: Any = None
    _memo: dict[str, object] = field(default_factory=dict)  # what this run already read

    def session(self) -> Any:
        if self._session is None:
            import requests

            from release_hook.resolve.index_errors import quiet_parsers

            quiet_parsers()
            self._session = requests.Session()
            self._session.headers["User-Agent"] = "release-hook"
        return self._session

    def _unavailable(self, what: str, url: str, error: BaseException, project: str | None = None,
                     page: bool = False) -> IndexUnavailable:
        from release_hook.resolve import index_errors as said

        source = f"{said.host(url)} ({os.path.basename(url)})" if page else said.where(url)
        return IndexUnavailable(f"cannot read {what} from {source}: "
                                f"{said.reason(error, project, timeout())}")

    def _project_page(self, project: str, url: str) -> Any:
        """A project's page, read once per run: every metadata file of a search is listed there."""
        key = f"page {project} {url}"
        if key not in self._memo:
            from pypi_simple import PyPISimple

            # JSON (PEP 691) is asked for first: only it carries upload times (PEP 700).
            client = PyPISimple(endpoint=url, session=self.session())
            self._memo[key] = client.get_project_page(project, timeout=timeout())
        return self._memo[key]

    # -- releases ---------------------------------------------------------------------------------

    def dists(self, project: str) -> list[Dist]:
        """Every file of every release of `project` on the configured indexes."""
        project = canonicalize_name(project)
        key = f"dists {project} {' '.join(self.urls)}"
        if key in self._memo:
            return self._memo[key]  # type: ignore[return-value]
        cached = cache.get(key, None if self.offline else PAGE_TTL)
        if isinstance(cached, list):
            try:
                found = [Dist(str(f), Version(v), bool(y), rp, ut) for f, v, y, rp, ut in cached]
                self.answered[project] = "cache"
                self._memo[key] = found
                return found
            except (InvalidVersion, TypeError, ValueError):
                pass
        if self.offline:
            raise IndexUnavailable(f"--offline, and no cached copy of {project}'s releases")
        found = []
        any_page = False
        missing: list[str] = []  # why each index had nothing
        for url in self.urls:
            for dist in self._read_page(project, url, missing):
                any_page = True
                found.append(dist)
        if not any_page:
            raise UserError("; ".join(dict.fromkeys(missing)) or f"{project} is not on the package index")
        cache.put(key, [[d.filename, str(d.version), d.yanked, d.requires_python, d.upload_time]
                        for d in found])
        self.answered[project] = "index"
        self._memo[key] = found
        return found

    def _read_page(self, project: str, url: str, missing: list[str]) -> Iterator[Dist]:
        from pypi_simple import NoSuchProjectError

        from release_hook.resolve import index_errors as said

        try:
            with _Progress(f"{project} from the package index"):
                page = self._project_page(project, url)
        except NoSuchProjectError:
            missing.append(f"{said.where(url)}: HTTP 404 for {project}")
            return
        except Exception as e:  # requests' and pypi-simple's errors, and garbage answers
            raise self._unavailable(f"{project}'s releases", url, e, project) from None
        if not page.packages:
            missing.append(f"{said.where(url)}: {said.NOT_A_PAGE} (for {project})")
        else:
            missing.append(f"{said.where(url)}: lists no release of {project}")
        for pkg in page.packages:
            version = _version_of(project, pkg.filename)
            if version is not None:
                uploaded = pkg.upload_time.isoformat() if pkg.upload_time is not None else None
                yield Dist(pkg.filename, version, bool(pkg.is_yanked), pkg.requires_python, uploaded)

    # -- metadata ---------------------------------------------------------------------------------

    def requires_dist(self, project: str, version: Version) -> list[str]:
        """The Requires-Dist lines of a published release (PEP 658 metadata, else the wheel)."""
        return list(self.metadata(project, version).requires_dist)

    def metadata(self, project: str, version: Version) -> Metadata:
        """A published release's core metadata (PEP 658 metadata file, else the wheel's)."""
        project = canonicalize_name(project)
        key = f"metadata {project} {version} {' '.join(self.urls)}"
        known = Metadata.from_json(cache.get(key, None))
        if known is not None:
            return known
        if self.offline:
            raise IndexUnavailable(f"--offline, and no cached metadata of {project} {version}")
        for url in self.urls:
            found = self._metadata(project, version, url)
            if found is not None:
                cache.put(key, found.to_json())
                return found
        from release_hook.resolve.index_errors import host

        raise NotOnIndex(f"{project} {version} is not on the package index "
                        f"({', '.join(host(u) for u in self.urls)})")

    def _metadata(self, project: str, version: Version, url: str) -> Metadata | None:
        from pypi_simple import NoSuchProjectError, PyPISimple

        try:
            with _Progress(f"{project} {version} metadata from the package index"):
                client = PyPISimple(endpoint=url, session=self.session())
                page = self._project_page(project, url)
                files = [p for p in page.packages if _version_of(project, p.filename) == version]
                if not page.packages:
                    from release_hook.resolve import index_errors as said

                    raise UserError(f"{said.where(url)}: {said.NOT_A_PAGE} (for {project})")
                if not files:
                    return None
                files.sort(key=lambda p: not p.filename.endswith(".whl"))
                chosen = files[0]
                if chosen.has_metadata:
                    try:
                        return _parse_metadata(client.get_package_metadata(chosen, verify=False,
                                                                           timeout=timeout()))
                    except Exception:
                        pass  # advertised but not served: read the file itself
                response = self.session().get(chosen.url, timeout=timeout())
                response.raise_for_status()
                return _parse_metadata(_metadata_in(chosen.filename, response.content))
        except NoSuchProjectError:
            return None
        except UserError:
            raise
        except Exception as e:
            raise self._unavailable(f"{project} {version} metadata", url, e, project) from None

    def sdist_member(self, project: str, version: Version, suffix: str) -> str | None:
        """A text file of a release's sdist (old jax sdists carry no Requires-Dist)."""
        project = canonicalize_name(project)
        key = f"sdist {project} {version} {suffix} {' '.join(self.urls)}"
        cached = cache.get(key, None)
        if isinstance(cached, dict) and "text" in cached:
            return cached["text"]  # type: ignore[no-any-return]
        if self.offline:
            raise IndexUnavailable(f"--offline, and no cached copy of {project} {version}'s {suffix}")
        from pypi_simple import NoSuchProjectError

        for url in self.urls:
            try:
                with _Progress(f"{project} {version} source from the package index"):
                    page = self._project_page(project, url)
                    files = [p for p in page.packages if p.filename.endswith(".tar.gz")
                             and _version_of(project, p.filename) == version]
                    if not files:
                        continue
                    response = self.session().get(files[0].url, timeout=timeout())
                    response.raise_for_status()
            except NoSuchProjectError:
                continue
            except Exception as e:
                raise self._unavailable(f"{project} {version} source", url, e, project) from None
            text = _tar_member(response.content, suffix)
            cache.put(key, {"text": text})
            return text
        return None

    # -- find-links pages ------------------------------------------------------------------------

    def find_links(self, url: str) -> tuple[str, ...]:
        """The jaxlib wheel file names (without folders) listed on a flat find-links page."""
        key = f"find-links files {url}"
        if key in self._memo:
            return self._memo[key]  # type: ignore[return-value]
        self._memo[key] = found = self._find_links(url, key)
        return found

    def _find_links(self, url: str, key: str) -> tuple[str, ...]:
        cached = cache.get(key, None if self.offline else LINKS_TTL)
        if isinstance(cached, list) and cached and all(isinstance(x, str) for x in cached):
            self.answered[url] = "find-links cache"
            return tuple(cached)
        if self.offline:
            raise IndexUnavailable(f"--offline, and no cached copy of {url}")
        failed = cache.get(f"unreachable {url}", UNREACHABLE_TTL)
        if isinstance(failed, str):
            raise IndexUnavailable(failed)  # tried a moment ago: do not wait for it again
        from pypi_simple import ProjectPage

        try:
            with _Progress(url):
                response = self.session().get(url, timeout=timeout())
                response.raise_for_status()
                page = ProjectPage.from_html("jaxlib", response.content, base_url=url)
        except Exception as e:
            error = self._unavailable("the find-links page", url, e, page=True)
            cache.put(f"unreachable {url}", error.message)
            raise error from None
        found = tuple(sorted({os.path.basename(pkg.filename) for pkg in page.packages
                              if _version_of("jaxlib", os.path.basename(pkg.filename)) is not None}))
        if not found:
            raise UserError(f"find-links page {url} lists no jaxlib wheels")
        cache.put(key, list(found))
        self.answered[url] = "find-links page"
        return found


def _metadata_in(filename: str, data: bytes) -> str:
    try:
        if filename.endswith(".whl"):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = [n for n in z.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
                if not names:
                    raise UserError(f"{filename} has no METADATA")
                return z.read(names[0]).decode("utf-8")
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            for member in t.getmembers():
                if member.name.count("/") == 1 and member.name.endswith("/PKG-INFO"):
                    f = t.extractfile(member)
                    if f is not None:
                        return f.read().decode("utf-8")
    except (zipfile.BadZipFile, tarfile.TarError, UnicodeDecodeError, OSError):
        raise UserError(f"the index answered garbage for {filename} (not a readable archive)") from None
    raise UserError(f"{filename} has no PKG-INFO")


def _tar_member(data: bytes, suffix: str) -> str | None:
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            for member in t.getmembers():
                if member.name.endswith("/" + suffix) and member.name.count("/") == suffix.count("/") + 1:
                    f = t.extractfile(member)
                    return f.read().decode("utf-8") if f is not None else None
    except (tarfile.TarError, UnicodeDecodeError, OSError):
        raise UserError("the index answered garbage where a source archive was expected") from None
    return None


def _parse_metadata(metadata: str) -> Metadata:
    import email.parser

    message = email.parser.HeaderParser().parsestr(metadata)
    if message.get("Name") is None and message.get("Metadata-Version") is None:
        raise UserError("the index answered garbage where package metadata was expected")
    python = message.get("Requires-Python")
    return Metadata(tuple(str(r) for r in message.get_all("Requires-Dist") or []),
                    str(python).strip() if python else None,
                    tuple(str(e).strip() for e in message.get_all("Provides-Extra") or []))

"""What every group of images reads once: the index, the release's requirements and Requires-Python,
each jax release's metadata, and each project's releases as an image sees them."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Callable, Optional

from packaging.version import InvalidVersion, Version

if TYPE_CHECKING:
    import datetime
    from release_hook.resolve import pairing, smoke
    from release_hook.resolve.view import Offer
    from release_hook.config import Config
    from release_hook.resolve.image import Image
    from release_hook.resolve.index import Index
    from release_hook.resolve.requirements import RawRequirements, ReleaseRequirements
    from release_hook.request import Request
    from release_hook.resolve.pipconf import PipSettings

ReadFile = Callable[[str], Optional[bytes]]


def disk_reader(root: str) -> ReadFile:
    def read(path: str) -> bytes | None:
        try:
            with open(os.path.join(root, path), "rb") as f:
                return f.read()
        except OSError:
            return None

    return read


class Sources:
    """What every group reads once: the index, the release's requirements, jax's metadata.
    A plain class, read and filled as the run goes (see found.Chars on dataclasses)."""

    def __init__(self, config: Config, request: Request, read: ReadFile) -> None:
        self.config = config
        self.request = request
        self.read = read
        self._index: Index | None = None
        self._raw: RawRequirements | None = None
        self._requirements: ReleaseRequirements | None = None
        self._jax: dict[Version, pairing.JaxRelease] = {}
        self._offers: dict[tuple[str, object, object, object], list[Offer]] = {}
        self.not_asked: str | None = None  # why the resolver is not asked in this run (decide.verifying)
        self._smoke: object = None
        self._pip_settings: PipSettings | None = None

    def smoke_settings(self) -> smoke.Settings:
        """How this run proves an import (smoke.py), read once."""
        from release_hook.resolve import smoke

        if self._smoke is None:
            self._smoke = smoke.settings(self.config.smoke_python_downloads, self.request.offline)
        return self._smoke  # type: ignore[return-value]

    @property
    def package(self) -> str:
        from release_hook.names import normalize  # not packaging.utils: it imports packaging.tags

        return normalize(self.config.package)

    def published(self, project: str, version: str) -> bool | None:
        """Whether a release is on the index (None: cannot tell, or not asked offline)."""
        from release_hook.errors import UserError
        from release_hook.resolve.index import IndexUnavailable

        try:
            wanted = Version(version)
            return any(d.version == wanted for d in self.index.dists(project))
        except IndexUnavailable:
            return None
        except UserError:
            return False  # not on the index at all
        except InvalidVersion:
            return None

    def unreachable(self, url: str) -> str:
        """Why a find-links page cannot be read ("" when it can)."""
        from release_hook.errors import UserError
        from release_hook.resolve.index import IndexUnavailable

        if not url.startswith(("http://", "https://")):
            return ""
        try:
            self.index.find_links(url)
        except IndexUnavailable as e:
            return e.message
        except UserError:
            return ""  # it answered (with no jaxlib wheels): the resolver's answer stands
        return ""

    def exclude_newer(self) -> datetime.datetime | None:
        """The moment the resolver judges as of (a commit's date), when the index dates its
        files (PEP 700): asked without dates, a resolver would see nothing at all."""
        from release_hook.errors import UserError

        as_of = self.request.as_of
        if as_of is None:
            return None
        try:
            dated = any(d.upload_time for d in self.index.dists("jax"))
        except UserError:
            return None
        return as_of if dated else None

    def pip_settings(self) -> PipSettings:
        """pip's settings, read once per run: each read parses pip's configuration files, and a
        run asks them of each decision (1.7 ms apiece)."""
        if self._pip_settings is None:
            from release_hook.resolve.pipconf import settings

            self._pip_settings = settings()
        return self._pip_settings

    def index_urls(self) -> list[str]:
        return self.pip_settings().index_urls()

    def index_key(self) -> list[object]:
        """Where pip reads packages from, as a memo key: the settings as given, pip's own default
        unnamed (naming it imports pip: 6 ms of every hook run)."""
        conf = self.pip_settings()
        return [conf.index_url, conf.extra_index_urls, conf.find_links, conf.no_index]

    @property
    def index(self) -> Index:
        if self._index is None:
            from release_hook.resolve.index import Index

            self._index = Index(self.index_urls(), offline=self.request.offline)
        return self._index

    def raw_requirements(self) -> RawRequirements:
        if self._raw is None:
            from release_hook.resolve import requirements as reqs

            self._raw = reqs.for_release(self.read, lambda: self.index,
                                         self.request.requirements or self.config.requirements,
                                         self.config.package, self.request.version)
        return self._raw

    def requirements(self) -> ReleaseRequirements:
        if self._requirements is None:
            self._requirements = self.raw_requirements().parse()
        return self._requirements

    def offers(self, image: Image) -> Callable[[str], list[Offer]]:
        from release_hook.resolve import builds as jaxlib_builds
        from release_hook.resolve.view import offers

        dates = jaxlib_builds.release_dates()

        def of(project: str) -> list[Offer]:
            # what the fit is judged on: the target carries the C library (musl, glibc 2.N)
            key = (project, image.python, image.platform, image.target())
            if key not in self._offers:
                self._offers[key] = offers(self.index.dists(project), image,
                                           dates if project == "jaxlib" else None)
            return self._offers[key]

        return of

    def jax(self, version: Version) -> pairing.JaxRelease:
        from release_hook.resolve import pairing

        if version not in self._jax:
            meta = self.index.metadata("jax", version)
            version_py = None
            requires, extras = tuple(meta.requires_dist), tuple(meta.provides_extra)
            if not requires:  # old sdists: the minimum jaxlib is in jax/version.py, the extras
                version_py = self.index.sdist_member("jax", version, "jax/version.py")  # in egg-info
                listed = self.index.sdist_member("jax", version, "jax.egg-info/requires.txt")
                if listed:
                    lines, named = pairing.requires_txt(listed)
                    requires, extras = tuple(lines), tuple(named)
            self._jax[version] = pairing.read_jax(version, requires, extras, version_py)
        return self._jax[version]

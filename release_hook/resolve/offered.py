"""What the index and jax's find-links pages offer the images of one decision: the releases
that install in every image (view.py), and the tagged jaxlib builds the pages list (builds.py).
Only reads; which of them a pair may take is candidates.py's.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from release_hook.errors import UserError
from release_hook.found import Pin
from release_hook.resolve import builds as jaxlib_builds
from release_hook.resolve import cuda
from release_hook.resolve.image import Image
from release_hook.resolve.view import View

if TYPE_CHECKING:
    import datetime

    from release_hook.resolve.sources import Sources


class Offered:
    def __init__(self, shared: Sources, pins: Sequence[Pin], images: dict[str, Image], fetch: bool,
                 as_of: datetime.datetime | None) -> None:
        self.shared, self.pins, self.fetch, self.as_of = shared, pins, fetch, as_of
        distinct = {(i.python, i.platform): i for i in images.values()}
        self.images = [distinct[k] for k in sorted(distinct, key=str)]  # one per Python and platform
        self.unreachable: dict[str, str] = {}  # find-links pages that did not answer
        self._views: list[View] | None = None
        self._builds: jaxlib_builds.Builds | None = None

    @property
    def views(self) -> list[View]:
        if self._views is None:
            self._views = [View(i, self.shared.offers(i), self.as_of) for i in self.images]
        return self._views

    def versions(self, project: str, spec: SpecifierSet | None = None) -> list[Version]:
        """Releases in spec that install in every image, ascending."""
        found: set[Version] | None = None
        for view in self.views:
            mine = set(view.versions(project, spec))
            found = mine if found is None else found & mine
        return sorted(found or ())

    def has(self, project: str, version: Version) -> bool:
        return not self.fetch or all(v.has(project, version) for v in self.views)

    def refusal(self, project: str, spec: SpecifierSet | None) -> str | None:
        return next((r for v in self.views if (r := v.refusal(project, spec))), None)

    @property
    def builds(self) -> jaxlib_builds.Builds:
        if self._builds is None:
            self._builds = jaxlib_builds.Builds(self.page_urls() if self.fetch else [], self.read_page,
                                                self.unreachable)
        return self._builds

    def page_urls(self) -> list[str]:
        urls: list[str] = []
        for pin in self.pins:
            texts = [c.text for _, c in pin.addresses if not c.computed and not c.undefined]
            if pin.read_by is not None:  # a requirements file's pin: the pages its reader reads
                texts += [t for _, t in pin.read_by.options]
            for text in texts:
                base = text.rsplit("/", 1)[-1]
                if base in cuda.PAGES:
                    urls.extend(text[: -len(base)] + page for page in cuda.PAGES)
        return sorted(set(urls))

    def read_page(self, url: str) -> tuple[str, ...] | None:
        """A find-links page's wheels; None when it cannot be reached (the snapshot answers)."""
        from release_hook.resolve.index import IndexUnavailable

        try:
            return self.shared.index.find_links(url)
        except IndexUnavailable as e:
            self.unreachable[url] = e.message
            return None

    def jaxlib_versions(self, spec: SpecifierSet) -> list[Version]:
        """jaxlib versions in spec known anywhere: the index (not yanked), the find-links pages
        and the snapshot; whether each has a build for the images is asked per pair."""
        found: set[Version] = set()
        offered: set[Version] | None = None
        try:
            for view in self.views:
                mine = {o.version for o in view.offers_of("jaxlib") if view.allowed(o, spec)}
                offered = mine if offered is None else offered & mine
        except UserError:
            if not self.builds.versions():
                raise
        found.update(offered or ())
        on_index = {o.version for view in self.views for o in view.offers_of("jaxlib")} if offered else set()
        dates = jaxlib_builds.release_dates()
        for v in self.builds.versions() - on_index:
            if not spec.contains(v, prereleases=bool(spec.prereleases)):
                continue
            day = dates.get(str(v))
            if self.as_of is not None and day is not None and day > self.as_of:
                continue
            found.add(v)
        return sorted(found)

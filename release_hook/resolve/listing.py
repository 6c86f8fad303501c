"""Where a project's files are listed, as pip looks for them: each index's page of the project,
then each find-links page of pip's configuration (a flat page listing files of any project).
Each page is read once per run. Local find-links folders are pip's business, not read here.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from release_hook.resolve import pages
from release_hook.resolve.pages import File

if TYPE_CHECKING:
    from release_hook.resolve.client import Client


def version_of(project: str, filename: str) -> Optional[Version]:
    """The version of a file of `project` (None: not a file of it, or not a release's name)."""
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


@dataclass(frozen=True)
class Source:
    url: str
    links: bool  # a flat find-links page, not an index

    def where(self) -> str:
        from release_hook.resolve import index_errors as said

        return f"{said.host(self.url)} ({self.url.rstrip('/').rsplit('/', 1)[-1]})" if self.links \
            else said.where(self.url)


@dataclass
class Listing:
    client: Client
    sources: list[Source]
    _read: dict[tuple[str, str], Optional[list[File]]] = field(default_factory=dict)

    @staticmethod
    def of(client: Client, index_urls: list[str], link_urls: list[str]) -> Listing:
        return Listing(client, [Source(u, False) for u in index_urls] + [Source(u, True) for u in link_urls])

    def releases(self, project: str, source: Source,
                 version: Optional[Version] = None) -> Optional[list[File]]:
        """`project`'s release files on `source` (only `version`'s, if given), wheels first;
        None when an index has no page for it."""
        listed = self.files(project, source)
        if listed is None:
            return None
        if not listed and not source.links:
            from release_hook.errors import UserError
            from release_hook.resolve import index_errors as said

            raise UserError(f"{source.where()}: {said.NOT_A_PAGE} (for {project})")
        files = [(p, version_of(project, os.path.basename(p.filename))) for p in listed]
        return sorted((p for p, v in files if v is not None and (version is None or v == version)),
                      key=lambda p: not p.filename.endswith(".whl"))

    def files(self, project: str, source: Source) -> Optional[list[File]]:
        """The files `source` lists for `project` (a find-links page: all its files); None when an
        index has no page for it (404). Raises the client's errors and pages.Unparsable."""
        if source.links:
            return self._links_page(source.url)
        return self._project_page(project, source.url)

    def _project_page(self, project: str, url: str) -> Optional[list[File]]:
        key = (project, url)
        if key not in self._read:
            response = self.client.get(url + canonicalize_name(project) + "/", {"Accept": pages.ACCEPT})
            if response.status_code == 404:
                self._read[key] = None
            else:
                response.raise_for_status()
                self._read[key] = pages.project_page(
                    response.content, response.headers.get("Content-Type", "text/html"), response.url)
        return self._read[key]

    def _links_page(self, url: str) -> list[File]:
        key = ("", url)
        if key not in self._read:
            response = self.client.get(url)
            response.raise_for_status()
            self._read[key] = pages.packages_on(response.content, response.headers.get("Content-Type", ""), url)
        found = self._read[key]
        assert found is not None  # a find-links page is read whole or raises
        return found

"""An index's project page and a flat find-links page, parsed by pypi-simple. What does not
parse (garbage, a page of another kind, a repository version it does not know) raises
Unparsable: the index's doing, said as such; nothing else is caught here."""
from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from release_hook.resolve.index_errors import Unparsable

if TYPE_CHECKING:
    import requests
    from pypi_simple import DistributionPackage, ProjectPage


def _parse_errors() -> tuple[type[BaseException], ...]:
    from pypi_simple import UnsupportedContentTypeError, UnsupportedRepoVersionError

    # the parser's own failures on input it cannot read: JSON and model validation errors are
    # ValueErrors; a JSON document of the wrong shape can raise KeyError or TypeError inside it
    return (UnsupportedContentTypeError, UnsupportedRepoVersionError, ValueError, KeyError, TypeError)


_HTML_TYPES = ("text/html", "application/vnd.pypi.simple.v1+html")


def project_page(response: requests.Response, project: str) -> ProjectPage:
    from pypi_simple import ProjectPage

    kind, _, params = response.headers.get("Content-Type", "text/html").partition(";")
    try:
        if kind.strip().lower() not in _HTML_TYPES:
            return ProjectPage.from_response(response, project)  # JSON (PEP 691), or refused
        charset = next((p.split("=", 1)[1].strip().strip('"') for p in params.split(";")
                        if p.strip().lower().startswith("charset=")), None)
        return ProjectPage.from_html(project, _core_metadata(response.content), base_url=response.url,
                                     from_encoding=charset)
    except _parse_errors() as e:
        raise Unparsable(type(e).__name__) from None


def _core_metadata(html: bytes) -> bytes:
    """PEP 714 renamed PEP 658's `data-dist-info-metadata` to `data-core-metadata`; pip reads
    either, pypi-simple only the new name: a page that has only the old one is read as new."""
    if b"data-core-metadata" in html:
        return html
    return re.sub(rb"\bdata-dist-info-metadata(?==)", b"data-core-metadata", html)


def packages_on(html: bytes, url: str) -> list[DistributionPackage]:
    """The files a flat find-links page links to, of any project."""
    from pypi_simple import ProjectPage

    try:
        return list(ProjectPage.from_html("find-links", html, base_url=url).packages)
    except _parse_errors() as e:
        raise Unparsable(type(e).__name__) from None


def links(html: bytes, url: str) -> list[str]:
    """The file names (without folders) a flat find-links page links to."""
    return [os.path.basename(pkg.filename) for pkg in packages_on(html, url)]

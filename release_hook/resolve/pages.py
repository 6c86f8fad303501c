"""An index's project page and a flat find-links page, parsed by pypi-simple. What does not
parse (garbage, a page of another kind, a repository version it does not know) raises
Unparsable: the index's doing, said as such; nothing else is caught here."""
from __future__ import annotations

import os
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


def project_page(response: requests.Response, project: str) -> ProjectPage:
    from pypi_simple import ProjectPage

    try:
        return ProjectPage.from_response(response, project)
    except _parse_errors() as e:
        raise Unparsable(type(e).__name__) from None


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

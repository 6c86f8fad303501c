"""The released package built from its source at a tag: `pkg @ git+https://...@0.7.0`, a
`git+...@v0.7.0#egg=pkg` URL, or `git clone --branch 0.7.0 .../pkg.git`."""
from __future__ import annotations

import re

from release_hook.find.found import Chars, Found, Pin
from release_hook.find.scopes import Scope, expand
from release_hook.names import normalize as canonicalize_name
from release_hook.spans import Word

_GIT_REF = re.compile(r"@(v?)([0-9][^@/#?\s]*)(?=[#?]|$)")


def is_package_repo(found: Found, url: str) -> bool:
    egg = re.search(r"[#&]egg=([A-Za-z0-9._-]+)", url)
    if egg:
        return canonicalize_name(egg.group(1)) == found.package
    path = re.split(r"[#?]", url)[0].rstrip("/")
    path = re.sub(r"@[^/@]*$", "", path)
    repo = path.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    repo = repo[:-4] if repo.endswith(".git") else repo
    return canonicalize_name(repo) == found.package


def source_url(found: Found, chars: Chars, line: int, stage: int, image: str) -> None:
    """A VCS URL of the released package whose reference is a version tag."""
    text = chars.text
    url = text.split("@", 1)[1].strip() if " @ " in text or re.match(r"[\w.-]+\s*@\s", text) else text
    base = len(text) - len(url)
    m = _GIT_REF.search(url)
    if m is None or not is_package_repo(found, url):
        return
    if chars.computed or chars.undefined:
        found.warn(line, f"{found.package} source reference is computed at build time, left alone")
        return
    a, b = base + m.start(2), base + m.end(2)
    found.add(Pin(found.path, line, found.package, "source", "@" + m.group(1), m.group(2),
                  chars[a:b], text, frozenset(), stage, image))


def clone(found: Found, branch: Word | None, url: str, line: int, scope: Scope,
          local: dict[str, Chars], stage: int, image: str) -> None:
    """`git clone --branch TAG` of the released package's repository."""
    if branch is None or not is_package_repo(found, url):
        return
    chars = expand(branch, scope, local)
    m = re.fullmatch(r"(v?)([0-9].*)", chars.text)
    if m is None:
        return
    if chars.computed or chars.undefined:
        found.warn(line, f"{found.package} clone branch is computed at build time, left alone")
        return
    found.add(Pin(found.path, line, found.package, "source", "@" + m.group(1), m.group(2),
                  chars[m.start(2):], chars.text, frozenset(), stage, image))

"""The released package built from its source at a tag (`pkg @ git+https://...@0.7.0`, a
`git+...@v0.7.0#egg=pkg` URL, `git clone --branch 0.7.0 .../pkg.git`), and jaxlib wheels
installed by their URL (the way before jaxlib 0.1.52): listed, never rewritten."""
from __future__ import annotations

import re

from release_hook.names import normalize as canonicalize_name

from release_hook.found import Chars, Pin
from release_hook.walk.findings import Findings

_GIT_REF = re.compile(r"@(v?)([0-9][^@/#?\s]*)(?=[#?]|$)")
# .../cuda101/jaxlib-0.1.50-cp37-none-manylinux2010_x86_64.whl
_JAXLIB_WHEEL_URL = re.compile(r"(?:/(cuda\d+))?/jaxlib-([0-9][^-/]*)-[^/]*\.whl$")


def is_package_repo(found: Findings, url: str) -> bool:
    egg = re.search(r"[#&]egg=([A-Za-z0-9._-]+)", url)
    if egg:
        return canonicalize_name(egg.group(1)) == found.package
    path = re.split(r"[#?]", url)[0].rstrip("/")
    path = re.sub(r"@[^/@]*$", "", path)
    repo = path.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    repo = repo[:-4] if repo.endswith(".git") else repo
    return canonicalize_name(repo) == found.package


def source_url(found: Findings, chars: Chars, line: int, stage: int, image: str) -> Pin | None:
    """A VCS URL of the released package whose reference is a version tag."""
    text = chars.text
    url = text.split("@", 1)[1].strip() if " @ " in text or re.match(r"[\w.-]+\s*@\s", text) else text
    base = len(text) - len(url)
    m = _GIT_REF.search(url)
    if m is None or not is_package_repo(found, url):
        return None
    if chars.computed or chars.undefined:
        found.warn(line, f"{found.package} source reference is computed at build time, left alone")
        return None
    a, b = base + m.start(2), base + m.end(2)
    return found.add(Pin(found.path, line, found.package, "source", "@" + m.group(1), m.group(2),
                         chars[a:b], text, frozenset(), stage, image))


def clone(found: Findings, branch: Chars, url: str, line: int, stage: int, image: str) -> None:
    """`git clone --branch TAG` of the released package's repository."""
    if not is_package_repo(found, url):
        return
    m = re.fullmatch(r"(v?)([0-9].*)", branch.text)
    if m is None:
        return
    if branch.computed or branch.undefined:
        found.warn(line, f"{found.package} clone branch is computed at build time, left alone")
        return
    found.add(Pin(found.path, line, found.package, "source", "@" + m.group(1), m.group(2),
                  branch[m.start(2):], branch.text, frozenset(), stage, image))


def jaxlib_wheel_url(found: Findings, text: str, line: int) -> bool:
    """Note a jaxlib wheel URL in the plan; True when `text` is one."""
    wheel = _JAXLIB_WHEEL_URL.search(text)
    if wheel is None or "jaxlib" not in found.kept:
        return False
    where = f" ({wheel.group(1)})" if wheel.group(1) else ""
    found.mention(line, f"jaxlib {wheel.group(2)} as a direct wheel URL{where}: listed, not changed "
                  "(choose a tagged pin, jaxlib==X+cudaNNN -f <jax_releases.html>, to have it kept)")
    return True

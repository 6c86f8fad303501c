"""The index as one image can use it: which releases it can install, as of a date.

A release fits an image when one of its files accepts the image's Python (Requires-Python) and
is a wheel for the image's Python and platform (or an sdist, which pip builds: old jax releases
were published only so). Yanked releases and pre-releases are left out unless a requirement asks
for them; with `as_of`, so is every release published after that moment (PEP 700 upload times,
a release counting from its earliest file).
"""
from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from release_hook.records import NamedTuple
from release_hook.resolve.image import Target, arch_of, supported_tags

if TYPE_CHECKING:
    from release_hook.resolve.image import Image
    from release_hook.resolve.index import Dist

def wheel_fits(filename: str, image: Image) -> bool:
    """Whether a wheel (by its file name) installs in the image; with the image's Python unknown,
    only its platform and C library are asked."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        _, _, _, file_tags = parse_wheel_filename(filename)
    except (InvalidWheelFilename, ValueError):
        return False
    target = image.target()
    if not isinstance(target, Target):
        if image.platform is None:
            return False
        arch = arch_of(image.platform)
        return any(t.platform == "any" or (t.platform.endswith("_" + arch) and "musllinux" not in t.platform)
                   for t in file_tags)
    return not file_tags.isdisjoint(supported_tags(target))


def python_accepts(requires_python: str | None, python: tuple[int, int] | None) -> bool:
    if requires_python is None or python is None:
        return True
    try:
        spec = SpecifierSet(requires_python)
    except InvalidSpecifier:
        return True  # pip ignores a Requires-Python it cannot parse
    return spec.contains(Version(f"{python[0]}.{python[1]}"), prereleases=True)


def parse_time(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    try:
        found = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=datetime.timezone.utc)


class Offer(NamedTuple):
    """One release of a project as this image sees it."""

    version: Version
    yanked: bool
    fits: bool  # a file of it installs in the image
    why_not: str  # "" when it fits: what the image lacks
    published: datetime.datetime | None  # earliest upload of any file; None when not known


def offers(dists: Sequence[Dist], image: Image, dates: Mapping[str, datetime.datetime] | None = None) -> list[Offer]:
    """Every release in `dists` (ascending), with whether it fits `image`."""
    image.needs_platform("choosing a version")
    by_version: dict[Version, list[Dist]] = {}
    for d in dists:
        by_version.setdefault(d.version, []).append(d)
    out = []
    for version in sorted(by_version):
        files = by_version[version]
        ok = [f for f in files if python_accepts(f.requires_python, image.python)
              and (not f.filename.endswith(".whl") or wheel_fits(f.filename, image))]
        why = "" if ok else _why_not(files, image)
        times = [t for t in (parse_time(f.upload_time) for f in files) if t is not None]
        published = min(times) if times else (dates or {}).get(str(version))
        out.append(Offer(version, all(f.yanked for f in files), bool(ok), why, published))
    return out


def _why_not(files: Sequence[Dist], image: Image) -> str:
    needs = sorted({f.requires_python for f in files if f.requires_python
                    and not python_accepts(f.requires_python, image.python)})
    if needs and len(needs) == len({f.requires_python for f in files}):
        return f"needs Python {needs[0]}"
    return f"has no wheel for {image.runs_on}"


class View(NamedTuple):
    """The releases of each project that one image can install, as of a moment."""

    image: Image
    offers_of: Callable[[str], list[Offer]]
    as_of: datetime.datetime | None = None

    def allowed(self, offer: Offer, spec: SpecifierSet | None) -> bool:
        """The requirement side: pre-releases only when asked; a yanked release only when
        pinned exactly (PEP 592); nothing published after `as_of`."""
        if offer.yanked and not _exact(spec, offer.version):
            return False
        if spec is None:
            if offer.version.is_prerelease:
                return False
        elif not spec.contains(offer.version, prereleases=bool(spec.prereleases)):
            return False
        if self.as_of is not None and offer.published is not None and offer.published > self.as_of:
            return False
        return True

    def versions(self, project: str, spec: SpecifierSet | None = None) -> list[Version]:
        """Releases that satisfy spec and install in the image, ascending."""
        return [o.version for o in self.offers_of(project) if o.fits and self.allowed(o, spec)]

    def has(self, project: str, version: Version) -> bool:
        return any(o.version == version and o.fits and (self.as_of is None or o.published is None
                                                         or o.published <= self.as_of)
                   for o in self.offers_of(project))

    def refusal(self, project: str, spec: SpecifierSet | None) -> str | None:
        """Why nothing in spec fits, naming the lowest release in spec (the nearest to fitting):
        `jax 0.11.0 needs Python >=3.12; the image has 3.11 (python:3.11-bookworm); newest that
        fits: 0.10.2`; None when the image excludes nothing."""
        blocked = [o for o in self.offers_of(project) if self.allowed(o, spec) and not o.fits]
        if not blocked:
            return None
        first = blocked[0]
        fitting = [o.version for o in self.offers_of(project) if o.fits and self.allowed(o, None)]
        newest = f"newest that fits: {fitting[-1]}" if fitting else "no release of it fits"
        return (f"{project} {first.version} {first.why_not}; the image has "
                f"{self.image.python_text} ({self.image.name}); {newest}")


def _exact(spec: SpecifierSet | None, version: Version) -> bool:
    return spec is not None and any(s.operator in ("==", "===") and "*" not in s.version
                                    and Version(s.version) == version for s in spec)


"""What a hash lock owes a rewrite: a requirement whose version changes has its `--hash` options
replaced by the hashes of the new version's files, written in the file's own layout (one per
continuation line with the same indentation, as pip-compile and uv write them, or all on one
line). The files are every file of the release, as pip-compile lists them, or only the kinds
the old lock limited itself to (wheels of the platforms and Pythons it listed, the sdist or
not). A version is never written with another version's hashes: where the new ones are not
known, the rewrite is refused at the requirement's line."""
from __future__ import annotations

import re
from collections import Counter
from typing import Mapping, Sequence

from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from release_hook.errors import UserError
from release_hook.found import Pin
from release_hook.plan import Edit, FilePlan, Target, plan_file, splice
from release_hook.reqfile import Entry, Hash, ReqFile
from release_hook.reqfile.options import STRONG_HASHES

# (project, version) -> each file of that release: (filename, {"sha256": hex, ...})
DistFiles = Sequence[tuple[str, Mapping[str, str]]]
Files = Mapping[tuple[str, str], DistFiles]

_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}
_PLATFORM = re.compile(r"(manylinux(?:1|2010|2014|_\d+_\d+)|musllinux_\d+_\d+|macosx_\d+_\d+)_(\w+)")


def plan_lock(req: ReqFile, target: Target, files: Files, page: Target | None = None) -> FilePlan:
    """The plan of a requirements file: its pins' new versions, and the new hashes of each
    changed requirement that carries hashes."""
    plan = plan_file(req.scan(), target, page)
    extra = hash_edits(req, target, files)
    if not extra:
        return plan
    edits = tuple(sorted((*plan.edits, *extra)))
    return FilePlan(plan.scan, plan.changes, edits, splice(req.text, edits), plan.pages)


def hash_edits(req: ReqFile, target: Target, files: Files) -> list[Edit]:
    edits: list[Edit] = []
    for entry in req.entries:
        if entry.pin < 0 or not entry.hashes:
            continue
        pin = req.pins[entry.pin]
        new = target(pin)
        if new is None or new == pin.version:
            continue
        digests = _new_hashes(req, pin, entry, new, files)
        edits.extend(_layout(req.text, entry.hashes, digests))
    return edits


def _new_hashes(req: ReqFile, pin: Pin, entry: Entry, new: str, files: Files) -> list[str]:
    where = (req.path, entry.line)
    new_files = _files_of(files, pin.package, new)
    if not new_files:
        raise UserError(f"{pin.package} {new}: the hashes of its files are not known, and this "
                        "requirement is hash-locked (never written with another version's hashes)",
                        *where)
    algorithms = [a for a, _ in Counter(h.algorithm for h in entry.hashes).most_common()]
    chosen = _limit(entry.hashes, _files_of(files, pin.package, pin.version), new_files)
    if not chosen:
        kinds = ", ".join(sorted({" ".join(k) for f in _kept_old(entry.hashes, files, pin) for k in _kinds(f)}))
        raise UserError(f"no file of {pin.package} {new} is of the kinds the lock lists for "
                        f"{pin.version} ({kinds})", *where)
    out = set()
    for filename, digests in chosen:
        algorithm = next((a for a in (*algorithms, *STRONG_HASHES) if a in digests), None)
        if algorithm is None:
            raise UserError(f"the index gives no sha256 (or stronger) digest of {filename}", *where)
        digest = digests[algorithm].lower()
        if len(digest) != _HEX_LENGTH[algorithm] or not all(c in "0123456789abcdef" for c in digest):
            raise UserError(f"the index gives a malformed {algorithm} digest of {filename}", *where)
        out.add(f"{algorithm}:{digest}")
    return sorted(out)


def _files_of(files: Files, project: str, version: str) -> DistFiles:
    found = files.get((project, version))
    if found is not None:
        return found
    wanted = _normal(version)
    return next((f for (p, v), f in files.items() if p == project and _normal(v) == wanted), ())


def _normal(version: str) -> str:
    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def _limit(hashes: tuple[Hash, ...], old_files: DistFiles, new_files: DistFiles) -> DistFiles:
    """Every new file, unless the lock listed only some of the old version's files: then the
    new files of the kinds it listed."""
    listed = {(h.algorithm, h.digest.lower()) for h in hashes}
    kept = [f for f in old_files if _listed(f, listed)]
    if not kept or len(kept) == len(old_files):
        return new_files  # all of them, or the old files are not known: what pip-compile lists
    kinds = {k for f in kept for k in _kinds(f[0])}
    return [f for f in new_files if _kinds(f[0]) & kinds]


def _kept_old(hashes: tuple[Hash, ...], files: Files, pin: Pin) -> list[str]:
    listed = {(h.algorithm, h.digest.lower()) for h in hashes}
    return [name for name, d in _files_of(files, pin.package, pin.version) if _listed((name, d), listed)]


def _listed(file: tuple[str, Mapping[str, str]], listed: set[tuple[str, str]]) -> bool:
    return any((a, d.lower()) in listed for a, d in file[1].items())


def _kinds(filename: str) -> set[tuple[str, ...]]:
    """What a file is for: ("sdist",), or per wheel tag its Python, ABI and platform family
    (`manylinux2014_x86_64` and `manylinux_2_28_x86_64` are one family: a newer release moves
    its glibc floor)."""
    if not filename.endswith(".whl"):
        return {("sdist",)}
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return {("file", filename)}
    out: set[tuple[str, ...]] = set()
    for tag in tags:
        m = _PLATFORM.fullmatch(tag.platform)
        family = f"{m.group(1).split('_')[0].rstrip('0123456789')}_{m.group(2)}" if m else tag.platform
        out.add((tag.interpreter, tag.abi, family))
    return out


def _layout(text: str, hashes: tuple[Hash, ...], digests: list[str]) -> list[Edit]:
    """The first old `--hash` word becomes all the new ones, joined as the old ones were; the
    other old ones go, each with the blank before it."""
    first = hashes[0]
    sep = text[first.end:hashes[1].start] if len(hashes) > 1 else text[first.lead:first.start]
    if sep.strip(" \t\\\r\n"):  # another option between them: one line's form
        sep = " "
    word = text[first.start:first.end]
    prefix = "--hash=" if word.startswith("--hash=") else "--hash "
    edits = [Edit(first.start, first.end, sep.join(prefix + d for d in digests))]
    edits.extend(Edit(h.lead, h.end, "") for h in hashes[1:])
    return edits

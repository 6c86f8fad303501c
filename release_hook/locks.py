"""What a requirements file owes a rewrite beyond its versions: a hash-locked requirement gets
the new version's hashes from the index (lockhashes.py), and a compiled lock (its header names
pip-compile or `uv pip compile`, and its input is in the repository) is compiled again for the
new versions (relock.py), since the new versions may need other packages to move too. Never a
version with another version's hashes: where neither can be done, the sync is refused with the
command that would re-lock."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Callable

from release_hook.errors import UserError
from release_hook.files import display
from release_hook.found import JAX_PACKAGES, Pin, Scan
from release_hook.plan import FilePlan, plan_file

if TYPE_CHECKING:
    from release_hook.reqfile import ReqFile
    from release_hook.resolve.index import Index

Target = Callable[[Pin], "str | None"]


def plan(scan: Scan, req: ReqFile, target: Target, page: Target, root: str, package: str,
         index: Callable[[], Index], python: str | None = None, platform: str | None = None,
         offline: bool = False) -> list[FilePlan]:
    """The plans of a requirements file (and of the compile's inputs, when it is re-locked).
    `scan` holds the file's pins as each reading stage stamped them; `req` the file as read."""
    from release_hook import lockhashes, relock

    written = plan_file(scan, target, page)
    if not written.changes:
        return [written]
    stamped = {p.chars.origin[0]: p for p in scan.pins if p.chars.origin}

    def of_file(pin: Pin) -> str | None:  # the file's own pins answer as their stamped copies do
        if pin.set_in:  # its version is another file's (a Dockerfile's ENV): not this plan's
            return None
        found = stamped.get(pin.chars.origin[0]) if pin.chars.origin else None
        return target(found) if found is not None else None

    def page_of(pin: Pin) -> str | None:
        found = stamped.get(pin.chars.origin[0]) if pin.chars.origin else None
        return page(found) if found is not None else None

    hashed = [e for e in req.entries if e.hashes and e.pin >= 0
              and of_file(req.pins[e.pin]) not in (None, req.pins[e.pin].version)]
    if req.header is not None and (hashed or req.header.inputs):
        path = os.path.join(root, scan.path) if not os.path.isabs(scan.path) else scan.path
        done = relock.relock(req, path, of_file, package, (package, *JAX_PACKAGES), python, platform, offline)
        out = [FilePlan(written.scan, written.changes, (), done.text, written.pages)]
        for where, text in done.inputs:
            with open(where, encoding="utf-8", newline="") as f:
                old = f.read()
            shown = display(where)
            out.append(FilePlan(Scan(shown, old, (), (), (), ()), (), (), text))
        return out
    if not hashed:
        return [written]
    files = {}
    for entry in hashed:
        pin = req.pins[entry.pin]
        releases = index().dists(pin.package)
        for version in (pin.version, of_file(pin)):
            files[(pin.package, str(version))] = [(d.filename, {"sha256": d.sha256}) for d in releases
                                                  if str(d.version) == version and d.sha256]
    try:
        locked = lockhashes.plan_lock(req, of_file, files, page_of)
    except UserError as e:
        raise UserError(f"{e.message}; the lock must not keep another version's hashes", e.path, e.line) from None
    return [FilePlan(written.scan, written.changes, locked.edits, locked.new_text, written.pages)]

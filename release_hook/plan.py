"""From pins and their target versions to edits: exact spans of the file and their new text."""

from __future__ import annotations

import bisect
import re
from typing import Callable, Sequence

from release_hook.errors import UserError
from release_hook.resolve.cuda import PAGES
from release_hook.found import Requirement
from release_hook.found import Chars, Pin, Scan
from release_hook.records import NamedTuple
from release_hook.textlines import NOWHERE, line_of


class Edit(NamedTuple):
    start: int
    end: int
    new: str


class Change(NamedTuple):
    pin: Pin
    new_version: str


class PageMove(NamedTuple):
    """A find-links address that follows jaxlib to the page listing its new build."""

    line: int
    old: str
    new: str


class FilePlan(NamedTuple):
    scan: Scan
    changes: tuple[Change, ...]
    edits: tuple[Edit, ...]
    new_text: str
    pages: tuple[PageMove, ...] = ()

    @property
    def path(self) -> str:
        return self.scan.path

    @property
    def old_text(self) -> str:
        return self.scan.text

    @property
    def changed(self) -> bool:
        return self.new_text != self.old_text

    def lines(self, arrow: str = "") -> list[str]:
        """One line per moved pin or page: `file:line: jax ==0.4.1, expected 0.4.2`, or with
        an arrow, `file:line: jax 0.4.1 -> 0.4.2`, plus where a variable sets the version."""
        out = []
        for c in self.changes:
            pin = c.pin
            move = (f"{pin.version} {arrow} {c.new_version}" if arrow
                    else f"{pin.operator}{pin.version}, expected {c.new_version}")
            out.append(f"{pin.path}:{pin.line}: {pin.package} {move}{pin.defined_at(self.old_text)}")
        for m in self.pages:
            move = f"{m.old} {arrow} {m.new}" if arrow else f"{m.old}, expected {m.new}"
            out.append(f"{self.path}:{m.line}: find-links {move}")
        return out


Target = Callable[[Pin], "str | None"]


def plan_file(scan: Scan, target: Target, page: Target | None = None,
              neighbours: Sequence[tuple[str, Requirement]] = ()) -> FilePlan:
    """The edits that give each pin its target. `neighbours`: requirements of other files (a
    requirements file's `mylib==${V}`) that read characters of this one, with their files."""
    changes: list[Change] = []
    moves: list[PageMove] = []
    by_span: dict[tuple[int, int], tuple[str, Pin]] = {}
    said: set[tuple[str, int, int, str, str]] = set()
    for pin in scan.pins:
        new = target(pin)
        wanted_page = page(pin) if page is not None else None
        edits = []
        if wanted_page:
            for move, edit in _page_edits(pin, wanted_page):
                if pin.set_in:  # the address is in the requirements file, the version in this one
                    raise UserError(f"the find-links address must move to {wanted_page}, but the version it "
                                    f"lists is set in {pin.set_in}: move the address by hand", pin.path, pin.line)
                moves.append(move)
                edits.append(edit)
        if new is not None and new != pin.version:
            if pin.set_in and pin.hashed:  # the hashes here would go stale where the version moves
                raise UserError(f"{pin.package} must move to {new}, but its version is set in {pin.set_in} and its "
                                "--hash values are here: they cannot move together; write the version in this file",
                                pin.path, pin.line)
            # a requirements file read by two stages holds one pin per reader: one change
            written = next((o for o in pin.chars.origin if o != NOWHERE), pin.line)
            seen = (pin.path, pin.line, written, pin.package, new)
            if seen not in said:
                said.add(seen)
                changes.append(Change(pin, new))
            edits.extend(edits_for(pin, new))
        for edit in edits:
            key = (edit.start, edit.end)
            if key in by_span and by_span[key][0] != edit.new:
                other = by_span[key][1]
                if (other.package, other.line) == (pin.package, pin.line):  # one text, two readers
                    raise UserError(
                        f"{pin.package} here is read by two images that need different versions "
                        f"({other.image}: {by_span[key][0]!r}; {pin.image}: {edit.new!r}), and one line "
                        "cannot hold both: give each image a file (or variable) of its own", pin.path, pin.line)
                raise UserError(
                    f"{pin.package} needs {edit.new!r} where {other.package} "
                    f"({'line ' if other.path == pin.path else other.path + ':'}{other.line}) "
                    f"needs {by_span[key][0]!r}: give each a version of its own (its own variable, or its pin "
                    "written out)", pin.path, pin.line)
            by_span[key] = (edit.new, pin)
    edits = sorted(Edit(a, b, new) for (a, b), (new, _) in by_span.items())
    for before, after in zip(edits, edits[1:]):
        if after.start < before.end:
            raise UserError("two pins share part of one version: give each a version of its own",
                            scan.path, _line(scan, after.start))
    if edits:
        _each_pin_reads_its_target(scan, target, edits)
        _no_neighbour_reads_an_edit(scan, edits, {a: pin for (a, _), (_, pin) in by_span.items()}, neighbours)
    return FilePlan(scan, tuple(changes), tuple(edits), splice(scan.text, edits),
                    tuple(moves))


def _each_pin_reads_its_target(scan: Scan, target: Target, edits: list[Edit]) -> None:
    """Every pin, read again through the edits, gives its target (or its version, if it has
    none): an `ARG MAJ` that jax's edit changes must not move a jaxlib that reads it too."""
    starts = [e.start for e in edits]
    for pin in scan.pins:
        wanted = target(pin) or pin.version
        reads = _read_through(pin.chars, edits, starts)
        if reads != wanted:
            now = f"{reads!r}" if reads is not None else "a part of another pin's version"
            raise UserError(f"{pin.package} would read {now} instead of {wanted!r}: its version shares "
                            "characters with another pin's; give each a version of its own", pin.path, pin.line)


def _no_neighbour_reads_an_edit(scan: Scan, edits: list[Edit], owner: dict[int, Pin],
                                neighbours: Sequence[tuple[str, Requirement]]) -> None:
    """A requirement the tool does not keep (`mylib==${V}`) that reads characters a pin's edit
    rewrites would move with it, to a version nobody chose: refused, naming both."""
    own = [(scan.path, req) for stage in scan.stages for pip in stage.pips for req in pip.requirements]
    for path, req in [*own, *neighbours]:
        hit = next((e for e in edits for o in req.reads if e.start <= o < e.end), None)
        if hit is not None:
            pin = owner[hit.start]
            where = f"line {req.line}" if path == scan.path else f"{path}:{req.line}"
            raise UserError(f"{pin.package} moves to {hit.new!r} where {req.text!r} ({where}) reads the same "
                            f"characters (line {_line(scan, hit.start)}): it would move too; give it a variable "
                            "of its own", pin.path, pin.line)


def _read_through(chars: Chars, edits: list[Edit], starts: list[int]) -> str | None:
    """The text `chars` reads once `edits` are made; None when it reads only part of an edit."""
    out = []
    i = 0
    while i < len(chars.text):
        at = chars.origin[i]
        k = bisect.bisect_right(starts, at) - 1 if at != NOWHERE else -1
        if k < 0 or not edits[k].start <= at < edits[k].end:
            out.append(chars.text[i])
            i += 1
            continue
        e = edits[k]
        if chars.origin[i:i + e.end - e.start] != tuple(range(e.start, e.end)):
            return None
        out.append(e.new)
        i += e.end - e.start
    return "".join(out)


def _page_edits(pin: Pin, wanted: str) -> list[tuple[PageMove, Edit]]:
    out = []
    for _, chars in pin.addresses:
        base = chars.text.rsplit("/", 1)[-1]
        if base not in PAGES or base == wanted:
            continue
        start = len(chars.text) - len(base)
        runs = _runs(chars[start:])
        if len(runs) != 1 or runs[0].start == NOWHERE:
            raise UserError(f"the find-links address must move to {wanted}, but it is not written "
                            "in one piece here", pin.path, pin.line)
        out.append((PageMove(pin.line, base, wanted), Edit(runs[0].start, runs[0].end, wanted)))
    return out


def splice(text: str, edits: Sequence[Edit]) -> str:
    out = []
    pos = 0
    for e in edits:
        out.append(text[pos : e.start])
        out.append(e.new)
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


def _line(scan: Scan, offset: int) -> int:
    return line_of(scan.text, offset)


class _Run(NamedTuple):
    text: str
    start: int
    end: int
    via_var: bool


def _runs(chars: Chars) -> list[_Run]:
    """The pieces of the file the characters come from: each a stretch of adjacent offsets
    carried alike (by a variable or not); a character from nowhere is a piece of its own."""
    runs: list[_Run] = []
    text, origin, via = chars.text, chars.origin, chars.via_var
    i = 0
    while i < len(text):
        j = i + 1
        if origin[i] != NOWHERE:
            while j < len(text) and origin[j] == origin[j - 1] + 1 and via[j] == via[i]:
                j += 1
        runs.append(_Run(text[i:j], origin[i], origin[j - 1] + 1 if origin[i] != NOWHERE else NOWHERE, via[i]))
        i = j
    return runs


def edits_for(pin: Pin, new: str) -> list[Edit]:
    """Spans to rewrite so that the pin reads `new`, keeping the file's own form.

    A version that sits in one place is replaced whole. One assembled from pieces
    (`${JAXLIB_VERSION}+cuda${JAXLIB_CUDA}`) is rewritten part by part: the public version, the
    `+` and the local tag each take their new text, and within a part made of several pieces
    the literal pieces stay and the variables change, so the new version must fit that shape.
    """
    runs = _runs(pin.chars)
    # a literal part written in another file (a requirements file's, beside the ENV value that
    # makes the rest) may stay as it is, never change
    if any(r.start == NOWHERE and (r.via_var or not pin.set_in) for r in runs):
        raise UserError(f"{pin.package} version {pin.version!r} is not written in this file",
                        pin.path, pin.line)
    if len(runs) == 1:
        return [Edit(runs[0].start, runs[0].end, new)]
    edits: list[Edit] = []
    for (a, b), (c, d) in zip(_parts(pin.version), _parts(new)):
        new_text = new[c:d]
        pieces = _cut(runs, a, b)
        if not pieces:
            if new_text:
                raise _no_fit(pin, new, runs)
            continue
        if len(pieces) == 1 and pieces[0].start == NOWHERE:
            if new_text != pieces[0].text:
                raise _no_fit(pin, new, runs)
            continue
        if len(pieces) == 1:
            edits.append(Edit(pieces[0].start, pieces[0].end, new_text))
            continue
        edits.extend(_fit(pin, new, runs, pieces, new_text))
    return edits


def _parts(version: str) -> list[tuple[int, int]]:
    """(start, end) of the public version, the `+` and the local tag."""
    plus = version.find("+")
    cut = plus if plus >= 0 else len(version)
    return [(0, cut), (cut, cut + (plus >= 0)), (cut + (plus >= 0), len(version))]


def _cut(runs: list[_Run], a: int, b: int) -> list[_Run]:
    """The parts of runs that cover characters a..b of the version."""
    out = []
    pos = 0
    for r in runs:
        lo, hi = max(a, pos), min(b, pos + len(r.text))
        if lo < hi:
            out.append(_Run(r.text[lo - pos:hi - pos], r.start + lo - pos, r.start + hi - pos, r.via_var))
        pos += len(r.text)
    return out


def _fit(pin: Pin, new: str, runs: list[_Run], pieces: list[_Run], new_text: str) -> list[Edit]:
    pattern, shaped = [], []
    for prev, run in zip([None, *pieces], pieces):
        if not run.via_var:
            pattern.append(re.escape(run.text))
            shaped.append(re.escape(run.text))
        elif prev is not None and prev.via_var:
            raise UserError(f"{pin.package} version is split over adjacent variables; "
                            "cannot tell which part to change", pin.path, pin.line)
        else:
            pattern.append("(.+?)")
            # `${MAJ}.${MIN}`: each variable keeps as many dots as it had (0.4 and 20, not 0 and 4.30)
            shaped.append(r"([^.]+" + r"\.[^.]+" * run.text.count(".") + ")")
    m = re.fullmatch("".join(shaped), new_text) or re.fullmatch("".join(pattern), new_text)
    if m is None:
        raise _no_fit(pin, new, runs)
    values = iter(m.groups())
    return [Edit(r.start, r.end, next(values)) for r in pieces if r.via_var]


def _no_fit(pin: Pin, new: str, runs: list[_Run]) -> UserError:
    shape = "".join("{}" if r.via_var else r.text for r in runs)
    return UserError(f"cannot write {pin.package} {new} in this file's form {shape!r}", pin.path, pin.line)

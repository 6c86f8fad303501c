"""From pins and their target versions to edits: exact spans of the file and their new text."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from release_hook.errors import UserError
from release_hook.pins import Chars, Pin, Scan
from release_hook.spans import NOWHERE


@dataclass(frozen=True, order=True)
class Edit:
    start: int
    end: int
    new: str


@dataclass(frozen=True)
class Change:
    pin: Pin
    new_version: str


@dataclass(frozen=True)
class FilePlan:
    scan: Scan
    changes: tuple[Change, ...]
    edits: tuple[Edit, ...]
    new_text: str

    @property
    def path(self) -> str:
        return self.scan.dockerfile.path

    @property
    def old_text(self) -> str:
        return self.scan.dockerfile.text

    @property
    def changed(self) -> bool:
        return self.new_text != self.old_text


Target = Callable[[Pin], "str | None"]


def plan_file(scan: Scan, target: Target) -> FilePlan:
    changes: list[Change] = []
    by_span: dict[tuple[int, int], tuple[str, Pin]] = {}
    for pin in scan.pins:
        new = target(pin)
        if new is None or new == pin.version:
            continue
        changes.append(Change(pin, new))
        for edit in edits_for(pin, new):
            key = (edit.start, edit.end)
            if key in by_span and by_span[key][0] != edit.new:
                other = by_span[key][1]
                raise UserError(
                    f"{pin.package} needs {edit.new!r} where {other.package} (line {other.line}) "
                    f"needs {by_span[key][0]!r}: give them separate variables", pin.path, pin.line)
            by_span[key] = (edit.new, pin)
    edits = sorted(Edit(a, b, new) for (a, b), (new, _) in by_span.items())
    for before, after in zip(edits, edits[1:]):
        if after.start < before.end:
            raise UserError("two pins share part of one version: give them separate variables",
                            scan.dockerfile.path, _line(scan, after.start))
    return FilePlan(scan, tuple(changes), tuple(edits), splice(scan.dockerfile.text, edits))


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
    return scan.dockerfile.text.count("\n", 0, offset) + 1


@dataclass(frozen=True)
class _Run:
    text: str
    start: int
    end: int
    via_var: bool


def _runs(chars: Chars) -> list[_Run]:
    runs: list[_Run] = []
    for ch, at, via in zip(chars.text, chars.origin, chars.via_var):
        last = runs[-1] if runs else None
        if last is not None and at != NOWHERE and last.end == at and last.via_var == via:
            runs[-1] = _Run(last.text + ch, last.start, at + 1, via)
        else:
            runs.append(_Run(ch, at, at + 1 if at != NOWHERE else NOWHERE, via))
    return runs


def edits_for(pin: Pin, new: str) -> list[Edit]:
    """Spans to rewrite so that the pin reads `new`, keeping the file's own form.

    A version that sits in one place is replaced whole. One assembled from pieces
    (`${JAXLIB_VERSION}+cuda${JAXLIB_CUDA}`) keeps its literal pieces and rewrites only the
    variables, so the new version must fit the same shape.
    """
    runs = _runs(pin.chars)
    if any(r.start == NOWHERE for r in runs):
        raise UserError(f"{pin.package} version {pin.version!r} is not written in this file",
                        pin.path, pin.line)
    if len(runs) == 1:
        return [Edit(runs[0].start, runs[0].end, new)]
    pattern = []
    for prev, run in zip([None, *runs], runs):
        if not run.via_var:
            pattern.append(re.escape(run.text))
        elif prev is not None and prev.via_var:
            raise UserError(f"{pin.package} version is split over adjacent variables; "
                            "cannot tell which part to change", pin.path, pin.line)
        else:
            pattern.append("(.+?)")
    m = re.fullmatch("".join(pattern), new)
    if m is None:
        shape = "".join("{}" if r.via_var else r.text for r in runs)
        raise UserError(f"cannot write {pin.package} {new} in this file's form {shape!r}",
                        pin.path, pin.line)
    values = iter(m.groups())
    return [Edit(r.start, r.end, next(values)) for r in runs if r.via_var]

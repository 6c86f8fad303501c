"""The newest candidate whose install imports the released package, in few tries.

jax removes an API at one release and it stays removed, so a release that imports with jax X
imports with every older candidate down to its floor, and fails from the break on: the answer
is a boundary. It is found by galloping down from the newest candidate (1, 2, 4, ... back) and
then bisecting, so the tries grow with the logarithm of the candidates and stay near the top,
away from breaks of another kind at the old end (NumPy 2 under an old jaxlib). Each try is a
smoke (cached by its whole set, so by release, jax and Python). Where no import can be tried
here, the shipped table of proved breaks answers what it knows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Collection, Generic, Sequence, TypeVar

from release_hook.resolve import import_table
from release_hook.resolve.smoke import (FAILS, IMPORTS, UNPROVED, Image, Settings, SmokeSet, Verdict,
                                        import_name, smoke)

C = TypeVar("C")

IMPORT, TABLE, NOT_PROVED, NONE = "import", "table", "unproved", "none"


@dataclass(frozen=True)
class Release:
    package: str  # the distribution: "numpyro"
    version: str  # "0.13.0"
    module: str = ""  # its import name, when not the usual one

    @property
    def imported_as(self) -> str:
        return self.module or import_name(self.package)


@dataclass(frozen=True)
class Found(Generic[C]):
    """The search's answer: `chosen` is the candidate to use (None: none imports); `how` says
    what proved it: IMPORT (tried here), TABLE (the shipped table), NOT_PROVED (nothing could:
    `reason` says why; `chosen` is then the newest not known to fail), NONE (no candidates)."""

    chosen: C | None
    how: str
    tried: tuple[tuple[C, Verdict], ...] = ()  # in the order tried
    reason: str = ""  # NOT_PROVED, or TABLE: why no import was tried here
    row: import_table.Break | None = None  # TABLE: the row that answered
    failed: tuple[C, Verdict] | None = None  # the candidate just newer than chosen, and its failure

    def __str__(self) -> str:
        if self.how == IMPORT:
            if self.chosen is None:
                return f"none of the candidates imports ({len(self.tried)} tried)"
            text = f"{self.chosen}: {_verdict_of(self)}"
            if self.failed is not None:
                text += f"; {self.failed[0]}: {self.failed[1]}"
            return f"{text} ({len(self.tried)} tried)"
        if self.how == TABLE and self.row is not None:
            r = self.row
            limit = f", fails from jax {r.first_fails}: {r.fails_with}" if r.first_fails else ""
            return (f"the shipped table: {r.package} {r.release} imports up to jax {r.last_imports}"
                    f"{limit} (proved on Python {r.python}, {r.proved}); not tried here: {self.reason}")
        return f"not proved by import: {self.reason}" if self.reason else "no candidate"


def _verdict_of(found: Found[C]) -> Verdict:
    return next(v for c, v in found.tried if c is found.chosen)


def newest_that_imports(candidates: Sequence[C], install_of: Callable[[C], SmokeSet],
                        jax_of: Callable[[C], str], release: Release, target: Image,
                        how: Settings = Settings(), leave_out: Collection[str] | None = None,
                        table: str = import_table.PATH) -> Found[C]:
    """Of `candidates` in policy order (newest first), the newest whose install set (from
    `install_of`) imports `release` on `target`; `jax_of` names a candidate's jax version for
    the shipped table. A candidate that does not install says nothing of the import's boundary:
    it is passed over and its nearest neighbour tried instead."""
    if not candidates:
        return Found(None, NONE)
    verdicts: dict[int, Verdict] = {}
    order: list[int] = []

    def judge(i: int) -> str:
        if i not in verdicts:
            verdicts[i] = smoke(install_of(candidates[i]), target, release.imported_as, leave_out, how)
            order.append(i)
        v = verdicts[i]
        return "install" if v.state == FAILS and v.step == "install" else v.state

    def settle(at: int, low: int, high: int) -> tuple[int, str] | None:
        """The answer nearest `at` strictly between low and high that is not an install failure."""
        for i in sorted(range(low + 1, high), key=lambda i: (abs(i - at), i)):
            state = judge(i)
            if state != "install":
                return i, state
        return None

    def answer(chosen: int | None, bad: int | None) -> Found[C]:
        tried = tuple((candidates[i], verdicts[i]) for i in order)
        failed = (candidates[bad], verdicts[bad]) if bad is not None else None
        return Found(None if chosen is None else candidates[chosen], IMPORT, tried, failed=failed)

    def unproved(i: int, bad: int | None) -> Found[C]:
        return _from_table(candidates, jax_of, release, verdicts[i].reason, bad, table,
                           tuple((candidates[k], verdicts[k]) for k in order))

    last = len(candidates) - 1
    top = settle(0, -1, len(candidates))
    if top is None or top[1] == IMPORTS:
        return answer(top and top[0], None)
    if top[1] == UNPROVED:
        return unproved(top[0], None)
    bad, step, good = top[0], 1, None
    while good is None:  # gallop: the first that imports, 1, 2, 4, ... below the newest failure
        found = settle(min(bad + step, last), bad, len(candidates)) if bad < last else None
        if found is None:
            return answer(None, None)  # every older one fails, or does not install
        if found[1] == UNPROVED:
            return unproved(found[0], bad)
        bad, good = (bad, found[0]) if found[1] == IMPORTS else (found[0], None)
        step *= 2
    while good - bad > 1:  # bisect between the newest failure and the oldest import
        found = settle((bad + good) // 2, bad, good)
        if found is None:
            break  # nothing between installs: good is the newest that imports
        if found[1] == UNPROVED:
            return unproved(found[0], bad)
        bad, good = (bad, found[0]) if found[1] == IMPORTS else (found[0], good)
    return answer(good, bad)


def _from_table(candidates: Sequence[C], jax_of: Callable[[C], str], release: Release, why: str,
                bad: int | None, table: str, tried: tuple[tuple[C, Verdict], ...]) -> Found[C]:
    """What the shipped table says where no import can be tried: the newest candidate it does
    not know to fail (and below the newest known failure here), proved when the table says so."""
    start = 0 if bad is None else bad + 1
    for candidate in candidates[start:]:
        known, row = import_table.says(release.package, release.version, jax_of(candidate), table)
        if known is False:
            continue
        if known and row is not None:
            return Found(candidate, TABLE, tried, why, row)
        return Found(candidate, NOT_PROVED, tried, why, row)
    rows = import_table.rows(release.package, release.version, table)
    return Found(None, TABLE if rows else NOT_PROVED, tried, why, rows[0] if rows else None)

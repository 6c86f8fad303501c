"""The search for a jax/jaxlib pair: candidates in the policy's order, each narrowed by jax's own
rules (pairing.py, builds.py: no resolver needed), then asked of the real resolver with the whole
install; the first that installs, and that no import-time rule rejects, is the answer.

`minimum` tries the lowest jax first, `latest` the newest. The first candidate is asked directly
(the common case: one question). When the resolver refuses it, the resolver itself is asked to
pick within the rest of the range (`steer`), and the walk goes on from its choice; a candidate
that installs but fails a rule on the answer (NumPy 2 under an old jaxlib, an import that
breaks) moves the walk on, by one, and after a few by bisection. The number of questions is
bounded: a history of a hundred releases costs a handful of resolver runs, not a hundred.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

from packaging.version import Version

from release_hook.records import NamedTuple

V = Optional[Version]
LINEAR = 3  # failed candidates in a row before the walk bisects the rest
MAX_QUESTIONS = 14  # resolver questions for one decision


class Pair(NamedTuple):
    jax: V
    jaxlib: V

    def __str__(self) -> str:
        parts = [f"jax {self.jax}" if self.jax else "", f"jaxlib {self.jaxlib}" if self.jaxlib else ""]
        return ", ".join(p for p in parts if p)


class Verdict(NamedTuple):
    """What the resolver and the rules that read its answer say of a candidate."""

    ok: bool
    state: str  # "installs", "unproved" (no answer: the rules decided), "refused", "rejected"
    why: str = ""  # the resolver's words, or the rule that rejected the answer
    kind: str = ""  # what rejected it: "resolver", "numpy", "scipy", "import", ...
    answers: tuple[object, ...] = ()  # the resolver's answers (solver.Answer), one per install
    below: V = None  # a rule's word on where to go on: no jax newer than this can pass
    # ...or no candidate lower than these can pass: ("jaxlib", 0.4.26) when NumPy 2 is what pip
    # installs here, which no jaxlib before 0.4.26 imports
    floor: tuple[tuple[str, Version], ...] = ()
    monotone: bool = False  # a failure that holds for every newer jax too (an import break): bisect
    notes: tuple[str, ...] = ()  # per install, what the import proof said


class Skipped(NamedTuple):
    pair: Pair
    kind: str  # "rules" (no resolver asked), "resolver", "numpy", "scipy", "import", ...
    why: str


@dataclass
class Outcome:
    pair: Pair | None
    verdict: Verdict | None
    skipped: list[Skipped] = field(default_factory=list)
    # the jaxlibs jax's rules passed over for the answer's jax, before the answer's jaxlib
    passed: list[Skipped] = field(default_factory=list)
    questions: int = 0
    exhausted: str = ""  # why the walk stopped without a pair ("" when it found one)


# The best pair for a jax by the rules, among jaxlibs the filter allows; or why there is none.
BestPair = Callable[[V, Callable[[Version], bool]], "Pair | str"]
Verify = Callable[[Pair], Verdict]
Steer = Callable[[Pair], "Pair | str"]  # the pair the resolver picks in the rest of the range, or why none


def ordered(policy: str, versions: Sequence[V]) -> list[V]:
    known: list[V] = [*sorted((v for v in versions if v is not None), reverse=policy == "latest")]
    return known or [None]


class _Walk:
    def __init__(self, policy: str, jaxes: Sequence[V], best_pair: BestPair, verify: Verify,
                 steer: Steer | None) -> None:
        self.latest = policy == "latest"
        self.order = ordered(policy, jaxes)
        self.best_pair, self.verify_pair, self.steer = best_pair, verify, steer
        self.outcome = Outcome(None, None)
        self.rules: dict[int, Pair | str] = {}
        self.floor: dict[str, Version] = {}

    def allowed_jaxlib(self, v: Version) -> bool:
        return "jaxlib" not in self.floor or v >= self.floor["jaxlib"]

    def pair_at(self, i: int) -> Pair | str:
        if i not in self.rules:
            jax = self.order[i]
            if jax is not None and "jax" in self.floor and jax < self.floor["jax"]:
                found: Pair | str = f"jax {jax} is below what this install needs (jax >= {self.floor['jax']})"
            else:
                found = self.best_pair(jax, self.allowed_jaxlib)
            self.rules[i] = found
            if isinstance(found, str):
                self.outcome.skipped.append(Skipped(Pair(self.order[i], None), "rules", found))
        return self.rules[i]

    def raise_floor(self, floor: Sequence[tuple[str, Version]]) -> bool:
        """Take a verdict's floor; True when it changed what the rules allow."""
        moved = False
        for name, v in floor:
            if name not in self.floor or v > self.floor[name]:
                self.floor[name] = v
                moved = True
        if moved:
            self.rules.clear()  # a jax's best pair may now be another, or none
        return moved

    def verify(self, pair: Pair) -> Verdict:
        self.outcome.questions += 1
        verdict = self.verify_pair(pair)
        if not verdict.ok:
            self.outcome.skipped.append(Skipped(pair, verdict.kind or "resolver", verdict.why))
        return verdict

    def index_from(self, bound: Version, start: int) -> int:
        """The first index at or after `start` whose jax is on the policy's side of `bound`."""
        for i in range(start, len(self.order)):
            v = self.order[i]
            if v is None or (v <= bound if self.latest else v >= bound):
                return i
        return len(self.order)

    def probe(self, i: int) -> tuple[int, Verdict | None]:
        """The first candidate from i on that the rules allow, and the resolver's verdict on it."""
        while i < len(self.order):
            pair = self.pair_at(i)
            if not isinstance(pair, str):
                return i, self.verify(pair)
            i += 1
        return i, None

    def run(self) -> Outcome:
        out = self.outcome
        i, failures, steered = 0, 0, self.steer is None
        while i < len(self.order):
            if out.questions >= MAX_QUESTIONS:
                out.exhausted = f"stopped after {out.questions} resolver questions"
                return out
            i, verdict = self.probe(i)
            if verdict is None:
                break
            if verdict.ok:
                out.pair, out.verdict = self.rules[i], verdict  # type: ignore[assignment]
                return out
            out.verdict = verdict
            if verdict.state == "refused" and not steered and self.steer is not None:
                steered = True
                picked = self.steer(self.rules[i])  # type: ignore[arg-type]
                out.questions += 1
                if isinstance(picked, str):
                    out.exhausted = picked or "the resolver found nothing in the range"
                    return out
                if self.try_picked(picked):
                    return out
                i = self.index_from(picked.jax, i + 1) if picked.jax is not None else i + 1
                continue
            if verdict.below is not None and self.latest:
                i = self.index_from(verdict.below, i + 1)
                continue
            if verdict.floor and self.raise_floor(verdict.floor):
                continue  # the same jax again, with what the answer says it needs
            if verdict.monotone and self.latest:
                return self.bisect(i + 1)
            failures += 1
            if failures >= LINEAR:
                return self.bisect(i + 1)
            i += 1
        out.exhausted = out.exhausted or "no candidate left"
        return out

    def try_picked(self, picked: Pair) -> bool:
        """The resolver's own pick, held to the rules and verified; True when it is the answer."""
        if picked.jax is None or picked.jax not in self.order:
            return False  # not a release this image's index offers (another index's, say)
        rules = self.best_pair(picked.jax, lambda v: picked.jaxlib is None or v == picked.jaxlib)
        if isinstance(rules, str):
            return False
        verdict = self.verify(rules)
        if verdict.ok:
            self.outcome.pair, self.outcome.verdict = rules, verdict
        return verdict.ok

    def bisect(self, lo: int) -> Outcome:
        """The earliest candidate from lo on that passes, taking failure to hold for all the
        candidates before a passing one (the release that breaks an import stays broken)."""
        out = self.outcome
        hi = len(self.order)
        found: tuple[int, Verdict] | None = None
        while lo < hi and out.questions < MAX_QUESTIONS:
            k, verdict = self.probe((lo + hi) // 2)
            if verdict is None:
                hi = (lo + hi) // 2
            elif verdict.ok:
                found, hi = (k, verdict), (lo + hi) // 2
            else:
                lo = k + 1
        if found is not None:
            out.pair, out.verdict = self.rules[found[0]], found[1]  # type: ignore[assignment]
        elif out.questions >= MAX_QUESTIONS:
            out.exhausted = f"stopped after {out.questions} resolver questions"
        else:
            out.exhausted = "no candidate left"
        return out


def search(policy: str, jaxes: Sequence[V], best_pair: BestPair, verify: Verify,
           steer: Steer | None = None) -> Outcome:
    """The policy's first candidate (by `best_pair`'s rules) that `verify` passes."""
    return _Walk(policy, jaxes, best_pair, verify, steer).run()

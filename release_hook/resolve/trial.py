"""A candidate pair tried on the installs of one decision: the real resolver asked whether each
install (its kept pins at the candidate's versions, with every neighbour and constraint) resolves
for its image, and jax's import-time rules held against the versions it would install.

Also what the search asks when the first candidate is refused: the resolver's own pick within
the rest of the range (`steer`); which neighbour stands in the way when nothing in the range
installs is blocker.py's.
"""
from __future__ import annotations

import datetime
import re
from typing import Callable, Sequence

from packaging.utils import canonicalize_name
from packaging.version import Version

from release_hook.found import JAX_PACKAGES, Pin
from release_hook.resolve import solver, traps
from release_hook.resolve.importing import Imports
from release_hook.resolve.cuda import PAGES
from release_hook.resolve.install import Case
from release_hook.resolve.search import Pair, Verdict
from release_hook.resolve.targets import PLUGINS, Targets

KEPT = JAX_PACKAGES
ANY = ">=0"  # any version: what a specifier says when it says nothing


class Trial:
    def __init__(self, cases: Sequence[Case], package: str, resolver: solver.Resolver,
                 targets_for: Callable[[Pair], Targets], published: Callable[[str, str], bool | None],
                 as_of: datetime.datetime | None, requires_of: Callable[[str, Version], Sequence[str]],
                 unreachable: Callable[[str], str] = lambda url: "", imports: Imports | None = None) -> None:
        self.cases, self.package, self.resolver = list(cases), package, resolver
        self.targets_for, self.published, self.as_of = targets_for, published, as_of
        self.requires_of, self.unreachable, self.imports = requires_of, unreachable, imports
        self.answers: dict[Pair, tuple[solver.Answer, ...]] = {}
        self.refused_case: Case | None = None

    def question(self, case: Case, spec_of: Callable[[Pin], str | None], lowest: bool = False,
                 targets: Targets | None = None, drop: str | None = None) -> solver.Ask:
        lines, _ = case.install.lines(spec_of, self.package, self.published)
        constraints = tuple(r.text for r in case.install.constraints)
        if drop is not None:
            lines = tuple(x for x in lines if x != drop)
            constraints = tuple(x for x in constraints if x != drop)
        options = case.install.options
        page = next((targets.page_for(p) for p in case.install.pins if targets is not None
                     and p.package == "jaxlib" and targets.page_for(p)), None)
        if page:  # the -f address follows jaxlib to the page that lists its build
            options = tuple((o, _with_page(u, page)) for o, u in options)
        settled = tuple(sorted({p.package for p in case.install.pins} | set(KEPT) | {canonicalize_name(self.package)}))
        # --no-deps is not passed on: pip then checks nothing, but what it installs must still
        # agree (jax 0.10.2 listed beside scipy 1.11.4 builds, then fails at import)
        return solver.Ask(lines, case.target, constraints, options, lowest, self.as_of, settled)

    def verify(self, pair: Pair) -> Verdict:
        """Every install, with the pair written in, asked of the resolver; the answers held
        against jax's import-time rules."""
        targets = self.targets_for(pair)
        answers: list[solver.Answer] = []
        unproved = ""
        for case in self.cases:
            question = self.question(case, targets.for_pin, targets=targets)
            answer = solver.ask(question, self.resolver)
            if answer.state != "installs":
                # a find-links page that did not answer looks like a release that does not
                # exist (uv), or fails with a long message: say it in one short line
                blind = next((why for o, url in question.options if o == "--find-links"
                              and (why := self.unreachable(url))), "")
                if blind:
                    answer = solver.Answer("unproved", blind, answer.tool)
                # an index the Dockerfile names, left out for want of trust: what it alone serves
                # (`torch==2.3.1+cpu`) cannot install without it, which says nothing of jax
                if case.install.untrusted and not blind:
                    answer = solver.Answer("unproved", f"asked without {case.install.untrusted[0]}", answer.tool)
            answers.append(answer)
            if answer.state == "refused":
                self.refused_case = case
                return Verdict(False, "refused", answer.reason, "resolver", tuple(answers))
            if answer.state == "unproved":
                unproved = unproved or answer.reason
                continue
            trap = traps.in_answer(pair.jax, pair.jaxlib, answer)
            if trap is not None:
                kind, why, floor = trap
                return Verdict(False, "rejected", why, kind, tuple(answers), floor=(floor,))
        notes: list[str] = []
        if self.imports is not None and not unproved:
            for case in self.cases:
                question = self.question(case, targets.for_pin, targets=targets)
                options = question.options + ((("--no-deps", ""),) if question.no_deps else ())
                judged = self.imports.tried(question.requirements, options, question.constraints, case.target)
                if judged is None:
                    break
                if not judged.ok:
                    return Verdict(False, "rejected", judged.said, "import", tuple(answers), monotone=True)
                notes.append(judged.said)
        self.answers[pair] = tuple(answers)
        return Verdict(True, "unproved" if unproved else "installs", unproved, "", tuple(answers), notes=tuple(notes))

    def refusal(self, pair: Pair, verdict: Verdict) -> tuple[str, str, int]:
        """`uv cannot install A B C for Python 3.10 linux/amd64: <its reason>`, and the file and
        line of the pin the reason names first (else the install's first pin): a pin of a
        requirements file, or of the Dockerfile that reads it."""
        case = self.refused_case or self.cases[0]
        targets = self.targets_for(pair)
        lines = self.question(case, targets.for_pin, targets=targets).requirements
        answer = verdict.answers[-1] if verdict.answers else None
        tool = getattr(answer, "tool", "") or "the resolver"
        best: tuple[int, str, int] | None = None
        for pin in case.install.pins:
            m = re.search(rf"(?<![\w.-]){re.escape(pin.package)}(?![\w-])", verdict.why, re.IGNORECASE)
            if m is not None and (best is None or m.start() < best[0]):
                best = (m.start(), pin.path, pin.line)
        _, path, line = best if best else (0, case.install.path, case.install.line)
        return f"{tool.split()[0]} cannot install {' '.join(lines)} for {case.target}: {verdict.why}", path, line

    def steer(self, policy: str, pair: Pair, floor: Callable[[str], str]) -> Pair | str:
        """The jax and jaxlib the resolver itself picks for the install that refused `pair`,
        within the rest of the range (below it for `latest`, above it for `minimum`); why
        none, if none."""
        case = self.refused_case or self.cases[0]
        latest = policy == "latest"

        def spec_of(pin: Pin) -> str | None:
            if pin.package == "jax" and pair.jax is not None:
                return _join(floor("jax"), f"<={pair.jax}" if latest else f">={pair.jax}")
            if pin.package == "jaxlib" and pair.jaxlib is not None:
                return _join(floor("jaxlib"), f"<={pair.jaxlib}" if latest else f">={pair.jaxlib}")
            if pin.package in PLUGINS and pair.jaxlib is not None:
                # written at jaxlib's version, so held to jaxlib's side of the range: an older
                # plugin may lack an extra the file asks of it (`[with_cuda]`), which refuses all
                return _join(floor("jaxlib"), f"<={pair.jaxlib}" if latest else f">={pair.jaxlib}")
            if pin.package in PLUGINS:
                return ANY
            return self.targets_for(pair).for_pin(pin)

        answer = solver.ask(self.question(case, spec_of, lowest=not latest), self.resolver)
        if answer.state != "installs":
            return answer.reason or "the resolver found nothing in the range"
        found = answer.version_of("jax")
        if found is None:
            return "the resolver's answer has no jax"
        lib = answer.version_of("jaxlib")
        return Pair(found, Version(lib.public) if lib is not None else None)


def _join(*specs: str) -> str:
    return ",".join(s for s in specs if s)


def _with_page(url: str, page: str) -> str:
    base = url.rstrip("/").rsplit("/", 1)[-1]
    return url[: len(url) - len(base)] + page if base in PAGES else url

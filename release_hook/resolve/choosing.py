"""The search part of a decision: the candidates jax's rules allow (candidates.py), walked in
the policy's order (search.py), each verified by the real resolver with the whole install
(trial.py) or by the table of import breaks; and the versions given with --pin, asked as they are."""
from __future__ import annotations

from typing import Callable

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from release_hook.errors import UserError
from release_hook.resolve import search
from release_hook.resolve.cuda import NoBuild
from release_hook.resolve.search import Pair, Skipped, Verdict
from release_hook.resolve.refusals import Refusals
from release_hook.resolve.targets import PLUGINS


class Choosing(Refusals):
    """Part of deciding.Deciding; says what went wrong through Refusals."""

    def choose(self, wants_jax: bool, wants_jaxlib: bool) -> search.Outcome:
        reqs = self.shared.requirements()
        need = {name: reqs.specifiers.get(name, SpecifierSet()) for name in ("jax", "jaxlib")}
        self.requirement_text = {"jax": reqs.text("jax"), "jaxlib": reqs.text("jaxlib")}
        jaxes: list[Version | None]
        if wants_jax:
            jaxes = list(self.rules.offered.versions("jax", need["jax"]))
            if not jaxes:
                raise self.at_pin(self.no_candidates("jax", need["jax"], reqs.text("jax"), reqs.source), ("jax",))
        else:
            jaxes = [_public(self.explicit["jax"])] if "jax" in self.explicit else [None]
        self.jax_candidates = [v for v in jaxes if v is not None]
        jaxlibs: list[Version | None]
        if wants_jaxlib:
            jaxlibs = list(self.rules.offered.jaxlib_versions(need["jaxlib"]))
            if not jaxlibs:
                raise self.at_pin(self.no_candidates("jaxlib", need["jaxlib"], reqs.text("jaxlib"), reqs.source),
                                   ("jaxlib", *PLUGINS))
        else:
            jaxlibs = [_public(self.explicit["jaxlib"])] if "jaxlib" in self.explicit else [None]

        passed: dict[Pair, tuple[tuple[Version | None, str], ...]] = {}

        def best_pair(jax: Version | None, allowed: Callable[[Version], bool]) -> Pair | str:
            try:
                lib, why, over = self.rules.best_pair(self.policy, jax,
                                                      [v for v in jaxlibs if v is None or allowed(v)])
            except NoBuild as e:
                return e.message
            except UserError as e:
                raise self.at_pin(e, ("jaxlib", *PLUGINS, "jax")) from None
            if why:
                return why
            passed[Pair(jax, lib)] = over
            return Pair(jax, lib)

        def floor(name: str) -> str:
            return str(need.get(name, ""))

        verify = self.verify
        steer = (lambda pair: self.trial.steer(self.policy, pair, floor)) if not self.not_asked else None
        outcome = search.search(self.policy, jaxes, best_pair, verify, steer)
        if outcome.pair is not None:  # why the answer's jax did not take a jaxlib before its own
            outcome.passed = [Skipped(Pair(outcome.pair.jax, lib), "rules", why)
                              for lib, why in passed.get(outcome.pair, ())]
        if outcome.pair is None:
            raise self.at_pin(self.nothing_fits(outcome, wants_jax, wants_jaxlib, floor), ("jax", "jaxlib", *PLUGINS))
        return outcome

    def verify(self, pair: Pair) -> Verdict:
        table = self.imports.table(pair.jax)  # answers offline and without the image's Python
        if table is not None and not table.ok:
            return Verdict(False, "rejected", table.said, "import", below=table.below, monotone=True)
        if self.not_asked:
            verdict = Verdict(True, "unproved", f"not asked: {self.not_asked}")
        else:
            try:
                verdict = self.trial.verify(pair)
            except NoBuild as e:
                return Verdict(False, "rejected", e.message, "rules")
        if verdict.ok and not verdict.notes:
            said = table.said if table is not None else self.imports.unproved()
            verdict = verdict._replace(notes=(said,) * len(self.cases) if said else ())
        return verdict

    def given(self) -> search.Outcome:
        """The versions given with --pin, asked of the resolver as they are."""
        pair = Pair(_public(self.explicit["jax"]) if "jax" in self.explicit else None,
                    _public(self.explicit["jaxlib"]) if "jaxlib" in self.explicit else None)
        verdict = self.verify(pair)
        if not verdict.ok:
            message, path, line = self.trial.refusal(pair, verdict)
            if "jax" in self.explicit:  # a jax that installs there, with what it needs
                from release_hook.resolve import hints

                case = self.trial.refused_case or self.cases[0]
                message += hints.suggestion("jax", self.explicit["jax"], case.target, self.trial.resolver,
                                            lambda: None)
            raise UserError(message, path, line)
        return search.Outcome(pair, verdict)


def _public(version: str) -> Version:
    """A version without its local tag (`0.4.25+cuda11.cudnn86` is jaxlib 0.4.25's build)."""
    return Version(Version(version).public)

"""A decision the memo does not know (decide.py): the search over what jax's rules allow
(choosing.py), its answer (results.py), and what it says when nothing fits (refusals.py), with
the decision's own state. Imported only then: a run the memo answers never loads the resolver's
machinery (the pre-push check of an in-step commit, every bump after the first).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from release_hook.resolve import search
from release_hook.resolve.candidates import Candidates
from release_hook.resolve.choosing import Choosing
from release_hook.resolve.results import Results
from release_hook.resolve.state import DecisionState
from release_hook.resolve.targets import Targets

if TYPE_CHECKING:
    from release_hook.resolve.importing import Imports
    from release_hook.resolve.trial import Trial


class Deciding(Results, Choosing):
    def __init__(self, decision: DecisionState) -> None:
        vars(self).update(vars(decision))  # the same state: one decision, now searched
        shared = self.shared
        self.rules = Candidates(shared, self.pins, self.images, self.explicit, self.fetch, self.as_of)
        self._imports: Imports | None = None
        self._trial: Trial | None = None

    # The import table, the resolver and the smoke test are loaded only when a pair is tried:
    # versions given with --pin and --offline (or nothing but the package pinned) need none.
    @property
    def imports(self) -> Imports:
        if self._imports is None:
            from release_hook.resolve.importing import Imports

            self._imports = Imports(self.package, self.shared.request.version, self.policy == "latest",
                                    self.smoke, self.shared.smoke_settings())
        return self._imports

    @property
    def trial(self) -> Trial:
        if self._trial is None:
            from release_hook.resolve import solver
            from release_hook.resolve.trial import Trial

            self._trial = Trial(self.cases, self.package, solver.choose(), self.targets_for,
                                self.shared.published, self.shared.exclude_newer(),
                                lambda name, v: self.shared.index.metadata(name, v).requires_dist,
                                self.shared.unreachable, self.imports)
        return self._trial

    def decide(self, versions: dict[str, str], wants_jax: bool, wants_jaxlib: bool) -> Targets:
        if self.fetch:
            self.check_release()
        outcome: search.Outcome | None = None
        if wants_jax or wants_jaxlib:
            outcome = self.choose(wants_jax, wants_jaxlib)
            assert outcome.pair is not None
            if wants_jax and outcome.pair.jax is not None:
                versions["jax"] = str(outcome.pair.jax)
            if wants_jaxlib and outcome.pair.jaxlib is not None:
                versions["jaxlib"] = str(outcome.pair.jaxlib)
        elif self.needed and not self.not_asked:
            outcome = self.given()
        return self.finish(versions, outcome)

"""What one decision knows, declared once for decide.Decision, which sets it, and the parts of
deciding.Deciding that read it (results.py, refusals.py, choosing.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

from packaging.version import Version

from release_hook.errors import UserError
from release_hook.found import Pin
from release_hook.resolve.image import Image
from release_hook.resolve.targets import Proof

if TYPE_CHECKING:
    import datetime
    from release_hook.resolve.candidates import Candidates
    from release_hook.resolve.importing import Imports
    from release_hook.resolve.install import Case
    from release_hook.resolve.sources import Sources
    from release_hook.resolve.trial import Trial


class DecisionState:
    shared: Sources
    policy: str
    package: str
    pins: list[Pin]
    images: dict[str, Image]  # base image name -> the image
    cases: list[Case]  # each stage's install and image
    explicit: dict[str, str]  # --pin
    needed: set[str]  # the kept packages the pins name, besides the released one
    fetch: bool  # whether anything is read (not when --pin gives everything)
    as_of: datetime.datetime | None
    rules: Candidates
    not_asked: str  # why the resolver is not asked ("" when it is)
    smoke: bool  # whether a candidate must also import (--smoke)
    blind: dict[tuple[str, int], str]  # stages no resolver can be asked about, and why
    requirement_text: dict[str, str]
    jax_candidates: list[Version]
    texts: Mapping[str, str]

    @property
    def imports(self) -> Imports:
        raise NotImplementedError  # Deciding's: the import check (the table; with --smoke a real import)

    @property
    def trial(self) -> Trial:
        raise NotImplementedError  # Decision's: the resolver asked for this decision

    def at_pin(self, e: UserError, packages: Sequence[str]) -> UserError:
        """The error placed at the first pin of `packages` when it names no line itself."""
        if e.path is None:
            first = next((p for p in self.pins if p.package in packages), self.pins[0])
            e.path, e.line = first.path, first.line
        return e

    def blind_proofs(self) -> dict[tuple[str, int], Proof]:
        """The proof of each stage no resolver can be asked about: why, from this decision's
        own images (a decision shared from another file or from the memo has the same)."""
        return {node: Proof("unproved", "", (), why, False, "", "") for node, why in self.blind.items()}

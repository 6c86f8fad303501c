"""What a decision says when nothing fits: the release that needs another Python, the
neighbour that stands in the way of every candidate, the rule that refused them all; each with
a hint that itself fits (hints.py)."""
from __future__ import annotations

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from release_hook.errors import UserError
from release_hook.resolve import search
from release_hook.resolve.candidates import Candidates
from release_hook.resolve.image import Image, Target
from release_hook.resolve.state import DecisionState
from release_hook.resolve.view import python_accepts


class Refusals(DecisionState):
    """Part of deciding.Deciding."""

    def check_release(self) -> None:
        """The released package itself must install in every image."""
        raw = self.shared.raw_requirements()
        for image in self.images.values():
            if python_accepts(raw.requires_python, image.python):
                continue
            pin = next((p for p in self.pins if p.package == self.package), self.pins[0])
            raise UserError(f"{self.package} {self.shared.request.version} needs Python {raw.requires_python}; "
                            f"the image has {image.python_text} ({image.name}){self.release_hint(image)}",
                            pin.path, pin.line)

    def release_hint(self, image: Image) -> str:
        """A release of the package whose whole chain installs in the image (hints.py)."""
        from release_hook.resolve import hints, solver  # a refusal's hint: not loaded on the way to an answer

        target = image.target()
        asking = isinstance(target, Target) and not self.not_asked

        def walk() -> Version | None:
            try:
                releases = [o.version for o in self.shared.offers(image)(self.package)
                            if o.fits and not o.yanked and not o.version.is_prerelease]
            except UserError:
                return None
            return hints.walked(self.package, releases,
                                lambda name, v: self.shared.index.metadata(name, v).requires_dist,
                                lambda name, spec: bool(self.rules.offered.versions(name, SpecifierSet(spec))))

        try:
            return hints.suggestion(self.package, self.shared.request.version,
                                    target if asking else None,  # type: ignore[arg-type]
                                    solver.choose() if asking else None, walk)
        except UserError:  # the index could not say: the refusal stands without a hint
            return ""

    def nothing_fits(self, outcome: search.Outcome, wants_jax: bool, wants_jaxlib: bool, floor) -> UserError:  # type: ignore[no-untyped-def]
        what = "jax/jaxlib pair" if wants_jax and wants_jaxlib else "jax" if wants_jax else "jaxlib"
        fits = ", ".join(sorted({f"Python {i.python_text}, {i.platform}" for i in self.images.values()}))
        tried = [s for s in outcome.skipped if s.kind != "rules"]
        if tried and tried[0].kind == "resolver" and not self.not_asked:
            low = min((s.pair for s in tried), key=lambda p: (p.jax or Version("0"), p.jaxlib or Version("0")))
            from release_hook.resolve.blocker import find as find_blocker

            known = set(self.jax_candidates)
            blocker = find_blocker(self.trial, low, floor, lambda v: not known or v in known,
                                         min(known) if known else None)
            if blocker is not None:
                spec = floor("jax") or "in range"
                return UserError(f"no jax {spec} installs beside {blocker.requirement} (line {blocker.line}): "
                                 f"{blocker.because}", self.pins[0].path, blocker.line)
            return UserError(f"no {what} for {fits} installs with the rest of this install: {tried[0].why}")
        reasons = [s.why for s in outcome.skipped] or [outcome.exhausted or "jax refuses every jaxlib in range"]
        at: tuple[str | None, int | None] = (None, None)
        nowhere = self.rules.extra_nowhere()
        if nowhere is not None:  # said of every release read, not of the first candidate alone
            name, extra, read = nowhere
            reasons = [f"the file asks {name}[{extra}], and no release of it tried has that extra "
                       f"({', '.join(map(str, read))})"]
            pin = next(p for p in self.pins if p.package == name and extra in p.extras)
            at = (pin.path, pin.line)
        names = self.names_of_images()
        return UserError(f"no {what} satisfies the release ({self.requirement_text.get('jax')}, "
                         f"{self.requirement_text.get('jaxlib')}) and jax's rules for {names} ({fits}): {reasons[0]}",
                         *at)

    def names_of_images(self) -> str:
        return ", ".join(sorted(self.images))

    def no_candidates(self, project: str, spec: SpecifierSet, text: str, source: str) -> UserError:
        refusal = self.rules.offered.refusal(project, spec)
        if refusal:
            # not "newest jax that fits", which the release may refuse: a release that fits
            head = refusal.split("; newest that fits")[0].split("; no release of it fits")[0]
            image = next(iter(self.images.values()))
            return UserError(f"{self.package} {self.shared.request.version} needs {text}, and {head}"
                             f"{self.release_hint(image)}")
        if self.as_of is not None:
            undated = Candidates(self.shared, self.pins, self.images, self.explicit, self.fetch, None)
            if undated.offered.versions(project, spec):
                return UserError(f"no {project} satisfying {text} (from {source}) was published by "
                                 f"{self.as_of:%Y-%m-%d %H:%M %Z}")
        return UserError(f"no released {project} satisfies {text} (from {source})")


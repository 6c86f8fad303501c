"""One decision: the versions a set of pins should carry (the pins of build stages that share
written bytes, or of one stage), chosen by the policy's search over what jax's rules allow
(candidates.py), each candidate tried by the real resolver with the whole install (trial.py).
The kept answer is also the proof.
"""
from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from release_hook.errors import UserError
from release_hook.found import Note, Pin
from release_hook.resolve import hints, memo, pairing, search, smoke, solver, traps
from release_hook.resolve.candidates import Candidates
from release_hook.resolve.cuda import NoBuild
from release_hook.resolve.image import Image, Target
from release_hook.resolve.importing import Imports
from release_hook.resolve.search import Pair, Verdict
from release_hook.resolve.targets import PLUGINS, Because, Proof, Targets
from release_hook.resolve.trial import Case, Trial
from release_hook.resolve.view import python_accepts

if TYPE_CHECKING:
    from release_hook.resolve.sources import Sources


def verifying(shared: Sources) -> str:
    """Why the resolver is not asked in this run ("" when it is)."""
    request = shared.request
    for why, on in (("--offline", request.offline), ("--no-verify", not request.verify),
                    ("RELEASE_HOOK_VERIFY=0", os.environ.get("RELEASE_HOOK_VERIFY") == "0")):
        if on:
            return why
    return ""


class Decision:
    def __init__(self, shared: Sources, policy: str, members: Sequence[tuple[Pin, Image]],
                 cases: Sequence[Case], texts: Mapping[str, str],
                 blind: Mapping[tuple[str, int], str] = {}) -> None:
        self.shared, self.policy, self.texts = shared, policy, texts
        request = shared.request
        self.package = shared.package
        self.pins = [p for p, _ in members]
        self.images = {p.image: i for p, i in members}
        self.cases = list(cases)
        self.blind = dict(blind) if not verifying(shared) else {}  # stages no resolver can be asked about
        self.explicit = dict(request.pins)
        self.needed = {p.package for p in self.pins if p.package != self.package}
        given = set(self.explicit) | (set(PLUGINS) if "jaxlib" in self.explicit else set())
        # Everything given on the command line: read nothing from anywhere but the snapshot.
        self.fetch = not self.needed <= given
        self.as_of = request.as_of if policy == "latest" else None
        self.rules = Candidates(shared, self.pins, self.images, self.explicit, self.fetch, self.as_of)
        self.not_asked = verifying(shared)
        self.imports = Imports(self.package, request.version, policy == "latest",
                               (request.smoke or shared.config.smoke) and not self.not_asked,
                               smoke.settings(shared.config.smoke_python_downloads, request.offline))
        self.requirement_text: dict[str, str] = {}
        self.jax_candidates: list[Version] = []
        self._trial: Trial | None = None

    @property
    def trial(self) -> Trial:
        if self._trial is None:
            self._trial = Trial(self.cases, self.package, solver.choose(), self.targets_for,
                                self.shared.published, self.shared.exclude_newer(),
                                lambda name, v: self.shared.index.metadata(name, v).requires_dist,
                                self.shared.unreachable, self.imports)
        return self._trial

    def _at_pin(self, e: UserError, packages: Sequence[str]) -> UserError:
        if e.path is None:
            first = next((p for p in self.pins if p.package in packages), self.pins[0])
            e.path, e.line = first.path, first.line
        return e

    # -- the decision ------------------------------------------------------------------------

    def run(self) -> Targets:
        versions = {name: self.explicit[name] for name in self.needed if name in self.explicit}
        jaxlib_pins = [p for p in self.pins if p.package == "jaxlib"]
        plugin_pins = [p for p in self.pins if p.package in PLUGINS]
        wants_jaxlib = bool(jaxlib_pins or plugin_pins) and "jaxlib" not in self.explicit
        wants_jax = "jax" in self.needed and "jax" not in self.explicit
        if self.fetch:
            choosing = f"choosing {', '.join(sorted(self.needed - set(self.explicit)))}"
            try:
                for image in self.images.values():
                    image.needs_python(choosing)
                    image.needs_platform(choosing)
            except UserError as e:
                raise self._at_pin(e, ("jax", "jaxlib", *PLUGINS)) from None
        key = None
        if self.fetch and (wants_jax or wants_jaxlib):
            key = self.memo_key(self.imports.run)
            # a decision proved by import serves a run that does not ask for it, not the reverse
            for k in (key,) if self.imports.run else (self.memo_key(True), key):
                known = memo.load(k, self.shared.request.offline, self.package, self.shared.request.version)
                if known is not None:
                    return self.rekeyed(known)
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
        targets = self.finish(versions, outcome)
        if key is not None:
            memo.store(key, targets)
        return replace(targets, warnings=self.traps(targets))

    def rekeyed(self, known: Targets) -> Targets:
        """A decision made for pins of the same shape (earlier, or in another file), with its
        proofs placed at this decision's stages and the warnings at its pins."""
        proofs = dict(zip(sorted((c.install.path, c.install.stage) for c in self.cases),
                          (p for _, p in sorted(known.proofs.items()))))
        known = replace(known, proofs=proofs)
        return replace(known, warnings=self.traps(known))

    def memo_key(self, imported: bool | None = None) -> str:
        """Everything the decision depends on; `imported`: whether the import was proved."""
        raw = self.shared.raw_requirements()
        cases = sorted(memo.install_shape(c.install) + [c.image.name, str(c.image.cuda), str(c.target)]
                       for c in self.cases)
        request = self.shared.request
        return memo.key(self.package, self.policy, raw, self.explicit, self.pins,
                        [(i.name, str(i.cuda)) for i in self.images.values()],
                        sorted({(i.python, i.platform) for i in self.images.values()}, key=str),
                        request.as_of, request.cuda or self.shared.config.cuda, self.shared.index_urls(),
                        cases, self.not_asked + (" smoke" if (self.imports.run if imported is None else imported) else ""))

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
                                lambda name, spec: bool(self.rules.versions(name, SpecifierSet(spec))))

        try:
            return hints.suggestion(self.package, self.shared.request.version,
                                    target if asking else None,  # type: ignore[arg-type]
                                    solver.choose() if asking else None, walk)
        except UserError:  # the index could not say: the refusal stands without a hint
            return ""

    def choose(self, wants_jax: bool, wants_jaxlib: bool) -> search.Outcome:
        reqs = self.shared.requirements()
        need = {name: reqs.specifiers.get(name, SpecifierSet()) for name in ("jax", "jaxlib")}
        self.requirement_text = {"jax": reqs.text("jax"), "jaxlib": reqs.text("jaxlib")}
        jaxes: list[Version | None]
        if wants_jax:
            jaxes = list(self.rules.versions("jax", need["jax"]))
            if not jaxes:
                raise self._at_pin(self.no_candidates("jax", need["jax"], reqs.text("jax"), reqs.source), ("jax",))
        else:
            jaxes = [_public(self.explicit["jax"])] if "jax" in self.explicit else [None]
        self.jax_candidates = [v for v in jaxes if v is not None]
        jaxlibs: list[Version | None]
        if wants_jaxlib:
            jaxlibs = list(self.rules.jaxlib_versions(need["jaxlib"]))
            if not jaxlibs:
                raise self._at_pin(self.no_candidates("jaxlib", need["jaxlib"], reqs.text("jaxlib"), reqs.source),
                                   ("jaxlib", *PLUGINS))
        else:
            jaxlibs = [_public(self.explicit["jaxlib"])] if "jaxlib" in self.explicit else [None]

        def best_pair(jax: Version | None, allowed: Callable[[Version], bool]) -> Pair | str:
            try:
                lib, why = self.rules.best_pair(self.policy, jax, [v for v in jaxlibs if v is None or allowed(v)])
            except NoBuild as e:
                return e.message
            except UserError as e:
                raise self._at_pin(e, ("jaxlib", *PLUGINS, "jax")) from None
            if why:
                return why
            return Pair(jax, lib)

        def floor(name: str) -> str:
            return str(need.get(name, ""))

        verify = self.verify
        steer = (lambda pair: self.trial.steer(self.policy, pair, floor)) if not self.not_asked else None
        outcome = search.search(self.policy, jaxes, best_pair, verify, steer)
        if outcome.pair is None:
            raise self._at_pin(self.nothing_fits(outcome, wants_jax, wants_jaxlib, floor), ("jax", "jaxlib", *PLUGINS))
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
            verdict = replace(verdict, notes=(said,) * len(self.cases) if said else ())
        return verdict

    def given(self) -> search.Outcome:
        """The versions given with --pin, asked of the resolver as they are."""
        pair = Pair(_public(self.explicit["jax"]) if "jax" in self.explicit else None,
                    _public(self.explicit["jaxlib"]) if "jaxlib" in self.explicit else None)
        verdict = self.verify(pair)
        if not verdict.ok:
            message, line = self.trial.refusal(pair, verdict)
            if "jax" in self.explicit:  # a jax that installs there, with what it needs
                case = self.trial.refused_case or self.cases[0]
                message += hints.suggestion("jax", self.explicit["jax"], case.target, self.trial.resolver,
                                            lambda: None)
            raise UserError(message, self.pins[0].path, line)
        return search.Outcome(pair, verdict)

    def nothing_fits(self, outcome: search.Outcome, wants_jax: bool, wants_jaxlib: bool, floor) -> UserError:  # type: ignore[no-untyped-def]
        what = "jax/jaxlib pair" if wants_jax and wants_jaxlib else "jax" if wants_jax else "jaxlib"
        fits = ", ".join(sorted({f"Python {i.python_text}, {i.platform}" for i in self.images.values()}))
        tried = [s for s in outcome.skipped if s.kind != "rules"]
        if tried and tried[0].kind == "resolver" and not self.not_asked:
            low = min((s.pair for s in tried), key=lambda p: (p.jax or Version("0"), p.jaxlib or Version("0")))
            known = set(self.jax_candidates)
            blocker = self.trial.blocker(low, floor, lambda v: not known or v in known,
                                         min(known) if known else None)
            if blocker is not None:
                spec = floor("jax") or "in range"
                return UserError(f"no jax {spec} installs beside {blocker.requirement} (line {blocker.line}): "
                                 f"{blocker.because}", self.pins[0].path, blocker.line)
            return UserError(f"no {what} for {fits} installs with the rest of this install: {tried[0].why}")
        reasons = [s.why for s in outcome.skipped] or [outcome.exhausted or "jax refuses every jaxlib in range"]
        names = self.names_of_images()
        return UserError(f"no {what} satisfies the release ({self.requirement_text.get('jax')}, "
                         f"{self.requirement_text.get('jaxlib')}) and jax's rules for {names} ({fits}): {reasons[0]}")

    def names_of_images(self) -> str:
        return ", ".join(sorted(self.images))

    def no_candidates(self, project: str, spec: SpecifierSet, text: str, source: str) -> UserError:
        refusal = self.rules.refusal(project, spec)
        if refusal:
            # not "newest jax that fits", which the release may refuse: a release that fits
            head = refusal.split("; newest that fits")[0].split("; no release of it fits")[0]
            image = next(iter(self.images.values()))
            return UserError(f"{self.package} {self.shared.request.version} needs {text}, and {head}"
                             f"{self.release_hint(image)}")
        if self.as_of is not None:
            undated = Candidates(self.shared, self.pins, self.images, self.explicit, self.fetch, None)
            if undated.versions(project, spec):
                return UserError(f"no {project} satisfying {text} (from {source}) was published by "
                                 f"{self.as_of:%Y-%m-%d %H:%M %Z}")
        return UserError(f"no released {project} satisfies {text} (from {source})")

    # -- the targets of a pair ---------------------------------------------------------------

    def targets_for(self, pair: Pair) -> Targets:
        versions = {name: self.explicit[name] for name in self.needed if name in self.explicit}
        if pair.jax is not None and "jax" in self.needed:
            versions.setdefault("jax", str(pair.jax))
        if pair.jaxlib is not None and self.needs_jaxlib():
            versions.setdefault("jaxlib", str(pair.jaxlib))
        return self.finish(versions, None, record=False)

    def needs_jaxlib(self) -> bool:
        return any(p.package == "jaxlib" or p.package in PLUGINS for p in self.pins)

    def finish(self, versions: dict[str, str], outcome: search.Outcome | None, record: bool = True) -> Targets:
        request = self.shared.request
        tags, pages = {}, {}
        why: dict[str, Because] = {name: Because("given") for name in self.explicit} if record else {}
        if "jaxlib" in versions:
            chosen = _public(versions["jaxlib"])
            jax = _public(versions["jax"]) if "jax" in versions else None
            release = self.rules.release(jax)
            for stage in self.rules.stages():
                if "+" in versions["jaxlib"]:
                    continue  # a tagged --pin is written as given
                try:
                    tag, page, found_in = self.rules.build(chosen, stage, release)
                except UserError as e:
                    at = (stage.jaxlib_pins or stage.plugin_pins or (self.pins[0],))[0]
                    if e.path is None:
                        e.path, e.line = at.path, at.line
                    raise
                if tag is not None:
                    tags[stage.image.name] = tag
                if page:
                    pages[stage.image.name] = page
                if found_in and record:
                    why[f"build for {stage.image.name}"] = Because(
                        "build", tag=tag or "", cuda=str(stage.image.cuda or ""), found_in=found_in)
            if record:
                for name in sorted({p.package for p in self.pins if p.package in PLUGINS} - set(self.explicit)):
                    need = pairing.requirement_of(release, name, self.rules.extras) if release is not None else None
                    requires = f"jax {jax}[{','.join(self.rules.extras)}] requires {name}{need}" if need else ""
                    why[name] = Because("follows", paired_with=str(chosen), requires=requires)
        if record and outcome is not None:
            why.update(self.because(outcome))
        raw = self.shared.raw_requirements() if self.fetch else None
        targets = Targets(self.package, request.version, versions, tags, pages, why,
                          policy=self.policy, requirements=self.requirement_text,
                          requirements_from=raw.source if raw is not None and self.requirement_text else "",
                          skipped=tuple((str(s.pair), s.kind, s.why) for s in outcome.skipped) if outcome else ())
        return replace(targets, proofs=self.proofs(outcome, targets)) if record else targets

    def because(self, outcome: search.Outcome) -> dict[str, Because]:
        pair = outcome.pair
        if pair is None:
            return {}
        images = tuple(sorted({f"Python {i.python_text}, {i.platform}" for i in self.images.values()}))
        as_of = f"{self.as_of:%Y-%m-%d %H:%M %Z}" if self.as_of else ""
        verdict = outcome.verdict
        proof = verdict.state if verdict is not None else "not asked"
        proof_why = self.not_asked or (verdict.why if verdict is not None and verdict.state != "installs" else "")
        out: dict[str, Because] = {}
        if pair.jax is not None and "jax" not in self.explicit:
            out["jax"] = Because("chosen", self.policy, images, as_of, self.shared.index.answered.get("jax", "index"),
                                 proof, proof_why, len(outcome.skipped))
        if pair.jaxlib is not None and "jaxlib" not in self.explicit:
            out["jaxlib"] = Because("chosen", self.policy, images, as_of, proof=proof, proof_why=proof_why,
                                    paired_with=str(pair.jax) if pair.jax else "")
        return out

    def proofs(self, outcome: search.Outcome | None, targets: Targets) -> dict[tuple[str, int], Proof]:
        """Each stage's answer for the chosen versions (the proof), with what was asked."""
        out: dict[tuple[str, int], Proof] = {}
        verdict = outcome.verdict if outcome is not None else None
        answers = verdict.answers if verdict is not None and verdict.ok else ()
        notes = verdict.notes if verdict is not None and verdict.ok else ()
        published = self.shared.published if not self.not_asked else (lambda project, version: None)
        for i, case in enumerate(self.cases):
            asked, left = case.install.lines(targets.for_pin, self.package, published)
            left = tuple(case.install.left_out) + left
            constraints = tuple(r.text for r in case.install.constraints)
            node = (case.install.path, case.install.stage)
            imported = notes[i] if i < len(notes) else ""
            if i < len(answers):
                a = answers[i]
                out[node] = Proof(a.state, a.tool, a.installs, a.reason, a.cached,  # type: ignore[attr-defined]
                                  str(case.target), case.target.libc, left, asked, constraints, imported)
            else:
                why = self.not_asked or (verdict.why if verdict is not None else "") or "no version was chosen here"
                out[node] = Proof("not asked", "", (), why, False, str(case.target), case.target.libc, left,
                                  asked, constraints, imported)
        for node, why in self.blind.items():
            out[node] = Proof("unproved", "", (), why, False, "", "")
        return out

    def traps(self, targets: Targets) -> tuple[Note, ...]:
        """Where no resolver answered, the runtime traps of the chosen versions are warnings at
        each pin (never cached: lines move); an answer replaces the guess."""
        if targets.proofs and all(p.state == "installs" for p in targets.proofs.values()):
            return ()
        versions = targets.versions
        by_path: dict[tuple[str, str], list[Pin]] = {}
        for pin in self.pins:
            by_path.setdefault((pin.path, pin.package), []).append(pin)
        warnings: list[Note] = []
        pythons = {i.python for i in self.images.values()}
        python = min((p for p in pythons if p is not None), default=None)
        for (path, package), mine in sorted(by_path.items()):
            text = self.texts.get(path, "")
            if package == "jax" and "jax" in versions:
                warnings += traps.scipy_trap(_public(versions["jax"]), python, mine, text)
            if package == "jaxlib" and "jaxlib" in versions:
                warnings += traps.numpy_trap(_public(versions["jaxlib"]), python, mine, text)
        return tuple(warnings)


def _public(version: str) -> Version:
    """A version without its local tag (`0.4.25+cuda11.cudnn86` is jaxlib 0.4.25's build)."""
    return Version(Version(version).public)

"""A decision's answer as the rest of the tool takes it: the targets of each pin, the jaxlib
build of each image, the reasons as values (targets.Because), and each stage's proof."""
from __future__ import annotations


from packaging.version import Version

from release_hook.errors import UserError
from release_hook.resolve import pairing, search
from release_hook.resolve.search import Pair
from release_hook.resolve.state import DecisionState
from release_hook.resolve.targets import PLUGINS, Because, Proof, Targets


class Results(DecisionState):
    """Part of deciding.Deciding."""

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
                          skipped=tuple((str(s.pair), s.kind, s.why) for s in (*outcome.skipped, *outcome.passed))
                          if outcome else ())
        return targets._replace(proofs=self.proofs(outcome, targets)) if record else targets

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
            nearest = outcome.passed[-1] if outcome.passed else None  # the last tried before the answer
            out["jaxlib"] = Because("chosen", self.policy, images, as_of, proof=proof, proof_why=proof_why,
                                    skipped=len(outcome.passed), paired_with=str(pair.jax) if pair.jax else "",
                                    passed=f"{nearest.pair.jaxlib}: {nearest.why}" if nearest else "")
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
        out.update(self.blind_proofs())
        return out


def _public(version: str) -> Version:
    """A version without its local tag (`0.4.25+cuda11.cudnn86` is jaxlib 0.4.25's build)."""
    return Version(Version(version).public)


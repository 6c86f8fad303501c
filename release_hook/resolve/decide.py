"""One decision: the versions a set of pins should carry (the pins of build stages that share
written bytes, or of one stage), chosen by the policy's search over what jax's rules allow
(deciding.py: candidates.py, each candidate tried by the real resolver with the whole install,
trial.py). The kept answer is also the proof, remembered (memo.py) under everything it
depends on; and where no resolver answered, the runtime traps are warnings at the pins.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Mapping, Sequence

from packaging.version import Version

from release_hook.errors import UserError
from release_hook.found import Note, Pin
from release_hook.resolve import memo, traps
from release_hook.resolve.image import Image
from release_hook.resolve.install import Case, Install
from release_hook.resolve.state import DecisionState
from release_hook.request import resolver_left_out
from release_hook.resolve.targets import PLUGINS, Proof, Targets

if TYPE_CHECKING:
    from release_hook.resolve.sources import Sources


def verifying(shared: Sources) -> str:
    """Why the resolver is not asked in this run ("" when it is); asked once per run."""
    if shared.not_asked is None:
        shared.not_asked = resolver_left_out(shared.request)
    return shared.not_asked


class Decision(DecisionState):
    """One decision's state and its memo; what the memo does not know is searched (deciding.py)."""

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
        self.not_asked = verifying(shared)
        self.smoke = bool((request.smoke or shared.config.smoke) and not self.not_asked)  # prove by import
        self.requirement_text: dict[str, str] = {}
        self.jax_candidates: list[Version] = []

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
                raise self.at_pin(e, ("jax", "jaxlib", *PLUGINS)) from None
        key: str | None = None
        keys: tuple[str, ...] = ()
        if self.fetch and (wants_jax or wants_jaxlib):
            key = self.memo_key(self.smoke)
            # a decision proved by import serves a run that does not ask for it, not the reverse
            keys = (key,) if self.smoke else (self.memo_key(True), key)
        elif not self.fetch:  # every version given: the builds and the proof are still decided
            key = self.given_key()
            keys = (key,)
        for k in keys:
            known = memo.load(k, self.shared.request.offline, self.package, self.shared.request.version)
            if known is not None:
                return self.rekeyed(known)
        from release_hook.resolve.deciding import Deciding  # the search: only when the memo does not know

        targets = Deciding(self).decide(versions, wants_jax, wants_jaxlib)
        order = self.stage_order()
        proofs = sorted(targets.proofs.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
        targets = targets._replace(proofs=dict(proofs))  # the memo keeps them in this order
        if key is not None:
            memo.store(key, targets)
        return targets._replace(warnings=self.trap_warnings(targets))

    def asked_here(self, install: Install, proof: Proof, known: Targets) -> Proof:
        """The proof with its question as this install asks it, and what it left out said at
        this install's own lines (the decision's first file had its own); whether the release
        was on the index is the decision's answer, not asked again."""
        late = {e for e in proof.left_out if e.endswith(" (not on the index yet)")}
        asked, left = install.lines(known.for_pin, self.package,
                                    lambda project, version: f"{project} {version} (not on the index yet)" not in late)
        return proof._replace(asked=asked, left_out=tuple(install.left_out) + left,
                              constraints=tuple(r.text for r in install.constraints))

    def stage_order(self) -> dict[tuple[str, int], int]:
        """The decision's stages by what their question was (its shape), then by place: the
        order its proofs are kept in, so that another decision of the same shape, whose stages
        may come in another order, gives each stage the answer to its own question."""
        shaped = sorted((json.dumps(shape, default=str), c.install.path, c.install.stage)
                        for c, shape in zip(self.cases, self.case_shapes(sort=False)))
        return {(path, stage): i for i, (_, path, stage) in enumerate(shaped)}

    def rekeyed(self, known: Targets) -> Targets:
        """A decision made for pins of the same shape (earlier, or in another file), with its
        proofs placed at this decision's stages and the warnings at its pins."""
        proofs = dict(zip(self.stage_order(), known.proofs.values()))
        request = self.shared.request
        if request.mode != "write" or request.explain:  # only shown there: a write of 1,000 files
            installs = {(c.install.path, c.install.stage): c.install for c in self.cases}  # pays 6%
            proofs = {node: self.asked_here(installs[node], proof, known) for node, proof in proofs.items()}
        # the stages no resolver is asked about are not among the questions: their proofs are
        # this decision's own (the memo keeps them after the others, and zip left them out)
        proofs.update(self.blind_proofs())
        # the warnings read the proofs' verdicts and the versions, which re-keying keeps
        return known._replace(proofs=proofs, warnings=self.trap_warnings(known))

    def run_key(self) -> str:
        """What decides this decision, for decisions of one run that are alike (a thousand
        files of one shape): the memo's key, or without reading anything when --pin gives all."""
        if self.fetch:
            return self.memo_key()
        shape = sorted({memo.pin_shape(p) for p in self.pins})  # the pages its pip reads among them
        cases = self.case_shapes()
        return json.dumps(["given", self.policy, sorted(self.explicit.items()), shape, cases,
                           sorted((i.name, str(i.cuda)) for i in self.images.values()), self.not_asked,
                           sorted(self.blind.values())], default=str)

    def given_key(self) -> str:
        """The memo's key of a decision whose versions --pin gave: the run's key, and what else
        the build and the proof read (the CUDA said, the indexes, the import proof). Without
        it a sync with every version given imported the search (packaging's requirement
        parser, the builds, the rules) on every run: 25 ms of a 1-file sync's 105 ms."""
        request = self.shared.request
        return json.dumps(["given", 3, self.run_key(), request.cuda or self.shared.config.cuda,
                           self.shared.index_key(), self.smoke, self.as_of], default=str)

    def case_shapes(self, sort: bool = True) -> list[list[object]]:
        """Each stage's install as far as it decides the answer: without a resolver the rules
        alone decide, and the neighbours then change nothing."""
        shapes = [([] if self.not_asked else memo.install_shape(c.install))
                  + [c.image.name, str(c.image.cuda), str(c.target)] for c in self.cases]
        return sorted(shapes) if sort else shapes

    def memo_key(self, imported: bool | None = None) -> str:
        """Everything the decision depends on; `imported`: whether the import was proved."""
        raw = self.shared.raw_requirements()
        cases = self.case_shapes()
        request = self.shared.request
        return memo.key(self.package, self.policy, raw, self.explicit, self.pins,
                        [(i.name, str(i.cuda)) for i in self.images.values()],
                        sorted({(i.python, i.platform) for i in self.images.values()}, key=str),
                        request.as_of, request.cuda or self.shared.config.cuda, self.shared.index_key(),
                        cases, self.not_asked + (" smoke" if (self.smoke if imported is None else imported) else ""))

    def trap_warnings(self, targets: Targets) -> tuple[Note, ...]:
        """Where no resolver answered, the runtime traps of the chosen versions are warnings at
        each pin (never cached: lines move); an answer replaces the guess. A local-CUDA extra on
        an image of unknown CUDA is said either way."""
        if targets.proofs and all(p.state == "installs" for p in targets.proofs.values()):
            return tuple(self.local_cuda_warnings())  # what no resolver can see
        versions = targets.versions
        by_path: dict[tuple[str, str], list[Pin]] = {}
        for pin in self.pins:
            by_path.setdefault((pin.path, pin.package), []).append(pin)
        warnings: list[Note] = []
        pythons = {i.python for i in self.images.values()}
        python = min((p for p in pythons if p is not None), default=None)
        for (path, package), mine in sorted(by_path.items()):
            installs = [c.install for c in self.cases if any(p in c.install.pins for p in mine)]
            # the file, and what the same installs take from -r / -c files (`numpy<2` there counts)
            text = "\n".join([self.texts.get(path, ""), *(r.text for i in installs
                                                          for r in (*i.requirements, *i.constraints))])
            if package == "jax" and "jax" in versions:
                warnings += traps.scipy_trap(_public(versions["jax"]), python, mine, text)
                extra = [p for p in mine if p.extras]  # its jaxlib unpinned in the install: from the extra
                if extra and not any(q.package == "jaxlib" for i in installs for q in i.pins):
                    warnings += traps.numpy_trap_by_extra(_public(versions["jax"]), python, extra, text)
            if package == "jaxlib" and "jaxlib" in versions:
                warnings += traps.numpy_trap(_public(versions["jaxlib"]), python, mine, text)
        return (*warnings, *self.local_cuda_warnings())

    def local_cuda_warnings(self) -> list[Note]:
        """A jax extra that uses the image's own CUDA (`jax[cuda12_local]`) where nothing says
        which CUDA the image has (an NGC image, a base of one's own): no build can be checked."""
        out = []
        for pin in self.pins:
            image = self.images.get(pin.image)
            local = sorted(e for e in pin.extras if "local" in e)
            if pin.package == "jax" and local and image is not None and image.cuda is None:
                out.append(Note(pin.path, pin.line, f"jax[{','.join(local)}] uses the CUDA installed in the image, "
                                f"and nothing says which CUDA {image.name} has, so its fit is not judged; name "
                                "it with [release_hook] cuda in setup.cfg or --cuda X.Y"))
        return out


@lru_cache(maxsize=256)
def _public(version: str) -> Version:
    """A version without its local tag (`0.4.25+cuda11.cudnn86` is jaxlib 0.4.25's build)."""
    return Version(Version(version).public)

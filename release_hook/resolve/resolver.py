"""Decide every pin's target. The pins of one build stage are decided together, with the whole
install of that stage (install.py); stages that share written bytes (an ARG used by two stages,
a stage built FROM another) are one decision, since one text cannot carry two versions. Each
decision is decide.Decision's; this module forms them and gathers their answers.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from release_hook.context import Context
from release_hook.errors import UserError
from release_hook.found import Pin, Scan
from release_hook.request import policy_function
from release_hook.resolve.decide import Decision
from release_hook.resolve.image import Image, images_of
from release_hook.resolve.install import Install, installs_of, no_files
from release_hook.resolve.sources import ReadFile, Sources, disk_reader
from release_hook.resolve.targets import Resolution, Targets
from release_hook.resolve.install import Case

if TYPE_CHECKING:
    from release_hook.config import Config
    from release_hook.request import Request

Node = tuple[str, int]  # (Dockerfile, build stage)


class _Units:
    """Union-find over build stages, joined where their pins share a written character."""

    def __init__(self) -> None:
        self.parent: dict[object, object] = {}

    def find(self, x: object) -> object:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: object, b: object) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb, key=str)] = min(ra, rb, key=str)


def resolve(config: Config, request: Request, scans: Sequence[Scan], partial: bool = False,
            root_files: ReadFile | None = None, context: Context | None = None) -> Resolution:
    """Targets for every pin, those of the requirements files in `context` too. With `partial`,
    what cannot be decided offline is listed, not raised."""
    policy_of = policy_function(config, request)
    shared = Sources(config, request, root_files or disk_reader(config.root))
    units = _Units()
    images: dict[Node, Image] = {}
    installs: dict[Node, Install] = {}
    pins_of: dict[Node, list[Pin]] = {}
    read_by: dict[Node, list[Node]] = {}  # (requirements file, stage) -> the stages reading it
    texts = {s.path: s.text for s in scans}
    if context is not None:
        texts.update({s.path: s.text for s in context.scans()})
    for scan in scans:
        if not scan.pins and not any(pip.files for facts in scan.stages for pip in facts.pips):
            continue
        scan = context.reading(scan) if context is not None else scan
        stage_images = images_of(scan, config, request)
        read = (lambda stage, scan=scan: context.read_arg(scan, stage)) if context is not None \
            else (lambda stage: no_files)
        for stage, install in installs_of(scan, read, trusted=config.trust_file_indexes).items():
            node = (scan.path, stage)
            installs[node] = install
            images[node] = stage_images[stage]
            units.find(node)
            for pin in install.pins:
                for origin in pin.chars.origin:
                    if origin >= 0:
                        units.join(node, ("bytes", pin.written_in, origin))
                        break
                if pin.path != scan.path:  # a requirements file's pin, stamped with this stage
                    pins_of.setdefault(node, []).append(pin)
                    read_by.setdefault((pin.path, pin.stage), []).append(node)
        for pin in scan.pins:
            node = (pin.path, pin.stage)
            images.setdefault(node, stage_images[pin.stage])
            pins_of.setdefault(node, []).append(pin)
            units.find(node)
    members: dict[object, list[Node]] = {}
    for node in pins_of:
        members.setdefault(units.find(node), []).append(node)
    groups: dict[object, Targets] = {}
    group_of: dict[Node, object] = {}
    decided: dict[str, Targets] = {}  # within this run, by everything a decision depends on
    for root, nodes in sorted(members.items(), key=lambda kv: str(sorted(kv[1]))):
        nodes.sort()
        key = nodes[0]
        for node in nodes:
            group_of[node] = key
        for file_node, readers in read_by.items():
            if any(r in nodes for r in readers):
                group_of[file_node] = key
        policy = _policy(nodes, policy_of)
        pairs = [(p, images[n]) for n in nodes for p in pins_of.get(n, ())]
        cases = [Case(installs[n], images[n], t) for n in nodes if n in installs
                 and not isinstance(t := images[n].target(), str)]
        blind = {n: t for n in nodes if isinstance(t := images[n].target(), str)}
        decision = Decision(shared, policy, pairs, cases, texts, blind)
        try:
            memo = decision.run_key() if len(members) > 1 else None
            if memo is not None and memo in decided:
                groups[key] = decision.rekeyed(decided[memo])
                continue
            groups[key] = decision.run()
            if memo is not None:
                decided[memo] = groups[key]
        except UserError as e:
            from release_hook.resolve.index import IndexUnavailable

            if not (partial and isinstance(e, IndexUnavailable)):
                raise
            missing = {p.package for p, _ in pairs if p.package != shared.package}
            groups[key] = Targets(config.package, request.version, {},
                                  unresolved={m: str(e) for m in missing}, policy=policy)
    warnings = tuple(w for t in groups.values() for w in t.warnings)
    return Resolution(groups, group_of, images, warnings, request.as_of)


def _policy(nodes: Sequence[Node], policy_of) -> str:  # type: ignore[no-untyped-def]
    found = {path: policy_of(path) for path, _ in nodes}
    if len(set(found.values())) > 1:
        listed = ", ".join(f"{p} ({pol})" for p, pol in sorted(found.items()))
        raise UserError(f"these files share pinned versions but follow different policies: {listed}")
    return next(iter(found.values()))

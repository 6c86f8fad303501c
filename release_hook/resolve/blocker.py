"""When no candidate of the range installs: the neighbour that stands in the way, found by
leaving each out in turn and asking the resolver again (those its reason names first), and
what says so (jax's own metadata when jax asks for that package, else the resolver's words)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from release_hook.errors import UserError
from release_hook.found import Pin
from release_hook.resolve import solver
from release_hook.resolve.install import requirement_name
from release_hook.resolve.search import Pair
from release_hook.resolve.targets import PLUGINS
from release_hook.resolve.trial import ANY, KEPT, Trial

MAX_BLOCKER_QUESTIONS = 8  # neighbours tried one by one to find the one that stands in the way


@dataclass(frozen=True)
class Blocker:
    """The neighbour that stands in the way of every candidate, and what says so."""

    requirement: str  # as written: `scipy==1.11.4`
    line: int
    because: str  # `jax 0.7.0 needs scipy>=1.12`, or the resolver's own words



def find(trial: Trial, pair: Pair, floor: Callable[[str], str],
            candidate: Callable[[Version], bool] = lambda v: True,
            lowest: Version | None = None) -> Blocker | None:
    """The neighbour without which the install that refused `pair` would take some jax of
    the range (one of the candidates, not another index's): each is left out in turn,
    those the resolver's reason names first."""
    case = trial.refused_case or trial.cases[0]
    reason = solver.ask(trial.question(case, trial.targets_for(pair).for_pin), trial.resolver).reason
    neighbours = [r for r in (*case.install.requirements, *case.install.constraints)
                  if requirement_name(r.text) not in KEPT]
    neighbours.sort(key=lambda r: _named(reason, r.text))
    spec = {"jax": floor("jax"), "jaxlib": floor("jaxlib")}

    def spec_of(pin: Pin) -> str | None:
        if pin.package in spec:
            return spec[pin.package] or ANY
        if pin.package in PLUGINS:
            return ANY
        return trial.targets_for(pair).for_pin(pin)

    for r in neighbours[:MAX_BLOCKER_QUESTIONS]:
        answer = solver.ask(trial.question(case, spec_of, drop=r.text), trial.resolver)
        jax = answer.version_of("jax")
        if answer.state == "installs" and (jax is None or candidate(jax)):
            # why the lowest candidate cannot (it speaks for every newer one)
            told = Pair(lowest, pair.jaxlib if lowest == pair.jax else None) if lowest else pair
            return Blocker(r.text, r.line, because(trial.requires_of, told, r.text, reason))
    return None

def because(requires_of: Callable[[str, Version], Sequence[str]], pair: Pair, neighbour: str,
            reason: str) -> str:
    """`jax 0.7.0 needs scipy>=1.12` when jax (or jaxlib) itself asks for the neighbour's
    package; else the first sentence of the resolver's reason."""
    name = requirement_name(neighbour)
    for project, version in (("jax", pair.jax), ("jaxlib", pair.jaxlib)):
        if version is None:
            continue
        try:
            lines = requires_of(project, version)
        except UserError:  # an unread metadata file only costs the detail
            continue
        for line in lines:
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue
            if canonicalize_name(req.name) == name and (req.marker is None or req.marker.evaluate({"extra": ""})):
                return f"{project} {version} needs {req.name}{req.specifier}"
    first = re.split(r"(?<=[.;])\s+(?=And because|and because)", reason)[0]
    return _short(first)


def _named(reason: str, requirement: str) -> int:
    """0 when the resolver's reason names the requirement's package, else 1 (for sorting)."""
    name = requirement_name(requirement) or ""
    return 0 if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", reason, re.IGNORECASE) else 1


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."

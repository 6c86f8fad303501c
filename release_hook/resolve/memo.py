"""The jax/jaxlib decision of a group, remembered: every bump asks the same question again.

The key holds everything the decision depends on; the runtime traps are not kept (lines move).
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Mapping, Sequence

from release_hook import cache
from release_hook.resolve.targets import Because, Proof, Targets

if TYPE_CHECKING:
    import datetime
    from release_hook.found import Pin
    from release_hook.resolve.install import Install
    from release_hook.resolve.requirements import RawRequirements

PAIR_TTL = 600.0  # as long as the index's release lists are trusted (see index.PAGE_TTL)


def install_shape(install: Install) -> list[object]:
    """What of an install decides its answer: every requirement but the kept versions, and
    the kept pins it asks about (which packages, their extras, markers and kind): two stages
    alike but for these ask different questions, and each must keep the proof of its own."""
    pins = [(*pin_shape(p), p.kind, p.requirement.partition(";")[2].strip() if p.kind == "requirement" else "")
            for p in install.pins]
    return [sorted(r.text for r in install.requirements), sorted(r.text for r in install.constraints),
            sorted(install.options), install.no_deps, pins]


def pin_shape(pin: Pin) -> tuple[object, ...]:
    """What of a pin decides its answer beyond its version: the package, its extras, the image,
    whether it is written with a build tag, and the addresses its pip reads (jax's CUDA page
    among them decides whether a tag can install)."""
    read = tuple(t for _, t in pin.read_by.options) if pin.read_by is not None else ()
    return (pin.package, tuple(sorted(pin.extras)), pin.image, "+" in pin.version,
            tuple(c.text for _, c in pin.addresses), read)


def key(package: str, policy: str, raw: RawRequirements, explicit: Mapping[str, str], pins: Sequence[Pin],
        images: Sequence[tuple[str, str]], targets: Sequence[object],
        as_of: datetime.datetime | None, cuda: str | None, indexes: Sequence[object],
        installs: Sequence[object], not_asked: str) -> str:
    shape = sorted({pin_shape(p) for p in pins})
    return json.dumps(["pair", 8, package, policy, raw.source, raw.lines, raw.requires_python,
                       sorted(explicit.items()), shape, sorted(images), [str(t) for t in targets],
                       as_of.isoformat() if as_of else None, cuda, list(indexes), installs,
                       not_asked], default=str)


def load(memo_key: str, offline: bool, package: str, version: str) -> Targets | None:
    known = cache.get(memo_key, None if offline else PAIR_TTL)
    if not (isinstance(known, dict) and isinstance(known.get("why"), dict)):
        return None
    try:
        known["why"] = {k: Because.from_json(v) for k, v in known["why"].items()}
        # in the decision's stage order (Decision.stage_order): another of the same shape shares them
        known["proofs"] = {("", i): Proof.from_json(p) for i, p in enumerate(known.get("proofs", []))}
        known["skipped"] = tuple(tuple(map(str, s)) for s in known.get("skipped", []))
        return Targets(package, version, **known)
    except (TypeError, ValueError):
        return None  # not trusted: decided again


def store(memo_key: str, targets: Targets) -> None:
    cache.put(memo_key, {"versions": dict(targets.versions), "cuda_tags": dict(targets.cuda_tags),
                         "pages": dict(targets.pages), "why": {k: v.to_json() for k, v in targets.why.items()},
                         "requirements": dict(targets.requirements), "policy": targets.policy,
                         "requirements_from": targets.requirements_from,
                         "proofs": [p.to_json() for p in targets.proofs.values()],  # the decision's order
                         "skipped": [list(s) for s in targets.skipped]})

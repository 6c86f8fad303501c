"""The jax/jaxlib decision of a group, remembered: every bump asks the same question again.

The key holds everything the decision depends on; the runtime traps are not kept (lines move).
"""
from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING, Mapping, Sequence

from release_hook import cache
from release_hook.resolve.targets import Targets

if TYPE_CHECKING:
    from release_hook.pins import Pin
    from release_hook.resolve.requirements import RawRequirements

PAIR_TTL = 600.0  # as long as the index's release lists are trusted (see index.PAGE_TTL)


def key(package: str, policy: str, raw: RawRequirements, explicit: Mapping[str, str], pins: Sequence[Pin],
        images: Sequence[tuple[str, str]], python: tuple[int, int] | None, platform: str | None,
        as_of: datetime.datetime | None, cuda: str | None, index_urls: Sequence[str]) -> str:
    shape = sorted({(p.package, tuple(sorted(p.extras)), p.image, "+" in p.version,
                     tuple(c.text for _, c in p.addresses)) for p in pins})
    return json.dumps(["pair", 2, package, policy, raw.source, raw.lines, raw.requires_python,
                       sorted(explicit.items()), shape, sorted(images), python, platform,
                       as_of.isoformat() if as_of else None, cuda, list(index_urls)])


def load(memo_key: str, offline: bool, package: str, version: str) -> Targets | None:
    known = cache.get(memo_key, None if offline else PAIR_TTL)
    if not (isinstance(known, dict) and isinstance(known.get("sources"), dict)):
        return None
    known["sources"] = {k: f"{v} (decided earlier, cached)" for k, v in known["sources"].items()}
    try:
        return Targets(package, version, **known)
    except TypeError:
        return None  # not trusted: decided again


def store(memo_key: str, targets: Targets) -> None:
    cache.put(memo_key, {"versions": dict(targets.versions), "cuda_tags": dict(targets.cuda_tags),
                         "pages": dict(targets.pages), "sources": dict(targets.sources),
                         "requirements": dict(targets.requirements), "policy": targets.policy})

"""The order in which a policy tries jax/jaxlib pairs, and the first that passes every rule.

`minimum` is the lowest pair that satisfies everything: the lowest jax that has any good jaxlib,
with the lowest such jaxlib (not the lowest jax and then any jaxlib). `latest` is the newest jax
with its newest good jaxlib. Each jax looked at costs one metadata read, so a cheap test that
needs no metadata (jax's runtime rule) skips whole jax releases first, and a budget bounds the
reads when no pair exists.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from packaging.version import Version

MAX_JAX_READS = 40  # jax releases whose metadata is read before giving up

V = Optional[Version]


def ordered(policy: str, versions: Sequence[Version]) -> list[V]:
    return list(sorted(versions, reverse=policy == "latest"))


@dataclass(frozen=True)
class Outcome:
    pair: tuple[V, V] | None
    reasons: tuple[str, ...]  # why the pairs tried first failed, in the order tried


def first_pair(policy: str, jaxes: Sequence[V], jaxlibs: Sequence[V],
               cheap: Callable[[V, V], bool], problem: Callable[[V, V], "str | None"],
               budget: int = MAX_JAX_READS) -> Outcome:
    """The first (jax, jaxlib) in the policy's order for which `problem` says None."""
    def order(vs: Sequence[V]) -> list[V]:
        known = [v for v in vs if v is not None]
        return list(ordered(policy, known)) if known else [None]

    reasons: list[str] = []
    lib_order = order(jaxlibs)
    for jax in order(jaxes):
        libs = [lib for lib in lib_order if cheap(jax, lib)]
        if not libs:
            continue
        if budget <= 0:
            reasons.append(f"stopped after reading {MAX_JAX_READS} jax releases")
            break
        budget -= 1
        for lib in libs:
            why = problem(jax, lib)
            if why is None:
                return Outcome((jax, lib), tuple(reasons))
            if len(reasons) < 50:
                reasons.append(why)
    return Outcome(None, tuple(reasons))

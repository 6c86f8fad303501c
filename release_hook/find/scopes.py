"""Variable scopes of a Dockerfile: what ENV and ARG define for each build stage, and words
expanded through them with every character's file offset kept."""
from __future__ import annotations

from dataclasses import dataclass, field

from release_hook.dockerfile import Instruction, assignments
from release_hook.errors import UserError
from release_hook.find.found import Chars
from release_hook.spans import NOWHERE, Lit, Var, Word


@dataclass
class Scope:
    env: dict[str, Chars] = field(default_factory=dict)
    args: dict[str, Chars | None] = field(default_factory=dict)

    def lookup(self, name: str) -> Chars | None:
        if name in self.env:
            return self.env[name]
        return self.args.get(name)


def expand(word: Word, scope: Scope, extra: dict[str, Chars] | None = None) -> Chars:
    text: list[str] = []
    origin: list[int] = []
    via: list[bool] = []
    computed: list[str] = []
    undefined: list[str] = []
    for p in word:
        if isinstance(p, Lit):
            text.append(p.text)
            origin.extend(p.origin)
            via.extend([False] * len(p.text))
        elif isinstance(p, Var):
            value = extra.get(p.name) if extra and p.name in extra else scope.lookup(p.name)
            if value is None:
                undefined.append(p.name)
                placeholder = "${" + p.name + "}"
                text.append(placeholder)
                origin.extend([NOWHERE] * len(placeholder))
                via.extend([True] * len(placeholder))
            else:
                text.append(value.text)
                origin.extend(value.origin)
                via.extend([True] * len(value.text))
                computed.extend(value.computed)
                undefined.extend(value.undefined)
        else:
            computed.append(p.source)
            text.append(p.source)
            origin.extend([NOWHERE] * len(p.source))
            via.extend([False] * len(p.source))
    return Chars("".join(text), tuple(origin), tuple(via), tuple(computed), tuple(undefined))


def define(ins: Instruction, escape: str, path: str, scope: Scope, global_scope: Scope) -> None:
    """Add what an ENV or ARG instruction defines to its stage's scope."""
    try:
        found = assignments(ins, escape)
    except UserError as e:
        raise UserError(e.message, path, ins.line) from None
    for a in found:
        if ins.keyword == "ENV":
            assert a.value is not None
            scope.env[a.name] = expand(a.value, scope)
        elif a.value is not None:
            scope.args[a.name] = expand(a.value, scope)
        elif scope is not global_scope and a.name in global_scope.args:
            scope.args[a.name] = global_scope.args[a.name]  # `ARG NAME` re-declares a global
        else:
            scope.args[a.name] = None

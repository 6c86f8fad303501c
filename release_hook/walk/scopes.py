"""ENV and ARG scopes of a Dockerfile, and words expanded through them with every character's
file offset kept: one expansion serves both the pins' spans and the Python's evidence."""
from __future__ import annotations

from release_hook.dockerfile import Instruction, assignments, reference
from release_hook.errors import UserError
from release_hook.found import Chars
from release_hook.spans import Computed, Lit, Mapped, Var, Word
from release_hook.textlines import NOWHERE

# A variable's value, and where it was set (`NAME=value at line N`, for messages).
Bound = tuple[Chars, tuple[str, ...]]

# What a RUN's `unset NAME` leaves of an ENV or ARG value: it hides the value (`$NAME` is
# empty), and `${NAME-word}` / `${NAME+word}` read it as unset, not as set and empty.
UNSET_BOUND: Bound = (Chars("", (), ()), ())


class Scope:
    """The ENV and ARG values in force, changed as the walk goes (a plain class: see found.Chars)."""

    def __init__(self, env: dict[str, Bound] | None = None, args: dict[str, Bound | None] | None = None) -> None:
        self.env: dict[str, Bound] = {} if env is None else env
        self.args: dict[str, Bound | None] = {} if args is None else args

    def lookup(self, name: str) -> Bound | None:
        if name in self.env:
            return self.env[name]
        return self.args.get(name)

    def child(self) -> Scope:
        """A stage built FROM this one: ENV carries over, ARG does not."""
        return Scope(env=dict(self.env))


def known(chars: Chars) -> bool:
    return not chars.computed and not chars.undefined


def expand(word: Word, scope: Scope, local: dict[str, Bound] | None = None) -> Chars:
    if len(word) == 1 and type(word[0]) is Lit:  # the common case: nothing to look up
        lit = word[0]
        return Chars(lit.text, lit.origin, (False,) * len(lit.text))
    text: list[str] = []
    origin: list[int] = []
    via: list[bool] = []
    computed: list[str] = []
    undefined: list[str] = []
    for p in word:
        if isinstance(p, Var) and p.modifier:
            chosen = _modified(p, local[p.name] if local and p.name in local else scope.lookup(p.name))
            if chosen is not None:
                text.append(chosen.text)
                origin.extend(chosen.origin)
                via.extend([True] * len(chosen.text))
                continue
            # the build decides: as any computed part
            p = Computed("${" + p.name + p.modifier + (p.word.text if p.word else "") + "}", p.offset)
        if isinstance(p, Lit):
            text.append(p.text)
            origin.extend(p.origin)
            via.extend([False] * len(p.text))
        elif isinstance(p, Var):
            bound = local[p.name] if local and p.name in local else scope.lookup(p.name)
            if bound is None:
                undefined.append(p.name)
                placeholder = "${" + p.name + "}"
                text.append(placeholder)
                origin.extend([NOWHERE] * len(placeholder))
                via.extend([True] * len(placeholder))
            else:
                value = bound[0]
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


_BLANKS = frozenset(" \t\n")  # bash's default IFS


def fields(word: Word, scope: Scope, local: dict[str, Bound] | None = None) -> list[Chars]:
    """The words a shell word becomes: the value of an unquoted expansion is split at blanks
    (`ENV PKGS="jax==0.4.30 jaxlib==0.4.30"` then `RUN pip install $PKGS` passes two words;
    `$PIP install` with PIP="python3 -m pip" runs python3), and one that gives nothing is no
    word at all. A value only the build knows is not split: its words are the build's."""
    if not any(type(p) is Var and p.split for p in word):
        return [expand(word, scope, local)]
    if local is not None and local.get("IFS", UNSET_BOUND) is not UNSET_BOUND:
        # the script set IFS (`IFS=.` splits 0.4.30 into three words): not followed here, the
        # words of its unquoted expansions are the build's
        word = tuple(Computed("${" + p.name + "} split at the IFS the RUN sets", p.offset)
                     if type(p) is Var and p.split else p for p in word)
        return [expand(word, scope, local)]
    whole = expand(word, scope, local)
    if whole.text and _BLANKS.isdisjoint(whole.text):
        return [whole]  # nothing to split at (most words): one expansion, not one per piece
    blank: list[bool] = []  # per character of whole: a blank that splits
    for p in word:
        part = expand((p,), scope, local)  # the piece's own characters of whole, in order
        splits = type(p) is Var and p.split and known(part)
        blank.extend(splits and c in _BLANKS for c in part.text)
    out: list[Chars] = []
    start: int | None = None
    for i, b in enumerate(blank):
        if b and start is not None:
            out.append(whole[start:i])
            start = None
        elif not b and start is None:
            start = i
    if start is not None:
        out.append(whole[start:])
    if not out and not all(type(p) is Var and p.split for p in word):
        return [whole[0:0]]  # a quoted or literal part stays a word, though empty: `""$EMPTY`
    return out


def _modified(p: Var, bound: Bound | None) -> Chars | None:
    """`${NAME:-word}` and `${NAME:+word}` as the variable's value decides them: the value, the
    word (its characters where the instruction writes them), or nothing; None when the value is
    one only the build knows, which leaves the choice to the build. A shell's `${NAME-word}` and
    `${NAME+word}` count an empty value as set."""
    value = bound[0] if bound is not None and bound is not UNSET_BOUND else None
    if value is not None and not known(value):
        return None
    absent = value is None or (not value.text and p.modifier.startswith(":"))
    word = p.word or Lit("", ())
    written = Chars(word.text, word.origin, (True,) * len(word.text))
    if p.modifier in (":-", "-"):
        return written if absent or value is None else value
    return Chars("", (), ()) if absent else written


def as_buildkit_copies(body: Mapped, scope: Scope) -> tuple[Mapped, dict[str, Bound]]:
    """An unquoted `COPY <<EOF` heredoc as the file BuildKit writes, with the ENV and ARG values
    where the COPY is: `$NAME`, `${NAME}`, `${NAME:-word}` and `${NAME:+word}` replaced (inside
    quotes too: BuildKit's lexer runs without quote processing here), a name no ENV or ARG of
    the stage has there by nothing (the script's own variables too, unless escaped), and every
    `\\x` by `x` (a backslash before a newline is dropped, the newline kept). A value only the
    build knows is left as its reference, and returned bound, for the script's reader."""
    text = body.text
    parts: list[Mapped] = []
    fixed: dict[str, Bound] = {}
    start = i = 0
    while i < len(text):
        c = text[i]
        if c not in "\\$" or i + 1 == len(text):
            i += 1
            continue
        parts.append(body[start:i])
        if c == "\\":
            parts.append(body[i + 1:i + 2])
            start = i = i + 2
            continue
        piece, end = reference(body, i)
        if isinstance(piece, Var):
            bound = scope.lookup(piece.name)
            if bound is None and piece.name not in scope.args:  # no ENV or ARG of that name here
                bound = UNSET_BOUND
            value = _modified(piece, bound) if piece.modifier else bound[0] if bound is not None else None
            if value is not None and known(value):
                parts.append(Mapped(value.text, value.origin))
            else:  # the build's (an `ARG NAME` without a value too): as the COPY saw it, not where it runs
                parts.append(body[i:end])
                fixed[piece.name] = bound if bound is not None else _undefined(piece.name)
        else:
            parts.append(body[i:end])
        start = i = end
    parts.append(body[start:])
    return Mapped.join(parts), fixed


def _undefined(name: str) -> Bound:
    placeholder = "${" + name + "}"
    return Chars(placeholder, (NOWHERE,) * len(placeholder), (True,) * len(placeholder), (), (name,)), ()


def via(word: Word, scope: Scope, local: dict[str, Bound] | None = None) -> tuple[str, ...]:
    """Where the variables a word reads were set, for messages (`PY=3.11 at line 2`)."""
    out: list[str] = []
    for p in word:
        if isinstance(p, Var):
            bound = local[p.name] if local and p.name in local else scope.lookup(p.name)
            if bound is not None:
                out.extend(bound[1])
    return tuple(dict.fromkeys(out))


def define(ins: Instruction, escape: str, path: str, scope: Scope, global_scope: Scope) -> list[str]:
    """Add what an ENV or ARG instruction defines to its stage's scope; the names it sets."""
    try:
        found = assignments(ins, escape)
    except UserError as e:
        raise UserError(e.message, path, ins.line) from None
    names = []
    # an ENV reads every variable as it was before it: `ENV A=2 B=${A}` gives B the A of before
    # (the Dockerfile reference's example); an ARG's pairs are read one after another
    before = Scope(dict(scope.env), dict(scope.args)) if ins.keyword == "ENV" else scope
    for a in found:
        names.append(a.name)
        if a.value is None:  # `ARG NAME`: re-declares a global, or has no value
            if scope is not global_scope and a.name in global_scope.args:
                scope.args[a.name] = global_scope.args[a.name]
            else:
                scope.args[a.name] = None
            continue
        value = expand(a.value, before)
        shown = value.text if known(value) else "(computed)"
        bound = (value, (f"{a.name}={shown} at line {ins.line}",))
        if ins.keyword == "ENV":
            scope.env[a.name] = bound
        else:
            scope.args[a.name] = bound
    return names

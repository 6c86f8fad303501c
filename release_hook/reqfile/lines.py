"""The logical lines of a requirements file, formed as pip forms them, each character traced to
its file offset.

pip splits the text with `str.splitlines`, joins a line ending in `\\` with the next (unless the
line starts with a comment), strips every backslash at either end of a joined piece, cuts the
comment (`#` at the start or after whitespace), strips the line and drops it when empty, then
expands `${NAME}` (upper-case letters, digits, `_`) where the environment gives a non-empty
value. Each step here is one linear pass, with no regular expression that could backtrack.

A value may come with the offsets of its characters in another file (the Dockerfile's ENV or
ARG that sets it): those are kept beside the line's own (`Logical.carried`), never mixed in.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Mapping, Union

from release_hook.found import Chars
from release_hook.textlines import NOWHERE, line_of

BOM = "\ufeff"
_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")  # where str.splitlines splits
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
Env = Mapping[str, Union[str, Chars]]  # a Chars value: its characters' offsets in the file that sets it


@dataclass(frozen=True)
class Logical:
    """One line as pip reads it: `chars` after joining, comments, stripping and variables."""

    chars: Chars
    line: int  # of its first physical line, counted as an editor counts them (by "\n")
    start: int  # file offset where its first physical line starts
    end: int  # file offset where its last physical line's text ends (before the line break)
    # per character of `chars`: its offset in the file that set the variable giving it, else
    # NOWHERE; () when no value came with offsets
    carried: tuple[int, ...] = ()


def physical(text: str) -> Iterator[tuple[int, int, int]]:
    """(start, end of text, end with the line break) of each line, after a byte-order mark."""
    pos = 1 if text.startswith(BOM) else 0
    for piece in text[pos:].splitlines(keepends=True):
        full = pos + len(piece)
        cut = 2 if piece.endswith("\r\n") else 1 if piece[-1] in _BREAKS else 0
        yield pos, full - cut, full
        pos = full


def logical_lines(text: str, env: Env) -> Iterator[Logical]:
    pieces: list[tuple[int, int]] = []  # file spans joined so far; (NOWHERE, 0) is pip's added space
    first = 0
    last_end = 0
    for start, end, _ in physical(text):
        if not pieces:
            first = start
        if text.endswith("\\", start, end) and not _starts_comment(text, start, end):
            a, b = start, end
            while a < b and text[a] == "\\":
                a += 1
            while b > a and text[b - 1] == "\\":
                b -= 1
            pieces.append((a, b))
            last_end = end
            continue
        if _starts_comment(text, start, end):
            pieces.append((NOWHERE, 0))  # pip puts a space before it so that it reads as a comment
        pieces.append((start, end))
        logical = _finish(text, pieces, first, end, env)
        pieces = []
        if logical is not None:
            yield logical
    if pieces:  # the file ends in a continuation
        logical = _finish(text, pieces, first, last_end, env)
        if logical is not None:
            yield logical


def _starts_comment(text: str, start: int, end: int) -> bool:
    i = start
    while i < end and text[i].isspace():
        i += 1
    return i < end and text[i] == "#"


def _finish(text: str, pieces: list[tuple[int, int]], first: int, end: int,
            env: Env) -> Logical | None:
    chars: list[str] = []
    origin: list[int] = []
    for a, b in pieces:
        if a == NOWHERE:
            chars.append(" ")
            origin.append(NOWHERE)
        else:
            chars.append(text[a:b])
            origin.extend(range(a, b))
    joined = "".join(chars)
    cut = _comment_start(joined)
    lo, hi = 0, cut
    while lo < hi and joined[lo].isspace():
        lo += 1
    while hi > lo and joined[hi - 1].isspace():
        hi -= 1
    if lo == hi:
        return None
    expanded, carried = _expand(joined[lo:hi], origin[lo:hi], env)
    return Logical(expanded, line_of(text, first), first, end, carried)


def _comment_start(s: str) -> int:
    """Where pip's `(^|\\s+)#.*$` starts matching: the whitespace run before the first `#` that
    starts the line or follows whitespace; len(s) when there is none."""
    i = s.find("#")
    while i >= 0:
        if i == 0 or s[i - 1].isspace():
            while i > 0 and s[i - 1].isspace():
                i -= 1
            return i
        i = s.find("#", i + 1)
    return len(s)


def _expand(s: str, origin: list[int], env: Env) -> tuple[Chars, tuple[int, ...]]:
    """`${NAME}` replaced by its value where `env` gives a non-empty one; the others stay as
    written and are listed as undefined (the build may still define them). A value only the
    build knows (computed, or reading an undefined variable) stays as written too, listed as
    computed as well. With each character's offset where its value was set, when one was."""
    if "${" not in s:
        return Chars(s, tuple(origin), (False,) * len(s)), ()
    text: list[str] = []
    out_origin: list[int] = []
    via: list[bool] = []
    carried: list[int] = []
    undefined: list[str] = []
    computed: list[str] = []
    pos = 0
    i = s.find("${")
    while i >= 0:
        j = i + 2
        while j < len(s) and s[j] in _NAME_CHARS:
            j += 1
        if j == i + 2 or j >= len(s) or s[j] != "}":
            i = s.find("${", i + 1)
            continue
        name = s[i + 2:j]
        value = env.get(name)
        text.append(s[pos:i])
        out_origin.extend(origin[pos:i])
        via.extend([False] * (i - pos))
        carried.extend([NOWHERE] * (i - pos))
        shown = value.text if isinstance(value, Chars) else value
        if isinstance(value, Chars) and (value.computed or value.undefined):
            computed.append(s[i:j + 1])
            shown = None
        if shown:
            text.append(shown)
            out_origin.extend([NOWHERE] * len(shown))
            via.extend([True] * len(shown))
            carried.extend(value.origin if isinstance(value, Chars) else [NOWHERE] * len(shown))
        else:
            undefined.append(name)
            text.append(s[i:j + 1])
            out_origin.extend(origin[i:j + 1])
            via.extend([False] * (j + 1 - i))
            carried.extend([NOWHERE] * (j + 1 - i))
        pos = j + 1
        i = s.find("${", pos)
    text.append(s[pos:])
    out_origin.extend(origin[pos:])
    via.extend([False] * (len(s) - pos))
    carried.extend([NOWHERE] * (len(s) - pos))
    chars = Chars("".join(text), tuple(out_origin), tuple(via), tuple(computed), tuple(undefined))
    return chars, tuple(carried) if any(o != NOWHERE for o in carried) else ()

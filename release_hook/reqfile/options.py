"""The options part of a requirements-file line, read as pip reads it: split like `shlex.split`
(POSIX quoting), then parsed like pip's optparse parser (long options abbreviated to any unique
prefix, `--opt=value`, short options with their value glued on or in the next word, words
that are not options ignored). Every word keeps where it sits in the file."""
from __future__ import annotations

import re
from dataclasses import dataclass

from release_hook.found import Chars
from release_hook.textlines import NOWHERE

_BLANKS = " \t\r\n"  # shlex's whitespace
_PLAIN = re.compile(r"[^ \t\r\n'\"\\\\]+")  # one character class: no backtracking
_IN_DOUBLE = re.compile(r'[^"\\\\]*')
STRONG_HASHES = ("sha256", "sha384", "sha512")


class OptionError(Exception):
    """What pip would say about the line, in one line."""


@dataclass(frozen=True)
class Spec:
    names: tuple[str, ...]  # the long name first: it is the name options are known by
    value: bool  # takes a value
    per_requirement: bool = False  # applies to the requirement on its line


# pip's options for requirements files (pip/_internal/req/req_file.py, SUPPORTED_OPTIONS and
# SUPPORTED_OPTIONS_REQ); --install-option stays for the older pips an image may run.
SPECS = (
    Spec(("--index-url", "-i", "--pypi-url"), True),
    Spec(("--extra-index-url",), True),
    Spec(("--no-index",), False),
    Spec(("--constraint", "-c"), True),
    Spec(("--requirement", "-r"), True),
    Spec(("--editable", "-e"), True),
    Spec(("--find-links", "-f"), True),
    Spec(("--no-binary",), True),
    Spec(("--only-binary",), True),
    Spec(("--prefer-binary",), False),
    Spec(("--require-hashes",), False),
    Spec(("--pre",), False),
    Spec(("--trusted-host",), True),
    Spec(("--use-feature",), True),
    Spec(("--global-option",), True, True),
    Spec(("--install-option",), True, True),
    Spec(("--hash",), True, True),
    Spec(("--config-settings", "-C"), True, True),
)
_LONG = {n: s for s in SPECS for n in s.names if n.startswith("--")}
_SHORT = {n: s for s in SPECS for n in s.names if not n.startswith("--")}


@dataclass(frozen=True)
class Word:
    """A shell word of the line: its value, and the span of the line's text it was read from
    (quotes included), as indexes into the logical line."""

    value: Chars
    first: int
    last: int  # one past its last character


@dataclass(frozen=True)
class Given:
    """One option as given: the spec, its value (None for a flag), and the words it spans."""

    spec: Spec
    value: Chars | None
    first: int  # indexes into the logical line
    last: int

    @property
    def name(self) -> str:
        return self.spec.names[0]


def split(chars: Chars, at: int) -> list[Word]:
    """shlex.split(chars.text[at:]) with spans; OptionError where shlex raises ValueError."""
    s = chars.text
    words: list[Word] = []
    i = at
    n = len(s)
    while i < n:
        while i < n and s[i] in _BLANKS:
            i += 1
        if i >= n:
            break
        first = i
        keep: list[tuple[int, int]] = []  # the runs of characters that make the value
        while i < n and s[i] not in _BLANKS:
            plain = _PLAIN.match(s, i)
            if plain:
                keep.append(plain.span())
                i = plain.end()
                continue
            c = s[i]
            if c == "'":
                j = s.find("'", i + 1)
                if j < 0:
                    raise OptionError("No closing quotation")
                keep.append((i + 1, j))
                i = j + 1
            elif c == '"':
                i = _double_quoted(s, i + 1, keep)
            else:  # a backslash
                if i + 1 >= n:
                    raise OptionError("No escaped character")
                keep.append((i + 1, i + 2))
                i += 2
        words.append(Word(_take(chars, keep), first, i))
    return words


def _double_quoted(s: str, i: int, keep: list[tuple[int, int]]) -> int:
    """The runs inside "..." from i; returns the index after the closing quote. A backslash
    escapes only `"` and `\\` there, as in shlex's POSIX mode."""
    while True:
        j = _IN_DOUBLE.match(s, i).end()  # type: ignore[union-attr]
        keep.append((i, j))
        if j >= len(s):
            raise OptionError("No closing quotation")
        if s[j] == '"':
            return j + 1
        if j + 1 < len(s) and s[j + 1] in '"\\':  # an escape: keep the escaped character
            keep.append((j + 1, j + 2))
            i = j + 2
        else:  # a backslash kept as written
            keep.append((j, j + 1))
            i = j + 1


def _take(chars: Chars, runs: list[tuple[int, int]]) -> Chars:
    if len(runs) == 1:
        a, b = runs[0]
        return Chars(chars.text[a:b], chars.origin[a:b], chars.via_var[a:b], (), chars.undefined)
    origin: list[int] = []
    via: list[bool] = []
    for a, b in runs:
        origin.extend(chars.origin[a:b])
        via.extend(chars.via_var[a:b])
    return Chars("".join(chars.text[a:b] for a, b in runs), tuple(origin), tuple(via), (), chars.undefined)


def parse(words: list[Word]) -> list[Given]:
    """The options of the words, as pip's optparse parser reads them."""
    out: list[Given] = []
    i = 0
    while i < len(words):
        word = words[i]
        w = word.value.text
        if w == "--":
            break  # the rest are arguments, which pip ignores
        if w.startswith("--"):
            name, eq, _ = w.partition("=")
            spec = _long(name)
            if spec.value and eq:
                value = word.value[len(name) + 1:]
            elif spec.value:
                if i + 1 >= len(words):
                    raise OptionError(f"{spec.names[0]} option requires 1 argument")
                i += 1
                value = words[i].value
            elif eq:
                raise OptionError(f"{spec.names[0]} option does not take a value")
            else:
                value = None
            out.append(_checked(Given(spec, value, word.first, words[i].last)))
        elif w.startswith("-") and w != "-":
            i = _short(words, i, out)
        i += 1
    return out


def _long(name: str) -> Spec:
    if name in _LONG:
        return _LONG[name]
    matches = sorted(n for n in _LONG if n.startswith(name))
    if len(matches) == 1:
        return _LONG[matches[0]]
    if matches:
        raise OptionError(f"ambiguous option: {name} ({', '.join(matches)}?)")
    raise OptionError(f"no such option: {name}")


def _short(words: list[Word], i: int, out: list[Given]) -> int:
    """A cluster such as `-rfile` or `-r file`; returns the index of the last word used."""
    word = words[i]
    w = word.value.text
    k = 1
    while k < len(w):
        spec = _SHORT.get("-" + w[k])
        if spec is None:
            raise OptionError(f"no such option: -{w[k]}")
        if not spec.value:
            out.append(Given(spec, None, word.first, word.last))
            k += 1
            continue
        if k + 1 < len(w):
            value = word.value[k + 1:]
        elif i + 1 < len(words):
            i += 1
            value = words[i].value
        else:
            raise OptionError(f"-{w[k]} option requires 1 argument")
        out.append(_checked(Given(spec, value, word.first, words[i].last)))
        break
    return i


def _checked(given: Given) -> Given:
    """The checks pip's option callbacks make."""
    value = given.value.text if given.value is not None else ""
    if given.name == "--hash":
        algorithm, colon, _ = value.partition(":")
        if not colon:
            raise OptionError("Arguments to --hash must be a hash name followed by a value, "
                              "like --hash=sha256:abcde...")
        if algorithm not in STRONG_HASHES:
            raise OptionError(f"Allowed hash algorithms for --hash are {', '.join(STRONG_HASHES)}.")
    elif given.name == "--config-settings" and "=" not in value:
        raise OptionError("Arguments to --config-settings must be of the form KEY=VAL")
    return given


def written_span(chars: Chars, first: int, last: int) -> tuple[int, int] | None:
    """The file span of characters first..last of a logical line; None where a variable gave
    the characters at either end."""
    a, b = chars.origin[first], chars.origin[last - 1]
    if a == NOWHERE or b == NOWHERE:
        return None
    return a, b + 1

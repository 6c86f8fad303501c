"""Text that remembers where each character came from in the file.

Every offset is an index into the decoded file text, so an edit by span changes those
characters and nothing else.
"""
from __future__ import annotations

from typing import Final, Optional, Union

from release_hook.records import NamedTuple
from release_hook.textlines import NOWHERE



class Mapped:
    """A string assembled from pieces of the file, with each character's file offset. A value,
    written out rather than a dataclass (see found.Chars)."""

    __slots__ = ("text", "origin")

    def __init__(self, text: str, origin: tuple[int, ...]) -> None:
        self.text: Final = text
        self.origin: Final = origin

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapped) and (self.text, self.origin) == (other.text, other.origin)

    def __hash__(self) -> int:
        return hash((self.text, self.origin))

    def __repr__(self) -> str:
        return f"Mapped({self.text!r}, {self.origin!r})"

    @classmethod
    def contiguous(cls, text: str, start: int) -> Mapped:
        return cls(text, tuple(range(start, start + len(text))))

    @classmethod
    def join(cls, parts: list[Mapped]) -> Mapped:
        origin: list[int] = []
        for p in parts:
            origin.extend(p.origin)
        return cls("".join(p.text for p in parts), tuple(origin))

    def __getitem__(self, s: slice) -> Mapped:
        return Mapped(self.text[s], self.origin[s])

    def __len__(self) -> int:
        return len(self.text)

    def offset(self, i: int) -> int:
        """File offset of character i (or of the end, for i == len)."""
        if i < len(self.origin):
            return self.origin[i]
        return self.origin[-1] + 1 if self.origin else NOWHERE


class Lit(NamedTuple):
    """Literal characters of a word, quotes and escapes already removed."""

    text: str
    origin: tuple[int, ...]


class Var(NamedTuple):
    """A plain `$NAME` or `${NAME}` reference; or `${NAME:-word}` (`word` when NAME is unset or
    empty) and `${NAME:+word}` (`word` when it is set and not empty), as the Dockerfile reference
    documents them, `word` literal characters."""

    name: str
    offset: int
    modifier: str = ""  # "", ":-" or ":+"; in a RUN's shell also "-" or "+"
    word: Optional[Lit] = None
    split: bool = False  # unquoted in a RUN's shell: its value is split into words at blanks


class Computed(NamedTuple):
    """Something only the build can know: `$(...)`, `${X/./}`, `{}` of xargs, and the like."""

    source: str
    offset: int


Piece = Union[Lit, Var, Computed]
Word = tuple[Piece, ...]


def word_text(word: Word) -> str:
    """The word as a reader sees it, variables left as `${NAME}`."""
    out = []
    for p in word:
        if isinstance(p, Lit):
            out.append(p.text)
        elif isinstance(p, Var):
            out.append("${" + p.name + "}")
        else:
            out.append(p.source)
    return "".join(out)


def word_offset(word: Word) -> int:
    for p in word:
        if isinstance(p, Lit):
            if p.origin:
                return p.origin[0]
        else:
            return p.offset
    return NOWHERE

"""What finding produces: pins, notes, each version's characters, and the lines they sit on.

Every finder module adds to one `Found` of a file; `release_hook.pins` turns it into a `Scan`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from release_hook.dockerfile import Dockerfile, Instruction
from release_hook.errors import UserError
from release_hook.names import normalize as canonicalize_name
from release_hook.spans import NOWHERE, line_of, line_starts  # noqa: F401 (line_* re-exported)


@dataclass(frozen=True)
class Chars:
    """Expanded text, each character with its file offset and whether a variable carried it."""

    text: str
    origin: tuple[int, ...]
    via_var: tuple[bool, ...]
    computed: tuple[str, ...] = ()
    undefined: tuple[str, ...] = ()

    def __getitem__(self, s: slice) -> Chars:
        return Chars(self.text[s], self.origin[s], self.via_var[s], self.computed, self.undefined)




@dataclass(frozen=True)
class Pin:
    path: str
    line: int
    package: str  # canonical name
    kind: str  # "requirement" or "source" (a git tag of the released package)
    operator: str  # "==", "~=", "===" or "@" for a source reference
    version: str
    chars: Chars  # the version's characters
    requirement: str  # the whole requirement as the shell passes it, for messages
    extras: frozenset[str]
    stage: int
    image: str  # the stage's base image, variables resolved (for the CUDA build)
    addresses: tuple[tuple[str, Chars], ...] = ()  # -f / -i of the same pip command

    def defined_at(self, text: str) -> str:
        """` (set at line N)` when the version is written on another line than its use."""
        lines = sorted({line_of(text, o) for o in self.chars.origin if o >= 0} - {self.line})
        return f" (set at line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))})" if lines else ""


@dataclass(frozen=True)
class Note:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class Found:
    """What the finders have found in one file so far, and what they need to know of it.

    A plain class, not a dataclass: it is mutable state of one scan, and the hook pays for
    every dataclass created at import.
    """

    def __init__(self, df: Dockerfile, package: str, kept: frozenset[str]) -> None:
        self.df = df
        self.package = package  # the released package, canonical
        self.kept = kept  # every package whose pins are kept, canonical
        self.pins: list[Pin] = []
        self.mentions: list[Note] = []
        self.warnings: list[Note] = []
        self.seen: set[tuple[int, int, str]] = set()

    @classmethod
    def of(cls, df: Dockerfile, package: str, kept: Iterable[str]) -> Found:
        name = canonicalize_name(package)
        return cls(df, name, frozenset(canonicalize_name(k) for k in kept) | {name})

    @property
    def path(self) -> str:
        return self.df.path

    def line(self, offset: int, ins: Instruction) -> int:
        return line_of(self.df.text, offset) if offset >= 0 else ins.line

    def line_of_chars(self, chars: Chars, at: int, fallback: int) -> int:
        """The line that holds character `at` of an expanded word (an ARG's, say), else `fallback`."""
        at = min(max(at, 0), len(chars.origin) - 1)
        if at < 0 or chars.origin[at] == NOWHERE:
            return fallback
        return line_of(self.df.text, chars.origin[at])

    def error(self, message: str, line: int) -> UserError:
        return UserError(message, self.df.path, line)

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(Note(self.df.path, line, message))

    def mention(self, line: int, message: str) -> None:
        self.mentions.append(Note(self.df.path, line, message))

    def add(self, pin: Pin) -> None:
        key = (pin.line, pin.chars.origin[0] if pin.chars.origin else NOWHERE, pin.package)
        if key not in self.seen:
            self.seen.add(key)
            self.pins.append(pin)

"""What finding produces: pins, notes, each version's characters, and the lines they sit on.

Every finder module adds to one `Found` of a file; `release_hook.pins` turns it into a `Scan`.
"""
from __future__ import annotations

from typing import Iterable

from release_hook.dockerfile import Dockerfile, Instruction
from release_hook.errors import UserError
from release_hook.names import normalize as canonicalize_name
from release_hook.found import Chars, Note, Pin  # noqa: F401 (re-exported for the finders)
from release_hook.spans import NOWHERE, line_of, line_starts  # noqa: F401 (line_* re-exported)


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

"""What the walk of one file has found so far: pins, notes, and the file's lines."""
from __future__ import annotations

from typing import Iterable

from release_hook.names import normalize as canonicalize_name

from release_hook.errors import UserError
from release_hook.found import Chars, Note, Pin
from release_hook.textlines import NOWHERE, line_of


class Findings:
    """Mutable state of one walk (a plain class: the hook pays for every dataclass at import)."""

    def __init__(self, path: str, text: str, package: str, kept: Iterable[str]) -> None:
        self.path = path
        self.text = text
        self.package = canonicalize_name(package)  # the released package
        self.kept = frozenset(canonicalize_name(k) for k in kept) | {self.package}
        self.pins: list[Pin] = []
        self.mentions: list[Note] = []
        self.warnings: list[Note] = []
        self.seen: dict[tuple[int, int, str], Pin] = {}
        self.said: set[tuple[bool, Note]] = set()  # a loop's body is read once per word: said once

    def line(self, offset: int, fallback: int) -> int:
        return line_of(self.text, offset) if offset >= 0 else fallback

    def line_of_chars(self, chars: Chars, at: int, fallback: int) -> int:
        """The line that holds character `at` of an expanded word (an ARG's, say), else `fallback`."""
        at = min(max(at, 0), len(chars.origin) - 1)
        if at < 0 or chars.origin[at] == NOWHERE:
            return fallback
        return line_of(self.text, chars.origin[at])

    def error(self, message: str, line: int) -> UserError:
        return UserError(message, self.path, line)

    def warn(self, line: int, message: str) -> None:
        self._note(self.warnings, Note(self.path, line, message))

    def mention(self, line: int, message: str) -> None:
        self._note(self.mentions, Note(self.path, line, message))

    def said_at(self, line: int) -> bool:
        """Whether a warning was given at the line (a more particular one than a fallback's)."""
        return any(w.line == line for w in self.warnings)

    def _note(self, notes: list[Note], note: Note) -> None:
        key = (notes is self.warnings, note)
        if key not in self.said:
            self.said.add(key)
            notes.append(note)

    def add(self, pin: Pin) -> Pin:
        """The pin as kept: a pin read twice (a nested `sh -c`) is kept once."""
        key = (pin.line, pin.chars.origin[0] if pin.chars.origin else NOWHERE, pin.package)
        kept = self.seen.get(key)
        if kept is None:
            self.seen[key] = kept = pin
            self.pins.append(pin)
        return kept

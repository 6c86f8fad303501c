"""Offsets into a file's text and the lines they fall on: what the reading, the plan and the
report share, without the word types of spans.py (a warm sync never needs those)."""
from __future__ import annotations

import bisect
import re
from functools import lru_cache

NOWHERE = -1  # a character that is not in the file (a separator the tool put there)


@lru_cache(maxsize=8)
def line_starts(text: str) -> tuple[int, ...]:
    """Offsets where each line begins; one pass, so that N pins cost N bisects, not N scans."""
    return (0, *(m.end() for m in re.finditer("\n", text)))


def line_of(text: str, offset: int) -> int:
    """1-based line of a character (a str caches its hash, so the lookup above is cheap)."""
    return bisect.bisect_right(line_starts(text), max(offset, 0))


def lines_of(text: str, offsets: tuple[int, ...]) -> set[int]:
    """The lines of the characters at `offsets` (NOWHERE ones left out): one lookup per piece
    of the file, not per character (a sync asks it of every moved pin)."""
    starts = line_starts(text)
    out: set[int] = set()
    previous = NOWHERE
    for o in offsets:
        if o >= 0 and not (previous >= 0 and o == previous + 1 and text[previous] != "\n"):
            out.add(bisect.bisect_right(starts, o))
        previous = o
    return out

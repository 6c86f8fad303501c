"""Scans of Dockerfiles kept by content, so that a file read before is not parsed again.

The hooks read the same files on every push; a scan depends only on the file's bytes, its path,
the released package's name and the code that read it (the store keys every entry by a digest
of this tool's sources), which together are the key. Each file is looked up by its key in the
shared store (`cache.py`), never the whole store loaded; an entry that does not load is ignored
and the file is parsed again. `RELEASE_HOOK_NO_CACHE=1` turns it off.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from typing import Any

from release_hook import cache
from release_hook.dockerfile import parse
from release_hook.pins import Chars, Note, Pin, Scan, find_pins
from release_hook.stages import Evidence, PipRun, StageFacts, stage_facts


class ScanCache:
    def __init__(self, package: str, root: str) -> None:
        self.package = package
        self.added: dict[str, Any] = {}  # new entries, stored together by save()
        self.enabled = not os.environ.get("RELEASE_HOOK_NO_CACHE")
        cache.begin_run()

    def scan(self, path: str, text: str, data: bytes) -> Scan:
        # the digest has a fixed length and the package no space: the path, last, is all the rest
        key = f"scan {self.package} {hashlib.sha256(data).hexdigest()} {path}"
        entry = cache.get(key, None) if self.enabled else None
        if entry is not None:  # whatever JSON _encode made; _decode refuses what does not fit
            try:
                return _decode(entry, path, text)
            except (KeyError, TypeError, ValueError, IndexError):
                pass  # not trusted: parsed again below
        df = parse(text, path)
        found = replace(find_pins(df, self.package), stages=stage_facts(df))
        if self.enabled:
            self.added[key] = _encode(found)
        return found

    def save(self) -> None:
        if self.added:
            cache.put_many(self.added)
            self.added = {}


def _runs(origin: tuple[int, ...]) -> list[list[int]]:
    """Offsets as [start, length] runs: most versions sit in one piece of the file."""
    runs: list[list[int]] = []
    for o in origin:
        if runs and o >= 0 and runs[-1][0] >= 0 and runs[-1][0] + runs[-1][1] == o:
            runs[-1][1] += 1
        else:
            runs.append([o, 1])
    return runs


def _chars(c: Chars) -> list[Any]:
    return [c.text, _runs(c.origin), "".join("1" if v else "0" for v in c.via_var),
            list(c.computed), list(c.undefined)]


def _unchars(v: list[Any], text_of_file: str) -> Chars:
    text, runs, via, computed, undefined = v
    origin: list[int] = []
    for start, length in runs:
        if start >= 0:
            if text_of_file[start:start + length] != text[len(origin):len(origin) + length]:
                raise ValueError("entry does not fit the file")
            origin.extend(range(start, start + length))
        else:
            origin.extend([start] * length)
    if len(origin) != len(text) or len(via) != len(text):
        raise ValueError("inconsistent entry")
    return Chars(text, tuple(origin), tuple(map("1".__eq__, via)), tuple(computed), tuple(undefined))


def _encode(s: Scan) -> dict[str, Any]:
    addresses: list[Any] = []  # shared by the pins of one pip command: stored once
    index: dict[int, int] = {}
    for p in s.pins:
        if p.addresses and id(p.addresses) not in index:
            index[id(p.addresses)] = len(addresses)
            addresses.append([[o, _chars(c)] for o, c in p.addresses])
    return {
        "addresses": addresses,
        "pins": [[p.line, p.package, p.kind, p.operator, p.version, _chars(p.chars), p.requirement,
                  sorted(p.extras), p.stage, p.image, index.get(id(p.addresses), -1)]
                 for p in s.pins],
        "mentions": [[n.line, n.message] for n in s.mentions],
        "warnings": [[n.line, n.message] for n in s.warnings],
        "images": list(s.images),
        "stages": [[f.line, f.parent, _evidence(f.platform),
                    [[r.first, r.last, _evidence(r.python)] for r in f.pips],
                    [_evidence(e) for e in f.installs], _evidence(f.default)] for f in s.stages],
    }


def _evidence(e: Evidence | None) -> list[Any] | None:
    return None if e is None else [e.value, e.how, e.line]


def _unevidence(v: list[Any] | None) -> Evidence | None:
    if v is None:
        return None
    value, how, line = v
    return Evidence(str(value), str(how), int(line))


def _decode(e: dict[str, Any], path: str, text: str) -> Scan:
    shared = [tuple((o, _unchars(a, text)) for o, a in group) for group in e["addresses"]]
    pins = []
    for line, package, kind, operator, version, chars, requirement, extras, stage, image, at in e["pins"]:
        pins.append(Pin(path, line, package, kind, operator, version, _unchars(chars, text),
                        requirement, frozenset(extras), stage, image, shared[at] if at >= 0 else ()))
    return Scan(path, text, tuple(pins),
                tuple(Note(path, line, m) for line, m in e["mentions"]),
                tuple(Note(path, line, m) for line, m in e["warnings"]),
                tuple(e["images"]),
                tuple(StageFacts(line, parent, _unevidence(platform),
                                 tuple(PipRun(first, last, _unevidence(py)) for first, last, py in pips),
                                 tuple(e for e in map(_unevidence, installs) if e is not None),
                                 _unevidence(default))
                      for line, parent, platform, pips, installs, default in e["stages"]))

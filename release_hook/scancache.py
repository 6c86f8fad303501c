"""Scans of Dockerfiles kept by content, so that a file read before is not parsed again.

The hooks read the same files on every push; a scan depends only on the file's bytes, its path,
the released package's name and the code that read it (the store keys every entry by a digest
of this tool's sources), which together are the key. Each file is looked up by its key in the
shared store (`cache.py`), never the whole store loaded; an entry that does not load is ignored
and the file is parsed again. `RELEASE_HOOK_NO_CACHE=1` turns it off.
"""
from __future__ import annotations

import json
import os
from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate
from typing import Any, Iterable, Sequence

from release_hook import cache, digests
from release_hook.files import decode
from release_hook.found import (Chars, Evidence, FileArg, Note, Pin, PipInstall, Placement, Requirement, Scan,
                                ScriptRun, StageFacts)


class ScanCache:
    def __init__(self, package: str, root: str) -> None:
        self.package = package
        self.added: dict[str, Any] = {}  # new entries, stored together by save()
        # path -> the entry its scan was read from (its JSON text) or stored as, for written()
        self.entries: dict[str, str | dict[str, Any]] = {}
        self.enabled = not os.environ.get("RELEASE_HOOK_NO_CACHE")
        cache.begin_run()

    def _key(self, path: str, data: bytes) -> str:
        # the digest has a fixed length and the package no space: the path, last, is all the rest
        return f"scan {self.package} {digests.hexdigest(data)} {path}"

    def scan_all(self, read: list[tuple[str, bytes]]) -> list[Scan]:
        """Each file's scan; the store is asked in one query per 500 files, not one per file."""
        keys = [self._key(path, data) for path, data in read]
        known = cache.get_many(keys) if self.enabled else {}
        return [self._scan(path, decode(data, path), key, known.get(key)) for (path, data), key in zip(read, keys)]

    def _scan(self, path: str, text: str, key: str, stored: str | None) -> Scan:
        if stored is not None:  # whatever JSON _encode made; _decode refuses what does not fit
            try:
                found = _decode(json.loads(stored), path, text)
                self.entries[path] = stored
                return found
            except (KeyError, TypeError, ValueError, IndexError):
                pass  # not trusted: parsed again below
        from release_hook.dockerfile import parse  # only on a miss: a warm run never loads the
        from release_hook.walk import walk  # parser or the walker

        found = walk(parse(text, path), self.package)
        if self.enabled:
            self.added[key] = self.entries[path] = _encode(found)
        return found

    def written(self, files: Iterable[tuple[str, str, bytes, str, Sequence[tuple[int, int, str]]]]) -> None:
        """Entries for the files a sync wrote (path, text before, bytes and text written, edits):
        each the entry its scan came from, moved by the edits. The run after a sync (the push
        after a bump, the next release) then finds the files without parsing them, as a first
        read costs the parser's start-up. An entry the edits do not move cleanly is left out."""
        if not self.enabled:
            return
        wanted = {self._key(path, data): (path, before, after, edits) for path, before, data, after, edits in files
                  if path in self.entries}
        known = cache.present(wanted)
        for key, (path, before, after, edits) in wanted.items():
            if key in known:
                continue
            try:
                read = self.entries[path]
                entry = _moved(json.loads(read) if isinstance(read, str) else read, before, edits)
                _decode(entry, path, after)  # each character sits where the entry says
            except (_Unmoved, KeyError, TypeError, ValueError, IndexError):
                continue
            self.added[key] = entry
        self.save()

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
    if len(runs) == 1 and runs[0][0] >= 0:  # most versions sit in one piece of the file
        start, length = runs[0]
        if length != len(text) or text_of_file[start:start + length] != text:
            raise ValueError("entry does not fit the file")
        origin: tuple[int, ...] = tuple(range(start, start + length))
    else:
        pieces: list[int] = []
        for start, length in runs:
            if start >= 0:
                if text_of_file[start:start + length] != text[len(pieces):len(pieces) + length]:
                    raise ValueError("entry does not fit the file")
                pieces.extend(range(start, start + length))
            else:
                pieces.extend([start] * length)
        origin = tuple(pieces)
    if len(origin) != len(text) or len(via) != len(text):
        raise ValueError("inconsistent entry")
    return Chars(text, origin, _flags(via), tuple(computed) if computed else (),
                 tuple(undefined) if undefined else ())


@lru_cache(maxsize=1024)
def _flags(via: str) -> tuple[bool, ...]:
    """"0110" -> (False, True, True, False): few strings, many times over."""
    return tuple(map("1".__eq__, via))


def _encode(s: Scan) -> dict[str, Any]:
    # shared by the pins of one pip command and the command (and its files' variables): stored once
    addresses: list[Any] = []
    index: dict[int, int] = {}

    def shared(group: tuple[tuple[str, Chars], ...]) -> int:
        if not group:
            return -1
        if id(group) not in index:
            index[id(group)] = len(addresses)
            addresses.append([[o, _chars(c)] for o, c in group])
        return index[id(group)]

    return {
        "pins": [[p.line, p.package, p.kind, p.operator, p.version, _chars(p.chars), p.requirement,
                  sorted(p.extras), p.stage, p.image, shared(p.addresses)]
                 for p in s.pins],
        "mentions": [[n.line, n.message] for n in s.mentions],
        "warnings": [[n.line, n.message] for n in s.warnings],
        "images": list(s.images),
        "stages": [[f.line, f.parent, _evidence(f.platform), [_pip(r, shared) for r in f.pips],
                    [_evidence(e) for e in f.installs], _evidence(f.default),
                    [[p.dest, p.source, p.folder, p.line, p.how, p.until, p.heredoc] for p in f.placements],
                    [list(r) for r in f.scripts]]
                   for f in s.stages],
        "addresses": addresses,
    }


def _pip(r: PipInstall, shared: Any) -> list[Any]:
    return [r.first, r.last, _evidence(r.python), r.tool, list(r.pins),
            [[q.text, q.line, q.computed, list(q.reads)] for q in r.requirements],
            [[f.option, f.path, f.line, f.how, f.source, f.why, shared(f.env)] for f in r.files],
            r.no_deps, shared(r.options), list(r.flags)]


def _file(v: list[Any], shared: list[tuple[tuple[str, Chars], ...]]) -> FileArg:
    option, path, line, how, source, why, env = v
    return FileArg(option, path, line, how, source, why, shared[env] if env >= 0 else ())


def _evidence(e: Evidence | None) -> list[Any] | None:
    return None if e is None else [e.value, e.said, e.line, list(e.via), e.why, e.made, _evidence(e.by), e.on_path]


def _unevidence(v: list[Any] | None) -> Evidence | None:
    if v is None:
        return None
    value, said, line, via, why, made, by, on_path = v
    return Evidence(str(value), str(said), int(line), tuple(map(str, via)), str(why), str(made), _unevidence(by),
                    bool(on_path))


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
                                 tuple(_unpip(r, shared, len(pins)) for r in pips),
                                 tuple(e for e in map(_unevidence, installs) if e is not None),
                                 _unevidence(default), tuple(Placement(*p) for p in placements),
                                 tuple(ScriptRun(*r) for r in scripts))
                      for line, parent, platform, pips, installs, default, placements, scripts in e["stages"]))


def _unpip(v: list[Any], shared: list[tuple[tuple[str, Chars], ...]], pins: int) -> PipInstall:
    first, last, python, tool, held, requirements, files, no_deps, options, flags = v
    if held and (min(held) < 0 or max(held) >= pins):
        raise IndexError("a pip install holds a pin the entry does not have")
    return PipInstall(first, last, _unevidence(python), tool, tuple(held),
                      tuple(Requirement(text, line, computed, tuple(reads))
                            for text, line, computed, reads in requirements),
                      tuple(_file(f, shared) for f in files),
                      no_deps, shared[options] if options >= 0 else (), tuple(flags))


class _Unmoved(Exception):
    """Edits that an entry cannot follow without parsing the file again."""


def _moved(entry: dict[str, Any], text: str, edits: Sequence[tuple[int, int, str]]) -> dict[str, Any]:
    """The entry of `text` with `edits` made, without parsing it.

    A sync's edits swap version tokens for others on the same lines. A character's offset moves
    by what the edits before it added; a character inside an edit must be one of a whole run of
    that edit's characters, in order, which the new ones replace. A pin's version and its
    requirement's text follow its characters. Any other text the entry holds (messages, the
    Python's words, paths, a neighbour's requirement) must not contain what an edit replaced,
    or the entry is not moved: the next run parses the file."""
    edits = sorted(edits)
    olds = [text[start:end] for start, end, _ in edits]
    if not all(olds) or any(any(c in t for c in "\r\n") for t in olds + [new for _, _, new in edits]):
        raise _Unmoved  # an insertion has no characters to follow; a new line moves lines
    starts = [start for start, _, _ in edits]
    after = list(accumulate(len(new) - (end - start) for start, end, new in edits))  # shift past edit i

    def plain(value: Any) -> None:
        if isinstance(value, str):
            if any(old in value for old in olds):
                raise _Unmoved
        elif isinstance(value, list):
            for v in value:
                plain(v)

    def offset(o: int) -> int:
        i = bisect_right(starts, o) - 1
        if i >= 0 and o < edits[i][1]:
            raise _Unmoved
        return o + after[i] if i >= 0 else o

    def chars(v: list[Any]) -> list[Any]:
        value, runs, via, computed, undefined = v
        origin: list[int] = []
        for start, length in runs:
            origin.extend(range(start, start + length) if start >= 0 else [start] * length)
        if len(origin) != len(value) or len(via) != len(value):
            raise _Unmoved
        out: list[str] = []
        moved: list[int] = []
        flags: list[str] = []
        i = 0
        while i < len(origin):
            o = origin[i]
            k = bisect_right(starts, o) - 1 if o >= 0 else -1
            if k >= 0 and o < edits[k][1]:
                start, end, new = edits[k]
                n = end - start
                if o != start or origin[i:i + n] != list(range(start, end)) or len(set(via[i:i + n])) != 1:
                    raise _Unmoved
                at = start + (after[k - 1] if k > 0 else 0)
                out.append(new)
                moved.extend(range(at, at + len(new)))
                flags.append(via[i] * len(new))
                i += n
            else:
                out.append(value[i])
                moved.append(o + after[k] if k >= 0 else o)
                flags.append(via[i])
                i += 1
        return ["".join(out), _runs(tuple(moved)), "".join(flags), computed, undefined]

    pins = []
    for line, package, kind, operator, version, ch, requirement, extras, stage, image, at in entry["pins"]:
        new_chars = chars(ch)
        if new_chars[0] != ch[0]:
            if version != ch[0] or requirement.count(version) != 1:
                raise _Unmoved
            requirement = requirement.replace(version, new_chars[0])
            version = new_chars[0]
        else:
            plain(requirement)
        plain([package, kind, operator, extras, image])
        pins.append([line, package, kind, operator, version, new_chars, requirement, extras, stage, image, at])
    plain([entry["mentions"], entry["warnings"], entry["images"]])
    stages = []
    for line, parent, platform, pips, installs, default, placements, scripts in entry["stages"]:
        plain([platform, installs, default, placements, scripts])
        moved_pips = []
        for first, last, python, tool, held, requirements, files, no_deps, options, flags in pips:
            plain([python, tool, files, flags])
            for q_text, _, computed, _ in requirements:
                plain([q_text, computed])
            requirements = [[q_text, q_line, computed, [offset(o) for o in reads]]
                            for q_text, q_line, computed, reads in requirements]
            moved_pips.append([first, last, python, tool, held, requirements, files, no_deps, options, flags])
        stages.append([line, parent, platform, moved_pips, installs, default, placements, scripts])
    addresses = []
    for group in entry["addresses"]:
        plain([o for o, _ in group])
        addresses.append([[o, chars(c)] for o, c in group])
    return {"pins": pins, "mentions": entry["mentions"], "warnings": entry["warnings"], "images": entry["images"],
            "stages": stages, "addresses": addresses}

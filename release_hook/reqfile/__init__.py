"""A pip requirements file, read as pip reads it, with the exact characters of every version,
option and hash (pip's "Requirements File Format"; the facts are from pip's own parser).

`parse` returns a `ReqFile`: the kept pins as `found.Pin`s whose characters are offsets into
this file's text (so `plan.plan_file` rewrites them as it rewrites a Dockerfile's), or, for a
version a Dockerfile's variable gives (`jax==${JAX_VERSION}` read by a RUN after `ENV
JAX_VERSION=...`), into that Dockerfile's text (`Pin.set_in`), where its plan rewrites it; the other
requirements, the option lines, the nested `-r` / `-c` files, each requirement's hashes, and the
header of a compiled lock. Nothing here touches the file system, git or the network.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Iterable

from release_hook.errors import UserError
from release_hook.found import Chars, Note, Pin, Requirement, Scan
from release_hook.names import normalize as canonicalize_name
from release_hook.records import NamedTuple
from release_hook.reqfile.header import Header, read_header
from release_hook.reqfile.lines import Env, Logical, logical_lines
from release_hook.reqfile.options import Given, OptionError, Word, parse as parse_options
from release_hook.reqfile.options import split, written_span
from release_hook.reqfile.requirement import Named, read_requirement
from release_hook.textlines import NOWHERE

__all__ = ["Entry", "Hash", "Header", "Include", "Option", "ReadingRun", "ReqFile", "parse"]

_ADDRESS_OPTIONS = ("--index-url", "--extra-index-url", "--find-links")


class ReadingRun(NamedTuple):
    """The Dockerfile RUN whose pip reads the file: `env`'s Chars values hold offsets into
    `path`, and a kept pin's `${NAME}` it leaves unset is an error (pip would refuse the line)."""

    path: str
    line: int


@dataclass(frozen=True)
class Hash:
    algorithm: str
    digest: str
    start: int  # the `--hash=...` word(s) in the file
    end: int
    lead: int  # where the blank before it starts: the end of the word before it


@dataclass(frozen=True)
class Option:
    name: str  # the long name: "--index-url", "--requirement", "--pre"
    value: Chars | None  # None for a flag
    line: int


@dataclass(frozen=True)
class Include:
    """A nested `-r` / `-c` file: pip reads it relative to the folder of the file naming it."""

    option: str  # "-r" or "-c"
    path: str  # as written (variables expanded)
    line: int

    def beside(self, including: str) -> str:
        """The path pip opens, given the path of the file that names it."""
        if "://" in self.path or self.path.startswith("file:") or posixpath.isabs(self.path):
            return self.path
        return posixpath.join(posixpath.dirname(including), self.path)


@dataclass(frozen=True)
class Entry:
    """A requirement line: what pip installs, its hashes and per-requirement options."""

    text: str  # the requirement as pip reads it (variables expanded)
    line: int
    name: str  # canonical; "" for a path or URL that pip names only by building it
    editable: bool
    hashes: tuple[Hash, ...]
    options: tuple[Option, ...]  # --config-settings, --global-option, --install-option
    pin: int  # index into ReqFile.pins; -1 when it is not a kept pin


@dataclass(frozen=True)
class ReqFile:
    path: str
    text: str
    pins: tuple[Pin, ...]
    requirements: tuple[Requirement, ...]  # every requirement that is not a kept pin
    entries: tuple[Entry, ...]
    options: tuple[Option, ...]  # of option lines
    includes: tuple[Include, ...]
    require_hashes: bool  # --require-hashes is given
    header: Header | None
    mentions: tuple[Note, ...]  # kept packages not pinned: listed, not changed
    warnings: tuple[Note, ...]  # what pip ignores or the tool cannot follow

    @property
    def hash_checking(self) -> bool:
        """pip's hash-checking mode: --require-hashes, or any requirement with a --hash."""
        return self.require_hashes or any(e.hashes for e in self.entries)

    def scan(self) -> Scan:
        """The pins as a Dockerfile's scan holds them, for the plan."""
        return Scan(self.path, self.text, self.pins, self.mentions, self.warnings, ())

    def entry(self, pin: Pin) -> Entry:
        index = self.pins.index(pin)
        return next(e for e in self.entries if e.pin == index)


def parse(path: str, text: str, package: str, kept: Iterable[str], env: Env | None = None,
          constraints: bool = False, run: ReadingRun | None = None) -> ReqFile:
    """Read `text` (the file's decoded text, a byte-order mark left in place) as pip would.

    `package` is the released package and `kept` the others whose pins are kept; `env` the
    variables the build gives pip (pip expands `${NAME}` from its environment), as text or,
    from `run`, with their offsets in its Dockerfile; `constraints` when pip reads it as a
    constraints file (`-c`), which takes named requirements only."""
    reader = _Reader(path, text, frozenset(canonicalize_name(k) for k in (*kept, package)), constraints, run)
    for logical in logical_lines(text, env or {}):
        reader.line(logical)
    return reader.result()


class _Reader:
    def __init__(self, path: str, text: str, kept: frozenset[str], constraints: bool, run: ReadingRun | None) -> None:
        self.path, self.text, self.kept, self.constraints, self.run = path, text, kept, constraints, run
        # kept pins, until the addresses are known: and the file their version is set in, if not this
        self.pending: list[tuple[Named, Chars, int, str, str]] = []
        self.requirements: list[Requirement] = []
        self.entries: list[Entry] = []
        self.options: list[Option] = []
        self.includes: list[Include] = []
        self.mentions: list[Note] = []
        self.warnings: list[Note] = []
        self.hashed: set[int] = set()  # the pins whose lines carry --hash values

    def error(self, message: str, line: int) -> UserError:
        return UserError(message, self.path, line)

    def line(self, logical: Logical) -> None:
        chars = logical.chars
        s = chars.text
        cut = _options_start(s)
        try:
            words = split(chars, cut) if cut < len(s) else []
            given = parse_options(words)
        except OptionError as e:
            raise self.error(_short(str(e)), logical.line) from None
        end = cut if cut < len(s) else len(s)
        while end > 0 and s[end - 1].isspace():
            end -= 1
        args = chars[:end]
        if args.text:
            self.requirement(logical, args, False, given, words, logical.carried[:end])
            return
        editables = [g for g in given if g.name == "--editable"]
        if editables:
            assert editables[0].value is not None
            self.requirement(logical, editables[0].value, True, given, words, ())
            return
        self.option_line(logical, given)

    def option_line(self, logical: Logical, given: list[Given]) -> None:
        nested = False
        for g in given:
            if g.spec.per_requirement:
                self.warn(logical.line, f"{g.name} without a requirement on its line: pip ignores it")
                continue
            self.options.append(Option(g.name, g.value, logical.line))
            if g.name in ("--requirement", "--constraint") and g.value is not None:
                if nested:  # pip follows the first -r (else -c) of a line
                    self.warn(logical.line, f"a second -r / -c on one line: pip ignores {g.value.text}")
                    continue
                nested = True
                self.includes.append(Include("-r" if g.name == "--requirement" else "-c", g.value.text,
                                             logical.line))

    def requirement(self, logical: Logical, chars: Chars, editable: bool, given: list[Given],
                    words: list[Word], carried: tuple[int, ...]) -> None:
        """`carried`: where the Dockerfile sets each character a variable gave, if it does."""
        line = logical.line
        for g in given:
            if not g.spec.per_requirement and not (editable and g.name == "--editable"):
                self.warn(line, f"{g.name} on a requirement's line: pip ignores it there")
        refused = False  # by pip, as written: only a variable's value could mend it
        try:
            named = read_requirement(chars.text, editable)
        except ValueError as e:
            if not chars.undefined or not _valid_once_defined(chars, editable):
                raise self.error(f"invalid requirement {_short(chars.text.strip())!r}: {_short(str(e))}",
                                 line) from None
            named = Named(_leading_name(chars.text), "specifier")  # the build may define it
            refused = True
        if self.constraints:
            self.constraint(named, editable, line)
        hashes = self.hashes(logical, given, words)
        options = tuple(Option(g.name, g.value, line) for g in given
                        if g.spec.per_requirement and g.name != "--hash")
        pin = -1
        if named.name in self.kept:
            pin = self.kept_requirement(named, chars, line, carried, refused)
        if pin >= 0 and hashes:
            self.hashed.add(pin)
        if pin < 0:
            computed = "".join("${" + n + "}" for n in chars.undefined)
            # where its reading Dockerfile sets what a variable gave it (offsets into that file)
            reads = tuple(o for o, v in zip(carried, chars.via_var) if v and o >= 0) if self.run else ()
            self.requirements.append(Requirement(chars.text.strip(), line, computed, reads))
        self.entries.append(Entry(chars.text.strip(), line, named.name, editable, hashes, options, pin))

    def constraint(self, named: Named, editable: bool, line: int) -> None:
        """What pip's resolver refuses in a constraints file."""
        problem = ("Unnamed requirements are not allowed as constraints" if not named.name else
                   "Editable requirements are not allowed as constraints" if editable else
                   "Constraints cannot have extras" if named.extras else "")
        if problem:
            raise self.error(f"{problem} (a constraints file)", line)

    def kept_requirement(self, named: Named, chars: Chars, line: int, carried: tuple[int, ...],
                         refused: bool) -> int:
        """The index its pin will have, or -1 when it is no pin the tool can keep."""
        if chars.undefined and refused and self.run is not None and not chars.computed:
            name = chars.undefined[0]
            raise self.error(f"{_short(chars.text.strip())}: {name} has no value where {self.run.path}:{self.run.line} "
                             "reads this file (no ENV, or ARG with a value, sets it before in that stage; an ARG before "
                             "FROM counts only where the stage declares it again), so pip would read "
                             "the line as written and refuse it", line)
        if chars.undefined:
            name = chars.computed[0] if chars.computed else f"${{{chars.undefined[0]}}}"
            self.warn(line, f"{named.name} version uses {name}, which the tool cannot see: left alone")
            return -1
        if named.version is None:
            self.mention(line, f"{named.what(chars.text.strip())}: listed, not changed")
            return -1
        a, b = named.version
        version = chars[a:b]
        set_in = ""
        if self.run is not None and carried and any(version.via_var):
            # its characters as the Dockerfile holds them: the variable's value there, the rest nowhere
            set_in = self.run.path
            version = Chars(version.text, tuple(o if v else NOWHERE for o, v in zip(carried[a:b], version.via_var)),
                            version.via_var)
        self.pending.append((named, version, line, chars.text.strip(), set_in))
        return len(self.pending) - 1

    def hashes(self, logical: Logical, given: list[Given], words: list[Word]) -> tuple[Hash, ...]:
        out = []
        lead = _args_end(logical)  # the end of the word before the next --hash
        w = 0
        for g in given:
            if g.name != "--hash":
                continue
            while w < len(words) and words[w].last <= g.first:
                span = written_span(logical.chars, words[w].first, words[w].last)
                lead = span[1] if span else lead
                w += 1
            span = written_span(logical.chars, g.first, g.last)
            if span is None:
                raise self.error("a --hash written through a variable cannot be kept in step",
                                 logical.line)
            assert g.value is not None
            algorithm, _, digest = g.value.text.partition(":")
            out.append(Hash(algorithm, digest, span[0], span[1], lead))
        return tuple(out)

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(Note(self.path, line, message))

    def mention(self, line: int, message: str) -> None:
        self.mentions.append(Note(self.path, line, message))

    def result(self) -> ReqFile:
        addresses = tuple((o.name, o.value) for o in self.options
                          if o.name in _ADDRESS_OPTIONS and o.value is not None)
        pins = tuple(Pin(self.path, line, named.name, "requirement", named.operator, version.text,
                         version, requirement, named.extras, -1, "", addresses, set_in, hashed=i in self.hashed)
                     for i, (named, version, line, requirement, set_in) in enumerate(self.pending))
        header = read_header(self.text) if self.text.lstrip("\ufeff").startswith("#") else None
        return ReqFile(self.path, self.text, pins, tuple(self.requirements), tuple(self.entries),
                       tuple(self.options), tuple(self.includes),
                       any(o.name == "--require-hashes" for o in self.options), header,
                       tuple(self.mentions), tuple(self.warnings))


def _options_start(s: str) -> int:
    """pip's break_args_options: the options start at the first space-separated word that
    starts with `-`; len(s) when none does."""
    i = 0
    while i < len(s):
        if s[i] == "-" and (i == 0 or s[i - 1] == " "):
            return i
        j = s.find(" ", i)
        if j < 0:
            return len(s)
        i = j + 1
    return len(s)


def _args_end(logical: Logical) -> int:
    """The file offset after the requirement's last written character (before its options)."""
    chars = logical.chars
    i = _options_start(chars.text)
    while i > 0 and (chars.text[i - 1].isspace() or chars.origin[i - 1] < 0):
        i -= 1
    return chars.origin[i - 1] + 1 if i > 0 else logical.start


def _valid_once_defined(chars: Chars, editable: bool) -> bool:
    """Whether a requirement that uses variables the tool cannot see reads with some value
    (`0`) in their place: one that cannot read with any is refused now."""
    text = chars.text
    for name in chars.undefined:
        text = text.replace("${" + name + "}", "0")
    try:
        read_requirement(text, editable)
    except ValueError:
        return False
    return True


def _leading_name(text: str) -> str:
    i = 0
    while i < len(text) and (text[i].isalnum() or text[i] in "._-"):
        i += 1
    return canonicalize_name(text[:i])


def _short(text: str) -> str:
    """A message stays one readable line, whatever the file holds."""
    return text if len(text) <= 120 else text[:100] + "..." + text[-10:]

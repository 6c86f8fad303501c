"""The build context: the requirements and constraints files a Dockerfile's pip commands read
(`-r`, `-c`, PIP_CONSTRAINT), found where the COPY, ADD or bind mount that put them there takes
them from, and read as pip reads them; and the lock files a stage copies in that the tool does
not rewrite (`uv.lock`, `poetry.lock`, a conda environment), named with the command that would.

Which folder is the build context: the Dockerfile's own, unless `[release_hook] context` says
otherwise for its glob (`docker build -f docker/Dockerfile .` sends the repository's root). The
files come through `read` (the work tree, or a commit's objects); a file the text does not place
is named at its line, never guessed. pip expands a file's `${NAME}` from its environment: each file
is read with the variables of the RUN that reads it, and a version such a variable gives is the
Dockerfile's to write (`Context.carrying`), at its ENV or ARG.
"""
from __future__ import annotations

import fnmatch
import posixpath
from typing import TYPE_CHECKING, Callable, Iterable, Optional, Sequence

from release_hook.config import Config
from release_hook.errors import UserError
from release_hook.files import decode
from release_hook.found import JAX_PACKAGES, Chars, FileArg, Note, Pin, PipInstall, Reader, Requirement, Scan
from release_hook.records import NamedTuple

if TYPE_CHECKING:  # read only where a stage reads a requirements file or copies a lock in
    from release_hook.reqfile import ReqFile
    from release_hook.unmanaged import Unmanaged

Read = Callable[[str], Optional[bytes]]  # a repository-relative path -> its bytes, or None
Run = tuple[dict[str, Chars], str, int]  # the reading RUN's variables, its Dockerfile and line
MAX_DEPTH = 8  # nested -r / -c files followed
_LOCKS = (".lock", ".yml", ".yaml", ".whl", ".sh", ".bash")  # names of what unmanaged.py recognises


class Followed(NamedTuple):
    """What one pip command's file brings to its stage's install."""

    requirements: tuple[Requirement, ...] = ()
    pins: tuple[Pin, ...] = ()  # kept pins, stamped with the reading stage and its image
    options: tuple[tuple[str, str], ...] = ()


class Context:
    """What the pip commands of the scans read, filled as `follow` goes (see found.Chars on
    dataclasses)."""

    def __init__(self) -> None:
        self.files: dict[str, ReqFile] = {}  # repository-relative path -> the file
        self.display: dict[str, str] = {}  # repository-relative path -> as shown
        # (Dockerfile, stage, FileArg line, image path) -> what the file brings, or why it brings nothing
        self.brought: dict[tuple[str, int, int, str], Followed | str] = {}
        self.stamped: dict[str, list[Pin]] = {}  # file -> its pins, per reading stage
        # Dockerfile -> the pins of files it reads whose versions its variables set, per reading stage
        self.carried: dict[str, list[Pin]] = {}
        # a file as each reader's variables make it (most files have none: read once)
        self.parsed: dict[tuple[object, ...], ReqFile] = {}
        # Dockerfile -> the other requirements of files it reads that its variables give characters
        # to (`mylib==${V}`), with the file each is in: an edit of those characters moves them too
        self.neighbours: dict[str, list[tuple[str, Requirement]]] = {}
        # (Dockerfile, index into its pins) -> the command reading a pin, where its files add options
        self.readers: dict[tuple[str, int], Reader] = {}
        self.notes: list[Note] = []  # files not placed or not read, at their lines
        self.locks: list[Unmanaged] = []  # files pinning kept packages, not rewritten

    def read_arg(self, scan: Scan, stage: int) -> Callable[[FileArg], "Followed | str"]:
        def read(arg: FileArg) -> Followed | str:
            return self.brought.get((scan.path, stage, arg.line, arg.path), arg.why or "not read")
        return read

    def warnings(self) -> tuple[Note, ...]:
        """Files not read, and the locks that pin kept packages but are not rewritten; each once
        (a loop's body read once per word reads its files as often)."""
        locks = [Note(lock.path, held.line, text) for lock in self.locks
                 for held, text in zip(lock.held, lock.messages())]
        return tuple(dict.fromkeys((*self.notes, *locks)))

    def file_of(self, path: str) -> "ReqFile | None":
        """The file as read, by the path it is shown with."""
        return next((self.files[rel] for rel, shown in self.display.items() if shown == path), None)

    def carrying(self, scan: Scan) -> Scan:
        """A Dockerfile's scan as its plan reads it: its own pins knowing the files their command
        reads (`reading`: whether a jaxlib takes a `+cuda` tag depends on them), and the
        requirements files' pins whose versions its ENV or ARG values give: its plan rewrites
        those values, and reads every pin again through them."""
        scan = self.reading(scan)
        pins = self.carried.get(scan.path)
        return scan._replace(pins=scan.pins + tuple(pins)) if pins else scan

    def reading(self, scan: Scan) -> Scan:
        """A Dockerfile's scan whose own pins know the index options of the files their command
        reads: pip takes a file's -f / -i for the whole command."""
        pins = tuple(p._replace(read_by=self.readers[(scan.path, i)]) if (scan.path, i) in self.readers else p
                     for i, p in enumerate(scan.pins))
        return scan._replace(pins=pins) if pins != scan.pins else scan

    def scans(self) -> list[Scan]:
        """Each file whose pins follow the release, with a pin per stage that reads it: a file
        read by two images gets a version both accept (two builds are two edits of one span)."""
        out = []
        for rel, req in self.files.items():
            pins = self.stamped.get(rel, [])
            if pins or req.mentions or req.warnings:
                scan = req.scan()
                out.append(scan._replace(path=self.display[rel], pins=tuple(pins)))
        return out


def context_of(config: Config, dockerfile: str) -> str:
    """The build context of a Dockerfile (both relative to the repository's root)."""
    for glob, folder in config.contexts:
        if fnmatch.fnmatchcase(dockerfile, glob):
            return posixpath.normpath(folder)
    return posixpath.dirname(dockerfile) or "."


def follow(scans: Sequence[Scan], config: Config, read: Read, relative: Callable[[str], str],
           display: Callable[[str], str], kept: Iterable[str] = JAX_PACKAGES) -> Context:
    """Every file the scans' pip commands read, and the lock files their stages copy in.
    `relative` turns a scan's path into a repository-relative one; `display` a
    repository-relative path into the form paths are shown in."""
    ctx = Context()
    kept = tuple(kept)
    for scan in scans:
        home = context_of(config, relative(scan.path))
        for stage, facts in enumerate(scan.stages):
            image = scan.images[stage] if stage < len(scan.images) else ""
            for pip in facts.pips:
                keys = []
                for arg in pip.files:
                    key = (scan.path, stage, arg.line, arg.path)
                    if arg.source is None:
                        ctx.brought[key] = arg.why
                        ctx.notes.append(Note(scan.path, arg.line, f"{arg.how}: not read ({arg.why})"))
                        continue
                    rel = posixpath.normpath(posixpath.join(home, arg.source))
                    run = (dict(arg.env), scan.path, arg.line)
                    ctx.brought[key] = _bring(ctx, rel, arg.option, stage, image, read, display, config,
                                              kept, scan.path, arg.line, 0, run)
                    keys.append(key)
                _stamp_reader(ctx, keys, scan.path, pip)
            for placed in facts.placements:
                if placed.source is not None and not placed.folder:
                    _lock(ctx, posixpath.normpath(posixpath.join(home, placed.source)), read, display,
                          config, kept)
            for script in facts.scripts:  # whatever its name: a RUN runs it as a shell script
                _lock(ctx, posixpath.normpath(posixpath.join(home, script.source)), read, display,
                      config, kept, script=True)
    return ctx


def _stamp_reader(ctx: Context, keys: Sequence[tuple[str, int, int, str]], path: str, pip: PipInstall) -> None:
    """The pins the command's files bring, each with the command and the index options in force
    where pip reads it (the command's, and every file's it reads): a jaxlib build tag is only
    installable where jax's CUDA page is among them."""
    brought = [(key, found) for key in keys if isinstance(found := ctx.brought[key], Followed)]
    options = [(o, chars.text) for o, chars in pip.options if not chars.computed and not chars.undefined]
    options += [o for _, found in brought for o in found.options]
    reader = Reader(path, pip.first, tuple(dict.fromkeys(options)))
    if any(found.options for _, found in brought):  # the command's own pins read them too
        ctx.readers.update(((path, i), reader) for i in pip.pins)
    for key, found in brought:
        ctx.brought[key] = found._replace(pins=tuple(p._replace(read_by=reader) for p in found.pins))
    # the files' own pins, as their plans read them, know the reader too (their `+cuda` tag)
    read_here = {(p.path, p.chars.origin[:1], p.stage, p.image) for _, found in brought for p in found.pins}
    for kept in (ctx.stamped, ctx.carried) if read_here else ():
        for rel, mine in kept.items():
            kept[rel] = [p._replace(read_by=reader) if (p.path, p.chars.origin[:1], p.stage, p.image) in read_here
                         else p for p in mine]


def _bring(ctx: Context, rel: str, option: str, stage: int, image: str, read: Read,
           display: Callable[[str], str], config: Config, kept: tuple[str, ...], where: str, line: int,
           depth: int, run: Run) -> Followed | str:
    req = ctx.files.get(rel)
    if req is None:
        data = read(rel)
        if data is None:
            why = f"{rel} is not in the repository"
            ctx.notes.append(Note(where, line, f"{option} {display(rel)}: not read ({why})"))
            return why
        ctx.display[rel] = display(rel)
        text = decode(data, ctx.display[rel])  # a BOM stays: the file is written back byte for byte
        req = ctx.files[rel] = _parse(ctx, rel, text, option, config, kept, run)
    elif "${" in req.text:  # as this RUN's variables make it
        req = _parse(ctx, rel, req.text, option, config, kept, run)
    pins = tuple(p._replace(stage=stage, image=image) for p in req.pins)
    neighbours = ctx.neighbours.setdefault(run[1], [])
    neighbours.extend((ctx.display[rel], r) for r in req.requirements if r.reads and (ctx.display[rel], r) not in neighbours)
    mine = ctx.stamped.setdefault(rel, [])
    have = {(p.chars.origin[:1], p.stage, p.image) for p in mine}
    mine.extend(p for p in pins if not p.set_in and (p.chars.origin[:1], p.stage, p.image) not in have)
    _carry(ctx, [p for p in pins if p.set_in])
    # a compiled lock's other pins are the compile's output: they move when it is re-locked
    # (locks.py), so they do not hold the kept versions back
    compiled = req.header is not None and bool(req.header.inputs)
    requirements = [] if compiled else list(req.requirements)
    options = [(o.name, o.value.text) for o in req.options
               if o.value is not None and o.name in ("--index-url", "--extra-index-url", "--find-links")]
    for include in req.includes:
        if depth >= MAX_DEPTH:
            break
        nested = posixpath.normpath(include.beside(rel))
        found = _bring(ctx, nested, include.option, stage, image, read, display, config, kept,
                       ctx.display[rel], include.line, depth + 1, run)
        if isinstance(found, Followed):
            requirements += found.requirements
            pins += found.pins
            options += found.options
    return Followed(tuple(requirements), pins, tuple(dict.fromkeys(options)))


def _parse(ctx: Context, rel: str, text: str, option: str, config: Config, kept: tuple[str, ...],
           run: Run) -> "ReqFile":
    """The file as pip reads it in this RUN: with the values of the variables it names."""
    env, dockerfile, line = run
    used = tuple((name, v.text, v.origin, v.computed, v.undefined) for name, v in sorted(env.items())
                 if "${" + name + "}" in text)
    key = (rel, option, dockerfile, used)
    if key not in ctx.parsed:
        from release_hook.reqfile import ReadingRun, parse

        try:
            ctx.parsed[key] = parse(ctx.display[rel], text, config.package, kept, env, constraints=option == "-c",
                                    run=ReadingRun(dockerfile, line))
        except UserError as e:
            raise e if e.path else UserError(e.message, ctx.display[rel], e.line) from None
    return ctx.parsed[key]


def _carry(ctx: Context, pins: list[Pin]) -> None:
    """Pins whose versions the reading Dockerfile's variables give go to its plan. Two RUNs
    that give one line different values each hold their own characters (an ENV or ARG each):
    each moves its own, for its image, and a part written in the file itself must fit both."""
    for pin in pins:
        mine = ctx.carried.setdefault(pin.set_in, [])
        if pin not in mine:
            mine.append(pin)


def _lock(ctx: Context, rel: str, read: Read, display: Callable[[str], str], config: Config,
          kept: tuple[str, ...], script: bool = False) -> None:
    if not (script or rel.endswith(_LOCKS)) or any(lock.path == display(rel) for lock in ctx.locks):
        return
    data = b"" if rel.endswith(".whl") else read(rel)  # a wheel says what it is by its name
    if data is None:
        return
    from release_hook.unmanaged import SHELL_SCRIPT, unmanaged

    found = unmanaged(display(rel), data.decode("utf-8", "replace"), (config.package, *kept),
                      kind=SHELL_SCRIPT if script else None)
    if found is not None and found.held:
        ctx.locks.append(found)

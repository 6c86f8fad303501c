"""Write planned files all or nothing.

A file whose edits keep its length (0.6.0 -> 0.7.0, the common bump) is written in place: one
`pwrite` of the bytes from its first change to its last, so the file is never short or mixed,
and its inode, links, owner and mode stay. Any other file is written to a temporary file
beside it and renamed over. On this machine's ext4, creating and renaming 1,000 temporary
files cost 0.75 s of a 1.2 s sync; the same edits in place cost 0.02 s.
"""

from __future__ import annotations

import io
import re
import os
import stat
import time
from typing import Iterator, Sequence

from release_hook.errors import UserError
from release_hook.files import realpaths
from release_hook.plan import FilePlan
from release_hook.records import NamedTuple


SUFFIX = ".release-hook"
# What a version or a find-links page name is made of: no quote, escape, space or line end, so
# replacing one such token by another cannot change how the file splits into instructions.
_TOKEN = re.compile(r"[A-Za-z0-9._+!-]*")


class Prepared(NamedTuple):
    plan: FilePlan
    target: str  # the real file (a symlink's target)
    data: bytes
    before: bytes  # what the file held when it was read


def encode(text: str) -> bytes:
    return text.encode("utf-8")


def check_instructions(plan: FilePlan) -> None:
    """The rewritten file must read as the same instructions, by dockerfile-parse too.

    Edits that swap one plain token for another cannot change the instructions (the tests
    check that with dockerfile-parse and BuildKit's parser); anything else is parsed again.
    """
    text = plan.old_text
    if all(_TOKEN.fullmatch(e.new) and _TOKEN.fullmatch(text, e.start, e.end) for e in plan.edits):
        return
    from dockerfile_parse import DockerfileParser

    def shape(text: str) -> list[tuple[str, int, int]]:
        parser = DockerfileParser(fileobj=io.StringIO(text.lstrip("\ufeff")))
        return [(s["instruction"], s["startline"], s["endline"]) for s in parser.structure]

    if shape(plan.old_text) != shape(plan.new_text):
        raise UserError("internal error: the rewrite changed the instruction sequence; nothing written",
                        plan.path)


def check_requirements(plan: FilePlan) -> None:
    """The rewritten requirements file must read as one, as the original did."""
    from release_hook.reqfile import parse

    try:
        parse(plan.path, plan.old_text, "", ())
    except UserError:
        return  # not read as one before either (an input of a compile, say): not ours to judge
    try:
        parse(plan.path, plan.new_text, "", ())
    except UserError as e:
        raise UserError(f"internal error: the rewrite would not read as a requirements file ({e.message}); "
                        "nothing written", plan.path, e.line) from None


def prepare(plans: Sequence[FilePlan], originals: dict[str, bytes]) -> list[Prepared]:
    out = []
    for plan, target, st, data, before in once_per_file(plans, originals):
        if plan.scan.images:  # a Dockerfile
            check_instructions(plan)
        else:  # a requirements file: pip must still read it (a `~=` takes no local version)
            check_requirements(plan)
        if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
            raise UserError("file is read-only; nothing written", plan.path)
        if len(data) != len(before) and not os.access(os.path.dirname(target) or ".", os.W_OK):
            raise UserError("cannot write in the file's folder; nothing written", plan.path)
        out.append(Prepared(plan, target, data, before))
    return out


def once_per_file(plans: Sequence[FilePlan], originals: dict[str, bytes]
                  ) -> list[tuple[FilePlan, str, os.stat_result, bytes, bytes]]:
    """Each changed file once, with where it lives, its status, and its new and old bytes. One
    file reached by two paths (symlinks to it, hard links) is written once: written in place by
    the first, it would read as changed since it was read by the second. Two paths that need it
    written two ways are refused (by --check and --dry-run too: their fix would be refused)."""
    plans = [plan for plan in plans if plan.changed]
    seen: dict[tuple[int, int], tuple[FilePlan, str, os.stat_result, bytes, bytes]] = {}
    for plan, target in zip(plans, realpaths([plan.path for plan in plans])):
        st = os.stat(target)
        data, before = encode(plan.new_text), originals[plan.path]
        twin = seen.setdefault((st.st_dev, st.st_ino), (plan, target, st, data, before))
        if twin[3:] != (data, before):
            raise UserError(f"the same file as {twin[0].path} (linked), which its images need "
                            "written otherwise: give each its own file; nothing written", plan.path)
    return list(seen.values())


def _temps_beside(targets: Sequence[str]) -> Iterator[tuple[str, int | None]]:
    """The temporary files of these files, each with the process that writes it: its name
    carries it (`.NAME.PID.RANDOM.release-hook`); None for one of an older release, without."""
    by_folder: dict[str, set[str]] = {}
    for target in targets:
        folder, name = os.path.split(target)
        by_folder.setdefault(folder or ".", set()).add(name)
    for folder, names in by_folder.items():
        for entry in os.listdir(folder):
            if not (entry.startswith(".") and entry.endswith(SUFFIX)):
                continue
            parts = entry[1:-len(SUFFIX)].rsplit(".", 2)
            if len(parts) == 3 and parts[0] in names and parts[1].isdigit():
                yield os.path.join(folder, entry), int(parts[1])
            elif parts[0] in names:
                yield os.path.join(folder, entry), None


def _remove_own_temps(targets: Sequence[str]) -> None:
    """This process's temporary files beside these files."""
    for path, pid in _temps_beside(targets):
        if pid == os.getpid():
            _unlink(path)


def _remove_stale_temps(targets: Sequence[str]) -> None:
    """Temporary files that a killed run left beside these files: one of a process still running
    is another sync at work beside this one and stays; one of an older release of this tool,
    without a process number, goes once it is an hour old."""
    for path, pid in _temps_beside(targets):
        if (not _alive(pid)) if pid is not None else _age(path) > LEGACY_TEMP_AGE:
            _unlink(path)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


LEGACY_TEMP_AGE = 3600.0


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _age(path: str) -> float:
    try:
        return time.time() - os.stat(path).st_mtime
    except OSError:
        return 0.0


def changed_span(before: bytes, after: bytes) -> tuple[int, int] | None:
    """[start, end) of the bytes that differ between two contents of one length; None otherwise."""
    if len(before) != len(after) or before == after:
        return None
    lo, hi = 0, len(before)
    while lo < hi:  # the first difference, by halves: each step one comparison of two slices
        mid = (lo + hi) // 2
        if before[lo:mid + 1] == after[lo:mid + 1]:
            lo = mid + 1
        else:
            hi = mid
    start, lo, hi = lo, lo + 1, len(before)
    while lo < hi:  # the end of the last difference
        mid = (lo + hi) // 2
        if before[mid:] == after[mid:]:
            hi = mid
        else:
            lo = mid + 1
    return start, lo


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    while data:
        done = os.pwrite(fd, data, offset)
        data, offset = data[done:], offset + done


def write_all(prepared: Sequence[Prepared]) -> None:
    """Every temporary file is written in full, and every file checked unchanged since it was
    read, before any file is touched; a failure among the writes puts back those done."""
    spans = [changed_span(p.before, p.data) for p in prepared]
    renamed = [p.target for p, span in zip(prepared, spans) if span is None]
    if renamed:
        _remove_stale_temps(renamed)
    temps: list[str | None] = [None] * len(prepared)
    current = prepared[0].plan.path if prepared else None
    finished = False
    try:
        for i, (p, span) in enumerate(zip(prepared, spans)):
            current = p.plan.path
            if span is None:
                temps[i] = _temp_with(p.target, p.data)
        for p in prepared:
            current = p.plan.path
            _unchanged(p)
        for i, (p, span) in enumerate(zip(prepared, spans)):
            current = p.plan.path
            try:
                _put(p, span, temps[i], p.data)
            except (OSError, UserError) as e:  # a write failed, or a file changed since the check
                # put back what was already written: this one too when its write failed (it may be
                # partly written), not when someone else's edit was found in it (that edit stays)
                last = i if isinstance(e, OSError) else i - 1
                for j in range(last, -1, -1):
                    if j < i or spans[j] is not None:
                        _put(prepared[j], spans[j], None, prepared[j].before, undo=True)
                raise
            temps[i] = None
        finished = True
    except OSError as e:
        raise UserError(f"cannot write: {e.strerror or e}; nothing written", current) from None
    finally:
        for tmp in temps:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
        if not finished and renamed:  # a Ctrl-C between a temporary file's making and its record
            _remove_own_temps(renamed)


def put_back(prepared: Sequence[Prepared]) -> None:
    """A step after the writes failed (git's commit): each file that still holds what was
    written gets its bytes from before; one edited since is left as it is."""
    for p in prepared:
        try:
            with open(p.target, "rb") as f:
                now = f.read()
        except OSError:
            continue
        if now == p.data:
            _put(p, changed_span(p.data, p.before), None, p.before, undo=True)


def _unchanged(p: Prepared, f: io.FileIO | None = None) -> None:
    if f is not None:
        f.seek(0)
        now = f.readall()
    else:
        with open(p.target, "rb") as g:
            now = g.read()
    if now != p.before:
        raise UserError("file changed since it was read; not overwritten, nothing written", p.plan.path)


def _put(p: Prepared, span: tuple[int, int] | None, temp: str | None, data: bytes, undo: bool = False) -> None:
    """`data` into the file: in place over `span` (checked unchanged once more, on the handle
    that writes; one file open at a time), or by renaming `temp` (made now when None)."""
    if span is not None:
        with io.FileIO(p.target, "r+") as f:
            if not undo:
                _unchanged(p, f)
            _pwrite_all(f.fileno(), data[span[0]:span[1]], span[0])
    else:
        os.replace(temp if temp is not None else _temp_with(p.target, data), p.target)


def _temp_with(target: str, data: bytes) -> str:
    import tempfile  # only where a length changes: most releases write in place

    folder, name = os.path.split(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.{os.getpid()}.", suffix=SUFFIX, dir=folder or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        st = os.stat(target)
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except PermissionError:
            pass
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp

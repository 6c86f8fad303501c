"""Write planned files all or nothing: each to a temporary file beside it, then renamed over."""
from __future__ import annotations

import io
import re
import os
import stat
import tempfile
import time
from typing import NamedTuple, Sequence

from release_hook.errors import UserError
from release_hook.plan import FilePlan


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
    for plan in plans:
        if not plan.changed:
            continue
        if plan.scan.images:  # a Dockerfile
            check_instructions(plan)
        else:  # a requirements file: pip must still read it (a `~=` takes no local version)
            check_requirements(plan)
        target = os.path.realpath(plan.path)
        st = os.stat(target)
        if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
            raise UserError("file is read-only; nothing written", plan.path)
        if not os.access(os.path.dirname(target) or ".", os.W_OK):
            raise UserError("cannot write in the file's folder; nothing written", plan.path)
        out.append(Prepared(plan, target, encode(plan.new_text), originals[plan.path]))
    return out


def _remove_stale_temps(targets: Sequence[str]) -> None:
    """Temporary files that a killed run left beside these files.

    A temporary file's name carries the process that writes it (`.NAME.PID.RANDOM.release-hook`):
    one of a process still running is another sync at work beside this one and stays. One of
    an older release of this tool, without a process number, goes once it is an hour old."""
    by_folder: dict[str, set[str]] = {}
    for target in targets:
        folder, name = os.path.split(target)
        by_folder.setdefault(folder or ".", set()).add(name)
    for folder, names in by_folder.items():
        for entry in os.listdir(folder):
            if not (entry.startswith(".") and entry.endswith(SUFFIX)):
                continue
            parts = entry[1:-len(SUFFIX)].rsplit(".", 2)
            path = os.path.join(folder, entry)
            if len(parts) == 3 and parts[0] in names and parts[1].isdigit():
                stale = not _alive(int(parts[1]))
            elif parts[0] in names:
                stale = _age(path) > LEGACY_TEMP_AGE
            else:
                continue
            if stale:
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


def write_all(prepared: Sequence[Prepared]) -> None:
    """Every file is written in full beside its original before any is renamed into place."""
    _remove_stale_temps([p.target for p in prepared])
    temps: list[str | None] = []
    current = prepared[0].plan.path if prepared else None
    try:
        for p in prepared:
            current = p.plan.path
            temps.append(_temp_with(p.target, p.data))
        for p in prepared:
            current = p.plan.path
            with open(p.target, "rb") as f:
                if f.read() != p.before:
                    raise UserError("file changed since it was read; not overwritten, nothing written",
                                    p.plan.path)
        for i, p in enumerate(prepared):
            current = p.plan.path
            try:
                os.replace(temps[i], p.target)  # type: ignore[arg-type]
            except OSError:
                for done in prepared[:i]:  # put back what was already renamed
                    os.replace(_temp_with(done.target, done.before), done.target)
                raise
            temps[i] = None
    except OSError as e:
        raise UserError(f"cannot write: {e.strerror or e}; nothing written", current) from None
    finally:
        for tmp in temps:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass


def _temp_with(target: str, data: bytes) -> str:
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

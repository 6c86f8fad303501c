"""Re-lock a compiled requirements file: run the compile its header records, with uv (a
dependency), for the new kept versions, and keep everything else the lock pinned where it still
fits (uv prefers the versions of the existing output file).

The command's own options stay (--generate-hashes, --python-version, --extra, ...), with the
pip-compile ones uv does not take dropped or translated. Its input files are read where the
command ran (the lock's folder, or the folder its `-o` path is relative to); inputs that pin a
kept package at another version are given to uv rewritten, through a temporary overlay of
the folder, and their new text is returned too. Nothing in the work tree is written here.

Where it cannot re-lock (no header, a custom command, an input that is not there, a resolver
that finds no answer), it refuses with the exact command that would re-lock.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from release_hook.errors import UserError
from release_hook.files import display
from release_hook.plan import Target, plan_file
from release_hook.reqfile import ReqFile, parse
from release_hook.reqfile.header import PIP_COMPILE, VALUE_OPTIONS, Header
from release_hook.reqfile.lines import BOM
from release_hook.resolve import uvcli

# pip-compile's default inputs, in the order it looks for them
DEFAULT_INPUTS = ("requirements.in", "setup.py", "pyproject.toml", "setup.cfg")
PROJECT_FILES = ("setup.py", "pyproject.toml", "setup.cfg")
# Options of the recorded command that a re-lock leaves out: output, upgrades and header are
# the re-lock's own; the others are pip-compile's that uv refuses and that do not change the answer.
_DROP = frozenset({"-o", "--output-file", "-P", "--upgrade-package", "-U", "--upgrade", "--no-header",
                   "--header", "--custom-compile-command", "-q", "--quiet", "-v", "--verbose",
                   "--cache-dir", "--color", "--reuse-hashes", "--max-rounds", "--newline",
                   "--emit-trusted-host", "--dry-run", "--rebuild", "-n", "--no-cache"})
_RENAME = {"--emit-options": "--emit-build-options"}
_INDEX = frozenset({"-i", "--index-url", "--extra-index-url", "--index", "--default-index", "-f",
                    "--find-links", "--no-index"})


@dataclass(frozen=True)
class Relocked:
    text: str  # the lock's new text
    inputs: tuple[tuple[str, str], ...]  # (path, new text) of each input whose kept pins moved


def relock(req: ReqFile, lock_path: str, target: Target, package: str, kept: Iterable[str],
           python: str | None = None, platform: str | None = None, offline: bool = False) -> Relocked:
    """The lock re-compiled for the new versions. `lock_path` is where the file is on disk;
    `python` (X.Y) and `platform` (uv's --python-platform) say the image, where the recorded
    command does not; `offline`: uv reads only its cache, as the rest of an --offline run."""
    kept = tuple(kept)
    header, versions = _header(req), _versions(req, target)
    cwd = _where_it_ran(req, header, lock_path, target)
    inputs = header.inputs or tuple(n for n in DEFAULT_INPUTS if (cwd / n).is_file())[:1]
    moved = _moved_inputs(cwd, inputs, target, package, kept)
    binary = uvcli.binary()
    if binary is None:
        raise refusal(req, target, "uv is not installed", cwd)
    with tempfile.TemporaryDirectory(prefix="release-hook-relock-") as tmp:
        run_in = _overlay(cwd, moved, Path(tmp) / "tree") if moved else cwd
        out = Path(tmp) / "lock.txt"
        out.write_bytes(req.text.lstrip(BOM).encode("utf-8"))  # uv prefers its pins
        argv = [binary, "pip", "compile", *_options(header, req, python, platform), *inputs,
                "--no-header", "--quiet", "-o", str(out)]
        argv += [a for p, v in versions.items() for a in ("--upgrade-package", f"{p}=={v}")]
        argv += ["--offline"] if offline else []
        try:
            done = subprocess.run(argv, cwd=run_in, env=uvcli.environment(), capture_output=True,
                                  text=True, timeout=max(uvcli.timeout() * 6, 60))
        except (OSError, subprocess.TimeoutExpired) as e:
            raise refusal(req, target, f"uv did not finish ({e.__class__.__name__})", cwd) from None
        if done.returncode != 0:
            raise refusal(req, target, _reason(done.stderr), cwd)
        body = out.read_bytes().decode("utf-8")
    text = _in_form(req, body)
    _check(req, text, versions, package, kept, target, cwd)
    return Relocked(text, tuple((str(p), t) for p, t in moved.items()))


def relock_command(req: ReqFile, target: Target) -> str:
    """What a person runs to re-lock the file for the new versions."""
    header = _header(req)
    ups = [a for p, v in _versions(req, target).items() for a in ("--upgrade-package", f"{p}=={v}")]
    words = [w for w in header.words if w not in ("-U", "--upgrade")]
    return shlex.join([*words, *ups]) if words else header.command


def refusal(req: ReqFile, target: Target, why: str, cwd: Path | None = None) -> UserError:
    line = req.header.line if req.header else 1
    if req.header is None:
        return UserError(f"cannot re-lock: {why}; re-lock it by hand", req.path, line)
    where = f" in {display(str(cwd))}" if cwd is not None else ""
    return UserError(f"cannot re-lock: {why}; run{where}: {relock_command(req, target)}", req.path, line)


def _header(req: ReqFile) -> Header:
    if req.header is None:
        raise UserError("cannot re-lock: its header names no pip-compile or uv pip compile command "
                        "(re-lock it by hand)", req.path, 1)
    if not req.header.words:
        raise UserError(f"cannot re-lock: its header records `{req.header.command}`, not a "
                        f"{req.header.tool} command; run that for the new versions",
                        req.path, req.header.line)
    return req.header


def _versions(req: ReqFile, target: Target) -> dict[str, str]:
    versions: dict[str, str] = {}
    for pin in req.pins:
        new = target(pin)
        if new is None or new == pin.version:
            continue
        if versions.setdefault(pin.package, new) != new:
            raise UserError(f"{pin.package} would be {versions[pin.package]} and {new}: one lock "
                            "holds one version of it", req.path, pin.line)
    return versions


def _where_it_ran(req: ReqFile, header: Header, lock_path: str, target: Target) -> Path:
    """The folder the command's relative paths start from: the lock's own, or the one its
    -o path (or its input, for pip-compile without -o) is relative to."""
    folder = Path(lock_path).resolve().parent
    candidates = [folder]
    relative = header.output or (header.inputs[0] if header.tool == PIP_COMPILE and header.inputs else "")
    depth = len(Path(relative).parent.parts) if relative and not os.path.isabs(relative) else 0
    if depth and ".." not in Path(relative).parts:
        candidates.append(folder.parents[depth - 1])
    inputs = header.inputs or DEFAULT_INPUTS
    for cwd in candidates:
        if header.inputs and all((cwd / i).is_file() for i in inputs):
            return cwd
        if not header.inputs and any((cwd / i).is_file() for i in inputs):
            return cwd
    names = ", ".join(header.inputs) or "requirements.in"
    raise refusal(req, target, f"its input {names} is not beside it", folder)


def _moved_inputs(cwd: Path, inputs: tuple[str, ...], target: Target, package: str,
                  kept: tuple[str, ...]) -> dict[Path, str]:
    """New texts of the requirements files the inputs are (and include), where kept pins move."""
    moved: dict[Path, str] = {}
    seen: set[Path] = set()
    todo = [cwd / i for i in inputs if Path(i).name not in PROJECT_FILES]
    while todo:
        path = todo.pop()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        text = path.read_bytes().decode("utf-8")  # as written: read_text would turn CRLF into LF
        found = parse(str(path), text, package, kept)
        plan = plan_file(found.scan(), target)
        if plan.changed:
            moved[path] = plan.new_text
        todo.extend(path.parent / i.path for i in found.includes if "://" not in i.path)
    return moved


def _overlay(cwd: Path, moved: dict[Path, str], tree: Path) -> Path:
    """A folder that reads as the real one, with the moved files rewritten: the folders on
    the way to a moved file are real, everything else links to the original."""
    root = Path(os.path.commonpath([cwd, *(p.parent for p in moved)]))
    chains = {a for p in moved for a in p.parents if a == root or root in a.parents}

    def mirror(real: Path, copy: Path) -> None:
        copy.mkdir(parents=True, exist_ok=True)
        for entry in os.listdir(real):
            src, dst = real / entry, copy / entry
            if src in moved:
                dst.write_bytes(moved[src].encode("utf-8"))
            elif src in chains:
                mirror(src, dst)
            else:
                dst.symlink_to(src)

    mirror(root, tree)
    return tree / cwd.relative_to(root)


def _options(header: Header, req: ReqFile, python: str | None, platform: str | None) -> list[str]:
    words = list(header.words[3:] if header.tool != PIP_COMPILE else header.words[1:])
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        name, eq, _ = word.partition("=")
        takes = name in VALUE_OPTIONS and not eq
        if not word.startswith("-") or word == "-":
            i += 1  # an input: given after the options
            continue
        if name in _DROP or (len(word) > 2 and word[:2] in _DROP and not word.startswith("--")):
            i += 2 if takes else 1
            continue
        out.append(_RENAME.get(name, name) + (word[len(name):] if eq else ""))
        if takes and i + 1 < len(words):
            out.append(words[i + 1])
            i += 1
        i += 1
    given = _named(out)
    if any(e.hashes for e in req.entries) and "--generate-hashes" not in given:
        out.append("--generate-hashes")
    if not given & _INDEX:
        out += uvcli.index_options()
    # the lock's Python: the command's own --python-version (the header read it), else the image's
    version = header.python if "--python-version" in given else python or header.python
    if version and not given & {"--python-version", "-p", "--python"}:
        out += ["--python-version", version]
    if platform and "--python-platform" not in given:
        out += ["--python-platform", platform]
    ours = "{}.{}".format(*sys.version_info[:2])
    if version in (ours, f"{ours}.{sys.version_info[2]}") and not given & {"-p", "--python"}:
        # Ours is the lock's Python: named, uv does not run every python3.X on PATH to find one
        # (each a bash script of pyenv's: 0.1 s apiece here). Another version is left to uv to
        # find, as the lock's own command did: an sdist is built by that Python.
        out += ["--python", sys.executable]
    return out


def _named(words: list[str]) -> set[str]:
    """The options among `words`, each by its name: `--python-version=3.11` and `-p3.11` (a
    short option's value written on it, as uv takes it) name `--python-version` and `-p`."""
    return {w.partition("=")[0] if w.startswith("--") else w[:2] for w in words if w.startswith("-")}


def _reason(stderr: str) -> str:
    """uv's cause, its wrapped lines joined into one."""
    lines = [ln.strip() for ln in stderr.strip().splitlines()]
    start = next((i for i, ln in enumerate(lines) if ln.startswith(("╰─▶", "cause:"))), None)
    if start is None:
        return "uv: " + (next((ln for ln in reversed(lines) if ln), "") or "failed")
    cause = []
    for ln in lines[start:]:
        if not ln or ln.startswith("hint:"):
            break
        cause.append(ln.removeprefix("╰─▶").removeprefix("cause:").strip())
    return "uv: " + " ".join(cause).rstrip(".")


def _in_form(req: ReqFile, body: str) -> str:
    """uv's output under the file's own header, with the file's line ends and byte-order mark."""
    bom = BOM if req.text.startswith(BOM) else ""
    assert req.header is not None
    head = req.text[len(bom):req.header.end]
    if head and not head.endswith(("\n", "\r")):
        head += "\r\n" if "\r\n" in req.text else "\n"
    if "\r\n" in req.text:
        body = body.replace("\r\n", "\n").replace("\n", "\r\n")
    return bom + head + body


def _check(req: ReqFile, text: str, versions: dict[str, str], package: str, kept: tuple[str, ...],
           target: Target, cwd: Path) -> None:
    """The re-lock holds the new versions, or it is refused."""
    pinned = {p.package: p.version for p in parse(req.path, text, package, kept).pins}
    for name, version in versions.items():
        if pinned.get(name) != version:
            raise refusal(req, target, f"uv locked {name} {pinned.get(name, 'not at all')}, not "
                          f"{version}", cwd)

"""Files a pip command reads (`-r` / `-c`, PIP_CONSTRAINT / UV_CONSTRAINT) and where the build
context puts them: COPY, ADD and `RUN --mount=type=bind`, read as text, never guessed.

A COPY's source may be a file or a folder, and its destination an existing folder or not; the
text alone does not say. A path that a command reads settles it: `COPY conf /app/conf` and a
read of `/app/conf/a.txt` means `conf` was a folder (nothing else could put a file there).
"""
from __future__ import annotations

import fnmatch
import posixpath

from release_hook.dockerfile import Instruction, run_flags_end, split_words
from release_hook.found import Placement
from release_hook.shell import parse_exec_form
from release_hook.walk.scopes import Scope, expand

_GLOB = frozenset("*?[")
_ARCHIVES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst")
_URL_PREFIXES = ("http://", "https://", "git@", "git://", "ssh://")


# the folder after a `cd` that may not run, or to where only the build knows
UNKNOWN_FOLDER = ""


def absolute(path: str, cwd: str) -> str:
    """An image path, absolute and normalised (a relative one is read against `cwd`)."""
    return posixpath.normpath(posixpath.join(cwd, path)).replace("//", "/")


def within(path: str, cwd: str) -> str:
    """`absolute`, where `cwd` may be UNKNOWN_FOLDER: a relative path is then the build's too."""
    if cwd == UNKNOWN_FOLDER and not path.startswith("/"):
        return UNKNOWN_FOLDER
    return absolute(path, cwd)


def _context(source: str) -> str:
    """A COPY source as a context-relative path (a leading `/` is the context's root too)."""
    return posixpath.normpath(source.lstrip("/") or ".")


def _is_folder(source: str) -> bool:
    return source in (".", "./", "/") or source.endswith(("/", "/."))


def copy_placements(ins: Instruction, escape: str, scope: Scope, workdir: str) -> list[Placement]:
    """What a COPY or ADD puts where (a destination relative to WORKDIR made absolute)."""
    end = run_flags_end(ins.args)  # `--chown=... --link` come before either form
    exec_words = parse_exec_form(ins.args[end:])
    words = split_words(ins.args[:end], escape) + exec_words if exec_words is not None \
        else split_words(ins.args, escape)
    texts = [expand(w, scope).text for w in words]
    flags = [t for t in texts if t.startswith("--")]
    paths = [t for t in texts if not t.startswith("--")]
    if len(paths) < 2:
        return []
    *sources, dest = paths
    line = ins.line
    written = f"{ins.keyword} {' '.join(texts)} at line {line}"
    into = dest.endswith("/") or dest in (".", "..") or dest.endswith(("/.", "/..")) or len(sources) > 1
    folder_dest = absolute(dest, workdir)
    origin = next((f.partition("=")[2] for f in flags if f.startswith("--from=")), None)
    parents = any(f == "--parents" or f.startswith("--parents=") and f != "--parents=false" for f in flags)
    out = []
    for source in sources:
        why = _not_from_context(ins.keyword, source, origin, line)
        if source.startswith("<<"):  # a heredoc: its text is in this file, not in the context
            name = source.lstrip("<-").strip("'\"")
            target = posixpath.join(folder_dest, name) if into else folder_dest
            out.append(Placement(target, None, False, line, f"{ins.keyword} <<{name} at line {line}", heredoc=name))
            continue
        folder = _is_folder(source) or why is not None and why.startswith("ADD unpacks")
        if folder or not into:
            target = folder_dest
        else:
            name = _context(source) if parents else posixpath.basename(source.rstrip("/"))
            target = posixpath.join(folder_dest, name)
        src = None if why is not None else _context(source)
        if src is not None and (src == ".." or src.startswith("../")):
            src, why = None, f"{ins.keyword} {source} at line {line} (outside the build context)"
        out.append(Placement(target, src, folder, line, why or written))
    return out


def _not_from_context(keyword: str, source: str, origin: str | None, line: int) -> str | None:
    if origin is not None:
        return f"{keyword} --from={origin} at line {line}"
    if keyword == "ADD" and source.startswith(_URL_PREFIXES):
        return f"ADD of a URL at line {line}"
    if keyword == "ADD" and source.lower().endswith(_ARCHIVES):
        return f"ADD unpacks the archive {source} at line {line}"
    return None


def mount_placements(ins: Instruction, escape: str, scope: Scope, workdir: str) -> list[Placement]:
    """`RUN --mount=type=bind,source=...,target=...`: in place for this RUN only."""
    end = run_flags_end(ins.args)
    if end == 0 or "--mount" not in ins.args.text[:end]:
        return []
    out = []
    for word in split_words(ins.args[:end], escape):
        text = expand(word, scope).text
        if not text.startswith("--mount="):
            continue
        fields = {}
        for part in text[len("--mount="):].split(","):
            key, _, value = part.partition("=")
            fields[key.strip().lower()] = value.strip().strip("'\"")
        target = fields.get("target") or fields.get("dst") or fields.get("destination")
        if fields.get("type", "bind") != "bind" or not target:
            continue
        source = fields.get("source") or fields.get("src") or "."
        dest = absolute(target, workdir)
        if "from" in fields:
            how = f"RUN --mount=type=bind,from={fields['from']} at line {ins.line}"
            out.append(Placement(dest, None, True, ins.line, how, ins.end_line))
            continue
        how = f"RUN {text} at line {ins.line}"
        out.append(Placement(dest, _context(source), _is_folder(source), ins.line, how, ins.end_line))
    return out


def place(placements: tuple[Placement, ...] | list[Placement], path: str, line: int) -> tuple[str | None, str]:
    """The build-context file at image path `path` when a command on `line` reads it, or
    (None, why)."""
    found = placement(placements, path, line)
    if found is None:
        return None, f"no COPY, ADD or bind mount puts a file at {path}"
    p, source = found
    return (source, "") if source is not None else (None, p.how)


def placement(placements: tuple[Placement, ...] | list[Placement], path: str,
              line: int) -> tuple[Placement, str | None] | None:
    """The last placement that puts a file at `path` before `line`, and the build-context file
    it takes (None when not from the context)."""
    for p in reversed(placements):
        if (p.until and not p.line <= line <= p.until) or (not p.until and p.line >= line):
            continue
        covers, source = _covers(p, path)
        if covers:
            return p, source
    return None


def _covers(p: Placement, path: str) -> tuple[bool, str | None]:
    dest = p.dest.rstrip("/") or "/"
    inside = path.startswith(dest.rstrip("/") + "/")
    rest = path[len(dest.rstrip("/")) + 1:] if inside else ""
    if p.folder:
        return inside, _join(p.source, rest) if inside else None
    head, name = posixpath.split(dest)
    if _GLOB & set(name):  # `COPY requirements*.txt /app/`
        if posixpath.dirname(path) == head and fnmatch.fnmatchcase(posixpath.basename(path), name):
            return True, _join(posixpath.dirname(p.source), posixpath.basename(path)) if p.source else None
        return False, None
    if path == dest:
        return True, p.source
    if p.source is not None and path == posixpath.join(dest, posixpath.basename(p.source)):
        return True, p.source  # the destination was a folder already
    if inside:
        return True, _join(p.source, rest)  # the source was a folder
    return False, None


def _join(source: str | None, rest: str) -> str | None:
    if source is None:
        return None
    return posixpath.normpath(posixpath.join(source, rest)) if rest else source

"""Which files to read, and reading them as text (never running anything in them)."""
from __future__ import annotations

import fnmatch
import os
import re
from typing import Sequence

from release_hook.errors import UserError

NAME_PATTERNS = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "*.dockerfile")
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox"}


def is_dockerfile_name(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in NAME_PATTERNS) and not name.startswith(".")


def discover(paths: Sequence[str], root: str, globs: Sequence[str]) -> list[str]:
    found: list[str] = []
    if not paths:
        # The same matching as pre-push applies to a commit's tree, so both pick the same files.
        tree: list[str] = []
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
            rel = os.path.relpath(folder, root).replace(os.sep, "/")
            tree.extend(n if rel == "." else f"{rel}/{n}" for n in sorted(names))
        refuse_unmatched(tree, globs)
        for p in matching(tree, globs):
            full = os.path.join(root, p)
            if os.path.isfile(full):
                found.append(full)
            elif os.path.islink(full) and not os.path.exists(full):
                raise UserError(f"dangling symbolic link (to {os.readlink(full)}), matched by "
                                f"{' '.join(globs)}", p)
    for path in paths:
        if os.path.isdir(path):
            before = len(found)
            for folder, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                found.extend(os.path.join(folder, n) for n in sorted(names) if is_dockerfile_name(n))
            if len(found) == before:
                raise UserError("no Dockerfile in this folder (names searched: "
                                f"{', '.join(NAME_PATTERNS)})", path)
        elif os.path.islink(path) and not os.path.exists(path):
            raise UserError(f"dangling symbolic link (to {os.readlink(path)})", path)
        elif os.path.lexists(path):
            found.append(path)
        else:
            raise UserError("no such file or folder", path)
    unique: dict[str, str] = {}
    for path in found:
        unique.setdefault(os.path.realpath(path), path)
    cwd = os.getcwd()
    return [display(p, cwd) for p in unique.values()]


def display(path: str, cwd: str | None = None) -> str:
    cwd = cwd or os.getcwd()
    if os.path.normpath(path) == path:  # what relpath would say, without its cost per file
        if not os.path.isabs(path) and path != ".." and not path.startswith(".." + os.sep):
            return path
        if path.startswith(cwd + os.sep):
            return path[len(cwd) + 1:]
    rel = os.path.relpath(path, cwd)
    return path if rel.startswith("..") else rel


def decode(data: bytes, path: str) -> str:
    if b"\0" in data:
        raise UserError("binary file, not a Dockerfile", path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise UserError(f"not UTF-8 text (byte 0x{data[e.start]:02x})", path, line) from None


def read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise UserError("no such file", path) from None
    except OSError as e:
        raise UserError(f"cannot read: {e.strerror}", path) from None


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A repository-relative glob (`**` spans folders) as a regular expression on `/` paths."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def matching(paths: Sequence[str], globs: Sequence[str]) -> list[str]:
    """Repository-relative `/` paths that a glob selects; hidden files and folders never are."""
    regexes = [glob_regex(g) for g in globs]
    return [p for p in paths if any(r.fullmatch(p) for r in regexes)
            and not any(part.startswith(".") for part in p.split("/"))]


def refuse_unmatched(paths: Sequence[str], globs: Sequence[str]) -> None:
    """A glob that selects nothing is a typo that would make every check pass in silence."""
    for glob in globs:
        if not matching(paths, [glob]):
            raise UserError(f"no Dockerfile matches {glob!r} ([release_hook] dockerfiles)")

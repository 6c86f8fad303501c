"""Which files to read, and reading them as text (never running anything in them)."""

from __future__ import annotations

import fnmatch
import os
import re
from typing import Mapping, Sequence

from release_hook.errors import UserError
from release_hook.config import utf8
from release_hook.records import NamedTuple

NAME_PATTERNS = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "*.dockerfile")
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox"}


def is_dockerfile_name(name: str) -> bool:
    return (any(fnmatch.fnmatchcase(name, p) for p in NAME_PATTERNS) and not name.startswith(".")
            and not _is_ignore_file(name))


def _is_ignore_file(name: str) -> bool:
    # BuildKit's per-Dockerfile ignore file (`Dockerfile.dockerignore`) is named like a Dockerfile
    return name.endswith(".dockerignore")


_MAGIC = re.compile(r"[*?]")


def _walk(root: str) -> list[str]:
    """Every file under `root` as a relative `/` path, hidden and tool folders left out."""
    tree: list[str] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        rel = os.path.relpath(folder, root).replace(os.sep, "/")
        tree.extend(n if rel == "." else f"{rel}/{n}" for n in sorted(names))
    return tree


def _expand(pattern: str) -> list[str]:
    """A glob given as a PATH (quoted, so the shell left it), matched as the settings' globs
    are, from the folder it starts in."""
    parts = pattern.replace(os.sep, "/").split("/")
    fixed = next(i for i, part in enumerate(parts) if _MAGIC.search(part))
    base = "/".join(parts[:fixed]) or ("/" if pattern.startswith("/") else ".")
    found = matching(_walk(base), ["/".join(parts[fixed:])]) if os.path.isdir(base) else []
    return [p if base == "." else os.path.join(base, p) for p in found]


def discover(paths: Sequence[str], root: str, globs: Sequence[str]) -> list[str]:
    found: list[str] = []
    if not paths:
        # The same matching as pre-push applies to a commit's tree, so both pick the same files.
        tree = _walk(root)
        refuse_unmatched(tree, globs)
        for p in matching(tree, globs):
            full = os.path.join(root, p)
            if os.path.isfile(full):
                found.append(full)
            elif os.path.islink(full) and not os.path.exists(full):
                raise UserError(f"dangling symbolic link (to {os.readlink(full)}), matched by "
                                f"{' '.join(globs)}", p)
    expanded: list[str] = []
    for given in paths:
        globbed = _expand(given) if _MAGIC.search(given) and not os.path.lexists(given) else []
        expanded.extend(globbed or [given])  # a glob matching nothing is named as given
    for path in expanded:
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
        else:  # worded as for a glob of the settings: a typo either way
            raise UserError(f"no Dockerfile matches {path!r} (PATH of the command line)")
    unique: dict[str, str] = {}
    for real, path in zip(realpaths(found), found):
        unique.setdefault(real, path)
    cwd = os.getcwd()
    return [display(p, cwd) for p in unique.values()]


def realpaths(paths: Sequence[str]) -> list[str]:
    """os.path.realpath of each path, with one lstat per file: each folder's is worked out once.
    (realpath looks at every component of every path: three times per file in a sync of 1,000
    files, 7,000 lstat calls.)"""
    folders: dict[str, str] = {}
    out = []
    for path in paths:
        folder, name = os.path.split(path)
        if name in ("", ".", "..") or os.path.islink(path):
            out.append(os.path.realpath(path))
            continue
        if folder not in folders:
            folders[folder] = os.path.realpath(folder or ".")
        out.append(os.path.join(folders[folder], name))
    return out


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
    text = utf8(data, path)
    refuse_conflict_markers(text, path)
    return text


# git's markers at the start of a line: `<<<<<<< ours`, `|||||||` (diff3), `=======`, `>>>>>>> theirs`;
# compiled only for a text that may hold one (0.3 ms of every run otherwise)
_CONFLICT = r"^(?:<{7}|\|{7}|>{7})(?:[ \t].*)?\r?$|^={7}\r?$"


def refuse_conflict_markers(text: str, path: str) -> None:
    """Pins on both sides of an unresolved merge would both be rewritten: refuse instead."""
    if "=======" not in text and "<<<<<<<" not in text and ">>>>>>>" not in text:
        return  # the common case, without a regex
    found = re.search(_CONFLICT, text, re.M)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        raise UserError(f"unresolved merge conflict marker {found.group().strip()[:7]}; "
                        "resolve the conflict first (nothing written)", path, line)


def _top(root: str) -> str:
    top = os.path.realpath(root)
    while not os.path.exists(os.path.join(top, ".git")) and os.path.dirname(top) != top:
        top = os.path.dirname(top)  # the repository's top, when root is a folder inside it
    return top if os.path.exists(os.path.join(top, ".git")) else os.path.realpath(root)


def refuse_links_outside(paths: Sequence[str], root: str) -> None:
    """A Dockerfile that is a symlink to a file outside the repository is not ours to rewrite."""
    top = _top(root)
    for path, target in zip(paths, realpaths(paths)):
        if target == os.path.abspath(path):
            continue
        if os.path.commonpath([top, target]) != top:
            raise UserError(f"a symlink to {target}, outside the repository; not followed "
                            "(point it inside, or give the target's own path) (nothing written)", path)


def refuse_outside(paths: Sequence[str], root: str) -> None:
    """A requirements file found through a build context is rewritten only inside the repository:
    one reached through a symlink, or a `context` setting, that leads out is another project's."""
    refuse_links_outside(paths, root)
    top = _top(root)
    for path, real in zip(paths, realpaths(paths)):
        if os.path.commonpath([top, real]) != top:
            raise UserError("outside the repository (through the build context's setting); not "
                            "rewritten (nothing written)", os.path.normpath(path))


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
            and not any(part.startswith(".") for part in p.split("/")) and not _is_ignore_file(p)]


def refuse_unmatched(paths: Sequence[str], globs: Sequence[str]) -> None:
    """A glob that selects nothing is a typo that would make every check pass in silence."""
    for glob in globs:
        if not matching(paths, [glob]):
            raise UserError(f"no Dockerfile matches {glob!r} ([release_hook] dockerfiles)")


class Tree(NamedTuple):
    """A commit's paths as git stores them (read from its objects, never from disk): regular
    files, symbolic links with the path each one stores, and folders."""
    files: frozenset[str]
    links: Mapping[str, str]
    folders: frozenset[str]

    def paths(self) -> list[str]:
        """What a glob may select: files and links, as a walk of a checkout lists them."""
        return sorted(self.files | set(self.links))

    def follow(self, path: str) -> str:
        """The path `path` names once every link on the way is followed, as a checkout's file
        system would. A link that leaves the repository (absolute, or `..` past its top) is
        refused: another clone would read something else there, or nothing."""
        pending = path.split("/")
        done: list[str] = []
        hops = 0
        while pending:
            part = pending.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if not done:
                    raise self._outside(path)
                done.pop()
                continue
            here = "/".join([*done, part])
            if here in self.links:
                hops += 1
                if hops > 40:  # as Linux gives up (ELOOP)
                    raise UserError("a loop of symbolic links; not followed", path)
                stored = self.links[here]
                if stored.startswith("/"):
                    raise self._outside(path)
                pending = stored.split("/") + pending  # relative to the link's own folder
                continue
            done.append(part)
        return "/".join(done)

    def _outside(self, path: str) -> UserError:
        return UserError(f"a symlink to {self.links.get(path, path)}, outside the repository; not "
                         "followed (point it inside the repository)", path)

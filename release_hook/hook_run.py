"""What the installed hooks run: the bump's sync inside its commit, the pre-push check of each
pushed commit, and the pre-commit framework's hook."""
from __future__ import annotations

import os
import shlex
import sys
from typing import Sequence

from release_hook.errors import UserError

def run(stage: str, args: Sequence[str]) -> int:
    if stage == "pre-commit":
        return pre_commit()
    if stage == "bump-my-version":
        return bump_my_version()
    if stage == "framework":
        return framework()
    return pre_push(sys.stdin.read(), args[0] if args else "origin")  # git passes the remote's name


def pre_commit() -> int:
    """During a bump's commit (bump2version's or bump-my-version's `git commit`): sync the
    Dockerfiles to the new version and stage them, so the commit and its tag carry them."""
    version = os.environ.get("BUMPVERSION_NEW_VERSION", "")
    if not version:
        return 0
    return _sync_for_bump(version, "BUMPVERSION_NEW_VERSION", staged=True)


def bump_my_version() -> int:
    """One of bump-my-version's `pre_commit_hooks`: it has written its files, not yet staged
    them, and commits whatever is staged once its hooks pass."""
    version = os.environ.get("BVHOOK_NEW_VERSION", "")
    if not version:
        raise UserError("BVHOOK_NEW_VERSION is not set: run this as one of bump-my-version's "
                        "pre_commit_hooks")
    return _sync_for_bump(version, "BVHOOK_NEW_VERSION", staged=False)


def _sync_for_bump(version: str, what: str, staged: bool) -> int:
    from release_hook import config as cfg
    from release_hook import gitops
    from release_hook.request import Request
    from release_hook.sync import run

    root = gitops.toplevel(".")
    try:
        cfg.checked_version(version, what)
        os.chdir(root)
        request = Request((), version, {}, "write", commit=False, offline=False, stage=True)
        return run(cfg.load(root), request)
    except UserError as e:
        print(f"release-hook: {e}", file=sys.stderr)
        print(_undo_hint(root, staged, version, what), file=sys.stderr)
        return 2


def _undo_hint(top: str, staged: bool, new: str, variable: str) -> str:
    """What the bump tool left behind, and the git command that undoes it. bump2version writes
    its files and stages them before `git commit` runs the pre-commit hook; bump-my-version
    writes them and runs its own hooks before staging anything. Either way nothing is committed
    or tagged."""
    import glob
    import re

    from release_hook import gitops
    from release_hook.files import glob_regex

    try:
        edited = gitops.staged_paths(top) if staged else gitops.edited_paths(top)
    except UserError:
        edited = []
    # Only what the bump tool writes: a restore of anything else would throw away the user's
    # work. A glob's `*` stays within one folder, as glob's does; a name is matched as itself.
    bumped = [glob_regex(b) if glob.has_magic(b) else re.compile(re.escape(b)) for b in _bump_files(top)]
    edited = [p for p in edited if any(b.fullmatch(p) for b in bumped)]
    if not edited:
        return "release-hook: the bump was not committed or tagged"
    paths = " ".join(shlex.quote(p) for p in edited)
    # the tool that set BUMPVERSION_NEW_VERSION (or BVHOOK_...) sets its _CURRENT_VERSION too
    others = _other_edits(top, edited, staged, new, os.environ.get(variable.replace("_NEW_", "_CURRENT_"), ""))
    careful = (f" (careful: {', '.join(others)} also hold edits that are not the version's, which this "
               "discards too)" if others else "")
    if staged:
        return ("release-hook: the bump was not committed or tagged; its version edits are still "
                "staged. Fix the above and commit them, or undo them with: git restore --staged "
                f"--worktree -- {paths}{careful}")
    return ("release-hook: the bump was not committed or tagged; its version edits are left in "
            f"the work tree. Fix the above and bump again after undoing them with: git restore -- {paths}"
            f"{careful}")


def _other_edits(top: str, paths: list[str], staged: bool, new: str, old: str) -> list[str]:
    """The files among `paths` whose changes are more than the version's (`old` to `new`): a
    bump tool stages whole files, so the user's own edits in them (allow_dirty) would go with a
    restore."""
    from release_hook import gitops

    try:
        diff = gitops.diff_lines(top, paths, staged)
    except UserError:
        return []
    found: list[str] = []
    current = None
    for line in diff:
        if line.startswith("+++ "):
            current = line[6:] if line.startswith("+++ b/") else None
        elif line.startswith(("--- ", "@@", "diff ", "index ", "new file", "deleted file")):
            continue
        elif current and current not in found and (
                (line.startswith("+") and new not in line) or (line.startswith("-") and old and old not in line)):
            found.append(current)
    return found


def _bump_files(top: str) -> set[str]:
    """The files a bump tool rewrites, as globs: its configuration file and the files (and globs)
    it names there."""
    import configparser

    from release_hook import config as cfg

    found: set[str] = set()
    for name in cfg.VERSION_FILES:
        path = os.path.join(top, name)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError):
            continue
        try:
            if name.endswith(".toml"):
                tool = cfg.read_toml(text, path).get("tool", {}).get("bumpversion", {})
                if tool:
                    found.add(name)
                    found.update(str(f.get("filename") or f.get("glob")) for f in tool.get("files", [])
                                 if isinstance(f, dict) and (f.get("filename") or f.get("glob")))
                continue
            parser = configparser.RawConfigParser()
            parser.read_string(text)
        except (UserError, configparser.Error):
            continue
        if parser.has_section("bumpversion"):
            found.add(name)
            # [bumpversion:file:PATH], [bumpversion:file(NAME):PATH] and [bumpversion:glob:PATTERN]
            found.update(section.split(":", 2)[2] for section in parser.sections()
                         if section.startswith(("bumpversion:file", "bumpversion:glob"))
                         and section.count(":") >= 2)
    return {os.path.normpath(f).replace(os.sep, "/") for f in found}  # `./setup.py` is git's `setup.py`


def pre_push(stdin: str, remote: str = "origin") -> int:
    """Refuse to publish a branch tip or tag whose Dockerfiles disagree with its version."""
    from release_hook import pre_push as check

    return check.run(stdin, remote)


def framework() -> int:
    """The pre-commit framework's hook (`release-hook-check`).

    At its pre-push stage the framework names one pushed ref in its environment
    (PRE_COMMIT_REMOTE_BRANCH is set only there): that commit is judged from git objects, exactly
    as the git pre-push hook does. At any other stage the work tree is checked.
    """
    remote_branch = os.environ.get("PRE_COMMIT_REMOTE_BRANCH", "")
    if remote_branch:
        from release_hook import gitops

        local = os.environ.get("PRE_COMMIT_LOCAL_BRANCH", "") or "HEAD"
        # TO_REF is unset when the push carries a whole history (its root commit): read the ref
        to_ref = os.environ.get("PRE_COMMIT_TO_REF", "")
        if not to_ref:
            with gitops.Objects.open(".") as repo:
                to_ref = repo.peel(local)
        from_ref = os.environ.get("PRE_COMMIT_FROM_REF", "") or "0" * len(to_ref)
        return pre_push(f"{local} {to_ref} {remote_branch} {from_ref}\n",
                        os.environ.get("PRE_COMMIT_REMOTE_NAME", "") or "origin")
    return _check_work_tree()


def _check_work_tree() -> int:
    from release_hook import config as cfg
    from release_hook.request import Request
    from release_hook.sync import run

    root = cfg.find_root(os.getcwd())
    version = cfg.checked_version(cfg.current_version(root), "current_version")
    return run(cfg.load(root), Request((), version, {}, "check", commit=False, offline=False))

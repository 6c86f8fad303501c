"""What the installed hooks run: the bump's sync inside its commit, the pre-push check of each
pushed commit, and the pre-commit framework's hook."""
from __future__ import annotations

import os
import shlex
import sys
from typing import Sequence

from release_hook.errors import UserError

ZERO = frozenset("0")


def run(stage: str, args: Sequence[str]) -> int:
    if stage == "pre-commit":
        return pre_commit()
    if stage == "bump-my-version":
        return bump_my_version()
    if stage == "framework":
        return framework()
    return pre_push(sys.stdin.read())


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
        print(_undo_hint(root, staged), file=sys.stderr)
        return 2


def _undo_hint(top: str, staged: bool) -> str:
    """What the bump tool left behind, and the git command that undoes it. bump2version writes
    its files and stages them before `git commit` runs the pre-commit hook; bump-my-version
    writes them and runs its own hooks before staging anything. Either way nothing is committed
    or tagged."""
    from release_hook import gitops

    try:
        edited = gitops.staged_paths(top) if staged else gitops.edited_paths(top)
    except UserError:
        edited = []
    bumped = _bump_files(top)
    if bumped and any(p in bumped for p in edited):
        edited = [p for p in edited if p in bumped]  # leave the user's own work out of it
    if not edited:
        return "release-hook: the bump was not committed or tagged"
    paths = " ".join(shlex.quote(p) for p in edited)
    if staged:
        return ("release-hook: the bump was not committed or tagged; its version edits are still "
                "staged. Fix the above and commit them, or undo them with: git restore --staged "
                f"--worktree -- {paths}")
    return ("release-hook: the bump was not committed or tagged; its version edits are left in "
            f"the work tree. Fix the above and bump again after undoing them with: git restore -- {paths}")


def _bump_files(top: str) -> set[str]:
    """The files a bump tool rewrites: its configuration file and the files it names there."""
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
                    found.update(str(f.get("filename")) for f in tool.get("files", [])
                                 if isinstance(f, dict) and f.get("filename"))
                continue
            parser = configparser.RawConfigParser()
            parser.read_string(text)
        except (UserError, configparser.Error):
            continue
        if parser.has_section("bumpversion"):
            found.add(name)
            # [bumpversion:file:PATH] and [bumpversion:file(NAME):PATH]
            found.update(section.split(":", 2)[2] for section in parser.sections()
                         if section.startswith("bumpversion:file") and section.count(":") >= 2)
    return found


def pre_push(stdin: str) -> int:
    """Refuse to publish a branch tip or tag whose Dockerfiles disagree with its version.

    Each commit is judged once, as of its own date. A tag for a release older than the newest
    one being pushed (or than HEAD's) is history: reported, never refused.
    """
    from packaging.version import InvalidVersion, Version

    from release_hook import check_commit, gitops

    pushed: list[tuple[str, str]] = []  # (remote ref, commit)
    for line in stdin.splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        _local_ref, local_sha, remote_ref, _remote_sha = parts
        if set(local_sha) <= ZERO:
            continue  # a deletion
        if not remote_ref.startswith(("refs/heads/", "refs/tags/")):
            continue  # neither a branch tip nor a tag where it lands
        pushed.append((remote_ref, local_sha))
    if not pushed:
        return 0
    repo = gitops.open_repo(".")
    pushed = [(ref, gitops.peel(repo, sha)) for ref, sha in pushed]

    def version_of(sha: str) -> Version | None:
        try:
            found = check_commit.declared_version(repo, sha)
            return Version(found) if found else None
        except (InvalidVersion, UserError):
            return None  # the check itself reports it

    versions = {sha: version_of(sha) for _, sha in pushed}
    try:
        head = version_of(gitops.peel(repo, "HEAD"))
    except Exception:  # an unborn or detached-and-gone HEAD: only the pushed refs count
        head = None
    known = [v for v in (*versions.values(), head) if v is not None]
    newest = max(known) if known else None
    failures = errors = 0
    out_of_step = offline_refused = False
    first_ref: dict[str, str] = {}  # commit -> the ref it was judged under
    reported: set[str] = set()  # refs whose commit's verdict printed lines
    for remote_ref, sha in pushed:
        version = versions[sha]
        if remote_ref.startswith("refs/tags/") and version is not None and newest is not None \
                and version < newest:
            print(f"release-hook: {remote_ref}: not checked: an earlier release ({version}; "
                  f"{newest} is newer)", file=sys.stderr)
            continue
        if sha in first_ref:  # its lines were printed under the first ref: not again
            if first_ref[sha] in reported:
                print(f"release-hook: {remote_ref}: the same commit as {first_ref[sha]}, judged above",
                      file=sys.stderr)
            continue
        first_ref[sha] = remote_ref
        try:
            verdict = check_commit.check(".", sha)
        except UserError as e:
            # a file of the commit no sync could read (conflict markers, a link out of the
            # repository): name the ref that carries it, and go on to the other refs
            print(f"release-hook: {remote_ref}: {_at_push(e)}", file=sys.stderr)
            reported.add(remote_ref)
            errors += 1
            continue
        if verdict.problems or verdict.unchecked:
            reported.add(remote_ref)
        for p in verdict.problems:
            print(f"release-hook: {remote_ref}: {p}", file=sys.stderr)
        for u in verdict.unchecked:
            print(f"release-hook: {remote_ref}: not checked: {u}", file=sys.stderr)
        offline_refused = offline_refused or bool(verdict.unchecked and verdict.offline_push == "refuse")
        if verdict.problems:
            failures += 1
            out_of_step = True
            if verdict.as_of is not None:
                print(f"release-hook: {remote_ref}: judged as of {verdict.as_of:%Y-%m-%d %H:%M:%S} UTC "
                      "(the commit's date)", file=sys.stderr)
        elif verdict.unchecked and verdict.offline_push == "refuse":
            print(f"release-hook: {remote_ref}: refusing to push what could not be checked "
                  "(set [release_hook] offline_push = allow to let it through)", file=sys.stderr)
            failures += 1
    if failures:
        # sync fixes pins out of step; only the index answering (or allow) lets unchecked ones by
        if out_of_step:
            print("release-hook: push refused. Fix with: python -m release_hook sync, then push again"
                  + (" when the package index answers (or set [release_hook] offline_push = allow)"
                     if offline_refused else ""), file=sys.stderr)
        else:
            print("release-hook: push refused: the package index could not be reached; push again "
                  "when it answers, or set [release_hook] offline_push = allow", file=sys.stderr)
        return 2 if errors else 1
    return 2 if errors else 0


def _at_push(e: UserError) -> str:
    """An error as the push reports it: a push writes nothing, so it does not say so."""
    return str(UserError(e.message.removesuffix(" (nothing written)"), e.path, e.line))


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
        to_ref = os.environ.get("PRE_COMMIT_TO_REF", "") or gitops.peel(gitops.open_repo("."), local)
        from_ref = os.environ.get("PRE_COMMIT_FROM_REF", "") or "0" * len(to_ref)
        return pre_push(f"{local} {to_ref} {remote_branch} {from_ref}\n")
    return _check_work_tree()


def _check_work_tree() -> int:
    from release_hook import config as cfg
    from release_hook.request import Request
    from release_hook.sync import run

    root = cfg.find_root(os.getcwd())
    version = cfg.checked_version(cfg.current_version(root), "current_version")
    return run(cfg.load(root), Request((), version, {}, "check", commit=False, offline=False))

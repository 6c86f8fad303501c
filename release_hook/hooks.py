"""The git hooks: install and uninstall them, and what they run.

The pre-commit script is plain sh and returns before starting Python unless a version bump
(bump2version or bump-my-version) is committing, so an ordinary commit pays for one `[ -n ]`.
"""
from __future__ import annotations

import os
import shlex
import sys
from typing import Sequence

from release_hook.errors import UserError

MARKER = "# release-hook: managed hook"
CHAINED = ".release-hook-chained"
HOOKS = ("pre-commit", "pre-push")
ZERO = frozenset("0")

_PRE_COMMIT = """#!/bin/sh
{marker}
# Installed by `python -m release_hook install`; `python -m release_hook uninstall` removes it
# and restores any hook it replaced ({chained}).
if [ -n "${{BUMPVERSION_NEW_VERSION:-}}" ]; then
    {python} -m release_hook hook pre-commit || exit $?
fi
chained="$(dirname "$0")/pre-commit{chained}"
if [ -x "$chained" ]; then
    exec "$chained" "$@"
fi
exit 0
"""

_PRE_PUSH = """#!/bin/sh
{marker}
# Installed by `python -m release_hook install`; `python -m release_hook uninstall` removes it
# and restores any hook it replaced ({chained}).
refs=$(cat)
printf '%s\\n' "$refs" | {python} -m release_hook hook pre-push "$@" || exit $?
chained="$(dirname "$0")/pre-push{chained}"
if [ -x "$chained" ]; then
    printf '%s\\n' "$refs" | "$chained" "$@" || exit $?
fi
exit 0
"""


def hooks_dir(repo_path: str) -> str:
    """The folder git runs hooks from: core.hooksPath, or the common git dir of a worktree."""
    from release_hook.gitops import open_repo

    try:
        repo = open_repo(repo_path)
    except UserError:
        raise UserError("not a git repository: the hooks go into a repository's hooks folder; "
                        "run this inside one, or give --repo PATH", os.path.abspath(repo_path)) from None
    top = repo.working_tree_dir or repo.git_dir
    path = repo.git.rev_parse("--git-path", "hooks")
    return os.path.normpath(os.path.join(top, path))


def script(name: str, python: str = sys.executable) -> str:
    template = _PRE_COMMIT if name == "pre-commit" else _PRE_PUSH
    return template.format(marker=MARKER, chained=CHAINED, python=shlex.quote(python))


def _is_ours(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return MARKER in f.read(4096)
    except OSError:
        return False


def install(repo_path: str) -> int:
    folder = hooks_dir(repo_path)
    os.makedirs(folder, exist_ok=True)
    for name in HOOKS:
        path = os.path.join(folder, name)
        wanted = script(name)
        if os.path.lexists(path) and not _is_ours(path):
            chained = path + CHAINED
            if os.path.lexists(chained):
                raise UserError(f"both {name} and {name}{CHAINED} exist; remove one", folder)
            os.replace(path, chained)
            print(f"kept the existing {name} hook; it still runs, as {name}{CHAINED}")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                if f.read() == wanted:
                    continue
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(wanted)
        os.chmod(tmp, 0o755)
        os.replace(tmp, path)
        print(f"installed {path}")
    return 0


def uninstall(repo_path: str) -> int:
    folder = hooks_dir(repo_path)
    for name in HOOKS:
        path = os.path.join(folder, name)
        if _is_ours(path):
            os.unlink(path)
            print(f"removed {path}")
            if os.path.lexists(path + CHAINED):
                os.replace(path + CHAINED, path)
                print(f"restored the {name} hook it had replaced")
    return 0


def run(stage: str, args: Sequence[str]) -> int:
    if stage == "pre-commit":
        return pre_commit()
    return pre_push(sys.stdin.read())


def pre_commit() -> int:
    """During a bump's commit: sync the Dockerfiles to the new version and stage them."""
    from release_hook import config as cfg
    from release_hook import gitops
    from release_hook.request import Request
    from release_hook.sync import run

    version = os.environ.get("BUMPVERSION_NEW_VERSION", "")
    if not version:
        return 0
    cfg.checked_version(version, "BUMPVERSION_NEW_VERSION")
    root = gitops.toplevel(".")
    os.chdir(root)
    request = Request((), version, {}, "write", commit=False, offline=False, stage=True)
    return run(cfg.load(root), request)


def pre_push(stdin: str) -> int:
    """Refuse to publish a branch tip or tag whose Dockerfiles disagree with its version."""
    from release_hook import check_commit

    failures = 0
    for line in stdin.splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        _local_ref, local_sha, remote_ref, _remote_sha = parts
        if set(local_sha) <= ZERO:
            continue  # a deletion
        if not remote_ref.startswith(("refs/heads/", "refs/tags/")):
            continue  # neither a branch tip nor a tag where it lands
        verdict = check_commit.check(".", local_sha)
        for p in verdict.problems:
            print(f"release-hook: {remote_ref}: {p}", file=sys.stderr)
        for u in verdict.unchecked:
            print(f"release-hook: {remote_ref}: not checked: {u}", file=sys.stderr)
        if verdict.problems:
            failures += 1
        elif verdict.unchecked and verdict.offline_push == "refuse":
            print(f"release-hook: {remote_ref}: refusing to push what could not be checked "
                  "(set [release_hook] offline_push = allow to let it through)", file=sys.stderr)
            failures += 1
    if failures:
        print("release-hook: push refused. Fix with: python -m release_hook sync, then push again",
              file=sys.stderr)
        return 1
    return 0

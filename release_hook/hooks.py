"""The git hooks: their scripts, installing and removing them. What they run is in
`hook_run.py`; whether they can run, `doctor.py`.

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

# Both hooks find the tool the same way: the Python that installed them (when it still has
# release_hook), else `release-hook` on PATH, else one line saying how to reinstall, and fail.
_FIND = """python={python}
module={module}
release_hook() {{
    if [ -x "$python" ] && [ -f "$module" ]; then
        "$python" -m release_hook "$@"
    elif command -v release-hook >/dev/null 2>&1; then
        release-hook "$@"
    else
        echo "release-hook: cannot run the {name} hook: $python no longer has release_hook and" \\
             "no release-hook is on PATH; put release-hook back (that environment, or onto PATH)," \\
             "then run: release-hook install" >&2
        return 1
    fi
}}
"""

_PRE_COMMIT = """#!/bin/sh
{marker}
# Installed by `release-hook install`; `release-hook uninstall` removes it and restores any
# hook it replaced ({chained}).
{find}if [ -n "${{BUMPVERSION_NEW_VERSION:-}}" ]; then
    release_hook hook pre-commit || exit $?
fi
chained="${{0%/*}}/pre-commit{chained}"
if [ -x "$chained" ]; then
    exec "$chained" "$@"
fi
exit 0
"""

_PRE_PUSH = """#!/bin/sh
{marker}
# Installed by `release-hook install`; `release-hook uninstall` removes it and restores any
# hook it replaced ({chained}).
{find}refs=$(cat)
printf '%s\\n' "$refs" | release_hook hook pre-push "$@" || exit $?
chained="${{0%/*}}/pre-push{chained}"
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


def _module_file() -> str:
    import release_hook

    return os.path.abspath(release_hook.__file__ or "")


def script(name: str, python: str = sys.executable, module: str | None = None) -> str:
    template = _PRE_COMMIT if name == "pre-commit" else _PRE_PUSH
    find = _FIND.format(python=shlex.quote(python), module=shlex.quote(module or _module_file()),
                        name=name)
    return template.format(marker=MARKER, chained=CHAINED, find=find)


def is_ours(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return MARKER in f.read(4096)
    except OSError:
        return False


def _refuse_tracked(repo_path: str, folder: str) -> None:
    """Hooks under a core.hooksPath that git tracks are shared with everyone who clones: writing
    this machine's Python path into them, or moving them aside, is not ours to do unasked."""
    from release_hook import gitops

    top = gitops.toplevel(repo_path)
    candidates = [os.path.join(folder, n) for n in HOOKS] + [os.path.join(folder, n + CHAINED) for n in HOOKS]
    for rel in gitops.tracked(top, candidates):
        path = os.path.join(top, rel)
        with open(path, encoding="utf-8", errors="replace") as f:
            if f.read() in {script(n) for n in HOOKS}:
                continue  # already exactly what install would write
        raise UserError("is tracked by git (core.hooksPath); install would write this machine's "
                        "Python path into it. Call `release-hook hook pre-commit` / `hook pre-push` "
                        "from it yourself (README: install), or pass --force to rewrite it "
                        "(nothing written)", rel)


def _in_work_tree(repo_path: str, folder: str) -> bool:
    """Whether hooks written here could be committed by mistake (a core.hooksPath in the tree)."""
    from release_hook import gitops

    top = os.path.realpath(gitops.toplevel(repo_path))
    rel = os.path.relpath(os.path.realpath(folder), top)
    return not rel.startswith("..") and rel.split(os.sep)[0] != ".git"


def install(repo_path: str, force: bool = False) -> int:
    folder = hooks_dir(repo_path)
    if not force:
        _refuse_tracked(repo_path, folder)
    try:
        return _install(folder, repo_path)
    except OSError as e:  # core.hooksPath naming a file, a read-only folder
        where = e.filename if isinstance(e.filename, str) else folder
        raise UserError(f"cannot write the hooks: {e.strerror}; check "
                        "core.hooksPath (git config core.hooksPath) or the folder's permissions", where) from None


def _install(folder: str, repo_path: str) -> int:
    os.makedirs(folder, exist_ok=True)
    for name in HOOKS:
        path = os.path.join(folder, name)
        wanted = script(name)
        if os.path.lexists(path) and not is_ours(path):
            chained = path + CHAINED
            if os.path.lexists(chained):
                raise UserError(f"both {name} and {name}{CHAINED} exist; remove one", folder)
            os.replace(path, chained)
            print(f"kept the existing {name} hook; it still runs, as {name}{CHAINED}")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                if f.read() == wanted:
                    print(f"already installed: {path}")
                    continue
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(wanted)
        os.chmod(tmp, 0o755)
        os.replace(tmp, path)
        print(f"installed {path}")
        if _in_work_tree(repo_path, folder):
            print(f"note: {name} holds this machine's Python path; keep it out of commits")
    return 0


def uninstall(repo_path: str) -> int:
    folder = hooks_dir(repo_path)
    for name in HOOKS:
        path = os.path.join(folder, name)
        if is_ours(path):
            os.unlink(path)
            print(f"removed {path}")
            if os.path.lexists(path + CHAINED):
                os.replace(path + CHAINED, path)
                print(f"restored the {name} hook it had replaced")
    return 0


def recorded(path: str, key: str) -> str | None:
    """A value the hook script recorded (`python=...`), as the shell would read it."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith(key + "="):
                words = shlex.split(line[len(key) + 1:])
                return words[0] if words else None
    return None


def install_advice(repo_path: str, folder: str) -> str:
    """What doctor tells to run: `install`, unless install would refuse the tracked hooks here."""
    try:
        _refuse_tracked(repo_path, folder)
    except UserError as e:
        return (f"install refuses while git tracks {e.path} (core.hooksPath): call `release-hook hook "
                "pre-commit` / `hook pre-push` from the tracked hooks (README: install), or run: "
                f"{_install_command(repo_path, '--force')}")
    return f"run: {_install_command(repo_path)}"


def _install_command(repo_path: str, *flags: str) -> str:
    """`install` as the user's shell runs it, for the repository doctor was asked about."""
    from release_hook.invocation import command

    here = os.path.realpath(repo_path) == os.path.realpath(".")
    return command("install", *(() if here else ("--repo", repo_path)), *flags)


def print_bump_my_version(repo_path: str = ".") -> int:
    from release_hook import bump_my_version as bmv
    from release_hook import config as cfg

    sys.stdout.write(bmv.advice(cfg.find_root(repo_path), bmv.hook_command()))
    return 0


def run(stage: str, args: Sequence[str]) -> int:
    from release_hook import hook_run

    return hook_run.run(stage, args)

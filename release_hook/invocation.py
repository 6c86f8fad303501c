"""How the user's shell runs this installation of release-hook, for every command we print.

A printed `python -m release_hook sync` runs whatever `python` PATH finds first, which often has
no release_hook: a virtualenv that is not active, a hook run by a Python that PATH does not
lead to, the pre-commit framework's environment. So a printed command names the interpreter
that runs us by its absolute path, or `release-hook` when PATH leads to this very installation.
"""
from __future__ import annotations

import os
import shlex
import sys
import sysconfig


def command(*args: str) -> str:
    """`release-hook ARGS` or `/abs/python -m release_hook ARGS`, quoted for a POSIX shell."""
    return " ".join([prefix(), *(shlex.quote(a) for a in args)])


def prefix() -> str:
    # The framework runs hooks with its own environment first on PATH: `release-hook` found
    # there is not found from the user's shell.
    if os.environ.get("PRE_COMMIT") != "1":
        import shutil  # only for a command printed: 2 ms of every hook run otherwise

        found = shutil.which("release-hook")
        if found is not None and _same_file(found, console_script()):
            return "release-hook"
    return f"{shlex.quote(sys.executable)} -m release_hook"


def console_script() -> str:
    """This installation's `release-hook` script (it may be missing: `python -m` still works)."""
    return os.path.join(sysconfig.get_path("scripts"), "release-hook")


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False

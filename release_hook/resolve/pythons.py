"""Finding a CPython X.Y on this machine for the import proof, by uv's interpreter discovery.

uv looks at its own managed Pythons and at the `python3.X` executables on PATH. pyenv's shims
answer only for the versions pyenv has activated, and uv gives up at the first shim that fails,
so for the search the shims give way to each pyenv version's own `bin` folder. A Python is
downloaded (by uv, into its managed folder) only where the user allows it.
"""
from __future__ import annotations

import glob
import os
import subprocess
from dataclasses import dataclass

from release_hook.resolve import uvcli

FIND_LIMIT = 60.0  # uv asks each interpreter on PATH for its version
INSTALL_LIMIT = 900.0  # a download of a whole Python


@dataclass(frozen=True)
class Interpreter:
    path: str
    version: str  # "3.12.1"


# Found once per process and environment: a search tries several candidates, each in the same
# Python, and uv asks every interpreter on PATH for its version each time it looks.
_found: dict[tuple[object, ...], Interpreter] = {}


def find(python: tuple[int, int], downloads: bool = False) -> Interpreter | str:
    """A CPython of that minor version, or why there is none (a sentence)."""
    uv = uvcli.binary()
    if uv is None:
        return "uv is not installed"
    want = "cpython@{}.{}".format(*python)
    key = (want, uv, tuple(sorted(_environment(False).items())))
    known = _found.get(key)
    if known is not None and os.path.exists(known.path):
        return known
    found = _find(uv, want)
    if not isinstance(found, Interpreter) and downloads:
        done = _run([uv, "python", "install", want], INSTALL_LIMIT, downloads=True)
        if isinstance(done, str) or done.returncode != 0:
            why = done if isinstance(done, str) else _last_line(done.stderr) or f"exit status {done.returncode}"
            return f"no Python {python[0]}.{python[1]} on this machine, and uv could not install one: {why}"
        found = _find(uv, want)
    if isinstance(found, Interpreter):
        _found[key] = found
    return found


def _find(uv: str, want: str) -> Interpreter | str:
    minor = want.partition("@")[2]
    done = _run([uv, "python", "find", "--no-project", "--system", want], FIND_LIMIT, downloads=False,
                prefer=minor)
    if isinstance(done, str):
        return f"cannot look for Python {minor}: {done}"
    path = done.stdout.strip().splitlines()[-1] if done.returncode == 0 and done.stdout.strip() else ""
    if not path:
        return (f"no Python {minor} on this machine (uv found none; [release_hook] "
                "smoke_python_downloads = true lets uv install one)")
    version = _run([path, "-I", "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                   FIND_LIMIT, downloads=False)
    if isinstance(version, str) or version.returncode != 0:
        return f"Python {minor} at {path} does not run"
    return Interpreter(path, version.stdout.strip())


def search_path(path: str, pyenv_root: str | None = None, prefer: str = "") -> str:
    """PATH as uv should search it: pyenv's shims replaced by its versions' `bin` folders, those
    of the minor version looked for (`prefer`, "3.12") first and Python 2's last: uv asks each
    interpreter before the one it finds what it is, and an answer it cannot read (Python 2's)
    it asks again every time."""
    parts = [p for p in path.split(os.pathsep) if p]
    roots = [pyenv_root] if pyenv_root else []
    roots += [os.path.dirname(p.rstrip("/")) for p in parts
              if os.path.basename(p.rstrip("/")) == "shims" and os.path.isdir(os.path.join(os.path.dirname(p.rstrip("/")), "versions"))]
    roots = list(dict.fromkeys(os.path.abspath(r) for r in roots))
    if not roots:
        return path

    def is_shims(p: str) -> bool:
        full = os.path.abspath(p)
        return os.path.basename(full) == "shims" and any(full.startswith(r + os.sep) for r in roots)

    kept = [p for p in parts if not is_shims(p)]
    def rank(folder: str) -> tuple[int, str]:
        name = os.path.basename(os.path.dirname(folder))
        return (0 if prefer and (name == prefer or name.startswith(prefer + ".")) else
                2 if name.startswith("2.") else 1, name)

    versions = [b for r in roots for b in sorted(glob.glob(os.path.join(r, "versions", "*", "bin")), key=rank)]
    return os.pathsep.join(dict.fromkeys(kept + versions))


def _environment(downloads: bool, prefer: str = "") -> dict[str, str]:
    env = uvcli.environment()
    env["PATH"] = search_path(env.get("PATH", ""), os.environ.get("PYENV_ROOT"), prefer)
    env["UV_PYTHON_DOWNLOADS"] = "automatic" if downloads else "never"
    return env


def _run(cmd: list[str], limit: float, downloads: bool, prefer: str = "") -> subprocess.CompletedProcess[str] | str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, env=_environment(downloads, prefer),
                              timeout=limit, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        return f"{cmd[0]} is not there"
    except subprocess.TimeoutExpired:
        return f"no answer within {limit:g}s"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""

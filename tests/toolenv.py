"""The real tools users adopt release-hook with (the pre-commit framework, bump-my-version), each
in a virtualenv of its own built in the test's temporary folder from a local folder of wheels:
no test reaches the network, and none writes outside its temporary folders.

Fill the folder once, from the index pip is configured for (like the Quick start's install):

    python tests/toolenv.py

The folder is RELEASE_HOOK_TEST_WHEELS, else ~/.cache/release-hook-tests/wheels. It holds the
tools, and what the framework's pip needs to install this repository from a clone (its
dependencies and build backend). Without it the tests that need a tool are skipped, unless
RELEASE_HOOK_ONLINE=1: then the wheels are downloaded into the test's temporary folder first.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Read at import, before the tests' own HOME (tests/conftest.py) replaces it.
WHEELS = Path(os.environ.get("RELEASE_HOOK_TEST_WHEELS") or
              Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "release-hook-tests" / "wheels")
TOOLS = {"pre-commit": "pre-commit>=3.2", "bump-my-version": "bump-my-version>=0.28"}


def requirements() -> list[str]:
    """The tools, this project's dependencies and its build backend (read from pyproject.toml)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: the project depends on tomli there
        import tomli as tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    backend = project["build-system"]["requires"]
    return [*TOOLS.values(), *backend, *project["project"]["dependencies"]]


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("-", "_")


def complete(folder: Path) -> bool:
    """Whether the folder has a wheel of each requirement that applies to this Python (their own
    dependencies are found or not when a virtualenv is built: a build that fails says so)."""
    if not folder.is_dir():
        return False
    have = {m.group(1).lower().replace("-", "_").replace(".", "_") for f in folder.iterdir()
            for m in [re.match(r"(.+?)-\d", f.name)] if m}
    wanted = [r for r in requirements() if "python_version" not in r]
    return all(_name(r) in have for r in wanted)


def download(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                    "-d", str(folder), *requirements()], check=True)


def offline_pip(wheels: Path, scratch: Path) -> dict[str, str]:
    """pip (and the framework's virtualenv) reading only `wheels`, caching only under `scratch`.
    virtualenv's periodic update is off: each environment it made started two detached
    processes that asked the index for newer pip and setuptools, outliving the test."""
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels), "PIP_CONFIG_FILE": os.devnull,
            "PIP_CACHE_DIR": str(scratch / "pip-cache"), "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "VIRTUALENV_OVERRIDE_APP_DATA": str(scratch / "virtualenv"), "VIRTUALENV_NO_PERIODIC_UPDATE": "1",
            "UV_CACHE_DIR": str(scratch / "uv-cache"), "PRE_COMMIT_HOME": str(scratch / "pre-commit-home")}


def build(tool: str, wheels: Path, scratch: Path) -> Path:
    """A virtualenv holding `tool`, installed by uv (this project's dependency) from `wheels`
    only; returns the tool's executable."""
    from uv import find_uv_bin

    folder = scratch / tool
    env = {**os.environ, **offline_pip(wheels, scratch)}
    subprocess.run([find_uv_bin(), "venv", "-q", "--python", sys.executable, str(folder)], check=True, env=env)
    r = subprocess.run([find_uv_bin(), "pip", "install", "-q", "--offline", "--no-index", "--find-links",
                        str(wheels), "--python", str(folder / "bin" / "python"), TOOLS[tool]],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, f"set-up: {TOOLS[tool]} from {wheels}:\n{r.stderr[-2000:]}"
    return executable(tool, scratch)


def executable(tool: str, scratch: Path) -> Path:
    """The tool's executable in the virtualenv `build` made."""
    return scratch / tool / "bin" / tool


if __name__ == "__main__":
    download(WHEELS)
    print(f"{WHEELS}: {len(list(WHEELS.iterdir()))} files")

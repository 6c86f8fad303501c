"""What a build stage has done so far, as far as its text says: variables, working folder,
files placed, and the Pythons it installs and makes (venvs, conda environments, the default).

A stage built FROM an earlier one starts from a copy of that stage's state.
"""
from __future__ import annotations

import re

from release_hook.found import FROM_HERE_ON, Chars, Evidence, FileArg, Pin, Placement, Requirement, ScriptRun
from release_hook.records import NamedTuple
from release_hook.spans import Mapped
from release_hook.walk.scopes import Bound, Scope

_CONDA_ENV = re.compile(r"/envs/([^/]+)$")
_VERSION = re.compile(r"(?:cpython-?|python)?(\d+)\.(\d+)(?:\.[0-9*]+)*(?:[-+.][A-Za-z0-9_.-]*)?")
UNSET = False  # a `Evidence | None | bool` field not set (None: the base image's own Python)


class Install(NamedTuple):
    """A pip install being recorded: its kept pins are `Pin`s until the file's pins are sorted."""

    first: int
    last: int
    python: Evidence | None
    tool: str
    pins: list[Pin]
    requirements: tuple[Requirement, ...]
    files: tuple[FileArg, ...]
    no_deps: bool
    options: tuple[tuple[str, Chars], ...]
    flags: tuple[str, ...]


class StageState:
    """Changed as the walk reads the stage's instructions (a plain class: see found.Chars)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.workdir = "/"
        self.placements: list[Placement] = []
        self.path: tuple[str, ...] = ()  # folders put in front of PATH by ENV, first first
        self.python: Evidence | None = None  # what `python3` / `python` runs when no venv is on PATH
        self.pip: Evidence | None = None  # what bare `pip` / `pip3` runs when no venv is on PATH
        self.envs: dict[str, Evidence | None] = {}  # venv / conda prefix -> Python
        self.conda_envs: dict[str, Evidence | None] = {}  # conda env name -> Python
        self.conda_base: Evidence | None = None
        self.alternatives: dict[str, list[tuple[float, Evidence]]] = {}
        self.shell: Evidence | None | bool = UNSET  # SHELL ["conda", "run", "-n", ENV, ...]
        self.uv_venv: Evidence | None | bool = UNSET  # the last `uv venv`, for `uv pip install`
        self.deadsnakes = False
        self.installs: list[Evidence] = []
        self.pips: list[Install] = []
        self.scripts: list[ScriptRun] = []
        # the text of each `COPY <<EOF` (its line and name) and of each file a RUN wrote from a
        # heredoc, which a RUN may run as a script; for a COPY's unquoted delimiter, the text as
        # BuildKit wrote it and the variables whose values only the build knew there
        self.heredocs: dict[tuple[int, str], tuple[Mapped, dict[str, Bound] | None]] = {}

    def child(self) -> StageState:
        """A stage built FROM this one: what its image holds carries over, its own installs do not."""
        out = StageState(self.scope.child())
        out.workdir = self.workdir
        # mounts end with their RUN; a file a RUN wrote stays in the image
        out.placements = [p for p in self.placements if p.until in (0, FROM_HERE_ON)]
        out.path, out.python, out.pip = self.path, self.python, self.pip
        out.envs, out.conda_envs, out.conda_base = dict(self.envs), dict(self.conda_envs), self.conda_base
        out.alternatives = {k: list(v) for k, v in self.alternatives.items()}
        out.shell, out.uv_venv, out.deadsnakes = self.shell, self.uv_venv, self.deadsnakes
        out.heredocs = dict(self.heredocs)
        return out

    def known_prefix(self, prefix: str) -> bool:
        m = _CONDA_ENV.search(prefix)
        return prefix in self.envs or bool(m and m.group(1) in self.conda_envs)

    def prefix(self, prefix: str) -> Evidence | None:
        if prefix in self.envs:
            return self.envs[prefix]
        m = _CONDA_ENV.search(prefix)
        if m and m.group(1) in self.conda_envs:
            return self.conda_envs[m.group(1)]
        return None

    def bare(self, kind: str, active: Evidence | None | bool = UNSET) -> Evidence | None:
        """What a bare `python3` (kind "python") or `pip` runs: an activated or PATH venv first."""
        if active is not UNSET:
            return active  # type: ignore[return-value]
        if self.shell is not UNSET:
            return self.shell  # type: ignore[return-value]
        for folder in self.path:
            if folder.endswith("/bin") and self.known_prefix(folder[:-4]):
                found = self.prefix(folder[:-4])
                if found is not None:
                    return found._replace(on_path=True)
                return None
        return self.python if kind == "python" else self.pip

    def conda_target(self, words: list[str], how: str, line: int) -> Evidence | None:
        """The environment a `conda run` / `conda activate` names (its options as `words`)."""
        i = 0
        while i < len(words):
            w = words[i]
            if w in ("-n", "--name", "-p", "--prefix") and i + 1 < len(words):
                target = words[i + 1]
                if w in ("-n", "--name"):
                    if target == "base":
                        return self.conda_base
                    if target in self.conda_envs:
                        return self.conda_envs[target]
                elif target.rstrip("/") in self.envs:
                    return self.envs[target.rstrip("/")]
                return Evidence("", how, line, why="an environment the file does not make")
            i += 1
        return self.conda_base

    def env_changed(self, name: str, text: str, line: int) -> None:
        """ENV PATH and ENV PYENV_VERSION change what a bare `python3` runs."""
        if name == "PATH":
            front: list[str] = []
            rest: tuple[str, ...] = ()
            for part in text.split(":"):
                if "${PATH}" in part:
                    rest = self.path
                    break
                front.append(part.rstrip("/"))
            self.path = (*front, *rest)
        elif name == "PYENV_VERSION":
            v = version(text)
            self.python = self.pip = Evidence(v or "", f"ENV PYENV_VERSION={text}", line)


def version(text: str) -> str | None:
    """`3.11`, `3.11.7`, `python3.11`, `cpython-3.11.7-linux` -> "3.11"."""
    m = _VERSION.fullmatch(text.strip())
    return f"{m.group(1)}.{m.group(2)}" if m else None

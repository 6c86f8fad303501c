"""The Python that a RUN's commands run: an interpreter's name or path, a venv or conda
environment made, activated or on PATH, `--python`. Nothing is run: each answer is an
`Evidence` that says how (`interpreters.py` reads the commands that change it).

An `Evidence` with an empty value means the file does something whose Python cannot be read
from its text (a venv copied from elsewhere, a `$(...)` version); the image then asks the user.
"""
from __future__ import annotations

import os
import re
from typing import Dict, Set, Tuple, Union

from release_hook.found import Evidence
from release_hook.walk.commands import PYTHON, basename
from release_hook.walk.findings import Findings
from release_hook.walk.scopes import Bound
from release_hook.walk.state import UNSET, StageState, version

VERSIONED_PYTHON = re.compile(r"python(\d+)\.(\d+)")
_VERSIONED_PIP = re.compile(r"pip(\d+)\.(\d+)")


class Words:
    """A command's words, expanded: text (`\\0` where only the build knows), where each word's
    variables were set, and each word's file offset."""

    def __init__(self, texts: list[str], vias: list[tuple[str, ...]], offsets: list[int]) -> None:
        self.texts = texts
        self.vias = vias
        self.offsets = offsets

    def __getitem__(self, s: slice) -> Words:
        return Words(self.texts[s], self.vias[s], self.offsets[s])


# a shell's variables, the exported names, `set -a`, and the venv or conda environment active
Saved = Tuple[Dict[str, Bound], Set[str], bool, Union[Evidence, None, bool]]


class RunPython:
    """One RUN's view of the Python: its stage's state, its shell variables, and the venv or
    conda environment it activated (activations last only as long as the RUN)."""

    def __init__(self, state: StageState, found: Findings, line: int) -> None:
        self.state = state
        self.found = found
        self.line = line
        self.local: dict[str, Bound] = {}  # shell variables set in the RUN
        self.exported: set[str] = set()
        self.allexport = False  # `set -a`
        self.active: Evidence | None | bool = UNSET

    def at(self, offset: int) -> int:
        return self.found.line(offset, self.line)

    def saved(self) -> Saved:
        """What a shell has here: a subshell or a `sh -c` that starts from it gives it back."""
        return dict(self.local), set(self.exported), self.allexport, self.active

    def restore(self, saved: Saved) -> None:
        self.local.clear()  # the same dict: the readers of this RUN hold it
        self.local.update(saved[0])
        self.exported, self.allexport, self.active = set(saved[1]), saved[2], saved[3]

    def ev(self, value: str, how: str, offset: int, via: tuple[str, ...] = (), why: str = "") -> Evidence:
        """`how at line N [VAR=value at line M] (why)`."""
        return Evidence(value, how, self.at(offset), tuple(via), why)

    def relabel(self, found: Evidence, how: str, offset: int) -> Evidence:
        """The same Python, told by the command that made it the default (with the variables
        that carried the words it was told by last)."""
        return Evidence(found.value, how, self.at(offset), _last_via(found))

    def bare(self, kind: str) -> Evidence | None:
        return self.state.bare(kind, self.active)

    def interpreter(self, text: str, kind: str, offset: int, via: tuple[str, ...]) -> Evidence | None:
        """The Python behind an executable name or path (`python3.11`, `/opt/venv/bin/pip`)."""
        state = self.state
        name = basename(text)
        m = VERSIONED_PYTHON.fullmatch(name) or _VERSIONED_PIP.fullmatch(name)
        if "/" in text:
            folder = os.path.dirname(text.rstrip("/"))
            if folder.endswith("/bin") and state.known_prefix(folder[:-4]):
                return state.prefix(folder[:-4])
            if m is None and folder not in ("/usr/bin", "/usr/local/bin", "/bin"):
                if state.conda_base is not None and re.search(r"conda|mamba|miniforge", folder):
                    return state.conda_base
                return self.ev("", text, offset, why="not made by the file")
        if m is not None:
            return self.ev(f"{m.group(1)}.{m.group(2)}", text, offset, via)
        if "\0" in text:
            return self.ev("", text.replace(chr(0), "$(...)"), offset, why="computed at build time")
        if "${" in text:
            return self.ev("", text, offset, why="a variable no ENV or ARG of this stage sets")
        return self.bare(kind)

    def request(self, text: str, offset: int, via: tuple[str, ...], how: str) -> Evidence | None:
        """A `--python` value: a version (`3.12`) or an interpreter (`python3.12`, a path)."""
        v = version(text)
        if v is not None:
            return self.ev(v, how, offset, via)
        return self.interpreter(text, "python", offset, via)

    def venv(self, python: Evidence | None, how: str, line: int) -> Evidence | None:
        if python is None:
            return None  # made by the base image's python3: still the base image's answer
        return Evidence(python.value, how, line, made="venv", by=python)

    def make_venv(self, w: Words, python: Evidence | None, how: str, line: int) -> None:
        folder = None
        texts = w.texts
        j = 0
        while j < len(texts):
            t = texts[j]
            if t in ("-p", "--python") and j + 1 < len(texts):
                python = self.request(texts[j + 1], w.offsets[j + 1], w.vias[j + 1], texts[j + 1])
                j += 2
                continue
            if t.startswith("--python="):
                python = self.request(t.partition("=")[2], w.offsets[j], w.vias[j], t.partition("=")[2])
            elif t == "--prompt":
                j += 2
                continue
            elif not t.startswith("-"):
                folder = t.rstrip("/")
            j += 1
        if folder:
            self.state.envs[folder] = self.venv(python, folder, line)

    def of_pip(self, w: Words, tool: str, head: str) -> Evidence | None:
        """The Python that runs a pip install (`w` starts at the tool's name; `head` is the
        command up to `install`, for messages)."""
        state, texts = self.state, w.texts
        name = basename(texts[0])
        python: Evidence | None | bool = UNSET
        for j, t in enumerate(texts[1:], 1):  # `uv pip install --python X`, `pip --python X install`
            if t in ("--python", "-p") and j + 1 < len(texts) and (name == "uv" or t == "--python"):
                label = head if f"{t} {texts[j + 1]}" in head else f"{head} {t} {texts[j + 1]}"
                python = self.request(texts[j + 1], w.offsets[j + 1], w.vias[j + 1], label)
            elif t.startswith("--python="):
                python = self.request(t.partition("=")[2], w.offsets[j], w.vias[j],
                                      head if t in head else f"{head} {t}")
        if python is UNSET and tool == "uv pip":
            venv = state.scope.lookup("VIRTUAL_ENV")
            if "--system" in texts:
                python = self.bare("python")
            elif self.active is not UNSET:
                python = self.active
            elif venv is not None and venv[0].text.rstrip("/") in state.envs:
                python = state.envs[venv[0].text.rstrip("/")]
            elif state.uv_venv is not UNSET:
                python = state.uv_venv
            else:
                python = self.bare("python")
        elif python is UNSET:
            kind = "python" if PYTHON.fullmatch(name) else "pip"
            python = self.interpreter(texts[0], kind, w.offsets[0], w.vias[0])
            if python is not None and python.value and (VERSIONED_PYTHON.fullmatch(name)
                                                        or _VERSIONED_PIP.fullmatch(name)):
                python = self.relabel(python, head, w.offsets[0])
        return python  # type: ignore[return-value]


def _last_via(e: Evidence) -> tuple[str, ...]:
    """The variables named at the end of the evidence's words, as --explain shows them."""
    while not e.via and not e.why and not e.on_path and e.made in ("venv", "pip") and e.by is not None:
        e = e.by
    return e.via if not e.why and not e.on_path and not e.made else ()

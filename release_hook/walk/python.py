"""The Python that a RUN's commands run, and the commands that change it: venvs, conda
environments, pyenv, update-alternatives, `ln -s`, get-pip.py, `apt-get install pythonX.Y`,
`uv python install`, `uv venv`. Nothing is run: each answer is an `Evidence` that says how.

An `Evidence` with an empty value means the file does something whose Python cannot be read
from its text (a venv copied from elsewhere, a `$(...)` version); the image then asks the user.
"""
from __future__ import annotations

import os
import re

from release_hook.found import Evidence
from release_hook.walk.commands import CONDA, PYTHON, basename
from release_hook.walk.findings import Findings
from release_hook.walk.scopes import Bound
from release_hook.walk.state import UNSET, StageState, version

_VERSIONED_PYTHON = re.compile(r"python(\d+)\.(\d+)")
_VERSIONED_PIP = re.compile(r"pip(\d+)\.(\d+)")
_CONDA_PYTHON = re.compile(r"python(?:={1,2}|\s*==\s*)(\d+)\.(\d+)(?:\.[0-9*]+)*")
_VIA = re.compile(r" \[[^]]*\]$")


class Words:
    """A command's words, expanded: text (`\\0` where only the build knows), where each word's
    variables were set, and each word's file offset."""

    def __init__(self, texts: list[str], vias: list[tuple[str, ...]], offsets: list[int]) -> None:
        self.texts = texts
        self.vias = vias
        self.offsets = offsets

    def __getitem__(self, s: slice) -> Words:
        return Words(self.texts[s], self.vias[s], self.offsets[s])


class RunPython:
    """One RUN's view of the Python: its stage's state, its shell variables, and the venv or
    conda environment it activated (activations last only as long as the RUN)."""

    def __init__(self, state: StageState, found: Findings, line: int) -> None:
        self.state = state
        self.found = found
        self.line = line
        self.local: dict[str, Bound] = {}  # shell variables set in the RUN
        self.exported: set[str] = set()
        self.active: Evidence | None | bool = UNSET

    def at(self, offset: int) -> int:
        return self.found.line(offset, self.line)

    def ev(self, value: str, how: str, offset: int, via: tuple[str, ...] = (), why: str = "") -> Evidence:
        """`how at line N [VAR=value at line M] (why)`."""
        line = self.at(offset)
        how += f" at line {line}"
        if via:
            how += f" [{', '.join(via)}]"
        if why:
            how += f" ({why})"
        return Evidence(value, how, line)

    def relabel(self, found: Evidence, how: str, offset: int) -> Evidence:
        """The same Python, told by the command that made it the default."""
        via = _VIA.search(found.how)
        return Evidence(found.value, f"{how} at line {self.at(offset)}" + (via.group() if via else ""),
                        self.at(offset))

    def bare(self, kind: str) -> Evidence | None:
        return self.state.bare(kind, self.active)

    def interpreter(self, text: str, kind: str, offset: int, via: tuple[str, ...]) -> Evidence | None:
        """The Python behind an executable name or path (`python3.11`, `/opt/venv/bin/pip`)."""
        state = self.state
        name = basename(text)
        m = _VERSIONED_PYTHON.fullmatch(name) or _VERSIONED_PIP.fullmatch(name)
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
        return Evidence(python.value, f"venv {how} made by {python.how}", line)

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
            if python is not None and python.value and (_VERSIONED_PYTHON.fullmatch(name)
                                                        or _VERSIONED_PIP.fullmatch(name)):
                python = self.relabel(python, head, w.offsets[0])
        return python  # type: ignore[return-value]


def setup_command(ctx: RunPython, w: Words) -> None:
    """A command that installs or makes a Python, or changes which one `python3` is."""
    state, texts, offsets = ctx.state, w.texts, w.offsets
    name = basename(texts[0])
    line = ctx.at(offsets[0])
    if name in ("apt-get", "apt", "aptitude") and "install" in texts:
        for t, v, o in zip(texts, w.vias, offsets):
            m = _VERSIONED_PYTHON.fullmatch(t.split("=", 1)[0])  # `python3.11=3.11.9-1+jammy1`
            if m:
                source = " (deadsnakes)" if state.deadsnakes else ""
                state.installs.append(ctx.ev(f"{m.group(1)}.{m.group(2)}", f"{name} install {t}{source}", o, v))
    elif name == "uv" and len(texts) > 2 and texts[1] == "python" and texts[2] == "install":
        for t, v, o in zip(texts[3:], w.vias[3:], offsets[3:]):
            if not t.startswith("-") and version(t):
                state.installs.append(ctx.ev(version(t) or "", f"uv python install {t}", o, v))
    elif name == "uv" and len(texts) > 1 and texts[1] == "venv":
        _uv_venv(ctx, w, line)
    elif name in CONDA and len(texts) > 1:
        _conda(ctx, name, w)
    elif name == "pyenv" and len(texts) > 2:
        if texts[1] == "install":
            for t, v, o in zip(texts[2:], w.vias[2:], offsets[2:]):
                if version(t):
                    state.installs.append(ctx.ev(version(t) or "", f"pyenv install {t}", o, v))
        elif texts[1] in ("global", "local"):
            state.python = state.pip = ctx.ev(version(texts[2]) or "", f"pyenv {texts[1]} {texts[2]}",
                                              offsets[2], w.vias[2])
    elif name == "update-alternatives":
        _alternatives(ctx, w)
    elif name == "ln" and len(texts) >= 3:
        positional = [j for j, t in enumerate(texts[1:], 1) if not t.startswith("-")]
        if len(positional) >= 2:
            target, link = texts[positional[-2]], texts[positional[-1]]
            ev = ctx.interpreter(target, "python", offsets[positional[-2]], w.vias[positional[-2]])
            if ev is not None and basename(link) in ("python", "python3"):
                state.python = state.pip = ctx.relabel(ev, f"ln -s {target} {link}", offsets[0])
            elif ev is not None and basename(link) in ("pip", "pip3"):
                state.pip = ctx.relabel(ev, f"ln -s {target} {link}", offsets[0])
    elif name in (".", "source") and len(texts) > 1 and texts[1].endswith("/bin/activate"):
        prefix = texts[1][: -len("/bin/activate")].rstrip("/")
        if state.known_prefix(prefix):
            ctx.active = state.prefix(prefix)
        else:
            ctx.active = ctx.ev("", f"{name} {texts[1]}", offsets[1], why="a venv the file does not make")
    elif name == "virtualenv":
        ctx.make_venv(w[1:], ctx.bare("python"), "virtualenv", line)
    elif PYTHON.fullmatch(name):
        python = ctx.interpreter(texts[0], "python", offsets[0], w.vias[0])
        rest = texts[1:]
        if len(rest) >= 2 and rest[0] == "-m" and rest[1] in ("venv", "virtualenv"):
            ctx.make_venv(w[3:], python, f"{texts[0]} -m {rest[1]}", line)
        elif not rest or rest == ["-"] or rest[-1].endswith("get-pip.py") or rest[:2] == ["-m", "ensurepip"]:
            # get-pip.py and ensurepip put `pip` and `pip3` for this Python first on PATH.
            if python is not None:
                state.pip = Evidence(python.value, f"pip installed by {python.how}", line)


def _uv_venv(ctx: RunPython, w: Words, line: int) -> None:
    texts = w.texts
    python: Evidence | None | bool = UNSET
    folder = ".venv"
    j = 2
    while j < len(texts):
        t = texts[j]
        if t in ("-p", "--python") and j + 1 < len(texts):
            python = ctx.request(texts[j + 1], w.offsets[j + 1], w.vias[j + 1], f"uv venv --python {texts[j + 1]}")
            j += 2
            continue
        if t.startswith("--python="):
            python = ctx.request(t.partition("=")[2], w.offsets[j], w.vias[j], f"uv venv {t}")
        elif t.startswith("--prompt") or t == "--seed":
            j += 1 if "=" in t or t == "--seed" else 2
            continue
        elif not t.startswith("-"):
            folder = t.rstrip("/")
        j += 1
    if python is UNSET:
        python = ctx.bare("python")
    ctx.state.envs[folder] = ctx.venv(python, folder, line)  # type: ignore[arg-type]
    ctx.state.uv_venv = ctx.state.envs[folder]


def _conda(ctx: RunPython, name: str, w: Words) -> None:
    state, texts, sub = ctx.state, w.texts, w.texts[1]
    line = ctx.at(w.offsets[0])
    if sub == "activate":
        ctx.active = state.conda_target(["-n", texts[2]] if len(texts) > 2 else ["-n", "base"],
                                        f"{name} activate", line)
        return
    if sub not in ("install", "create"):
        return
    target: tuple[str, str] | None = None
    python: Evidence | None = None
    j = 2
    while j < len(texts):
        t = texts[j]
        if t in ("-n", "--name", "-p", "--prefix") and j + 1 < len(texts):
            target = (t, texts[j + 1].rstrip("/"))
            j += 2
            continue
        m = _CONDA_PYTHON.fullmatch(t)
        if m:
            where = f" {target[0]} {target[1]}" if target else ""
            python = ctx.ev(f"{m.group(1)}.{m.group(2)}", f"{name} {sub}{where} {t}", w.offsets[j], w.vias[j])
        j += 1
    if python is not None:
        state.installs.append(python)
    if sub == "create" and python is None:
        python = ctx.ev("", f"{name} create", w.offsets[0], why="no python=X.Y")
    if target is None or (target[0] in ("-n", "--name") and target[1] == "base"):
        if python is not None:
            state.conda_base = python
            # conda images put the base environment's bin folder first on PATH.
            state.python = state.pip = python
    elif python is not None:
        if target[0] in ("-n", "--name"):
            state.conda_envs[target[1]] = python
        else:
            state.envs[target[1]] = python


def _alternatives(ctx: RunPython, w: Words) -> None:
    state, texts, offsets = ctx.state, w.texts, w.offsets
    for j, t in enumerate(texts):
        if t == "--install" and j + 4 < len(texts) and texts[j + 2] in ("python", "python3"):
            path, priority = texts[j + 3], texts[j + 4]
            ev = ctx.interpreter(path, "python", offsets[j + 3], w.vias[j + 3])
            if ev is not None:
                try:
                    rank = float(priority)
                except ValueError:
                    rank = 0.0
                how = f"update-alternatives --install {texts[j + 1]} {texts[j + 2]} {path} {priority}"
                state.alternatives.setdefault(texts[j + 2], []).append((rank, ctx.relabel(ev, how, offsets[0])))
        elif t == "--set" and j + 2 < len(texts) and texts[j + 1] in ("python", "python3"):
            ev = ctx.interpreter(texts[j + 2], "python", offsets[j + 2], w.vias[j + 2])
            if ev is not None:
                how = f"update-alternatives --set {texts[j + 1]} {texts[j + 2]}"
                state.alternatives.setdefault(texts[j + 1], []).append((float("inf"), ctx.relabel(ev, how, offsets[0])))
    # In auto mode the highest priority wins; --set picks one by hand.
    chosen = state.alternatives.get("python3") or state.alternatives.get("python")
    if chosen:
        state.python = state.pip = max(chosen, key=lambda pair: pair[0])[1]

"""Commands that install or make a Python, or change which one `python3` is: apt-get install
pythonX.Y, uv python install, uv venv, python -m venv, virtualenv, conda / mamba create and
install and activate, pyenv, update-alternatives, `ln -s`, `source .../bin/activate`, get-pip.py."""
from __future__ import annotations

import re

from release_hook.found import Evidence
from release_hook.walk.commands import CONDA, PYTHON, basename
from release_hook.walk.python import VERSIONED_PYTHON, RunPython, Words
from release_hook.walk.state import UNSET, version

CONDA_PYTHON = re.compile(r"python(?:={1,2}|\s*==\s*)(\d+)\.(\d+)(?:\.[0-9*]+)*")

def setup_command(ctx: RunPython, w: Words) -> None:
    """A command that installs or makes a Python, or changes which one `python3` is."""
    state, texts, offsets = ctx.state, w.texts, w.offsets
    name = basename(texts[0])
    line = ctx.at(offsets[0])
    if name in ("apt-get", "apt", "aptitude") and "install" in texts:
        for t, v, o in zip(texts, w.vias, offsets):
            m = VERSIONED_PYTHON.fullmatch(t.split("=", 1)[0])  # `python3.11=3.11.9-1+jammy1`
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
                state.pip = Evidence(python.value, "", line, made="pip", by=python)


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
        m = CONDA_PYTHON.fullmatch(t)
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

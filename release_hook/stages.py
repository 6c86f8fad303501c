"""What a Dockerfile's own text says about each build stage's Python and platform.

Read once at scan time and kept in the scan cache, so that a cached run does not parse again.
Nothing here is run: FROM, ENV, ARG, SHELL and RUN are read as words. The base image's own
Python is not decided here (that is `resolve/image.py`'s table); this module records what the
file changes: which interpreter runs each `pip install`, the Pythons it installs, the venvs and
conda environments it makes, and `FROM --platform`.

An `Evidence` with an empty value means the file does something whose Python cannot be read
from its text (a venv copied from elsewhere, a `$(...)` version); the image then asks the user.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace

from release_hook.dockerfile import Dockerfile, Instruction, Stage, assignments, run_flags_end, split_words
from release_hook.errors import UserError
from release_hook.found import Evidence, PipRun, StageFacts
from release_hook.shell import PIP_GLOBAL_VALUE_OPTIONS, Command, find_commands, parse_exec_form, parse_script
from release_hook.spans import NOWHERE, Lit, Mapped, Var, Word, line_of, word_offset

# Variables that BuildKit sets for each build: their value is the build's, never the file's.
BUILD_PLATFORM_VARS = frozenset({"BUILDPLATFORM", "TARGETPLATFORM", "BUILDOS", "BUILDARCH",
                                 "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDVARIANT"})
_VERSIONED_PYTHON = re.compile(r"python(\d+)\.(\d+)")
_VERSIONED_PIP = re.compile(r"pip(\d+)\.(\d+)")
_VERSION = re.compile(r"(?:cpython-?|python)?(\d+)\.(\d+)(?:\.[0-9*]+)*(?:[-+.][A-Za-z0-9_.-]*)?")
_CONDA_PYTHON = re.compile(r"python(?:={1,2}|\s*==\s*)(\d+)\.(\d+)(?:\.[0-9*]+)*")
_CONDA = frozenset({"conda", "mamba", "micromamba"})
_WRAPPERS = frozenset({"sudo", "env", "nice", "nohup", "exec", "command", "time", "stdbuf", "timeout"})
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})
# The commands read below (after the wrappers above); any other command is skipped unread.
_INTERESTING = re.compile(r"python.*|pip.*|uv|conda|mamba|micromamba|pyenv|update-alternatives|ln|\.|source"
                          r"|virtualenv|apt-get|apt|aptitude|" + "|".join(_WRAPPERS | _SHELLS), re.S)
# Only RUN lines with one of these words can change or reveal the Python that runs pip.
_RELEVANT = re.compile(r"pip|\buv\b|conda|mamba|pyenv|alternatives|\bln\b|venv|activate|python(?:[0-9.]*\b(?!-)|\$)")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REFERENCE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_READ_VARIABLES = frozenset({"PATH", "PYENV_VERSION", "VIRTUAL_ENV"})


@dataclass(frozen=True)
class _Val:
    text: str  # "\0" stands for what only the build knows
    via: tuple[str, ...] = ()  # "NAME=value at line N" of the variables it came through

    @property
    def known(self) -> bool:
        return "\0" not in self.text and "${" not in self.text


@dataclass
class _State:
    """What the stage has done so far; a child stage (FROM <stage>) starts from a copy."""

    env: dict[str, _Val] = field(default_factory=dict)
    args: dict[str, _Val | None] = field(default_factory=dict)
    path: tuple[str, ...] = ()  # folders put in front of PATH by ENV, first first
    python: Evidence | None = None  # what `python3` / `python` runs when no venv is on PATH
    pip: Evidence | None = None  # what bare `pip` / `pip3` runs when no venv is on PATH
    envs: dict[str, Evidence | None] = field(default_factory=dict)  # venv / conda prefix -> Python
    conda_envs: dict[str, Evidence | None] = field(default_factory=dict)  # conda env name -> Python
    conda_base: Evidence | None = None
    alternatives: dict[str, list[tuple[float, Evidence]]] = field(default_factory=dict)
    shell: Evidence | None | bool = False  # SHELL ["conda", "run", "-n", ENV, ...]; False: none
    uv_venv: Evidence | None | bool = False  # the last `uv venv`, for `uv pip install`
    deadsnakes: bool = False
    installs: list[Evidence] = field(default_factory=list)
    pips: list[PipRun] = field(default_factory=list)

    def child(self) -> _State:
        return _State(env=dict(self.env), path=self.path, python=self.python, pip=self.pip,
                      envs=dict(self.envs), conda_envs=dict(self.conda_envs),
                      conda_base=self.conda_base,
                      alternatives={k: list(v) for k, v in self.alternatives.items()},
                      shell=self.shell, uv_venv=self.uv_venv, deadsnakes=self.deadsnakes)

    def lookup(self, name: str) -> _Val | None:
        if name in self.env:
            return self.env[name]
        return self.args.get(name)


def _basename(text: str) -> str:
    return os.path.basename(text.rstrip("/"))


def _version(text: str) -> str | None:
    m = _VERSION.fullmatch(text.strip())
    return f"{m.group(1)}.{m.group(2)}" if m else None


class _Reader:
    def __init__(self, df: Dockerfile) -> None:
        self.df = df
        # ENV and ARG lines that set no variable the file uses are not worth reading.
        self.used = frozenset(_REFERENCE.findall(df.text)) | _READ_VARIABLES

    def line(self, offset: int, ins: Instruction) -> int:
        return line_of(self.df.text, offset) if offset >= 0 else ins.line

    # -- variables ----------------------------------------------------------------------------

    def expand(self, word: Word, state: _State, local: dict[str, _Val] | None = None) -> _Val:
        text: list[str] = []
        via: list[str] = []
        for p in word:
            if isinstance(p, Lit):
                text.append(p.text)
            elif isinstance(p, Var):
                value = local.get(p.name) if local and p.name in local else state.lookup(p.name)
                if value is None or p.name in BUILD_PLATFORM_VARS:
                    text.append("${" + p.name + "}")
                else:
                    text.append(value.text)
                    via.extend(value.via)
            else:
                text.append("\0")
        return _Val("".join(text), tuple(dict.fromkeys(via)))

    def define(self, ins: Instruction, state: _State, global_state: _State) -> None:
        if self.used.isdisjoint(_NAME.findall(ins.args.text)):
            return
        try:
            found = assignments(ins, self.df.escape)
        except UserError:
            return  # the pin finder reports it
        for a in found:
            if a.value is not None:
                value = self.expand(a.value, state)
                shown = value.text if value.known else "(computed)"
                value = _Val(value.text, (f"{a.name}={shown} at line {ins.line}",))
            if ins.keyword == "ENV":
                assert a.value is not None
                state.env[a.name] = value
                self.env_changed(a.name, value, ins, state)
            elif a.value is not None:
                state.args[a.name] = value
            elif state is not global_state and a.name in global_state.args:
                state.args[a.name] = global_state.args[a.name]
            else:
                state.args[a.name] = None

    def env_changed(self, name: str, value: _Val, ins: Instruction, state: _State) -> None:
        if name == "PATH":
            front: list[str] = []
            rest: tuple[str, ...] = ()
            for part in value.text.split(":"):
                if "${PATH}" in part:
                    rest = state.path
                    break
                front.append(part.rstrip("/"))
            state.path = (*front, *rest)
        elif name == "PYENV_VERSION":
            v = _version(value.text)
            ev = Evidence(v or "", f"ENV PYENV_VERSION={value.text} at line {ins.line}", ins.line)
            state.python = state.pip = ev

    # -- stages -------------------------------------------------------------------------------

    def run(self) -> tuple[StageFacts, ...]:
        df = self.df
        global_state = _State()
        for ins in df.global_args:
            self.define(ins, global_state, global_state)
        finals: dict[str, tuple[int, _State]] = {}
        out: list[StageFacts] = []
        for stage in df.stages:
            base = self.expand(stage.image, global_state).text.lower()
            parent = finals.get(base)
            state = parent[1].child() if parent else _State()
            platform = self.platform(stage, global_state)
            if platform is None and parent is not None:
                platform = out[parent[0]].platform
            for ins in stage.instructions:
                if ins.keyword in ("ENV", "ARG"):
                    self.define(ins, state, global_state)
                elif ins.keyword == "SHELL":
                    self.shell_instruction(ins, state)
                elif ins.keyword == "RUN":
                    self.run_instruction(ins, state)
                elif ins.keyword == "COPY" and "--from" in ins.args.text:
                    self.copy_instruction(ins, state, finals)
            out.append(StageFacts(stage.from_.line, parent[0] if parent else None, platform,
                                  tuple(state.pips), tuple(state.installs), self.bare(state, "python")))
            finals[str(stage.index)] = (stage.index, state)
            if stage.name:
                finals[stage.name] = (stage.index, state)
        return tuple(out)

    def platform(self, stage: Stage, global_state: _State) -> Evidence | None:
        for word in split_words(stage.from_.args, self.df.escape):
            if not (word and isinstance(word[0], Lit) and word[0].text.startswith("--platform=")):
                continue
            head = word[0].text[len("--platform="):]
            rest = ((Lit(head, word[0].origin[len("--platform="):]),) if head else ()) + word[1:]
            value = self.expand(rest, global_state)
            how = "FROM --platform=" + "".join(
                p.text if isinstance(p, Lit) else f"${p.name}" if isinstance(p, Var) else p.source
                for p in rest) + f" at line {stage.from_.line}"
            if value.via:
                how += f" [{', '.join(value.via)}]"
            return Evidence(value.text if value.known else "", how, stage.from_.line)
        return None

    def copy_instruction(self, ins: Instruction, state: _State,
                         finals: dict[str, tuple[int, _State]]) -> None:
        """`COPY --from=build /opt/venv /opt/venv`: a venv of an earlier stage keeps its Python."""
        words = [self.expand(w, state).text for w in split_words(ins.args, self.df.escape)]
        source = next((w.partition("=")[2].lower() for w in words if w.startswith("--from=")), None)
        paths = [w for w in words if not w.startswith("--")]
        if source not in finals or len(paths) != 2:
            return  # another image's files: what they hold is not in this text
        _, other = finals[source]
        src, dest = paths[0].rstrip("/"), paths[1].rstrip("/")
        if self.known_prefix(src, other):
            found = self.prefix(src, other)
            state.envs[dest] = found if found is None else Evidence(
                found.value, f"{found.how}, copied to {dest} at line {ins.line}", ins.line)

    def shell_instruction(self, ins: Instruction, state: _State) -> None:
        words = parse_exec_form(ins.args)
        if not words:
            return
        texts = [self.expand(w, state).text for w in words]
        if _basename(texts[0]) in _CONDA and len(texts) > 1 and texts[1] == "run":
            state.shell = self.conda_target(texts[2:], state, f"SHELL {' '.join(texts[:4])}", ins.line)[0]
        else:
            state.shell = False

    # -- RUN ----------------------------------------------------------------------------------

    def run_instruction(self, ins: Instruction, state: _State) -> None:
        args = ins.args[run_flags_end(ins.args):]
        exec_words = parse_exec_form(args)
        ctx = _Run(self, ins, state)
        if exec_words is not None:
            ctx.command(Command(tuple(exec_words), word_offset(exec_words[0])))
            return
        scripts: list[Mapped] = []
        if ins.heredocs and args.text.lstrip().startswith("<<"):
            scripts.extend(h.body for h in ins.heredocs if not h.body.text.startswith("#!")
                           or re.search(r"\b(sh|bash|dash|ash|zsh)\b", h.body.text.split("\n", 1)[0]))
        elif ins.heredocs:
            parts = [args, Mapped("\n", (NOWHERE,))]
            for h in ins.heredocs:
                parts.extend((h.body, Mapped(h.name + "\n", (NOWHERE,) * (len(h.name) + 1))))
            scripts.append(Mapped.join(parts))
        else:
            scripts.append(args)
        while scripts:
            script = scripts.pop(0)
            if not _RELEVANT.search(script.text):
                continue
            if "deadsnakes" in script.text:
                state.deadsnakes = True
            parsed = parse_script(script)
            for name, value in parsed.assignments:
                ctx.local[name] = self.expand(value, state, ctx.local)
            for cmd in parsed.commands:
                scripts.extend(ctx.command(cmd))

    def bare(self, state: _State, kind: str, local: Evidence | None | bool = False) -> Evidence | None:
        """What a bare `python3` (kind "python") or `pip` runs: an activated or PATH venv first."""
        if local is not False:
            return local  # type: ignore[return-value]
        if state.shell is not False:
            return state.shell  # type: ignore[return-value]
        for folder in state.path:
            if folder.endswith("/bin") and self.known_prefix(folder[:-4], state):
                found = self.prefix(folder[:-4], state)
                if found is not None:
                    return replace(found, how=f"{found.how}, on PATH")
                return None
        return state.python if kind == "python" else state.pip

    def known_prefix(self, prefix: str, state: _State) -> bool:
        m = re.search(r"/envs/([^/]+)$", prefix)
        return prefix in state.envs or bool(m and m.group(1) in state.conda_envs)

    def prefix(self, prefix: str, state: _State) -> Evidence | None:
        if prefix in state.envs:
            return state.envs[prefix]
        m = re.search(r"/envs/([^/]+)$", prefix)
        if m and m.group(1) in state.conda_envs:
            return state.conda_envs[m.group(1)]
        return None

    def conda_target(self, words: list[str], state: _State, how: str,
                     line: int) -> tuple[Evidence | None, list[str]]:
        """The environment a `conda run` / `conda activate` names, and the words after it."""
        i = 0
        while i < len(words):
            w = words[i]
            if w in ("-n", "--name", "-p", "--prefix") and i + 1 < len(words):
                target = words[i + 1]
                rest = words[i + 2:]
                if w in ("-n", "--name"):
                    if target == "base":
                        return state.conda_base, rest
                    if target in state.conda_envs:
                        return state.conda_envs[target], rest
                elif target.rstrip("/") in state.envs:
                    return state.envs[target.rstrip("/")], rest
                return Evidence("", f"{how} at line {line} (an environment the file does not make)",
                                line), rest
            if w.startswith("-"):
                i += 1
                continue
            break
        return state.conda_base, words[i:]


@dataclass
class _Run:
    """One RUN: activations and shell variables last only as long as it does."""

    reader: _Reader
    ins: Instruction
    state: _State
    local: dict[str, _Val] = field(default_factory=dict)
    active: Evidence | None | bool = False  # a venv or conda env activated in this RUN

    def ev(self, value: str, how: str, offset: int, via: tuple[str, ...] = (), why: str = "") -> Evidence:
        """`how at line N [VAR=value at line M] (why)`."""
        line = self.reader.line(offset, self.ins)
        how += f" at line {line}"
        if via:
            how += f" [{', '.join(via)}]"
        if why:
            how += f" ({why})"
        return Evidence(value, how, line)

    def relabel(self, found: Evidence, how: str, offset: int) -> Evidence:
        """The same Python, told by the command that made it the default."""
        via = re.search(r" \[[^]]*\]$", found.how)
        return Evidence(found.value, f"{how} at line {self.reader.line(offset, self.ins)}"
                        + (via.group() if via else ""), self.reader.line(offset, self.ins))

    def interpreter(self, text: str, kind: str, offset: int, via: tuple[str, ...]) -> Evidence | None:
        """The Python behind an executable name or path (`python3.11`, `/opt/venv/bin/pip`)."""
        name = _basename(text)
        m = _VERSIONED_PYTHON.fullmatch(name) or _VERSIONED_PIP.fullmatch(name)
        if "/" in text:
            folder = os.path.dirname(text.rstrip("/"))
            if folder.endswith("/bin") and self.reader.known_prefix(folder[:-4], self.state):
                return self.reader.prefix(folder[:-4], self.state)
            if m is None and folder not in ("/usr/bin", "/usr/local/bin", "/bin"):
                if self.state.conda_base is not None and re.search(r"conda|mamba|miniforge", folder):
                    return self.state.conda_base
                return self.ev("", text, offset, why="not made by the file")
        if m is not None:
            return self.ev(f"{m.group(1)}.{m.group(2)}", text, offset, via)
        if "\0" in text:
            return self.ev("", text.replace(chr(0), "$(...)"), offset, why="computed at build time")
        if "${" in text:
            return self.ev("", text, offset, why="a variable no ENV or ARG of this stage sets")
        return self.reader.bare(self.state, kind, self.active)

    def request(self, text: str, offset: int, via: tuple[str, ...], how: str) -> Evidence | None:
        """A `--python` value: a version (`3.12`) or an interpreter (`python3.12`, a path)."""
        v = _version(text)
        if v is not None:
            return self.ev(v, how, offset, via)
        return self.interpreter(text, "python", offset, via)

    def command(self, cmd: Command) -> list[Mapped]:
        reader, state = self.reader, self.state
        first = _basename(reader.expand(cmd.words[0], state, self.local).text) if cmd.words else ""
        if not _INTERESTING.fullmatch(first):
            return []
        vals = [reader.expand(w, state, self.local) for w in cmd.words]
        offsets = [word_offset(w) for w in cmd.words]
        i = 0
        while i < len(vals) and _basename(vals[i].text) in _WRAPPERS:  # sudo, env A=1, ...
            i += 1
            while i < len(vals) and (vals[i].text.startswith("-") or "=" in vals[i].text.split("/")[0]
                                     or re.fullmatch(r"[0-9.]+[smhd]?", vals[i].text)):
                i += 2 if vals[i].text in ("-u", "-g") else 1
        vals, offsets, words = vals[i:], offsets[i:], cmd.words[i:]
        if not vals:
            return []
        texts = [v.text for v in vals]
        name = _basename(texts[0])
        at = offsets[0]
        line = reader.line(at, self.ins)
        nested: list[Mapped] = []
        if name in _SHELLS:
            _, _, nested = find_commands((Command(tuple(words), at),))  # `sh -c '...'` to read too
        if _pip_install(texts):
            self.pip(texts, vals, offsets)
            return nested
        if name in ("apt-get", "apt", "aptitude") and "install" in texts:
            for t, v, o in zip(texts, vals, offsets):
                m = _VERSIONED_PYTHON.fullmatch(t.split("=", 1)[0])  # `python3.11=3.11.9-1+jammy1`
                if m:
                    source = " (deadsnakes)" if state.deadsnakes else ""
                    state.installs.append(self.ev(f"{m.group(1)}.{m.group(2)}",
                                                  f"{name} install {t}{source}", o, v.via))
        elif name == "uv" and len(texts) > 2 and texts[1] == "python" and texts[2] == "install":
            for t, v, o in zip(texts[3:], vals[3:], offsets[3:]):
                if not t.startswith("-") and _version(t):
                    state.installs.append(self.ev(_version(t) or "", f"uv python install {t}", o, v.via))
        elif name == "uv" and len(texts) > 1 and texts[1] == "venv":
            python: Evidence | None | bool = False
            folder = ".venv"
            j = 2
            while j < len(texts):
                t = texts[j]
                if t in ("-p", "--python") and j + 1 < len(texts):
                    python = self.request(texts[j + 1], offsets[j + 1], vals[j + 1].via,
                                          f"uv venv --python {texts[j + 1]}")
                    j += 2
                    continue
                if t.startswith("--python="):
                    python = self.request(t.partition("=")[2], offsets[j], vals[j].via, f"uv venv {t}")
                elif t.startswith("--prompt") or t in ("--seed",):
                    j += 1 if "=" in t or t == "--seed" else 2
                    continue
                elif not t.startswith("-"):
                    folder = t.rstrip("/")
                j += 1
            if python is False:
                python = reader.bare(state, "python", self.active)
            state.envs[folder] = self.venv(python, folder, line)  # type: ignore[arg-type]
            state.uv_venv = state.envs[folder]
        elif name in _CONDA and len(texts) > 1:
            return self.conda(name, texts, vals, offsets, words, line, nested)
        elif name == "pyenv" and len(texts) > 2:
            if texts[1] == "install":
                for t, v, o in zip(texts[2:], vals[2:], offsets[2:]):
                    if _version(t):
                        state.installs.append(self.ev(_version(t) or "", f"pyenv install {t}", o, v.via))
            elif texts[1] in ("global", "local"):
                state.python = state.pip = self.ev(_version(texts[2]) or "",
                                                   f"pyenv {texts[1]} {texts[2]}", offsets[2], vals[2].via)
        elif name == "update-alternatives":
            self.alternatives(texts, vals, offsets)
        elif name == "ln" and len(texts) >= 3:
            positional = [j for j, t in enumerate(texts[1:], 1) if not t.startswith("-")]
            if len(positional) >= 2:
                target, link = texts[positional[-2]], texts[positional[-1]]
                ev = self.interpreter(target, "python", offsets[positional[-2]], vals[positional[-2]].via)
                if ev is not None and _basename(link) in ("python", "python3"):
                    state.python = state.pip = self.relabel(ev, f"ln -s {target} {link}", at)
                elif ev is not None and _basename(link) in ("pip", "pip3"):
                    state.pip = self.relabel(ev, f"ln -s {target} {link}", at)
        elif name in (".", "source") and len(texts) > 1 and texts[1].endswith("/bin/activate"):
            prefix = texts[1][: -len("/bin/activate")].rstrip("/")
            if reader.known_prefix(prefix, state):
                self.active = reader.prefix(prefix, state)
            else:
                self.active = self.ev("", f"{name} {texts[1]}", offsets[1], why="a venv the file does not make")
        elif name == "virtualenv":
            self.make_venv(texts[1:], vals[1:], offsets[1:], reader.bare(state, "python", self.active),
                           "virtualenv", line)
        elif re.fullmatch(r"python[0-9.]*", name):
            self.python_command(texts, vals, offsets, line)
        return nested

    def venv(self, python: Evidence | None, how: str, line: int) -> Evidence | None:
        if python is None:
            return None  # made by the base image's python3: still the base image's answer
        return Evidence(python.value, f"venv {how} made by {python.how}", line)

    def make_venv(self, texts: list[str], vals: list[_Val], offsets: list[int],
                  python: Evidence | None, how: str, line: int) -> None:
        folder = None
        j = 0
        while j < len(texts):
            t = texts[j]
            if t in ("-p", "--python") and j + 1 < len(texts):
                python = self.request(texts[j + 1], offsets[j + 1], vals[j + 1].via, texts[j + 1])
                j += 2
                continue
            if t.startswith("--python="):
                python = self.request(t.partition("=")[2], offsets[j], vals[j].via, t.partition("=")[2])
            elif t == "--prompt":
                j += 2
                continue
            elif not t.startswith("-"):
                folder = t.rstrip("/")
            j += 1
        if folder:
            self.state.envs[folder] = self.venv(python, folder, line)

    def python_command(self, texts: list[str], vals: list[_Val], offsets: list[int], line: int) -> None:
        python = self.interpreter(texts[0], "python", offsets[0], vals[0].via)
        rest = texts[1:]
        if len(rest) >= 2 and rest[0] == "-m" and rest[1] in ("venv", "virtualenv"):
            self.make_venv(texts[3:], vals[3:], offsets[3:], python, f"{texts[0]} -m {rest[1]}", line)
        elif (not rest or rest == ["-"] or rest[-1].endswith("get-pip.py")
              or rest[:2] == ["-m", "ensurepip"]):
            # get-pip.py and ensurepip put `pip` and `pip3` for this Python first on PATH.
            if python is not None:
                self.state.pip = Evidence(python.value, f"pip installed by {python.how}", line)

    def conda(self, name: str, texts: list[str], vals: list[_Val], offsets: list[int],
              words: tuple[Word, ...], line: int, nested: list[Mapped]) -> list[Mapped]:
        state, sub = self.state, texts[1]
        if sub == "run":
            env, rest = self.reader.conda_target(texts[2:], state, f"{name} run", line)
            if rest:
                cut = len(texts) - len(rest)
                saved = self.active
                self.active = env
                try:
                    return nested + self.command(Command(tuple(words[cut:]), offsets[cut]))
                finally:
                    self.active = saved
        elif sub == "activate":
            self.active, _ = self.reader.conda_target(
                ["-n", texts[2]] if len(texts) > 2 else ["-n", "base"], state, f"{name} activate", line)
        elif sub in ("install", "create"):
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
                    python = self.ev(f"{m.group(1)}.{m.group(2)}", f"{name} {sub}{where} {t}", offsets[j],
                                     vals[j].via)
                j += 1
            if python is not None:
                state.installs.append(python)
            if sub == "create" and python is None:
                python = self.ev("", f"{name} create", offsets[0], why="no python=X.Y")
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
        return nested

    def alternatives(self, texts: list[str], vals: list[_Val], offsets: list[int]) -> None:
        state = self.state
        for j, t in enumerate(texts):
            if t == "--install" and j + 4 < len(texts) and texts[j + 2] in ("python", "python3"):
                path, priority = texts[j + 3], texts[j + 4]
                ev = self.interpreter(path, "python", offsets[j + 3], vals[j + 3].via)
                if ev is not None:
                    try:
                        rank = float(priority)
                    except ValueError:
                        rank = 0.0
                    state.alternatives.setdefault(texts[j + 2], []).append(
                        (rank, self.relabel(ev, f"update-alternatives --install {texts[j + 1]} "
                                                f"{texts[j + 2]} {path} {priority}",
                                            offsets[0])))
            elif t == "--set" and j + 2 < len(texts) and texts[j + 1] in ("python", "python3"):
                ev = self.interpreter(texts[j + 2], "python", offsets[j + 2], vals[j + 2].via)
                if ev is not None:
                    state.alternatives.setdefault(texts[j + 1], []).append(
                        (float("inf"), self.relabel(ev, f"update-alternatives --set {texts[j + 1]} {texts[j + 2]}",
                                                    offsets[0])))
        # In auto mode the highest priority wins; --set picks one by hand.
        chosen = state.alternatives.get("python3") or state.alternatives.get("python")
        if chosen:
            state.python = state.pip = max(chosen, key=lambda pair: pair[0])[1]

    def pip(self, texts: list[str], vals: list[_Val], offsets: list[int]) -> None:
        reader, state = self.reader, self.state
        name = _basename(texts[0])
        python: Evidence | None | bool = False
        head = " ".join(texts[:texts.index("install") + 1])  # `python3.11 -m pip install`, for messages
        for j, t in enumerate(texts[1:], 1):  # `uv pip install --python X`, `pip --python X install`
            if t in ("--python", "-p") and j + 1 < len(texts) and (name == "uv" or t == "--python"):
                label = head if f"{t} {texts[j + 1]}" in head else f"{head} {t} {texts[j + 1]}"
                python = self.request(texts[j + 1], offsets[j + 1], vals[j + 1].via, label)
            elif t.startswith("--python="):
                python = self.request(t.partition("=")[2], offsets[j], vals[j].via,
                                      head if t in head else f"{head} {t}")
        if python is False and name == "uv":
            venv = state.lookup("VIRTUAL_ENV")
            if "--system" in texts:
                python = reader.bare(state, "python", self.active)
            elif self.active is not False:
                python = self.active
            elif venv is not None and venv.text.rstrip("/") in state.envs:
                python = state.envs[venv.text.rstrip("/")]
            elif state.uv_venv is not False:
                python = state.uv_venv
            else:
                python = reader.bare(state, "python", self.active)
        elif python is False:
            kind = "python" if re.fullmatch(r"python[0-9.]*", name) else "pip"
            python = self.interpreter(texts[0], kind, offsets[0], vals[0].via)
            if python is not None and python.value and (_VERSIONED_PYTHON.fullmatch(name)
                                                        or _VERSIONED_PIP.fullmatch(name)):
                python = self.relabel(python, head, offsets[0])
        lines = [reader.line(o, self.ins) for o in offsets]
        state.pips.append(PipRun(min(lines), max(lines), python))  # type: ignore[arg-type]


def _pip_install(texts: list[str]) -> bool:
    """`pip install`, `pip3.11 install`, `python3 -m pip install`, `uv pip install` (words expanded;
    a name with a build-time part still counts, so that its Python is reported as unknown)."""
    name = _basename(texts[0]).split("\0")[0].split("${")[0]
    rest = texts[1:]
    if re.fullmatch(r"python[0-9.]*", name):
        i = 0
        while i < len(rest) and rest[i].startswith("-") and rest[i] not in ("-m", "-mpip"):
            i += 1
        if rest[i:i + 1] == ["-mpip"]:
            rest = rest[i + 1:]
        elif rest[i:i + 2] == ["-m", "pip"]:
            rest = rest[i + 2:]
        else:
            return False
    elif name == "uv":
        if rest[:1] != ["pip"]:
            return False
        rest = rest[1:]
    elif not re.fullmatch(r"pip[0-9.]*", name):
        return False
    i = 0
    while i < len(rest) and rest[i].startswith("-"):
        i += 2 if rest[i] in PIP_GLOBAL_VALUE_OPTIONS else 1
    return rest[i:i + 1] == ["install"]


def stage_facts(df: Dockerfile) -> tuple[StageFacts, ...]:
    """One StageFacts per build stage of `df`, in order."""
    return _Reader(df).run()

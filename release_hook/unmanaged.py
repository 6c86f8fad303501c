"""Files that pin kept packages but that the tool does not rewrite: lock files of other tools
(`uv.lock`, `poetry.lock`, `pdm.lock`, `Pipfile.lock`, `conda-lock.yml`), a conda
`environment.yml`, a wheel file, a shell script from the build context (only the Dockerfile's
own text is read as the build runs it). Each is named with what it pins and the command that
would update it, so that a stage installing jax only through one of them is said to be so instead of
looking in step. Read as text, line by line; nothing is run."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from release_hook.names import normalize as canonicalize_name

UV_LOCK = "uv.lock"
POETRY_LOCK = "poetry.lock"
PDM_LOCK = "pdm.lock"
PIPFILE_LOCK = "Pipfile.lock"
CONDA_LOCK = "conda-lock.yml"
CONDA_ENV = "conda environment"
WHEEL = "wheel file"
SHELL_SCRIPT = "shell script"

_TOML_LOCKS = (UV_LOCK, POETRY_LOCK, PDM_LOCK)
_KEY = re.compile(r'\s*(name|version)\s*=\s*"([^"]*)"\s*')
_CONDA_SPEC = re.compile(r"\s*-\s*(?:[A-Za-z0-9_.-]+::)?([A-Za-z0-9][A-Za-z0-9_.-]*)(?:\[[^\]]*\])?"
                         r"\s*(==|=|>=|<=|~=|>|<|!=)?\s*([^\s=#,;]*)")
_YAML_KEY = re.compile(r"\s*-?\s*(name|version):\s*['\"]?([^'\"\s#]+)")
# a pin as a shell passes it to pip: `jax==0.4.30`, `"jax[cuda12] == 0.4.30"`, `jaxlib~=0.4`
_SHELL_PIN = re.compile(r"(?<![\w.$/])(?<!\w-)([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(===|==|~=)\s*"
                        r"((?:\$\{[^}]*\}|\$\w+|[0-9])(?:\$\{[^}]*\}|[^\s\"';&|)}])*)")


@dataclass(frozen=True)
class Held:
    """A kept package that the file pins."""

    package: str  # canonical
    version: str  # as written ("0.4.25"; conda's "=0.4.25" means 0.4.25.*)
    line: int  # 0 for a wheel file (its name says it)


@dataclass(frozen=True)
class Unmanaged:
    path: str
    kind: str
    held: tuple[Held, ...]
    command: str  # what updates it

    def lines(self) -> list[str]:
        """One line per kept package it pins, for --check and --explain."""
        where = [f"{self.path}:{h.line}" if h.line else self.path for h in self.held]
        return [f"{w}: {m}" for w, m in zip(where, self.messages())]

    def messages(self) -> list[str]:
        """The same, without the place (a warning's Note carries it)."""
        return [f"{h.package} {h.version} is pinned in a {self.kind}, which the tool does not rewrite; "
                f"update it with: {self.command}" for h in self.held]


def kind_of(name: str, text: str) -> str | None:
    """What kind of unmanaged file a file is, by its name (and, for YAML, its text)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if base in _TOML_LOCKS or base == PIPFILE_LOCK:
        return base
    if base.endswith(".whl"):
        return WHEEL
    if base.endswith((".sh", ".bash")):
        return SHELL_SCRIPT
    if base.endswith(("conda-lock.yml", "conda-lock.yaml")):
        return CONDA_LOCK
    if base.endswith((".yml", ".yaml")) and re.search(r"^dependencies\s*:", text, re.M):
        return CONDA_ENV
    return None


def unmanaged(path: str, text: str, kept: Iterable[str], versions: Mapping[str, str] | None = None,
              kind: str | None = None) -> Unmanaged | None:
    """What the file is (`kind`, when its use says so), the kept packages it pins, and the
    command that would move them to `versions` (canonical name -> version); None when it is
    none of these kinds."""
    kind = kind or kind_of(path, text)
    if kind is None:
        return None
    wanted = frozenset(canonicalize_name(k) for k in kept)
    if kind == WHEEL:
        held = _wheel(path)
    elif kind in _TOML_LOCKS:
        held = _toml_packages(text)
    elif kind == PIPFILE_LOCK:
        held = _pipfile_lock(text)
    elif kind == CONDA_LOCK:
        held = _conda_lock(text)
    elif kind == SHELL_SCRIPT:
        held = _shell_pins(text)
    else:
        held = _conda_env(text)
    mine = tuple(h for h in held if h.package in wanted)
    return Unmanaged(path, kind, mine, command(kind, path, [h.package for h in mine], versions or {}))


def command(kind: str, path: str, packages: list[str], versions: Mapping[str, str]) -> str:
    names = list(dict.fromkeys(packages)) or ["jax"]
    pinned = [f"{p}=={versions[p]}" if p in versions else p for p in names]
    folder = path.replace("\\", "/").rsplit("/", 1)[0] if "/" in path else "."
    here = f"cd {folder} && " if folder != "." else ""
    if kind == UV_LOCK:
        return here + "uv lock " + " ".join(f"--upgrade-package {p}" for p in pinned)
    if kind == POETRY_LOCK:
        return here + ("poetry add " + " ".join(pinned) if versions else "poetry update " + " ".join(names))
    if kind == PDM_LOCK:
        return here + ("pdm add " + " ".join(pinned) if versions else "pdm update " + " ".join(names))
    if kind == PIPFILE_LOCK:
        return here + ("pipenv install " + " ".join(pinned) if versions else "pipenv update " + " ".join(names))
    if kind == CONDA_LOCK:
        return here + "conda-lock lock " + " ".join(f"--update {p}" for p in names)
    if kind == WHEEL:
        return (f"pip download --no-deps --only-binary=:all: {' '.join(pinned)} -d {folder}"
                " (and name the new file where the old one is used)")
    if kind == SHELL_SCRIPT:
        moves = " ".join(f"{p}=={versions[p]}" for p in names if p in versions)
        edit = f"set {moves} in {path}" if moves else f"edit the pins in {path}"
        return edit + " (or move them into the Dockerfile's RUN, or a requirements file its pip reads)"
    moves = ", ".join(f"{p}={versions[p]}" for p in names if p in versions)
    edit = f"set {moves} in {path}, then " if moves else f"edit the pins in {path}, then "
    return edit + f"conda env update --file {path} --prune"


def _wheel(path: str) -> tuple[Held, ...]:
    try:
        name, version, _, _ = parse_wheel_filename(path.replace("\\", "/").rsplit("/", 1)[-1])
    except InvalidWheelFilename:
        return ()
    return (Held(canonicalize_name(name), str(version), 0),)


def _toml_packages(text: str) -> tuple[Held, ...]:
    """`[[package]]` tables with `name = "..."` and `version = "..."`, as uv, poetry and pdm
    write them."""
    out: list[Held] = []
    name = version = None
    line = 0
    inside = False
    for n, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("["):
            if inside and name and version:
                out.append(Held(canonicalize_name(name), version, line))
            inside, name, version = stripped == "[[package]]", None, None
            continue
        m = _KEY.fullmatch(raw) if inside else None
        if m and m.group(1) == "name":
            name = m.group(2)
        elif m:
            version, line = m.group(2), n
    if inside and name and version:
        out.append(Held(canonicalize_name(name), version, line))
    return tuple(out)


def _pipfile_lock(text: str) -> tuple[Held, ...]:
    try:
        data = json.loads(text)
    except ValueError:
        return ()
    lines = text.splitlines()
    out = []
    for section in ("default", "develop"):
        for name, entry in (data.get(section) or {}).items() if isinstance(data, dict) else ():
            version = entry.get("version", "") if isinstance(entry, dict) else ""
            if not version:
                continue
            key = json.dumps(name)
            line = next((i for i, ln in enumerate(lines, 1) if ln.strip().startswith(key)), 0)
            out.append(Held(canonicalize_name(name), version.lstrip("="), line))
    return tuple(out)


def _conda_env(text: str) -> tuple[Held, ...]:
    """The `dependencies:` list, conda specs (`jax=0.4.25`, `conda-forge::jaxlib==0.4.25`) and
    the pip requirements under `- pip:`."""
    out = []
    inside = False
    for n, raw in enumerate(text.splitlines(), 1):
        if raw and not raw[0].isspace() and not raw.startswith("-"):
            inside = raw.split(":", 1)[0].strip() == "dependencies"
            continue
        m = _CONDA_SPEC.match(raw) if inside else None
        if m and m.group(2) and m.group(3) and m.group(1) != "pip":
            version = m.group(3) if m.group(2) == "==" else m.group(2) + m.group(3)
            out.append(Held(canonicalize_name(m.group(1)), version, n))
    return tuple(out)


def _shell_pins(text: str) -> tuple[Held, ...]:
    """Each `name==version` word outside comments, at its own line (also within a command
    continued over several)."""
    out = []
    for n, raw in enumerate(text.split("\n"), 1):  # bash's lines: not split at \f or a lone \r
        for m in _SHELL_PIN.finditer(_without_comment(raw)):
            version = m.group(3) if m.group(2) == "==" else m.group(2) + m.group(3)
            out.append(Held(canonicalize_name(m.group(1)), version, n))
    return tuple(dict.fromkeys(out))


def _without_comment(line: str) -> str:
    """A shell line up to its comment: a `#` that begins a word outside quotes (`"a #b"` and
    `a#b` are no comment), as bash reads it."""
    quote = ""
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == quote:
                quote = ""
            elif c == "\\" and quote == '"':
                i += 1
        elif c == "\\":
            i += 1
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t;&|()"):
            return line[:i]
        i += 1
    return line


def _conda_lock(text: str) -> tuple[Held, ...]:
    out = []
    name = None
    for n, raw in enumerate(text.splitlines(), 1):
        m = _YAML_KEY.match(raw)
        if m and m.group(1) == "name":
            name = m.group(2)
        elif m and name:
            out.append(Held(canonicalize_name(name), m.group(2), n))
            name = None
    return tuple(dict.fromkeys(out))

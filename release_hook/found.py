"""What reading a Dockerfile finds, as plain values: the contract between the walker and
everything after it (the resolver, the plan, the report, the scan cache).

Nothing here reads or walks anything. A `Scan` holds, per build stage, every `pip install` the
stage runs (`PipInstall`): the kept pins it carries, its other requirements (the neighbours a
pin must install beside), the requirements and constraints files it reads and where the build
context puts them, and the Python that runs it.
"""
from __future__ import annotations

from typing import Final

from release_hook.records import NamedTuple
from release_hook.textlines import lines_of

# The packages whose pins follow a release besides the released package itself: jax, jaxlib
# and jax's CUDA plugin packages (the plugins follow jaxlib's version).
JAX_PACKAGES = ("jax", "jaxlib", "jax-cuda12-plugin", "jax-cuda12-pjrt", "jax-cuda13-plugin",
                "jax-cuda13-pjrt")
PLUGINS = JAX_PACKAGES[2:]


class Chars:
    """Expanded text, each character with its file offset and whether a variable carried it.

    A value, equal by its fields. Written out rather than a dataclass, like the other classes a
    hook's run makes: importing the dataclass machinery and building nine classes with it cost
    each run of the hooks 11 ms."""

    __slots__ = ("text", "origin", "via_var", "computed", "undefined")

    def __init__(self, text: str, origin: tuple[int, ...], via_var: tuple[bool, ...],
                 computed: tuple[str, ...] = (), undefined: tuple[str, ...] = ()) -> None:
        self.text: Final = text  # Final: mypy refuses an assignment, as a frozen dataclass would
        self.origin: Final = origin
        self.via_var: Final = via_var
        self.computed: Final = computed
        self.undefined: Final = undefined

    def _fields(self) -> tuple[object, ...]:
        return (self.text, self.origin, self.via_var, self.computed, self.undefined)

    def __getitem__(self, s: slice) -> "Chars":
        return Chars(self.text[s], self.origin[s], self.via_var[s], self.computed, self.undefined)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Chars) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return "Chars({!r}, {!r}, {!r}, {!r}, {!r})".format(*self._fields())


class Reader(NamedTuple):
    """The pip command that reads a requirements file's pin, and the index options in force
    there: the command's own and those of every file it reads, nested ones too (pip takes a
    file's -f / -i for the whole command)."""

    path: str  # the Dockerfile
    line: int  # the pip command's first line
    options: tuple[tuple[str, str], ...]  # (option, address as written, variables expanded)


class Pin(NamedTuple):
    path: str
    line: int
    package: str  # canonical name
    kind: str  # "requirement" or "source" (a git tag of the released package)
    operator: str  # "==", "~=", "===" or "@" for a source reference
    version: str
    chars: Chars  # the version's characters
    requirement: str  # the whole requirement as the shell passes it, for messages
    extras: frozenset[str]
    stage: int
    image: str  # the stage's base image, variables resolved (for the CUDA build)
    addresses: tuple[tuple[str, Chars], ...] = ()  # -f / -i of the same pip command
    # The file `chars` are offsets of when it is not `path`: a requirements file's `${NAME}`
    # that the Dockerfile reading it sets (ENV, ARG), whose value a sync moves there.
    set_in: str = ""
    # a requirements file's pin: the pip command reading it there; a Dockerfile's own pin too
    # where the files its command reads name index options
    read_by: Reader | None = None
    hashed: bool = False  # a requirements file's line with --hash values, which move with the version

    @property
    def written_in(self) -> str:
        """The file that holds the version's characters: where a sync writes it."""
        return self.set_in or self.path

    def defined_at(self, text: str) -> str:
        """` (set at line N)` when the version is written on another line than its use, or
        ` (set at Dockerfile:N)` in another file; `text` is the text of `written_in`."""
        lines = sorted(lines_of(text, self.chars.origin))
        if self.set_in:
            return f" (set at {self.set_in}:{', '.join(map(str, lines))})" if lines else ""
        lines = [n for n in lines if n != self.line]
        return f" (set at line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))})" if lines else ""


class Note(NamedTuple):
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class Evidence(NamedTuple):
    """One thing the file says of a Python or platform: its value ("3.11", "linux/arm64"; "" for
    unknowable), the words and line that say it, and what it was made from; `how` words it."""

    value: str
    said: str  # the file's own words: `python3.11 -m pip install`, `ENV PYENV_VERSION=3.10`, a venv's folder
    line: int
    via: tuple[str, ...] = ()  # the variables that carried the words, each `NAME=value at line N`
    why: str = ""  # why its value cannot be read (`computed at build time`)
    made: str = ""  # "venv" (a virtualenv at `said`), "pip" (pip put in place), "copy" (a venv copied to `said`)
    by: "Evidence | None" = None  # for `made`: the Python that made it, or the copied venv's evidence
    on_path: bool = False  # found through PATH

    @property
    def how(self) -> str:
        """`python3.11 at line 4 [PY=3.11 at line 2]`, `venv /opt/venv made by ...`, for --explain."""
        by = self.by.how if self.by is not None else "?"
        if self.made == "venv":
            said = f"venv {self.said} made by {by}"
        elif self.made == "pip":
            said = f"pip installed by {by}"
        elif self.made == "copy":
            said = f"{by}, copied to {self.said} at line {self.line}"
        else:
            said = f"{self.said} at line {self.line}" + (f" [{', '.join(self.via)}]" if self.via else "") + \
                (f" ({self.why})" if self.why else "")
        return said + (", on PATH" if self.on_path else "")


class Requirement(NamedTuple):
    """A requirement argument of a pip command that is not a kept pin: a neighbour the kept
    pins must install beside (`scipy==1.11.4`, `tensorflow>=2.15`, `numpy<2; python_version>"3.9"`)."""

    text: str  # as the shell passes it, variables expanded
    line: int
    computed: str = ""  # the part only the build knows (`$(...)`, `xargs -I{}`); "" when static
    reads: tuple[int, ...] = ()  # file offsets of the characters a variable gave it (an ENV's value)


class FileArg(NamedTuple):
    """A file a pip command reads: `-r` / `-c` (any spelling), or PIP_CONSTRAINT / UV_CONSTRAINT."""

    option: str  # "-r" or "-c"
    path: str  # where the command reads it in the image, absolute (WORKDIR applied); "" when computed
    line: int
    how: str  # as written, for messages: "-r requirements.txt", "ENV PIP_CONSTRAINT=/c.txt at line 3"
    source: str | None = None  # the build-context file put at `path` (context-relative, "/"-separated)
    why: str = ""  # when source is None: why it cannot be placed ("COPY --from=build at line 5", ...)
    # what pip's environment holds for the file's `${NAME}`: the stage's ENV and ARG values, the
    # RUN's exported variables and the command's own NAME=value, each with its offsets in the file
    env: tuple[tuple[str, Chars], ...] = ()


FROM_HERE_ON = 1 << 30  # a Placement's `until` for a file a RUN writes: past any line


class Placement(NamedTuple):
    """What a COPY, ADD or `RUN --mount=type=bind` puts at a path of the image."""

    dest: str  # absolute path in the image (a folder when `folder`)
    source: str | None  # context-relative path; None when not from the build context
    folder: bool  # a folder copied whole: dest/x comes from source/x
    line: int
    how: str  # "COPY requirements.txt /tmp/ at line 4"; when source is None, why: "COPY --from=build at line 9"
    until: int = 0  # a RUN's bind mount: in place only on lines line..until (the RUN's); 0 for COPY / ADD;
    # FROM_HERE_ON for a file a RUN writes (in place from that command on, later on its own line too)
    heredoc: str = ""  # `COPY <<EOF /install.sh`: the heredoc's name (its text is the Dockerfile's)


class PipInstall(NamedTuple):
    """One `pip install` (any spelling, `uv pip install` too), the Python that runs it, and
    everything it installs besides the kept pins."""

    first: int  # first and last line of its words
    last: int
    python: Evidence | None  # None: the base image's own python3 (nothing in the file changed it)
    tool: str = ""  # as called, for messages: "pip3", "python3.11 -m pip", "uv pip"
    pins: tuple[int, ...] = ()  # indexes into Scan.pins of the kept pins it carries
    requirements: tuple[Requirement, ...] = ()  # every other requirement argument
    files: tuple[FileArg, ...] = ()  # -r / -c arguments and the constraint variables in effect
    no_deps: bool = False
    options: tuple[tuple[str, Chars], ...] = ()  # -f / -i / --extra-index-url / --index ...
    flags: tuple[str, ...] = ()  # other options that change what is chosen: --pre, --upgrade, ...


PipRun = PipInstall  # the earlier name


class ScriptRun(NamedTuple):
    """A script file a RUN runs (`bash /tmp/install.sh`, `. ./env.sh`, `./setup.sh`) that the
    build context puts there: its commands are not read as the build runs them, so a pin in it
    is said (context.py reads the file), not passed over."""

    path: str  # where the image has it, absolute
    line: int
    source: str  # the build-context file (context-relative, "/"-separated)


class StageFacts(NamedTuple):
    line: int  # the FROM line, for messages
    parent: int | None = None  # the earlier stage this one is built FROM
    platform: Evidence | None = None  # from `FROM --platform=...` (value "" when the build decides)
    pips: tuple[PipInstall, ...] = ()
    installs: tuple[Evidence, ...] = ()  # Pythons put in place (apt, uv, conda, pyenv), used or not
    default: Evidence | None = None  # what `python3` is at the end of the stage, if the file changed it
    placements: tuple[Placement, ...] = ()  # what the stage's COPY / ADD / bind mounts put where
    scripts: tuple[ScriptRun, ...] = ()  # the build-context scripts its RUNs run


class Scan(NamedTuple):
    path: str
    text: str
    pins: tuple[Pin, ...]
    mentions: tuple[Note, ...]  # kept packages named without a pin: listed, not changed
    warnings: tuple[Note, ...]  # pins the tool cannot follow (computed at build time)
    images: tuple[str, ...]  # each stage's root base image
    stages: tuple[StageFacts, ...] = ()  # what the text says of each stage
